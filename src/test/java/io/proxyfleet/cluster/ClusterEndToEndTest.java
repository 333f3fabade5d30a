package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4's scenario, step by step, with three node processes on loopback: an operator sets the cluster credentials
 * and the peer list on every node, changes the configuration on one node and sees it everywhere (runtime, disk,
 * checksums, traffic), loses a node, changes the configuration while it is down, and brings it back.
 */
@Tag("slow")
class ClusterEndToEndTest {
    /** With default settings a change takes about 3 s (1 s checks x 3 diffs); leave room for a loaded machine. */
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final String APP_USER = "e2e_app";
    private static final String APP_PASSWORD = "e2e-pass";
    private static final String LATE_USER = "e2e_late";
    private static final String LATE_PASSWORD = "late-pass";
    private static final String ALL_COLUMNS = "version, epoch, checksum";
    private static final String[] SYNCED_MODULES = {"mysql_servers", "mysql_servers_v2", "mysql_users"};

    @TempDir
    Path tmp;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private static MariaDb mariaDb;

    @BeforeAll
    static void jarAndBackend() throws Exception {
        NodeProcess.NodeJar.path();
        mariaDb = MariaDb.shared();
        for (String[] user : new String[][] {{APP_USER, APP_PASSWORD}, {LATE_USER, LATE_PASSWORD}}) {
            mariaDb.execute("DROP USER IF EXISTS " + MariaDb.quote(user[0]) + "@'%'");
            mariaDb.createUser(user[0], user[1]);
        }
    }

    @AfterEach
    void stopNodes() throws Exception {
        for (NodeProcess n : nodes) {
            n.close();
        }
    }

