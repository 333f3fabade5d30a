package io.proxyfleet.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.testkit.LogCapture;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The REST port of a node in this JVM: it follows LOAD ADMIN VARIABLES TO RUNTIME, checks basic and digest
 * credentials per route, and a port it cannot bind leaves the node serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class RestApiServerTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private ProxyFleetNode node;
    private int adminPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();
    /** Appended to by the admin thread, which starts and stops the REST server, while the test thread reads. */
    private final LogCapture logs = LogCapture.of("io.proxyfleet.web");

    /** One node for every test: each sets the REST variables it needs first. */
    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        adminPort = NodeFixture.freePort();
        node = NodeFixture.start(dir, NodeFixture.writeConfig(dir, adminPort, NodeFixture.freePort(), ""));
        node.restApi().route("/test/public", Access.PUBLIC, ok("public"));
        node.restApi().route("/test/stats", Access.STATS, ok("stats"));
        node.restApi().route("/test/admin", Access.ADMIN, ok("admin"));
        node.restApi().route("/test/tree/", Access.STATS, ok("tree"));
    }

    @AfterAll
    void stop() {
        logs.close();
        node.close();
        http.close();
    }

    private static com.sun.net.httpserver.HttpHandler ok(String body) {
        return exchange -> RestApiServer.respond(exchange, 200, "text/plain", body);
    }

    private int enable(int port) {
        var r = NodeFixture.admin(adminPort, "SET admin-restapi_enabled='true'",
                "SET admin-restapi_port='" + port + "'", "LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        await().atMost(WAIT).until(() -> node.restApi().port() == port);
        return port;
    }

    private HttpResponse<String> get(int port, String path, String authorization) throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT);
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void disabledMeansConnectionRefused() {
        int port = enable(NodeFixture.freePort());
        NodeFixture.admin(adminPort, "SET admin-restapi_enabled='false'", "LOAD ADMIN VARIABLES TO RUNTIME");
        await().atMost(WAIT).until(() -> node.restApi().port() == -1);
        assertThatThrownBy(() -> get(port, "/test/public", null)).isInstanceOf(ConnectException.class);
    }

    @Test
    void routesCheckCredentialsPerAccessLevel() throws Exception {
        int port = enable(NodeFixture.freePort());

        assertThat(get(port, "/test/public", null).body()).isEqualTo("public");
        assertThat(get(port, "/test/stats", basic("stats", "stats")).body()).isEqualTo("stats");
        assertThat(get(port, "/test/stats", basic("admin", "admin")).body()).isEqualTo("stats");
        assertThat(get(port, "/test/admin", basic("admin", "admin")).body()).isEqualTo("admin");
        assertThat(get(port, "/test/tree/a/b", basic("stats", "stats")).body()).isEqualTo("tree");

        HttpResponse<String> missing = get(port, "/test/stats", null);
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.headers().allValues("WWW-Authenticate"))
                .anySatisfy(h -> assertThat(h).startsWith("Digest realm=\"ProxyFleet\""))
                .anySatisfy(h -> assertThat(h).startsWith("Basic realm=\"ProxyFleet\""));
        assertThat(missing.body()).contains("no credentials");

        HttpResponse<String> wrong = get(port, "/test/admin", basic("admin", "nope"));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("wrong user name or password");

        HttpResponse<String> statsOnAdmin = get(port, "/test/admin", basic("stats", "stats"));
        assertThat(statsOnAdmin.statusCode()).isEqualTo(403);
        assertThat(statsOnAdmin.body()).contains("'stats' has stats access only");

        assertThat(get(port, "/nothing/here", null).statusCode()).isEqualTo(404);
        // the admin port still answers after all that
        assertThat(NodeFixture.admin(adminPort, "SELECT 1").stdout().trim()).isEqualTo("1");
    }

    @Test
    void digestAuthentication() throws Exception {
        int port = enable(NodeFixture.freePort());
        String challenge = get(port, "/test/admin", null).headers().allValues("WWW-Authenticate").stream()
                .filter(h -> h.startsWith("Digest ")).findFirst().orElseThrow();
        Map<String, String> p = HttpAuth.parse(challenge.substring("Digest ".length()));

        assertThat(get(port, "/test/admin", digest("admin", "admin", p.get("nonce"), "/test/admin")).body())
                .isEqualTo("admin");
        assertThat(get(port, "/test/admin", digest("admin", "wrong", p.get("nonce"), "/test/admin")).statusCode())
                .isEqualTo(401);
        assertThat(get(port, "/test/admin", digest("admin", "admin", "1.forged", "/test/admin")).statusCode())
                .isEqualTo(401);
        assertThat(get(port, "/test/admin", digest("stats", "stats", p.get("nonce"), "/test/admin")).statusCode())
                .isEqualTo(403);
        // a response computed for another path does not open this one
        assertThat(get(port, "/test/admin", digest("admin", "admin", p.get("nonce"), "/test/stats")).statusCode())
                .isEqualTo(401);
    }

    private static String digest(String user, String password, String nonce, String uri) {
        String ha1 = HttpAuth.md5(user + ":ProxyFleet:" + password);
        String ha2 = HttpAuth.md5("GET:" + uri);
        String response = HttpAuth.md5(ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2);
        return "Digest username=\"" + user + "\", realm=\"ProxyFleet\", nonce=\"" + nonce + "\", uri=\"" + uri
                + "\", qop=auth, nc=00000001, cnonce=\"c0ffee\", response=\"" + response + "\"";
    }

    @Test
    void followsPortChangesAndDisable() throws Exception {
        int first = enable(NodeFixture.freePort());
        int second = enable(NodeFixture.freePort());
        assertThat(get(second, "/test/public", null).statusCode()).isEqualTo(200);
        assertThatThrownBy(() -> get(first, "/test/public", null)).isInstanceOf(ConnectException.class);

        NodeFixture.admin(adminPort, "SET admin-restapi_enabled='false'", "LOAD ADMIN VARIABLES TO RUNTIME");
        await().atMost(WAIT).until(() -> node.restApi().port() == -1);
        assertThatThrownBy(() -> get(second, "/test/public", null)).isInstanceOf(ConnectException.class);
    }

    @Test
    void portTakenAtStartUpIsLoggedAndTheNodeStartsAnyway(@TempDir Path other) throws Exception {
        int port = NodeFixture.freePort();
        int otherAdmin = NodeFixture.freePort();
        int otherTraffic = NodeFixture.freePort();
        Path cnf = other.resolve("proxysql.cnf");
        java.nio.file.Files.writeString(cnf, """
                datadir="%s"
                admin_variables=
                {
                    admin_credentials="admin:admin"
                    mysql_ifaces="127.0.0.1:%d"
                    restapi_enabled="true"
                    restapi_port=%d
                }
                mysql_variables=
                {
                    interfaces="127.0.0.1:%d"
                    threads=1
                }
                """.formatted(other, otherAdmin, port, otherTraffic));
        try (var squatter = new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
             ProxyFleetNode second = NodeFixture.start(other, cnf)) {
            assertThat(second.restApi().port()).isEqualTo(-1);
            assertThat(logs.messages(Level.ALL)).anySatisfy(m -> assertThat(m)
                    .startsWith("Cannot start the REST API on 127.0.0.1:" + port)
                    .contains("Address already in use"));
            assertThat(NodeFixture.admin(otherAdmin, "SELECT 1").stdout().trim()).isEqualTo("1");
            assertThat(NodeFixture.admin(otherAdmin, "SELECT variable_value FROM runtime_global_variables"
                    + " WHERE variable_name = 'admin-restapi_enabled'").stdout().trim()).isEqualTo("true");
        }
    }

    @Test
    void portConflictIsLoggedAndTheNodeGoesOnServing() throws Exception {
        int port = NodeFixture.freePort();
        try (var squatter = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            NodeFixture.admin(adminPort, "SET admin-restapi_enabled='true'", "SET admin-restapi_port='" + port + "'",
                    "LOAD ADMIN VARIABLES TO RUNTIME");
            String cannotStart = "Cannot start the REST API on 127.0.0.1:" + port;
            logs.await(WAIT, Level.ALL, cannotStart);
            // only this port's line: the capture spans the class, whose other tests log conflicts on other ports
            assertThat(logs.messages(Level.ALL)).filteredOn(m -> m.startsWith(cannotStart)).singleElement()
                    .satisfies(m -> assertThat(m).contains("Address already in use")
                            .contains("The node goes on without it"));
            assertThat(node.restApi().port()).isEqualTo(-1);
            assertThat(NodeFixture.admin(adminPort, "SELECT 1").stdout().trim()).isEqualTo("1");
        }
        // once the port is free, LOAD ADMIN VARIABLES TO RUNTIME tries again
        NodeFixture.admin(adminPort, "LOAD ADMIN VARIABLES TO RUNTIME");
        await().atMost(WAIT).until(() -> node.restApi().port() == port);
    }
}
