package io.proxyfleet.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlVariables;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.testkit.MariaDb;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A read_only answer moves servers only for the replication hostgroups that still run when it arrives: a check
 * begun before a load removed its pair (a slow server, a loaded machine) must not copy the writer back into the
 * reader hostgroup of the list that load published. MonitorFailoverTest met it under load; here it is forced.
 *
 * <p>Owned by the test thread, which runs the checks itself.
 */
class ReadOnlyChecksTest {
    private static final String USER = "ro_checks";
    private static final String PASSWORD = "ro-checks-pw";
    private static final int WRITER = 0;
    private static final int READER = 1;
    private static final ReplicationHostgroup PAIR = new ReplicationHostgroup(WRITER, READER, CheckType.READ_ONLY,
            "pair");

    @Test
    void anAnswerForAPairRemovedMeanwhileMovesNothing() throws Exception {
        MariaDb db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
        var values = new HashMap<>(MysqlVariables.DEFAULTS);
        values.put("monitor_username", USER);
        values.put("monitor_password", PASSWORD);
        RuntimeConfig config = RuntimeConfig.empty()
                .withServers(serversInWriterHostgroup(db, 1))
                .withMysqlVariables(new RuntimeConfig.Variables(values, new ModuleVersion(1, 1, "0x0")));
        ConfigHolder holder = new ConfigHolder(config);
        MonitorSettings settings = MonitorSettings.from(config.mysqlVariables());
        HostPort server = new HostPort("127.0.0.1", db.port());
        AtomicReference<List<ReplicationHostgroup>> running = new AtomicReference<>(List.of(PAIR));

        try (MonitorConnections connections = new MonitorConnections();
             MonitorLogWriter log = new MonitorLogWriter(batch -> CompletableFuture.completedFuture(null))) {
            ReadOnlyChecks checks = new ReadOnlyChecks(holder, connections, log, () -> { }, running::get);

            // With its pair running, the writable server is also put in the reader hostgroup.
            checks.check(server, CheckType.READ_ONLY, List.of(PAIR), settings);
            assertThat(hostgroups(holder)).containsExactly(WRITER, READER);

            // A load publishes servers without the pair, then the pair goes; a check begun with it answers after.
            holder.update(c -> c.withServers(serversInWriterHostgroup(db, 2)));
            running.set(List.of());
            checks.check(server, CheckType.READ_ONLY, List.of(PAIR), settings);
            assertThat(hostgroups(holder)).containsExactly(WRITER);
        }
    }

    private static RuntimeConfig.Servers serversInWriterHostgroup(MariaDb db, long version) {
        return RuntimeConfig.Servers.of(List.of(MysqlServer.of(WRITER, "127.0.0.1", db.port())),
                new ModuleVersion(version, version, "0x0"));
    }

    private static List<Integer> hostgroups(ConfigHolder holder) {
        return holder.current().servers().rows().stream().map(MysqlServer::hostgroupId).sorted().toList();
    }
}
