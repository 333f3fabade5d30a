package io.proxyfleet.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlVariables;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.testkit.FreePorts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The monitor's scheduling and ping shunning against a port nobody listens on (connection refused at once), so
 * no database is needed; the real-server behaviour is covered by {@link MonitorFailoverTest}.
 */
class MysqlMonitorTest {
    private static final Pattern PING_ROW = Pattern.compile(
            "INSERT OR REPLACE INTO monitor\\.mysql_server_ping_log VALUES \\('127\\.0\\.0\\.1', (\\d+), (\\d+), .*");
    private static final long SHUN_RECOVERY_MICROS = TimeUnit.SECONDS.toMicros(1);
    /** Failed pings of an enabled monitor that show that time enough for many scheduler ticks has passed. */
    private static final int CONTROL_PINGS = 5;
    /** Room for pings at 50 ms intervals and the log writer's thread on a loaded 2-core machine. */
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final List<String> statements = new CopyOnWriteArrayList<>();
    /** The hostgroups of the configuration last built by {@link #holder}. */
    private Hostgroups hostgroups;
    private final List<MysqlMonitor> monitors = new ArrayList<>();

    @AfterEach
    void stop() {
        monitors.forEach(MysqlMonitor::close);
    }

    private ConfigHolder holder(int deadPort, Map<String, String> overrides) {
        var values = new HashMap<>(MysqlVariables.DEFAULTS);
        values.putAll(Map.of("monitor_ping_interval", "50", "monitor_connect_interval", "50",
                "monitor_ping_max_failures", "3", "shun_recovery_time_sec", "1"));
        values.putAll(overrides);
        RuntimeConfig config = RuntimeConfig.empty()
                .withServers(RuntimeConfig.Servers.of(List.of(MysqlServer.of(0, "127.0.0.1", deadPort)),
                        new ModuleVersion(1, 1, "0x0")))
                .withMysqlVariables(new RuntimeConfig.Variables(values, new ModuleVersion(1, 1, "0x0")));
        var holder = new ConfigHolder(config);
        hostgroups = Hostgroups.follow(holder);
        return holder;
    }

    private MysqlMonitor start(ConfigHolder holder) {
        return start(holder, hostgroups, statements);
    }

    private MysqlMonitor start(ConfigHolder holder, Hostgroups groups, List<String> log) {
        MysqlMonitor monitor = new MysqlMonitor(holder, groups, batch -> {
            log.addAll(batch);
            return CompletableFuture.completedFuture(null);
        }, () -> {
            throw new AssertionError("no replication hostgroups, so no server may move");
        });
        monitors.add(monitor);
        return monitor;
    }

    /** {@code time_start_us} of the ping log rows of the server on {@code port}, in the order written. */
    private static List<Long> pingStarts(List<String> log, int port) {
        List<Long> starts = new ArrayList<>();
        for (String sql : log) {
            Matcher m = PING_ROW.matcher(sql);
            if (m.matches() && Integer.parseInt(m.group(1)) == port) {
                starts.add(Long.parseLong(m.group(2)));
            }
        }
        return starts;
    }

    private static long nowMicros() {
        return TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
    }

    @Test
    void missedHeartbeatsShunTheServerAndFailingPingsKeepItShunned() throws Exception {
        int deadPort = FreePorts.loopback();
        ConfigHolder holder = holder(deadPort, Map.of());
        ServerRuntime server = hostgroups.hostgroup(holder.current().servers(), 0)[0];

        start(holder);

        // the log rows are written on the log writer's thread, after the pings that shun the server
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(server.status()).isEqualTo(ServerStatus.SHUNNED);
            assertThat(statements).anySatisfy(sql -> assertThat(sql)
                    .startsWith("INSERT OR REPLACE INTO monitor.mysql_server_ping_log VALUES ('127.0.0.1', "
                            + deadPort)
                    .doesNotEndWith("NULL)"));
            assertThat(statements).anySatisfy(sql -> assertThat(sql)
                    .startsWith("INSERT OR REPLACE INTO monitor.mysql_server_connect_log VALUES ('127.0.0.1', "));
        });
        // Failing pings keep pushing the recovery back, so the connector's lazy recovery cannot revive it: once a
        // ping has failed more than shun_recovery_time_sec after the shun, the shun alone would have expired.
        long shunSeenMicros = nowMicros();
        await().atMost(WAIT).until(() -> pingStarts(statements, deadPort).stream()
                .anyMatch(start -> start > shunSeenMicros + SHUN_RECOVERY_MICROS));
        server.maybeRecover(System.nanoTime(), TimeUnit.MICROSECONDS.toNanos(SHUN_RECOVERY_MICROS));
        assertThat(server.status()).isEqualTo(ServerStatus.SHUNNED);
    }

    @Test
    void disabledMonitorChecksNothingUntilEnabled() {
        int deadPort = FreePorts.loopback();
        ConfigHolder holder = holder(deadPort, Map.of("monitor_enabled", "false"));
        ServerRuntime server = hostgroups.hostgroup(holder.current().servers(), 0)[0];
        // An enabled monitor started at the same moment: its failed pings show that the disabled one's scheduler
        // had the time for many ticks.
        int controlPort = FreePorts.loopback();
        List<String> controlLog = new CopyOnWriteArrayList<>();

        start(holder);
        start(holder(controlPort, Map.of()), hostgroups, controlLog); // holder() made hostgroups the control's
        await().atMost(WAIT).until(() -> pingStarts(controlLog, controlPort).size() >= CONTROL_PINGS);

        assertThat(statements).isEmpty();
        assertThat(server.status()).isEqualTo(ServerStatus.ONLINE);

        // The same monitor, once enabled, checks at once: it was running all along, and checked nothing before.
        long enabledMicros = nowMicros();
        holder.update(c -> c.withMysqlVariables(new RuntimeConfig.Variables(
                withValue(c.mysqlVariables().values(), "monitor_enabled", "true"), new ModuleVersion(2, 2, "0x0"))));
        // the log rows are written on the log writer's thread, after the pings that shun the server
        await().atMost(WAIT).until(() -> server.status() == ServerStatus.SHUNNED
                && !pingStarts(statements, deadPort).isEmpty());
        assertThat(pingStarts(statements, deadPort)).allSatisfy(start ->
                assertThat(start).as("ping started after the monitor was enabled").isGreaterThanOrEqualTo(enabledMicros));
    }

    private static Map<String, String> withValue(Map<String, String> values, String name, String value) {
        Map<String, String> copy = new HashMap<>(values);
        copy.put(name, value);
        return copy;
    }

    @Test
    void logRowsOlderThanTheHistoryArePurged() {
        ConfigHolder holder = holder(FreePorts.loopback(), Map.of("monitor_history", "1000"));

        start(holder);

        await().atMost(WAIT).untilAsserted(() -> assertThat(statements).anySatisfy(sql ->
                assertThat(sql).startsWith("DELETE FROM monitor.mysql_server_ping_log WHERE time_start_us < ")));
    }
}
