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

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same-second edit (issue 13): two whole nodes that monitor each other load different users in one second,
 * before either can see the other's. Both end on the higher checksum, and the node whose edit lost records it as a
 * concurrent edit ({@code overwritten}, with both versions), counts it, and keeps its version in its history.
 */
class SameSecondEditTest {
    private static final AdminPrincipal OPERATOR = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:1");
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Both loads start within this many milliseconds of a new second, so they share its epoch. */
    private static final long SECOND_START_MILLIS = 300;
    private static final String EPOCH = "SELECT epoch FROM runtime_checksums_values WHERE name = 'mysql_users'";
    private static final String CHECKSUM = "SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_users'";
    private static final String CLUSTER_ADMIN = """
                admin_credentials="admin:admin;cluster1:clusterpass"
                cluster_username="cluster1"
                cluster_password="clusterpass"
                cluster_check_interval_ms=200
            """;

    @TempDir
    Path tmp;
    private final List<ProxyFleetNode> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        open.reversed().forEach(ProxyFleetNode::close);
    }

    private ProxyFleetNode node(String name, int adminPort, int... peers) throws Exception {
        Path dir = tmp.resolve(name);
        Path cnf = NodeFixture.writeOneLoopConfig(dir, adminPort, CLUSTER_ADMIN,
                NodeFixture.proxysqlServers(peers));
        ProxyFleetNode n = NodeFixture.start(dir, cnf);
        open.add(n);
        return n;
    }

    private static String admin(ProxyFleetNode n, String... sql) {
        MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", n.adminPort(), "admin", "admin",
                "--skip-ssl", "-N", "-B"), String.join(";\n", sql) + ";\n", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        return r.stdout();
    }

    @Test
    void theNodeWhoseSameSecondEditLostRecordsItAsAConcurrentEdit() throws Exception {
        int portA = FreePorts.loopback();
        int portB = FreePorts.loopback();
        ProxyFleetNode a = node("a", portA, portA, portB);
        ProxyFleetNode b = node("b", portB, portA, portB);
        // Both start from the same users (none), then each adds its own.
        admin(a, "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('on_a', 'p', 0)");
        admin(b, "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('on_b', 'p', 0)");
        long lastEpoch = Math.max(Long.parseLong(admin(a, EPOCH).trim()), Long.parseLong(admin(b, EPOCH).trim()));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
            long now = System.currentTimeMillis();
            return now / 1000 > lastEpoch && now % 1000 < SECOND_START_MILLIS;
        });
        // Straight through the engines: a mysql client's start-up could take the second loads past the second. Both
        // at once: one after the other, b could see a's load (a notifies it) before its own, which is then a load
        // over a newer peer version, not an edit that neither node could see.
        List<CompletableFuture<AdminResponse>> loads = List.of(a, b).stream()
                .map(n -> n.admin().execute(OPERATOR, "LOAD MYSQL USERS TO RUNTIME")).toList();
        for (CompletableFuture<AdminResponse> load : loads) {
            assertThat(load.get(10, TimeUnit.SECONDS)).isNotInstanceOf(AdminResponse.Error.class);
        }
        String mineA = a.admin().moduleVersions().get("mysql_users").checksum();
        String mineB = b.admin().moduleVersions().get("mysql_users").checksum();
        assertThat(admin(a, EPOCH)).as("loaded in the same second").isEqualTo(admin(b, EPOCH));
        boolean aWins = mineA.compareTo(mineB) > 0;
        ProxyFleetNode winner = aWins ? a : b;
        ProxyFleetNode loser = aWins ? b : a;
        String winning = aWins ? mineA : mineB;
        String losing = aWins ? mineB : mineA;

        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(admin(a, CHECKSUM)).isEqualTo(winning + "\n");
            assertThat(admin(b, CHECKSUM)).isEqualTo(winning + "\n");
        });
        assertThat(admin(loser, "SELECT DISTINCT username FROM runtime_mysql_users"))
                .isEqualTo((aWins ? "on_a" : "on_b") + "\n");
        int winnerPort = aWins ? portA : portB;
        assertThat(admin(loser, "SELECT name, outcome, base_checksum, loaded_checksum, peer, peer_checksum"
                + " FROM stats_proxyfleet_cluster_conflicts")).isEqualTo(String.join("\t", "mysql_users",
                "overwritten", losing, winning, "127.0.0.1:" + winnerPort, winning) + "\n");
        assertThat(admin(winner, "SELECT COUNT(*) FROM stats_proxyfleet_cluster_conflicts")).isEqualTo("0\n");
        // The lost edit can be looked at and applied again.
        assertThat(admin(loser, "SELECT COUNT(*) FROM disk.proxyfleet_cluster_history WHERE name = 'mysql_users'"
                + " AND checksum = '" + losing + "' AND source = 'local'")).isEqualTo("1\n");
    }
}
