package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.proxyfleet.NodeFixture;
import io.proxyfleet.admin.ClusterPeerCertificates;
import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.login.tls.TestCertificates;
import io.proxyfleet.protocol.AuthPlugins;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.HandshakeV10;
import io.proxyfleet.testkit.FreePorts;
import io.proxyfleet.testkit.LogCapture;
import io.proxyfleet.testkit.MysqlCli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on the cluster channel: with {@code admin-proxyfleet_cluster_tls_required} a peer must offer TLS and show a
 * certificate of the cluster's CA, or it is refused (and logged) before any credential is sent; with certificates
 * from that CA, nodes sync over TLS. By default a peer without TLS (as a ProxySQL peer may be) is still synced.
 */
class ClusterTlsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String CLUSTER_ADMIN = """
                admin_credentials="admin:admin;cluster1:clusterpass"
                cluster_username="cluster1"
                cluster_password="clusterpass"
                cluster_check_interval_ms=200
            """;
    private static final String REQUIRE_TLS = """
                proxyfleet_cluster_tls_required="true"
                proxyfleet_cluster_tls_client_cert="true"
            """;
    /** Mutual TLS: also require cluster peers logging in here to present a certificate of the cluster CA. */
    private static final String MUTUAL_TLS = REQUIRE_TLS + """
                proxyfleet_cluster_tls_require_client_cert="true"
            """;

    @TempDir
    Path tmp;
    private final List<AutoCloseable> open = new ArrayList<>();
    private LogCapture logs;

    @BeforeEach
    void captureLogs() {
        logs = LogCapture.of(Level.DEBUG, "io.proxyfleet.cluster", ClusterPeerCertificates.class.getName());
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        logs.close();
    }

    /** Starts a whole node on {@code adminPort} that lists {@code peers}, with {@code extraAdmin} variables. */
    private void node(String name, int adminPort, String extraAdmin, int... peers) throws IOException {
        Path dir = tmp.resolve(name);
        Path cnf = NodeFixture.writeOneLoopConfig(dir, adminPort, CLUSTER_ADMIN + extraAdmin,
                NodeFixture.proxysqlServers(peers));
        open.add(NodeFixture.start(dir, cnf));
    }

    private static String admin(int port, String... sql) {
        MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", port, "admin", "admin", "--skip-ssl", "-N",
                "-B"), String.join(";\n", sql) + ";\n", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        return r.stdout();
    }

    private void awaitLog(Level atLeast, String... fragments) {
        logs.await(WAIT, atLeast, fragments);
    }

    private static String userOn(int port) {
        return admin(port, "SELECT DISTINCT username FROM runtime_mysql_users");
    }

    @Test
    void mutualTlsWithCertificatesOfTheClusterCaSyncs() throws Exception {
        TestCertificates ca = TestCertificates.newCa("cluster-ca");
        int a = FreePorts.loopback();
        int b = FreePorts.loopback();
        ca.issueTo(tmp.resolve("a"));
        ca.issueTo(tmp.resolve("b"));
        node("a", a, MUTUAL_TLS, a, b);
        node("b", b, MUTUAL_TLS, a, b);

        admin(a, "INSERT INTO mysql_users (username, password) VALUES ('app_a', 'pw')", "LOAD MYSQL USERS TO RUNTIME");
        await().atMost(WAIT).untilAsserted(() -> assertThat(userOn(b)).isEqualTo("app_a\n"));
        awaitLog(Level.DEBUG, "Cluster: connected to peer 127.0.0.1:" + a + " over TLS");
        awaitLog(Level.DEBUG, "Cluster: connected to peer 127.0.0.1:" + b + " over TLS");
        // (b's own start comes after a's first attempts, which are refused at the TCP level.)
        assertThat(logs.messages(Level.WARN)).noneSatisfy(m -> assertThat(m).contains("TLS"));
    }

    @Test
    void mutualTlsRefusesAndLogsPeersWithoutACertificateOfTheClusterCa() throws Exception {
        TestCertificates ca = TestCertificates.newCa("cluster-ca");
        int a = FreePorts.loopback();
        int noCert = FreePorts.loopback();
        int stranger = FreePorts.loopback();
        ca.issueTo(tmp.resolve("a"));
        ca.issueTo(tmp.resolve("nocert"));
        TestCertificates.newCa("other-ca").issueTo(tmp.resolve("stranger"));
        node("a", a, MUTUAL_TLS, a);
        // Checks a's certificate against the cluster CA, but presents none of its own.
        node("nocert", noCert, "    proxyfleet_cluster_tls_required=\"true\"\n", a);
        // Presents a certificate that another CA signed.
        node("stranger", stranger, "    proxyfleet_cluster_tls_client_cert=\"true\"\n", a);
        admin(a, "INSERT INTO mysql_users (username, password) VALUES ('app_a', 'pw')", "LOAD MYSQL USERS TO RUNTIME");

        awaitLog(Level.WARN, "Cluster: unable to connect to peer 127.0.0.1:" + a + " . Error: 1045 (28000)",
                "client certificate of the cluster CA; no client certificate was presented");
        awaitLog(Level.WARN, "Admin: refused cluster peer login of 'cluster1' from 127.0.0.1:",
                "no client certificate was presented");
        awaitLog(Level.WARN, "Cluster: unable to connect to peer 127.0.0.1:" + a + " . Error: 1045 (28000)",
                "is not trusted by");
        for (int port : new int[] {noCert, stranger}) {
            assertThat(admin(port, "SELECT updated_at FROM stats_proxysql_servers_checksums WHERE port = " + a
                    + " AND name = 'mysql_users'")).isEqualTo("0\n");
            assertThat(userOn(port)).isEmpty();
        }

        // What an operator sees logging in as the cluster user without a certificate, over TLS or not...
        MysqlCli.Result tls = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", a, "cluster1", "clusterpass", "--ssl",
                "-e", "SELECT 1"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(tls.stderr()).contains("ERROR 1045 (28000)", "cluster peers must log in over TLS with a client"
                + " certificate of the cluster CA; no client certificate was presented");
        MysqlCli.Result plain = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", a, "cluster1", "clusterpass",
                "--skip-ssl", "-e", "SELECT 1"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(plain.stderr()).contains("ERROR 1045 (28000)", "the connection does not use TLS");
        // ...and with the cluster CA's certificate; other admin users need none.
        Path certs = tmp.resolve("nocert");
        MysqlCli.Result mutual = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", a, "cluster1", "clusterpass",
                "--ssl-cert=" + certs.resolve("proxysql-cert.pem"), "--ssl-key=" + certs.resolve("proxysql-key.pem"),
                "-N", "-e", "SELECT DISTINCT username FROM runtime_mysql_users"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(mutual.stdout()).as(mutual.toString()).isEqualTo("app_a\n");
        MysqlCli.Result adminOverTls = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", a, "admin", "admin", "--ssl",
                "-N", "-e", "SELECT 1"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(adminOverTls.stdout()).as(adminOverTls.toString()).isEqualTo("1\n");
    }

    @Test
    void requiredTlsRefusesAPeerWhoseCertificateTheCaDidNotSign() throws Exception {
        TestCertificates ca = TestCertificates.newCa("cluster-ca");
        int a = FreePorts.loopback();
        int stranger = FreePorts.loopback();
        ca.issueTo(tmp.resolve("a"));
        node("a", a, REQUIRE_TLS, a, stranger);
        // Its own generated CA: a valid certificate, but not one of the cluster's.
        node("stranger", stranger, "", a, stranger);
        admin(stranger, "INSERT INTO mysql_users (username, password) VALUES ('app_s', 'pw')",
                "LOAD MYSQL USERS TO RUNTIME");

        awaitLog(Level.WARN, "Cluster: unable to connect to peer 127.0.0.1:" + stranger + " . Error: TLS handshake"
                + " failed");
        assertThat(admin(a, "SELECT updated_at FROM stats_proxysql_servers_checksums WHERE port = " + stranger
                + " AND name = 'mysql_users'")).isEqualTo("0\n");
        assertThat(admin(a, "PROXYFLEET WAIT CLUSTER mysql_users TIMEOUT 500")).contains("127.0.0.1:" + stranger
                + "\tunreachable");
        assertThat(userOn(a)).isEmpty();
    }

    @Test
    void requiredTlsRefusesAPeerThatOffersNoTlsBeforeSendingCredentials() throws Exception {
        try (ServerSocket plain = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            CompletableFuture<byte[]> received = new CompletableFuture<>();
            Thread peer = Thread.ofVirtual().start(() -> {
                try (Socket s = plain.accept()) {
                    ByteBuf greeting = Unpooled.buffer();
                    new HandshakeV10("2.7.2-proxyfleet", 1, AuthPlugins.newScramble(), Capabilities.PROTOCOL_41
                            | Capabilities.SECURE_CONNECTION | Capabilities.PLUGIN_AUTH, 33, 2,
                            AuthPlugins.NATIVE_PASSWORD).writeTo(greeting, 0);
                    s.getOutputStream().write(ByteBufUtil.getBytes(greeting));
                    s.setSoTimeout((int) WAIT.toMillis());
                    received.complete(s.getInputStream().readAllBytes());
                } catch (IOException e) {
                    received.completeExceptionally(e);
                }
            });
            try {
                TestCertificates.newCa("cluster-ca").issueTo(tmp.resolve("a"));
                int a = FreePorts.loopback();
                node("a", a, REQUIRE_TLS, plain.getLocalPort());

                awaitLog(Level.WARN, "Cluster: unable to connect to peer 127.0.0.1:" + plain.getLocalPort(),
                        "does not offer TLS, which is required; no credentials were sent");
                assertThat(received.get()).as("bytes the peer received").isEmpty();
            } finally {
                plain.close();
                peer.join(WAIT);
            }
        }
    }

    @Test
    void byDefaultAPeerWithoutTlsIsStillSynced() throws Exception {
        // TestNode's listener offers no TLS, as a ProxySQL peer without TLS configured.
        try (TestNode peer = new TestNode(tmp.resolve("peer"))) {
            peer.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('u1', 'p1', 0)");
            peer.exec("LOAD MYSQL USERS TO RUNTIME");
            Map<ClusterModule, Integer> diffs = new EnumMap<>(ClusterModule.class);
            Map<ClusterModule, Boolean> save = new EnumMap<>(ClusterModule.class);
            for (ClusterModule m : ClusterModule.values()) {
                diffs.put(m, 1);
                save.put(m, false);
            }
            RecordingNode node = new RecordingNode(peer.holder.current().adminVariables().get("version"),
                    List.of(new ProxySqlServer("127.0.0.1", peer.listener.port(), 0, "p")),
                    new ClusterSettings("admin", "admin", Duration.ofMillis(50), 1, diffs, save, 1));
            Map<String, String> defaults = new HashMap<>(AdminVariables.DEFAULTS);
            ClusterTls tls = new ClusterTls(() -> new RuntimeConfig.Variables(defaults, ModuleVersion.NONE),
                    tmp.resolve("no-files"));
            try (ClusterManager m = new ClusterManager(node, PeerConnector.standard(tls),
                    () -> System.currentTimeMillis() / 1000, Duration.ZERO)) {
                m.start();
                await().atMost(WAIT).untilAsserted(() -> assertThat(node.applied)
                        .extracting(PulledModule::module).contains(ClusterModule.MYSQL_USERS));
            }
        }
    }
}
