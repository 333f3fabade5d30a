package io.proxyfleet.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.admin.NodeControl;
import io.proxyfleet.admin.RuntimeStatsSource;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.QueryRuleProgram;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerStatus;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checksum the monitor computes for a server list it published must be the one the admin computes for the
 * same list loaded by a user, or the runtime {@code mysql_servers} checksum would differ between two nodes that
 * run the same servers.
 */
class RuntimeChecksumTest {
    @TempDir
    Path dataDir;

    @Test
    void monitorChecksumEqualsTheAdminsForTheSameRuntimeServers() throws Exception {
        var holder = new ConfigHolder(RuntimeConfig.empty());
        try (AdminEngine engine = AdminEngine.open(dataDir, null, false, false, holder,
                rules -> QueryRuleProgram.EMPTY, RuntimeStatsSource.NONE, NodeControl.NOOP)) {
            for (String sql : new String[] {
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port, status, weight, comment)"
                            + " VALUES (0, 'db1', 3306, 'ONLINE', 5, 'primary')",
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port, status, max_replication_lag)"
                            + " VALUES (1, 'db2', 3306, 'SHUNNED', 10)",
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port, status) VALUES (1, 'db3', 3306,"
                            + " 'OFFLINE_SOFT')",
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port, status) VALUES (2, 'db4', 3306,"
                            + " 'OFFLINE_HARD')",
                    "LOAD MYSQL SERVERS TO RUNTIME"}) {
                assertThat(engine.runSql(sql).get(10, TimeUnit.SECONDS)).as(sql)
                        .isInstanceOf(AdminResponse.Ok.class);
            }

            assertThat(ReadOnlyChecks.runtimeChecksum(holder.current().servers().rows()))
                    .isEqualTo(engine.moduleVersions().get("mysql_servers").checksum());
        }
    }

    @Test
    void runtimeChecksumCountsShunnedAsOnlineAndSkipsOfflineHard() {
        MysqlServer online = MysqlServer.of(0, "db1", 3306);
        MysqlServer shunned = new MysqlServer(0, "db1", 3306, 0, ServerStatus.SHUNNED, 1, 0, 1000, 0, false, 0, "");
        MysqlServer hard = new MysqlServer(1, "db2", 3306, 0, ServerStatus.OFFLINE_HARD, 1, 0, 1000, 0, false, 0, "");

        assertThat(ReadOnlyChecks.runtimeChecksum(List.of(shunned, hard)))
                .isEqualTo(ReadOnlyChecks.runtimeChecksum(List.of(online)))
                .isNotEqualTo(ReadOnlyChecks.runtimeChecksum(List.of(online, MysqlServer.of(1, "db2", 3306))));
    }
}
