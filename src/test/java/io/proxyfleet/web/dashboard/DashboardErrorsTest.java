package io.proxyfleet.web.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.testkit.MysqlCli;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What a person or a script gets from the dashboard port when something is wrong: no or wrong credentials, the
 * stats user on an admin page, the feature turned off, the port taken at start-up. Each is a clear status and
 * message (or, when off, nothing listening), and the node goes on serving its admin port.
 */
class DashboardErrorsTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path tmp;
    private ProxyFleetNode node;
    private int adminPort;
    private int webPort;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger webLogger = (Logger) LoggerFactory.getLogger("io.proxyfleet.web");

    @BeforeEach
    void captureLogs() {
        logs.start();
        webLogger.addAppender(logs);
    }

    @AfterEach
    void stop() {
        webLogger.detachAppender(logs);
        if (node != null) {
            node.close();
        }
    }

    /** Starts a node whose config file sets {@code adminExtra} in its admin_variables. */
    private void startNode(String adminExtra) throws Exception {
        adminPort = NodeFixture.freePort();
        Path dir = Files.createDirectories(tmp.resolve("node"));
        Path cnf = dir.resolve("proxysql.cnf");
        Files.writeString(cnf, """
                datadir="%s"
                admin_variables=
                {
                    admin_credentials="admin:admin"
                    stats_credentials="stats:statspass"
                    mysql_ifaces="127.0.0.1:%d"
                    %s
                }
                mysql_variables=
                {
                    interfaces="127.0.0.1:%d"
                    threads=1
                }
                """.formatted(dir, adminPort, adminExtra, NodeFixture.freePort()));
        node = NodeFixture.start(dir, cnf);
    }

    private DashboardHttp http() throws Exception {
        return new DashboardHttp(tmp.resolve("node"), webPort);
    }

    private void adminSql(String... statements) {
        MysqlCli.Result r = NodeFixture.admin(adminPort, statements);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
    }

    private void assertAdminPortServes() {
        MysqlCli.Result r = NodeFixture.admin(adminPort, "SELECT variable_value FROM global_variables"
                + " WHERE variable_name='admin-web_port'");
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        assertThat(r.stdout().trim()).isEqualTo(Integer.toString(webPort));
    }

    private void enableWeb(boolean on) {
        adminSql("UPDATE global_variables SET variable_value='" + webPort + "' WHERE variable_name='admin-web_port'",
                "UPDATE global_variables SET variable_value='" + on + "' WHERE variable_name='admin-web_enabled'",
                "LOAD ADMIN VARIABLES TO RUNTIME");
    }

    @Test
    void offByDefaultThenFollowsLoadAdminVariablesToRuntime() throws Exception {
        startNode("");
        webPort = NodeFixture.freePort();
        DashboardHttp http = http();
        assertThatThrownBy(() -> http.get("/", "admin", "admin")).isInstanceOf(ConnectException.class);

        enableWeb(true);
        await().atMost(WAIT).ignoreExceptionsInstanceOf(ConnectException.class)
                .until(() -> http.get("/api/whoami", "admin", "admin").status() == 200);
        assertThat(http.get("/api/whoami", "admin", "admin").body()).isEqualTo("{\"role\":\"admin\",\"user\":\"admin\"}");

        enableWeb(false);
        await().atMost(WAIT).until(() -> {
            try {
                http.get("/", "admin", "admin");
                return false;
            } catch (ConnectException e) {
                return true;
            }
        });
        assertAdminPortServes();
    }

    @Test
    void missingOrWrongCredentialsGet401WithADigestChallenge() throws Exception {
        webPort = NodeFixture.freePort();
        startNode("web_enabled=\"true\"\n    web_port=" + webPort);
        DashboardHttp http = http();

        DashboardHttp.Response none = http.raw("GET", "/api/cluster", null);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.challenge()).startsWith("Digest realm=\"ProxyFleet\", qop=\"auth\", algorithm=MD5, nonce=");
        assertThat(none.body()).isEqualTo("401 Unauthorized: no credentials: log in with the admin-stats_credentials"
                + " or admin-admin_credentials user\n");

        DashboardHttp.Response wrong = http.get("/api/cluster", "stats", "not-the-password");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.body()).isEqualTo("401 Unauthorized: wrong user name or password for 'stats'\n");

        DashboardHttp.Response empty = http.get("/api/cluster", "stats", "");
        assertThat(empty.status()).isEqualTo(401);
        assertThat(empty.body()).isEqualTo("401 Unauthorized: wrong user name or password for 'stats'\n");

        DashboardHttp.Response basicMissing = http.raw("GET", "/api/cluster", basic("stats"));
        assertThat(basicMissing.status()).isEqualTo(401);
        assertThat(basicMissing.body()).isEqualTo("401 Unauthorized: wrong user name or password for 'stats'\n");

        DashboardHttp.Response unknown = http.get("/api/cluster", "nobody", "statspass");
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.body()).isEqualTo("401 Unauthorized: wrong user name or password for 'nobody'\n");

        DashboardHttp.Response forged = http.raw("GET", "/api/cluster", "Digest username=\"stats\", realm=\"ProxyFleet\","
                + " nonce=\"bm90LW91cnM\", uri=\"/api/cluster\", response=\"00000000000000000000000000000000\"");
        assertThat(forged.status()).isEqualTo(401);
        assertThat(forged.body()).isEqualTo("401 Unauthorized: Digest nonce not issued by this node\n");
        assertThat(forged.challenge()).endsWith(", stale=true");

        DashboardHttp.Response good = http.get("/api/cluster", "stats", "statspass");
        assertThat(good.status()).isEqualTo(200);
        assertThat(good.body()).contains("\"address\":\"127.0.0.1:" + adminPort + "\"", "\"self\":true",
                "\"up\":true");
        assertThat(http.raw("GET", "/api/cluster", basic("stats:statspass")).status()).isEqualTo(200);
        assertAdminPortServes();
    }

    @Test
    void theStatsUserIsRefusedTheAdminPagesAndEveryoneUnknownPathsAndWrites() throws Exception {
        webPort = NodeFixture.freePort();
        startNode("web_enabled=\"true\"\n    web_port=" + webPort);
        DashboardHttp http = http();

        for (String path : new String[] {"/admin/variables", "/api/admin/variables"}) {
            DashboardHttp.Response stats = http.get(path, "stats", "statspass");
            assertThat(stats.status()).as(path).isEqualTo(403);
            assertThat(stats.body()).isEqualTo("403 Forbidden: " + path + " needs a user of admin-admin_credentials;"
                    + " 'stats' is a user of admin-stats_credentials\n");
        }
        DashboardHttp.Response admin = http.get("/admin/variables", "admin", "admin");
        assertThat(admin.status()).isEqualTo(200);
        assertThat(admin.body()).contains("<td>admin-web_port</td><td>" + webPort + "</td>",
                "<td>admin-stats_credentials</td><td>********</td>").doesNotContain("statspass");
        assertThat(http.get("/api/admin/variables", "admin", "admin").body())
                .contains("{\"variable_name\":\"admin-web_enabled\",\"variable_value\":\"true\"}");

        DashboardHttp.Response missing = http.get("/no-such-page", "stats", "statspass");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo("404 Not Found: /no-such-page (the dashboard is at /)\n");
        DashboardHttp.Response post = http.raw("POST", "/api/cluster", basic("admin:admin"));
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.body()).startsWith("405 Method Not Allowed: the dashboard only reads");

        DashboardHttp.Response page = http.get("/", "stats", "statspass");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("<script src=\"/app.js\"></script>");
        assertThat(http.get("/app.js", "stats", "statspass").body()).contains("function renderCluster");
        assertAdminPortServes();
    }

    @Test
    void aTakenPortAtStartUpIsLoggedAndTheNodeServesAndRetriesOnLoad() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            webPort = taken.getLocalPort();
            startNode("web_enabled=\"true\"\n    web_port=" + webPort);
            assertThat(logs.list).anySatisfy(e -> {
                assertThat(e.getLevel()).isEqualTo(Level.ERROR);
                assertThat(e.getFormattedMessage()).isEqualTo("Cannot start the web dashboard on 127.0.0.1:" + webPort
                        + " (admin-web_port): Address already in use. The node goes on without it; free the port"
                        + " or change admin-web_port, then LOAD ADMIN VARIABLES TO RUNTIME");
            });
            assertAdminPortServes();
        }
        adminSql("LOAD ADMIN VARIABLES TO RUNTIME");
        DashboardHttp http = http();
        await().atMost(WAIT).ignoreExceptionsInstanceOf(ConnectException.class)
                .until(() -> http.get("/api/whoami", "stats", "statspass").status() == 200);
    }

    private static String basic(String userColonPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
    }
}
