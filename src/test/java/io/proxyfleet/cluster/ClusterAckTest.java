package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.admin.AdminPrincipal;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.admin.AdminRole;
import io.proxyfleet.testkit.FreePorts;
import io.proxyfleet.testkit.MysqlCli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged changes with whole nodes and the mysql client: {@code PROXYFLEET WAIT CLUSTER}, the
 * {@code admin-proxyfleet_cluster_load_wait} variable and {@code stats_proxyfleet_cluster_acks}, with every node
 * up and with one listed node down. Default cluster settings (1 s checks, 3 diffs): the fast path is what makes the
 * acknowledgements quick.
 */
class ClusterAckTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration QUORUM_TIMEOUT = Duration.ofSeconds(20);
    /** A wait that must still be pending after {@link #ANSWERED_AT_ONCE}. */
    private static final Duration LONG_WAIT = Duration.ofSeconds(8);
    /** A mysql client's start, login and query on a loaded machine, with no wait in its way. */
    private static final Duration ANSWERED_AT_ONCE = Duration.ofSeconds(5);
    private static final AdminPrincipal OPERATOR = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:1");
    private static final String CLUSTER_ADMIN = """
                admin_credentials="admin:admin;cluster1:clusterpass"
                cluster_username="cluster1"
                cluster_password="clusterpass"
            """;

    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    /** Starts a whole node for each of {@code running}; every port of {@code listed} is in proxysql_servers. */
    private List<ProxyFleetNode> cluster(int[] listed, int running) throws IOException {
        String servers = NodeFixture.proxysqlServers(listed);
        List<ProxyFleetNode> started = new ArrayList<>();
        for (int i = 0; i < running; i++) {
            Path dir = tmp.resolve("n" + i);
            ProxyFleetNode n = NodeFixture.start(dir, NodeFixture.writeOneLoopConfig(dir, listed[i], CLUSTER_ADMIN,
                    servers));
            open.add(n);
            started.add(n);
        }
        return started;
    }

    /** Free ports in ascending order, the order runtime_proxysql_servers (hostname, port) lists them. */
    private static int[] ports(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = FreePorts.loopback();
        }
        Arrays.sort(p);
        return p;
    }

    private static MysqlCli.Result run(int port, String... sql) {
        return MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", port, "admin", "admin", "--skip-ssl", "-N", "-B"),
                String.join(";\n", sql) + ";\n", MysqlCli.DEFAULT_TIMEOUT);
    }

    private static String admin(int port, String... sql) {
        MysqlCli.Result r = run(port, sql);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        return r.stdout();
    }

    private static List<String[]> rows(String stdout) {
        return stdout.lines().map(l -> l.split("\t", -1)).toList();
    }

    private static String addUser(String name) {
        return "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('" + name + "', 'pw', 0)";
    }

    @Test
    void everyNodeUpReportsAppliedWithItsTimeAndLoadCanWaitForIt() throws Exception {
        int[] p = ports(3);
        cluster(p, 3);
        admin(p[0], addUser("app1"), "LOAD MYSQL USERS TO RUNTIME");
        String target = admin(p[0], "SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_users'")
                .strip();

        List<String[]> acks = rows(admin(p[0], "PROXYFLEET WAIT CLUSTER mysql_users TIMEOUT 20000"));

        assertThat(acks).hasSize(3);
        for (int i = 0; i < 3; i++) {
            String[] r = acks.get(i);
            assertThat(r[0]).isEqualTo("127.0.0.1:" + p[i]);
            assertThat(r[1]).isEqualTo("applied");
            assertThat(r[2]).isEqualTo(target);
            assertThat(Long.parseLong(r[3])).isBetween(0L, 20_000L);
        }
        assertThat(admin(p[2], "SELECT username FROM runtime_mysql_users")).contains("app1");
        assertThat(admin(p[0], "SELECT hostname, port, state, checksum = target_checksum, time_to_apply_ms >= 0"
                + " FROM stats_proxyfleet_cluster_acks WHERE module = 'mysql_users' ORDER BY port"))
                .isEqualTo(expectedStats(p));

        // The node-local variable does not change the admin_variables checksum, so no peer pulls it.
        String adminChecksum = "SELECT checksum FROM runtime_checksums_values WHERE name = 'admin_variables'";
        String before = admin(p[0], adminChecksum);
        admin(p[0], "SET admin-proxyfleet_cluster_load_wait='true'", "LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(admin(p[0], adminChecksum)).isEqualTo(before);

        // With it, LOAD returns once every node runs the new users: right after it, node 3 already serves app2.
        admin(p[0], addUser("app2"), "LOAD MYSQL USERS TO RUNTIME");
        assertThat(admin(p[1], "SELECT DISTINCT username FROM runtime_mysql_users WHERE username = 'app2'")).isEqualTo("app2\n");
        assertThat(admin(p[2], "SELECT DISTINCT username FROM runtime_mysql_users WHERE username = 'app2'")).isEqualTo("app2\n");
    }

    private static String expectedStats(int[] p) {
        StringBuilder s = new StringBuilder();
        for (int port : p) {
            s.append("127.0.0.1\t").append(port).append("\tapplied\t1\t1\n");
        }
        return s.toString();
    }

    @Test
    void aNodeDownIsReportedWithinTheTimeoutWhileOtherAdminSessionsKeepWorking() throws Exception {
        int[] p = ports(3);
        ProxyFleetNode first = cluster(p, 2).getFirst();
        admin(p[0], addUser("app1"), "LOAD MYSQL USERS TO RUNTIME");
        // Node 3 is known to be down before the long wait starts, so the wait cannot end before its timeout.
        await().atMost(WAIT).until(() -> admin(p[0], "SELECT state FROM stats_proxyfleet_cluster_acks"
                + " WHERE port = " + p[2] + " AND module = 'mysql_users'").equals("unreachable\n"));

        // A long wait; meanwhile another session is answered at once. The wait goes straight to the admin thread,
        // so it is waiting before the other session's statement arrives (two mysql clients could start either way).
        CompletableFuture<AdminResponse> longWait = first.admin().execute(OPERATOR,
                "PROXYFLEET WAIT CLUSTER mysql_users TIMEOUT " + LONG_WAIT.toMillis());
        long asked = System.nanoTime();
        assertThat(admin(p[0], "SELECT DISTINCT username FROM runtime_mysql_users")).isEqualTo("app1\n");
        assertThat(Duration.ofNanos(System.nanoTime() - asked)).isLessThan(ANSWERED_AT_ONCE);
        assertThat(longWait).isNotDone();
        AdminResponse waited = longWait.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(waited).isInstanceOf(AdminResponse.ResultSet.class);
        List<List<String>> acks = ((AdminResponse.ResultSet) waited).rows();
        assertThat(acks).extracting(r -> r.get(0) + " " + r.get(1)).containsExactly("127.0.0.1:" + p[0] + " applied",
                "127.0.0.1:" + p[1] + " applied", "127.0.0.1:" + p[2] + " unreachable");
        assertThat(acks.get(2).get(3)).isNull();

        // A quorum (2 of 3) is there already: the wait ends before its timeout (a mysql client start on a loaded
        // machine takes seconds, so only the timeout itself tells a wait that ran out from one that did not).
        long started = System.nanoTime();
        assertThat(rows(admin(p[0], "PROXYFLEET WAIT CLUSTER mysql_users TIMEOUT " + QUORUM_TIMEOUT.toMillis()
                + " QUORUM"))).hasSize(3);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(QUORUM_TIMEOUT);

        // LOAD that waits for all nodes fails after the timeout and names the missing node; the load itself stays.
        admin(p[0], "SET admin-proxyfleet_cluster_load_wait='true'", "SET admin-proxyfleet_cluster_ack_timeout_ms=1500",
                "LOAD ADMIN VARIABLES TO RUNTIME");
        MysqlCli.Result load = run(p[0], addUser("app2"), "LOAD MYSQL USERS TO RUNTIME");
        assertThat(load.succeeded()).isFalse();
        assertThat(load.stderr()).contains("LOAD MYSQL USERS TO RUNTIME is applied on this node, but only 2 of 3"
                + " nodes applied it within 1500 ms", "127.0.0.1:" + p[2] + " unreachable");
        await().atMost(WAIT).untilAsserted(() -> assertThat(admin(p[1],
                "SELECT DISTINCT username FROM runtime_mysql_users WHERE username = 'app2'")).isEqualTo("app2\n"));
    }

    @Test
    void unknownModuleIsRefused() throws Exception {
        int[] p = ports(1);
        cluster(p, 1);
        MysqlCli.Result r = run(p[0], "PROXYFLEET WAIT CLUSTER mysql_userz");
        assertThat(r.succeeded()).isFalse();
        assertThat(r.stderr()).contains("unknown cluster module 'mysql_userz'");
    }
}
