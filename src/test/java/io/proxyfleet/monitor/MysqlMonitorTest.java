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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The monitor's scheduling and ping shunning against a port nobody listens on (connection refused at once), so
 * no database is needed; the real-server behaviour is covered by {@link MonitorFailoverTest}.
 */
class MysqlMonitorTest {
    private final List<String> statements = new CopyOnWriteArrayList<>();
    private Hostgroups hostgroups;
    private MysqlMonitor monitor;

    @AfterEach
    void stop() {
        if (monitor != null) {
            monitor.close();
        }
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
        monitor = new MysqlMonitor(holder, hostgroups, batch -> {
            statements.addAll(batch);
            return CompletableFuture.completedFuture(null);
        }, () -> {
            throw new AssertionError("no replication hostgroups, so no server may move");
        });
        return monitor;
    }

    @Test
    void missedHeartbeatsShunTheServerAndFailingPingsKeepItShunned() throws Exception {
        int deadPort = FreePorts.loopback();
        ConfigHolder holder = holder(deadPort, Map.of());
        ServerRuntime server = hostgroups.hostgroup(holder.current().servers(), 0)[0];

        start(holder);

        await().atMost(Duration.ofSeconds(5)).until(() -> server.status() == ServerStatus.SHUNNED);
        assertThat(statements).anySatisfy(sql -> assertThat(sql)
                .startsWith("INSERT OR REPLACE INTO monitor.mysql_server_ping_log VALUES ('127.0.0.1', " + deadPort)
                .doesNotEndWith("NULL)"));
        assertThat(statements).anySatisfy(sql -> assertThat(sql)
                .startsWith("INSERT OR REPLACE INTO monitor.mysql_server_connect_log VALUES ('127.0.0.1', "));
        // Failing pings keep pushing the recovery back, so the connector's lazy recovery cannot revive it.
        TimeUnit.MILLISECONDS.sleep(1_500);
        server.maybeRecover(System.nanoTime(), TimeUnit.SECONDS.toNanos(1));
        assertThat(server.status()).isEqualTo(ServerStatus.SHUNNED);
    }

    @Test
    void disabledMonitorChecksNothing() throws Exception {
        ConfigHolder holder = holder(FreePorts.loopback(), Map.of("monitor_enabled", "false"));
        ServerRuntime server = hostgroups.hostgroup(holder.current().servers(), 0)[0];

        start(holder);
        TimeUnit.MILLISECONDS.sleep(500);

        assertThat(statements).isEmpty();
        assertThat(server.status()).isEqualTo(ServerStatus.ONLINE);
    }

    @Test
    void logRowsOlderThanTheHistoryArePurged() {
        ConfigHolder holder = holder(FreePorts.loopback(), Map.of("monitor_history", "1000"));

        start(holder);

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(statements).anySatisfy(sql ->
                assertThat(sql).startsWith("DELETE FROM monitor.mysql_server_ping_log WHERE time_start_us < ")));
    }
}
