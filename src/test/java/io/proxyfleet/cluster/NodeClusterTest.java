package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.testkit.MysqlCli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two whole nodes started from ProxySQL config files, clustered by {@link ClusterManager} through their real admin
 * listeners, driven with the mysql command-line client as an operator would.
 */
class NodeClusterTest {
    /** Room for a pull, and for the next check after it, on a loaded 2-core machine. */
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(20);
    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private static String admin(int port, String... sql) {
        MysqlCli.Result r = NodeFixture.admin(port, sql);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        return r.stdout();
    }

    @Test
    void queryRulesLoadedOnOneNodeReachTheOtherAndShowInItsTables() throws Exception {
        int[] adminPorts = {NodeFixture.freePort(), NodeFixture.freePort()};
        String cluster = """
                proxysql_servers=
                (
                    { hostname="127.0.0.1", port=%d, weight=0, comment="a" },
                    { hostname="127.0.0.1", port=%d, weight=0, comment="b" }
                )
                """.formatted(adminPorts[0], adminPorts[1]);
        List<ProxyFleetNode> nodes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path dir = tmp.resolve("n" + i);
            Path cnf = NodeFixture.writeConfig(dir, adminPorts[i], NodeFixture.freePort(), cluster);
            ProxyFleetNode node = NodeFixture.start(dir, cnf);
            open.add(node);
            nodes.add(node);
            admin(adminPorts[i],
                    "SET admin-cluster_username='cluster'", "SET admin-cluster_password='cl-pass'",
                    "SET admin-admin_credentials='admin:admin;cluster:cl-pass'",
                    "SET admin-cluster_check_interval_ms=200", "LOAD ADMIN VARIABLES TO RUNTIME");
            ClusterManager manager = new ClusterManager(new AdminClusterNode(node.admin(), node.config(), false,
                    true));
            manager.registerStatsTables(node.admin());
            open.add(manager);
            manager.start();
        }

        admin(adminPorts[0],
                "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)"
                        + " VALUES (5, 1, '^SELECT', 2, 1)",
                "LOAD MYSQL QUERY RULES TO RUNTIME");
        String source = admin(adminPorts[0],
                "SELECT version, epoch, checksum FROM runtime_checksums_values WHERE name = 'mysql_query_rules'");

        await().atMost(SYNC_TIMEOUT).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(admin(adminPorts[1], "SELECT epoch, checksum FROM runtime_checksums_values"
                        + " WHERE name = 'mysql_query_rules'")).isEqualTo(source.substring(source.indexOf('\t') + 1)));
        assertThat(admin(adminPorts[1], "SELECT rule_id, match_digest, destination_hostgroup FROM"
                + " runtime_mysql_query_rules")).isEqualTo("5\t^SELECT\t2\n");
        assertThat(admin(adminPorts[1], "SELECT rule_id FROM disk.mysql_query_rules")).isEqualTo("5\n");
        // node 1 sees node 0 as in sync: same checksum, no pending difference
        await().atMost(SYNC_TIMEOUT).untilAsserted(() ->
                assertThat(admin(adminPorts[1], "SELECT checksum, diff_check FROM stats_proxysql_servers_checksums"
                        + " WHERE name = 'mysql_query_rules' AND port = " + adminPorts[0]))
                        .isEqualTo(source.split("\t")[2].strip() + "\t0\n"));
    }
}
