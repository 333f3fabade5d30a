package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.admin.AdminPrincipal;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.admin.AdminRole;
import io.proxyfleet.testkit.FreePorts;
import io.proxyfleet.testkit.LogCapture;
import io.proxyfleet.testkit.MysqlCli;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4's faults, seen from a whole node ("the observer", started from a config file like an operator's node)
 * that monitors one healthy whole node and one faulty peer. For each fault: a clear warning or error in the log,
 * no change to the observer's configuration, and the healthy peer still monitored and synced from.
 */
class ClusterFaultsTest {
    private static final AdminPrincipal OPERATOR = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:1");
    private static final Duration CHECK_INTERVAL = Duration.ofMillis(100);
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration POLL = Duration.ofMillis(100);
    /** Loads meant for one second start within this many milliseconds of its beginning. */
    private static final long SECOND_START_MILLIS = 300;
    private static final String CLUSTER_ADMIN = """
                admin_credentials="admin:admin;cluster1:clusterpass"
                cluster_username="cluster1"
                cluster_password="clusterpass"
                cluster_check_interval_ms=%d
            """.formatted(CHECK_INTERVAL.toMillis());

    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();
    private LogCapture logs;

    private int healthyPort;
    private ProxyFleetNode healthy;

    @BeforeEach
    void healthyPeerAndLogCapture() throws Exception {
        logs = LogCapture.of("io.proxyfleet.cluster");
        healthyPort = FreePorts.loopback();
        healthy = node("healthy", healthyPort, CLUSTER_ADMIN);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        logs.close();
    }

    /**
     * Starts a whole node from a config file whose {@code admin_variables} hold {@code adminVariables} besides its
     * port, followed by {@code extra} top-level sections.
     */
    private ProxyFleetNode node(String name, int adminPort, String adminVariables, String extra) throws IOException {
        Path dir = tmp.resolve(name);
        Path cnf = NodeFixture.writeOneLoopConfig(dir, adminPort, adminVariables, extra);
        ProxyFleetNode n = NodeFixture.start(dir, cnf);
        open.add(n);
        return n;
    }

    private ProxyFleetNode node(String name, int adminPort, String adminVariables) throws IOException {
        return node(name, adminPort, adminVariables, "");
    }

    /** A whole node that monitors the healthy peer and {@code faultyPort}. */
    private ProxyFleetNode observer(int faultyPort) throws IOException {
        int port = FreePorts.loopback();
        return node("observer", port, CLUSTER_ADMIN, """
                proxysql_servers=
                (
                    { hostname="127.0.0.1", port=%d, weight=0, comment="healthy" },
                    { hostname="127.0.0.1", port=%d, weight=0, comment="faulty" }
                )
                """.formatted(healthyPort, faultyPort));
    }

