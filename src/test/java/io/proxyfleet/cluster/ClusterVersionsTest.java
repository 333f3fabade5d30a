package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.admin.AdminPrincipal;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.admin.AdminRole;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.testkit.FreePorts;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 beyond ProxySQL, with in-JVM nodes clustering over real admin sockets: only local loads notify, a
 * concurrent edit is detected (and refused in strict mode), a restarted node keeps the version saved with its
 * configuration, and a rollback is a new change that propagates.
 */
class ClusterVersionsTest {
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final int CHECK_INTERVAL_MS = 100;
    private static final AdminPrincipal OPERATOR = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:1");
    private static final String USERS = "SELECT DISTINCT username FROM runtime_mysql_users ORDER BY username";

    @TempDir
    Path tmp;
    private final List<TestNode> open = new ArrayList<>();

    @AfterEach
    void closeNodes() throws Exception {
        for (TestNode n : open) {
            n.close();
        }
    }

    private TestNode node(String name, int port) throws Exception {
        TestNode n = new TestNode(tmp.resolve(name), port);
        open.add(n);
        return n;
    }

    private void stop(TestNode n) throws Exception {
        open.remove(n);
        n.close();
    }

    /**
     * Cluster user, a short check interval and {@code extra} admin variables, loaded and saved; then every port of
     * {@code ports} (this node's included) in proxysql_servers, loaded and saved.
     */
    private static void configure(TestNode n, List<Integer> ports, Map<String, String> extra) throws Exception {
        Map<String, String> vars = new java.util.LinkedHashMap<>(Map.of("admin-cluster_username", "cluster",
                "admin-cluster_password", "cl-secret", "admin-admin_credentials", "admin:admin;cluster:cl-secret",
                "admin-cluster_check_interval_ms", Integer.toString(CHECK_INTERVAL_MS)));
        vars.putAll(extra);
        for (var v : vars.entrySet()) {
            n.exec("UPDATE global_variables SET variable_value = '" + v.getValue() + "' WHERE variable_name = '"
                    + v.getKey() + "'");
        }
        n.exec("LOAD ADMIN VARIABLES TO RUNTIME");
        n.exec("SAVE ADMIN VARIABLES TO DISK");
        for (int port : ports) {
            n.exec("INSERT INTO proxysql_servers (hostname, port, weight, comment) VALUES ('127.0.0.1', " + port
                    + ", 0, 'node')");
        }
        n.exec("LOAD PROXYSQL SERVERS TO RUNTIME");
        n.exec("SAVE PROXYSQL SERVERS TO DISK");
    }

    /** Two configured nodes on fixed ports, clustering, each having checked its peers once. */
    private List<TestNode> pair(Map<String, String> extraA, Map<String, String> extraB) throws Exception {
        List<Integer> ports = List.of(FreePorts.loopback(), FreePorts.loopback());
        TestNode a = node("a", ports.get(0));
        TestNode b = node("b", ports.get(1));
        configure(a, ports, extraA);
        configure(b, ports, extraB);
        a.startCluster();
        b.startCluster();
        awaitChecked(a);
        awaitChecked(b);
        return List.of(a, b);
    }

