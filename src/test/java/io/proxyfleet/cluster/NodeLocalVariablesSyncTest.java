package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.config.ModuleVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two clustering nodes whose ProxyFleet-only variables differ still converge on the variables modules: those
 * variables are neither hashed nor fetched, so each node keeps its own. (Nodes reporting different versions do not
 * cluster at all, as in ProxySQL, so both report ProxySQL's here.)
 */
class NodeLocalVariablesSyncTest {
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(20);
    private static final int CHECK_INTERVAL_MS = 200;
    private static final String PROXYSQL_VERSION = "2.7.1-0-g2726c27";

    @TempDir
    Path tmp;
    private final List<TestNode> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() throws Exception {
        for (TestNode n : nodes) {
            n.close();
        }
    }

    @Test
    void nodeLocalVariablesNeverTravelAndNeverStopConvergence() throws Exception {
        TestNode.cluster(tmp, 2, CHECK_INTERVAL_MS, Map.of("reported_version", PROXYSQL_VERSION), nodes);
        TestNode a = nodes.get(0);
        TestNode b = nodes.get(1);

        // Loads of two nodes in one second are an equal-epoch conflict nobody resolves (as in ProxySQL).
        long setUpEpoch = Math.max(b.module("admin_variables").epoch(), b.module("mysql_variables").epoch());
        await().atMost(Duration.ofSeconds(3)).until(() -> System.currentTimeMillis() / 1000 > setUpEpoch);
        a.exec("SET mysql-keep_multiplexing_on_system_variable_reads = 'false'");
        a.exec("SET admin-cluster_check_status_frequency = 5");
        a.exec("SET mysql-max_connections = 77");
        a.exec("LOAD MYSQL VARIABLES TO RUNTIME");
        a.exec("LOAD ADMIN VARIABLES TO RUNTIME");

        await().atMost(SYNC_TIMEOUT).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            for (String module : List.of("mysql_variables", "admin_variables")) {
                ModuleVersion want = a.module(module);
                ModuleVersion got = b.module(module);
                assertThat(got.checksum()).as(module).isEqualTo(want.checksum());
                assertThat(got.epoch()).as(module).isEqualTo(want.epoch());
            }
            assertThat(b.holder.current().mysqlVariables().get("max_connections")).isEqualTo("77");
        });
        assertThat(b.holder.current().mysqlVariables().get("keep_multiplexing_on_system_variable_reads"))
                .isEqualTo("true");
        assertThat(b.holder.current().adminVariables().get("cluster_check_status_frequency")).isEqualTo("5");
        assertThat(b.holder.current().adminVariables().get("version")).isEqualTo(PROXYSQL_VERSION);
    }
}