    /** Statements through the admin port, without TLS: the admin listener sometimes loses a TLS ClientHello. */
    private static String admin(ProxyFleetNode n, String... sql) {
        MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", n.adminPort(), "admin", "admin",
                "--skip-ssl", "-N"), String.join(";\n", sql) + ";\n", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        return r.stdout();
    }

    private void awaitLog(Level atLeast, String... fragments) {
        logs.await(WAIT, atLeast, fragments);
    }

    /**
     * The healthy peer is still monitored: a query rule loaded there now reaches the observer. Everything else the
     * observer had stays as it was ({@code before}: its runtime_checksums_values without the query rules row).
     */
    private void healthyPeerStillSyncsAndNothingElseChanged(ProxyFleetNode observer, String before) {
        admin(healthy, "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)"
                + " VALUES (7, 1, '^SELECT', 0, 1)", "LOAD MYSQL QUERY RULES TO RUNTIME");
        await().atMost(WAIT).pollInterval(POLL).untilAsserted(() ->
                assertThat(admin(observer, "SELECT rule_id FROM runtime_mysql_query_rules")).isEqualTo("7\n"));
        assertThat(checksumsExceptRules(observer)).isEqualTo(before);
    }

    private static String checksumsExceptRules(ProxyFleetNode n) {
        return admin(n, "SELECT name, version, epoch, checksum FROM runtime_checksums_values"
                + " WHERE name != 'mysql_query_rules' ORDER BY name");
    }

    @Test
    void peerThatRefusesConnections() throws Exception {
        int closedPort = FreePorts.loopback();
        ProxyFleetNode observer = observer(closedPort);
        String before = checksumsExceptRules(observer);

        awaitLog(Level.WARN, "Cluster: unable to connect to peer 127.0.0.1:" + closedPort + " . Error: ",
                "refused");
        healthyPeerStillSyncsAndNothingElseChanged(observer, before);
        assertThat(admin(observer, "SELECT updated_at FROM stats_proxysql_servers_checksums WHERE port = "
                + closedPort + " AND name = 'mysql_users'")).isEqualTo("0\n");
    }

    @Test
    void peerThatAcceptsAndThenHangs() throws Exception {
        List<Socket> accepted = new CopyOnWriteArrayList<>();
        Thread acceptor = null;
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            acceptor = Thread.ofVirtual().start(() -> {
                while (!silent.isClosed()) {
                    try {
                        accepted.add(silent.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            ProxyFleetNode observer = observer(silent.getLocalPort());
            String before = checksumsExceptRules(observer);
            await().atMost(WAIT).until(() -> !accepted.isEmpty());

            // while the silent peer's monitor waits for a greeting, the other monitor keeps working
            long started = System.nanoTime();
            healthyPeerStillSyncsAndNothingElseChanged(observer, before);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(PeerConnector.READ_TIMEOUT);

            // the wait is bounded: the observer gives up, says so, and closes the connection
            awaitLog(Level.WARN, "Cluster: unable to connect to peer 127.0.0.1:" + silent.getLocalPort()
                    + " . Error: ");
            Socket first = accepted.getFirst();
            first.setSoTimeout((int) WAIT.toMillis());
            try (InputStream in = first.getInputStream()) {
                assertThat(in.read()).as("observer closed the hung connection").isEqualTo(-1);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the observer never closed its connection to the hung peer", e);
            }
        } finally {
            // the server socket is closed by now, which ends the acceptor
            if (acceptor != null) {
                acceptor.join(WAIT);
            }
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    @Test
    void peerWithOtherClusterCredentials() throws Exception {
        int port = FreePorts.loopback();
        node("stranger", port, """
                    admin_credentials="admin:admin"
                    cluster_username="cluster2"
                    cluster_password="otherpass"
                """);
        ProxyFleetNode observer = observer(port);
        String before = checksumsExceptRules(observer);

        awaitLog(Level.WARN, "Cluster: unable to connect to peer 127.0.0.1:" + port + " . Error: ",
                "Access denied");
        healthyPeerStillSyncsAndNothingElseChanged(observer, before);
    }

    @Test
    void peerWhoseRowsDoNotMatchItsChecksum() throws Exception {
        // the liar advertises the checksum of its real users but hands out a different password
        TestNode liar = new TestNode(tmp.resolve("liar"), (sql, response) ->
                sql.startsWith("PROXY_SELECT username, password") && response instanceof AdminResponse.ResultSet rs
                        ? new AdminResponse.ResultSet(rs.columns(), rs.rows().stream().map(r -> {
                            List<String> copy = new ArrayList<>(r);
                            copy.set(1, "tampered");
                            return List.copyOf(copy);
                        }).toList())
                        : response);
        open.add(liar);
        // the same admin variables as the observer: they are synced too, and a peer without the cluster user would
        // switch the observer's clustering off
        for (String[] v : new String[][] {{"admin_credentials", "admin:admin;cluster1:clusterpass"},
                {"cluster_username", "cluster1"}, {"cluster_password", "clusterpass"},
                {"cluster_check_interval_ms", Long.toString(CHECK_INTERVAL.toMillis())}}) {
            liar.exec("UPDATE global_variables SET variable_value = '" + v[1] + "' WHERE variable_name = 'admin-"
                    + v[0] + "'");
        }
        liar.exec("LOAD ADMIN VARIABLES TO RUNTIME");
        liar.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('victim', 'real', 0)");
        liar.exec("LOAD MYSQL USERS TO RUNTIME");
        String advertised = liar.module("mysql_users").checksum();
        ProxyFleetNode observer = observer(liar.listener.port());
        String before = checksumsExceptRules(observer);

        awaitLog(Level.ERROR, "Cluster: Fetching MySQL Users from peer 127.0.0.1:" + liar.listener.port()
                + " failed: Checksum changed from " + advertised + " to ");
        healthyPeerStillSyncsAndNothingElseChanged(observer, before);
        assertThat(admin(observer, "SELECT COUNT(*) FROM runtime_mysql_users")).isEqualTo("0\n");
        assertThat(admin(observer, "SELECT COUNT(*) FROM mysql_users")).isEqualTo("0\n");
        assertThat(admin(observer, "SELECT COUNT(*) FROM disk.mysql_users")).isEqualTo("0\n");
    }

    @Test
    void twoNodesLoadedInTheSameSecondWithDifferentRowsResolveToTheHigherChecksum() throws Exception {
        int rivalPort = FreePorts.loopback();
        ProxyFleetNode observer = observer(rivalPort);
        ProxyFleetNode rival = node("rival", rivalPort, CLUSTER_ADMIN);
        admin(observer, "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('mine', 'p', 0)");
        admin(rival, "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('theirs', 'p', 0)");
        // both load within one second: straight through the engines, a mysql client start takes too long here.
        // In a second after both nodes' current epochs first: a local load always gets an epoch above the module's
        // previous one, so a load in the very second of a boot load would get the next second.
        String epochs = "SELECT epoch FROM runtime_checksums_values WHERE name = 'mysql_users'";
        long lastEpoch = Math.max(Long.parseLong(admin(observer, epochs).trim()),
                Long.parseLong(admin(rival, epochs).trim()));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
            long now = System.currentTimeMillis();
            return now / 1000 > lastEpoch && now % 1000 < SECOND_START_MILLIS;
        });
        for (ProxyFleetNode n : List.of(observer, rival)) {
            AdminResponse r = n.admin().execute(OPERATOR, "LOAD MYSQL USERS TO RUNTIME").get(10, TimeUnit.SECONDS);
            assertThat(r).isNotInstanceOf(AdminResponse.Error.class);
        }
        assertThat(admin(observer, epochs)).as("loaded in the same second").isEqualTo(admin(rival, epochs));
        String checksums = "SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_users'";
        String users = "SELECT DISTINCT username FROM runtime_mysql_users";
        // ProxySQL never resolves this; ProxyFleet lets the higher checksum win. The rival monitors nobody, so
        // only the observer can move: it takes the rival's rows if they win, and otherwise waits for the rival to
        // pull (which it never does, as a ProxySQL peer would not), reporting ProxySQL's conflict meanwhile.
        if (admin(rival, checksums).compareTo(admin(observer, checksums)) > 0) {
            awaitLog(Level.WARN, "Cluster: detected a peer 127.0.0.1:" + rivalPort + " with mysql_users version 2",
                    "Epoch times are EQUAL; the higher checksum wins on every node.");
            await().atMost(WAIT).pollInterval(POLL).untilAsserted(() ->
                    assertThat(admin(observer, checksums)).isEqualTo(admin(rival, checksums)));
            assertThat(admin(observer, users)).isEqualTo("theirs\n");
        } else {
            awaitLog(Level.ERROR, "Cluster: detected a peer 127.0.0.1:" + rivalPort + " with mysql_users version 2",
                    "Sync conflict, epoch times are EQUAL, can't determine which server holds the latest config,"
                            + " we won't sync.");
            assertThat(admin(observer, users)).isEqualTo("mine\n");
        }
        String before = checksumsExceptRules(observer);
        healthyPeerStillSyncsAndNothingElseChanged(observer, before);
    }

    @Test
    void peerRestartedAtVersionOneWithAnOlderConfiguration() throws Exception {
        int restartedPort = FreePorts.loopback();
        ProxyFleetNode peer = node("restarted", restartedPort, CLUSTER_ADMIN, """
                mysql_users=
                (
                    { username="old_user", password="p", default_hostgroup=0 }
                )
                """);
        ProxyFleetNode observer = observer(restartedPort);
        // a change loaded on the peer but never saved to its disk reaches the observer
        admin(peer, "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('new_user', 'p', 0)",
                "LOAD MYSQL USERS TO RUNTIME");
        String users = "SELECT DISTINCT username FROM runtime_mysql_users ORDER BY username";
        await().atMost(WAIT).pollInterval(POLL).untilAsserted(() ->
                assertThat(admin(observer, users)).isEqualTo("new_user\nold_user\n"));

        // the peer restarts from its disk, without new_user: version 1, another checksum
        peer.close();
        open.remove(peer);
        open.add(NodeFixture.start(tmp.resolve("restarted"), tmp.resolve("restarted").resolve("proxysql.cnf")));
        String before = checksumsExceptRules(observer);

        awaitLog(Level.WARN, "Cluster: detected a peer 127.0.0.1:" + restartedPort + " with mysql_users version 1",
                "diff_check is increasing, but version 1 doesn't allow sync.");
        healthyPeerStillSyncsAndNothingElseChanged(observer, before);
        assertThat(admin(observer, users)).isEqualTo("new_user\nold_user\n");
    }
}