    @Test
    void aChangeOnAnyNodeReachesEveryNodeIncludingOneThatWasDown() throws Exception {
        // 1. three clean nodes
        for (int i = 1; i <= 3; i++) {
            NodeProcess n = NodeProcess.create(tmp, "node" + i);
            nodes.add(n);
            n.start();
        }
        for (NodeProcess n : nodes) {
            n.awaitReady();
        }
        NodeProcess node1 = nodes.get(0);
        NodeProcess node2 = nodes.get(1);
        NodeProcess node3 = nodes.get(2);

        // 2. cluster credentials on every node
        for (NodeProcess n : nodes) {
            n.admin("UPDATE global_variables SET variable_value='cluster1' WHERE variable_name='admin-cluster_username'",
                    "UPDATE global_variables SET variable_value='clusterpass' WHERE variable_name='admin-cluster_password'",
                    "UPDATE global_variables SET variable_value='admin:admin;cluster1:clusterpass'"
                            + " WHERE variable_name='admin-admin_credentials'",
                    "LOAD ADMIN VARIABLES TO RUNTIME", "SAVE ADMIN VARIABLES TO DISK");
        }

        // 3. the peer list on every node; node1 detects node2 and node3
        for (NodeProcess n : nodes) {
            List<String> sql = new ArrayList<>();
            for (NodeProcess peer : nodes) {
                sql.add("INSERT INTO proxysql_servers (hostname,port,weight,comment) VALUES ('127.0.0.1',"
                        + peer.adminPort + ",0,'" + peer.name + "')");
            }
            sql.add("LOAD PROXYSQL SERVERS TO RUNTIME");
            sql.add("SAVE PROXYSQL SERVERS TO DISK");
            n.admin(sql.toArray(String[]::new));
        }
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
            String log = node1.log();
            for (NodeProcess peer : List.of(node2, node3)) {
                assertThat(log).contains("Created new Cluster Node Entry for host 127.0.0.1:" + peer.adminPort)
                        .contains("Cluster: clustering with peer 127.0.0.1:" + peer.adminPort
                                + " . Remote version: ");
            }
        });

        // 4. a backend server and an application user added on node2 reach node1 and node3
        node2.admin("INSERT INTO mysql_servers (hostgroup_id,hostname,port,comment) VALUES (0,'127.0.0.1',"
                        + mariaDb.port() + ",'mariadb')",
                "LOAD MYSQL SERVERS TO RUNTIME",
                "INSERT INTO mysql_users (username,password,default_hostgroup) VALUES ('" + APP_USER + "','"
                        + APP_PASSWORD + "',0)",
                "LOAD MYSQL USERS TO RUNTIME");
        for (NodeProcess n : List.of(node1, node3)) {
            await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
                assertThat(n.rows("SELECT hostgroup_id, hostname, port FROM runtime_mysql_servers"))
                        .containsExactly(List.of("0", "127.0.0.1", Integer.toString(mariaDb.port())));
                assertThat(n.rows("SELECT username, default_hostgroup FROM runtime_mysql_users"))
                        .contains(List.of(APP_USER, "0"));
                assertThat(n.rows("SELECT username, password FROM disk.mysql_users"))
                        .containsExactly(List.of(APP_USER, APP_PASSWORD));
                assertThat(n.rows("SELECT hostname, port FROM disk.mysql_servers"))
                        .containsExactly(List.of("127.0.0.1", Integer.toString(mariaDb.port())));
            });
            awaitPulled(n, node2, "mysql_users", "MySQL Users");
            awaitPulled(n, node2, "mysql_servers_v2", "MySQL Servers v2");
        }
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
            MysqlCli.Result r = node3.traffic(APP_USER, APP_PASSWORD, "SELECT @@port, 6*7");
            assertThat(r.succeeded()).as(r.toString()).isTrue();
            assertThat(r.stdout()).isEqualTo(mariaDb.port() + "\t42\n");
        });
        awaitSame(ALL_COLUMNS, SYNCED_MODULES);

        // 5. the same for a query rule
        node2.admin("INSERT INTO mysql_query_rules (rule_id,active,match_digest,destination_hostgroup,apply,comment)"
                + " VALUES (10,1,'^SELECT .* FOR UPDATE',0,1,'e2e rule')", "LOAD MYSQL QUERY RULES TO RUNTIME");
        for (NodeProcess n : List.of(node1, node3)) {
            await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
                assertThat(n.rows("SELECT rule_id, match_digest, destination_hostgroup, comment"
                        + " FROM runtime_mysql_query_rules"))
                        .containsExactly(List.of("10", "^SELECT .* FOR UPDATE", "0", "e2e rule"));
                assertThat(n.rows("SELECT rule_id, active FROM disk.mysql_query_rules"))
                        .containsExactly(List.of("10", "1"));
            });
            awaitPulled(n, node2, "mysql_query_rules", "MySQL Query Rules");
        }
        awaitSame(ALL_COLUMNS, "mysql_query_rules");

        // 6. node3 goes away: its row stops advancing on node1 and node2, whose logs say it cannot be reached
        node3.kill();
        for (NodeProcess n : List.of(node1, node2)) {
            await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() ->
                    assertThat(n.log()).contains("Cluster: unable to connect to peer 127.0.0.1:" + node3.adminPort
                            + " . Error: "));
        }
        String node3Seen = updatedAt(node1, node3) + "/" + updatedAt(node2, node3);
        String node2SeenByNode1 = updatedAt(node1, node2);
        long node1Failures = failedConnects(node1, node3);
        long node2Failures = failedConnects(node2, node3);
        // proven after each node's next attempt on node3 has failed too, while node2 is still checked
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
            assertThat(failedConnects(node1, node3)).isGreaterThan(node1Failures);
            assertThat(failedConnects(node2, node3)).isGreaterThan(node2Failures);
            assertThat(updatedAt(node1, node2)).isNotEqualTo(node2SeenByNode1);
        });
        assertThat(updatedAt(node1, node3) + "/" + updatedAt(node2, node3)).isEqualTo(node3Seen);

        // 7. a user added on node1 while node3 is down reaches node2
        node1.admin("INSERT INTO mysql_users (username,password,default_hostgroup) VALUES ('" + LATE_USER
                + "','" + LATE_PASSWORD + "',0)", "LOAD MYSQL USERS TO RUNTIME");
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
            assertThat(node2.rows("SELECT username FROM runtime_mysql_users WHERE username='" + LATE_USER + "'"))
                    .isNotEmpty();
            assertThat(node2.rows("SELECT username FROM disk.mysql_users ORDER BY username"))
                    .containsExactly(List.of(APP_USER), List.of(LATE_USER));
        });

        // 8. node3 comes back on its old data directory and catches up: runtime, disk and checksums
        node3.start();
        node3.awaitReady();
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
            assertThat(node3.rows("SELECT username FROM runtime_mysql_users WHERE username='" + LATE_USER + "'"))
                    .isNotEmpty();
            assertThat(node3.rows("SELECT username FROM disk.mysql_users ORDER BY username"))
                    .containsExactly(List.of(APP_USER), List.of(LATE_USER));
        });
        // versions are per-node counters and a restart resets them, so only what was loaded agrees on the epoch
        awaitSame("epoch, checksum", "mysql_users");
        awaitSame("checksum", "mysql_users", "mysql_query_rules", "mysql_servers_v2", "proxysql_servers");
        MysqlCli.Result late = node3.traffic(LATE_USER, LATE_PASSWORD, "SELECT CURRENT_USER()");
        assertThat(late.succeeded()).as(late.toString()).isTrue();
        assertThat(late.stdout()).startsWith(LATE_USER + "@");
        for (NodeProcess n : nodes) {
            assertThat(n.isAlive()).as(n + " still running").isTrue();
        }
    }

    /**
     * Waits until {@code n} logged ProxySQL's lines for a pull of {@code module}: it saw the change made on
     * {@code origin}, then fetched, loaded and saved it from one peer. That peer may be origin or the third node, which
     * advertises the same checksum and epoch as soon as it has pulled the change itself. Waited for although the rows
     * are there already: the puller logs the save after the admin thread has done it, and the monitor of origin may
     * log its sighting after another monitor's pull.
     */
    private void awaitPulled(NodeProcess n, NodeProcess origin, String module, String label) {
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> assertPulled(n, origin, module, label));
    }

    private void assertPulled(NodeProcess n, NodeProcess origin, String module, String label) {
        String log = n.log();
        assertThat(log).contains("Cluster: detected a new checksum for " + module + " from peer 127.0.0.1:"
                + origin.adminPort);
        List<String> pulledFrom = new ArrayList<>();
        for (NodeProcess peer : nodes) {
            String from = " from peer 127.0.0.1:" + peer.adminPort;
            if (peer != n && log.contains("Cluster: Fetching " + label + from + " started")
                    && log.contains("Cluster: Loading to runtime " + label + from)
                    && log.contains("Cluster: Saving to disk " + label + from)) {
                pulledFrom.add(peer.name);
            }
        }
        assertThat(pulledFrom).as(n + " fetched, loaded and saved " + label + " from a peer").isNotEmpty();
    }

    /** Waits until every node shows the same {@code columns} of {@code runtime_checksums_values} for each module. */
    private void awaitSame(String columns, String... modules) {
        String in = "('" + String.join("','", modules) + "')";
        String sql = "SELECT name, " + columns + " FROM runtime_checksums_values WHERE name IN " + in + " ORDER BY name";
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
            List<List<String>> first = nodes.getFirst().rows(sql);
            assertThat(first).hasSize(modules.length);
            for (NodeProcess n : nodes) {
                assertThat(n.rows(sql)).as(n.toString()).isEqualTo(first);
            }
        });
    }

    /** How many times {@code observer}'s log says it could not connect to {@code peer}. */
    private static long failedConnects(NodeProcess observer, NodeProcess peer) {
        String line = "Cluster: unable to connect to peer 127.0.0.1:" + peer.adminPort + " . Error: ";
        return observer.log().lines().filter(l -> l.contains(line)).count();
    }

    /** {@code updated_at} of {@code peer}'s rows as {@code observer} shows them. */
    private static String updatedAt(NodeProcess observer, NodeProcess peer) {
        return observer.admin("SELECT MAX(updated_at) FROM stats_proxysql_servers_checksums WHERE port = "
                + peer.adminPort).strip();
    }
}