    private static void awaitChecked(TestNode n) {
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> assertThat(
                n.cluster.get().checksumsStatus()).allSatisfy(s -> assertThat(s.updatedAt()).isPositive()));
    }

    private static void awaitSameUsers(TestNode source, TestNode target) {
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> {
            ModuleVersion want = source.module("mysql_users");
            assertThat(target.module("mysql_users").checksum()).isEqualTo(want.checksum());
            assertThat(target.module("mysql_users").epoch()).isEqualTo(want.epoch());
        });
    }

    private static void loadUser(TestNode n, String user) throws Exception {
        n.exec("DELETE FROM mysql_users");
        n.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('" + user + "', 'p', 0)");
        n.exec("LOAD MYSQL USERS TO RUNTIME");
    }

    /** Waits until {@code observer} has seen {@code source}'s current users checksum (without pulling it). */
    private static void awaitSeen(TestNode observer, TestNode source) {
        String checksum = source.module("mysql_users").checksum();
        await().atMost(SYNC_TIMEOUT).pollInterval(POLL).untilAsserted(() -> assertThat(
                observer.cluster.get().checksumsStatus()).anySatisfy(s -> {
                    assertThat(s.port()).isEqualTo(source.listener.port());
                    assertThat(s.name()).isEqualTo("mysql_users");
                    assertThat(s.checksum()).isEqualTo(checksum);
                }));
    }

    private static long newestHistoryId(TestNode n, String module) throws Exception {
        return Long.parseLong(n.rows("SELECT MAX(id) FROM disk.proxyfleet_cluster_history WHERE name = '" + module
                + "'").getFirst().getFirst());
    }

    @Test
    void onlyTheLocalLoadNotifiesThePeersNotThePullsThatFollowIt() throws Exception {
        List<TestNode> c = pair(Map.of(), Map.of());
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        a.notifies.set(0);
        b.notifies.set(0);

        loadUser(a, "app");
        awaitSameUsers(a, b);
        // a's load told both nodes (each lists itself too); b's pull told nobody
        await().during(Duration.ofSeconds(1)).atMost(SYNC_TIMEOUT).pollInterval(POLL)
                .until(() -> a.notifies.get() == 1 && b.notifies.get() == 1);
    }

    /**
     * Settings for a concurrent edit that stays visible: admin variables never sync (each node keeps its own), and
     * b never pulls users, so b sees a's newer users without taking them.
     */
    private static final Map<String, String> A_SETTINGS = Map.of("admin-cluster_admin_variables_diffs_before_sync",
            "0");
    private static Map<String, String> bSettings(boolean strict) {
        return Map.of("admin-cluster_admin_variables_diffs_before_sync", "0",
                "admin-cluster_mysql_users_diffs_before_sync", "0",
                "admin-proxyfleet_cluster_conflict_strict", Boolean.toString(strict));
    }

    @Test
    void aLoadOverANewerPeerVersionIsAConcurrentEditRecordedWithBothVersions() throws Exception {
        List<TestNode> c = pair(A_SETTINGS, bSettings(false));
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        loadUser(a, "from_a");
        ModuleVersion aVersion = a.module("mysql_users");
        long losingId = newestHistoryId(a, "mysql_users");
        awaitSeen(b, a);
        ModuleVersion bBase = b.module("mysql_users");

        loadUser(b, "from_b");
        ModuleVersion bLoaded = b.module("mysql_users");
        assertThat(b.rows(USERS)).containsExactly(List.of("from_b"));
        assertThat(b.cluster.get().concurrentEditTotal(ClusterModule.MYSQL_USERS)).isEqualTo(1);
        assertThat(b.rows("SELECT name, outcome, admin_user, base_version, base_epoch, base_checksum,"
                + " loaded_checksum, peer, peer_version, peer_epoch, peer_checksum"
                + " FROM stats_proxyfleet_cluster_conflicts")).containsExactly(List.of("mysql_users", "loaded",
                "admin", Long.toString(bBase.version()), Long.toString(bBase.epoch()), bBase.checksum(),
                bLoaded.checksum(), "127.0.0.1:" + a.listener.port(), Long.toString(aVersion.version()),
                Long.toString(aVersion.epoch()), aVersion.checksum()));

        // the newer epoch wins as always: a takes b's users, and a's own version stays in a's history
        awaitSameUsers(b, a);
        assertThat(a.rows("SELECT source, checksum FROM disk.proxyfleet_cluster_history WHERE id = " + losingId))
                .containsExactly(List.of("local", aVersion.checksum()));
        a.exec("PROXYFLEET CLUSTER ROLLBACK TO " + losingId);
        assertThat(a.rows(USERS)).containsExactly(List.of("from_a"));
        assertThat(a.module("mysql_users").checksum()).isEqualTo(aVersion.checksum());
    }

    @Test
    void inStrictModeALoadOverANewerPeerVersionIsRefused() throws Exception {
        List<TestNode> c = pair(A_SETTINGS, bSettings(true));
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        loadUser(a, "from_a");
        awaitSeen(b, a);
        ModuleVersion bBefore = b.module("mysql_users");
        b.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('from_b', 'p', 0)");

        AdminResponse r = b.engine.execute(OPERATOR, "LOAD MYSQL USERS TO RUNTIME").get(10, TimeUnit.SECONDS);
        assertThat(r).isInstanceOfSatisfying(AdminResponse.Error.class, e -> assertThat(e.message()).contains(
                "node is behind the cluster for mysql_users; the newest version is "
                        + a.module("mysql_users").version() + " from node 127.0.0.1:" + a.listener.port()));
        assertThat(b.module("mysql_users")).isEqualTo(bBefore);
        assertThat(b.rows(USERS)).isEmpty();
        assertThat(b.rows("SELECT outcome FROM stats_proxyfleet_cluster_conflicts"))
                .containsExactly(List.of("refused"));
        assertThat(b.cluster.get().concurrentEditTotal(ClusterModule.MYSQL_USERS)).isEqualTo(1);
    }

    @Test
    void aNodeRestartedWithANewerSavedConfigurationIsStillTheSource() throws Exception {
        List<TestNode> c = pair(Map.of(), Map.of());
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        int portA = a.listener.port();
        int portB = b.listener.port();
        loadUser(a, "first");
        a.exec("SAVE MYSQL USERS TO DISK");
        awaitSameUsers(a, b);
        stop(b);
        loadUser(a, "second");
        a.exec("SAVE MYSQL USERS TO DISK");
        ModuleVersion saved = a.module("mysql_users");
        stop(a);

        // both come back from disk: b with the older users, a with the newer ones, each at its saved version
        TestNode b2 = node("b", portB);
        TestNode a2 = node("a", portA);
        assertThat(a2.module("mysql_users")).isEqualTo(saved);
        assertThat(b2.module("mysql_users").version()).isGreaterThan(1);
        assertThat(b2.rows(USERS)).containsExactly(List.of("first"));
        b2.startCluster();
        a2.startCluster();

        awaitSameUsers(a2, b2);
        assertThat(b2.rows(USERS)).containsExactly(List.of("second"));
        assertThat(a2.module("mysql_users")).isEqualTo(saved);
    }

    @Test
    void aNodeRestartedWithAnOlderDiskTakesTheClustersNewerConfiguration() throws Exception {
        List<TestNode> c = pair(Map.of(), Map.of());
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        int portA = a.listener.port();
        loadUser(a, "first");
        a.exec("SAVE MYSQL USERS TO DISK");
        ModuleVersion stale = a.module("mysql_users");
        awaitSameUsers(a, b);
        stop(a);
        loadUser(b, "second");

        TestNode a2 = node("a", portA);
        assertThat(a2.module("mysql_users")).isEqualTo(stale);
        a2.startCluster();
        awaitSameUsers(b, a2);
        assertThat(a2.rows(USERS)).containsExactly(List.of("second"));
    }

    @Test
    void aRollbackIsANewChangeThatReachesEveryNode() throws Exception {
        List<TestNode> c = pair(Map.of(), Map.of());
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        loadUser(a, "first");
        long first = newestHistoryId(a, "mysql_users");
        awaitSameUsers(a, b);
        loadUser(a, "second");
        long second = newestHistoryId(a, "mysql_users");
        awaitSameUsers(a, b);
        ModuleVersion beforeRollback = a.module("mysql_users");

        assertThat(a.rows("PROXYFLEET CLUSTER DIFF " + first + " " + second)).extracting(r -> r.get(0) + " "
                + r.get(1) + " " + r.get(2).split("\t")[0]).containsExactly("mysql_users - first",
                "mysql_users + second");
        a.exec("PROXYFLEET CLUSTER ROLLBACK TO " + first);

        assertThat(a.rows(USERS)).containsExactly(List.of("first"));
        assertThat(a.rows("SELECT username FROM main.mysql_users")).containsExactly(List.of("first"));
        assertThat(a.module("mysql_users").version()).isEqualTo(beforeRollback.version() + 1);
        assertThat(a.module("mysql_users").epoch()).isGreaterThan(beforeRollback.epoch());
        awaitSameUsers(a, b);
        assertThat(b.rows(USERS)).containsExactly(List.of("first"));
        assertThat(a.rows("SELECT source, admin_user FROM disk.proxyfleet_cluster_history WHERE id = "
                + newestHistoryId(a, "mysql_users"))).containsExactly(List.of("local", "admin"));
    }
}
