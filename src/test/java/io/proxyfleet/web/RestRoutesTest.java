package io.proxyfleet.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.testkit.MysqlCli;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The REST routes of one node in this JVM, called as an operator's script would, with curl-like requests. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class RestRoutesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ADMIN = basic("admin", "admin");
    private static final String STATS = basic("stats", "stats");

    private ProxyFleetNode node;
    private int adminPort;
    private int restPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        adminPort = NodeFixture.freePort();
        restPort = NodeFixture.freePort();
        node = NodeFixture.start(dir, NodeFixture.writeConfig(dir, adminPort, NodeFixture.freePort(), ""));
        MysqlCli.Result r = NodeFixture.admin(adminPort, "SET admin-restapi_enabled='true'",
                "SET admin-restapi_port='" + restPort + "'", "LOAD ADMIN VARIABLES TO RUNTIME",
                "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('app', 'secret', 3)",
                "LOAD MYSQL USERS TO RUNTIME");
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        await().atMost(WAIT).until(() -> node.restApi().port() == restPort);
    }

    @AfterAll
    void stop() {
        node.close();
        http.close();
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> call(String method, String path, String authorization) throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + path)).timeout(WAIT)
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void statusNamesTheNode() throws Exception {
        HttpResponse<String> r = call("GET", "/api/status", STATS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(r.body()).contains("\"version\":\"2.7.2-proxyfleet\"")
                .contains("\"uuid\":\"" + node.admin().nodeUuid() + "\"").containsPattern("\"uptime_seconds\":\\d+")
                .contains("\"traffic_paused\":false");
    }

    @Test
    void checksumsMatchRuntimeChecksumsValues() throws Exception {
        String checksum = NodeFixture.admin(adminPort,
                "SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_users'").stdout().trim();
        HttpResponse<String> r = call("GET", "/api/checksums", STATS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("{\"name\":\"mysql_users\",\"version\":2,").contains("\"checksum\":\"" + checksum
                + "\"");
    }

    @Test
    void peersListsNoneOnALoneNode() throws Exception {
        HttpResponse<String> r = call("GET", "/api/peers", STATS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body().trim()).isEqualTo("{\"peers\":[]}");
    }

    @Test
    void runtimeConfigPerModuleNeedsAdminCredentials() throws Exception {
        HttpResponse<String> users = call("GET", "/api/config/mysql_users", ADMIN);
        assertThat(users.statusCode()).isEqualTo(200);
        assertThat(users.body()).contains("\"module\":\"mysql_users\"").contains("\"runtime_mysql_users\":[{")
                .contains("\"username\":\"app\"").contains("\"default_hostgroup\":\"3\"");
        assertThat(call("GET", "/api/config/admin_variables", ADMIN).body())
                .contains("{\"variable_name\":\"admin-restapi_port\",\"variable_value\":\"" + restPort + "\"}");
        assertThat(call("GET", "/api/config", ADMIN).body()).contains("\"mysql_query_rules\"");

        HttpResponse<String> asStats = call("GET", "/api/config/mysql_users", STATS);
        assertThat(asStats.statusCode()).isEqualTo(403);
        assertThat(asStats.body()).doesNotContain("secret").contains("needs admin-admin_credentials");

        HttpResponse<String> unknown = call("GET", "/api/config/nope", ADMIN);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("unknown module 'nope'");
    }

    @Test
    void wrongMethodAndMissingOrWrongPasswordAreClearErrors() throws Exception {
        HttpResponse<String> post = call("POST", "/api/status", STATS);
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(call("GET", "/api/peers", null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/api/peers", basic("stats", "wrong")).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/api/peers", "Bearer abc").statusCode()).isEqualTo(401);
        assertThat(call("GET", "/api/peers", "Basic %%%").statusCode()).isEqualTo(401);
        // and the node still serves
        assertThat(call("GET", "/api/status", STATS).statusCode()).isEqualTo(200);
        assertThat(NodeFixture.admin(adminPort, "SELECT 1").stdout().trim()).isEqualTo("1");
    }

    @Test
    void metricsArePublicInPrometheusTextFormat() throws Exception {
        HttpResponse<String> r = call("GET", "/metrics", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
        assertThat(r.body()).contains("# TYPE proxysql_questions_total counter\nproxysql_questions_total ")
                .contains("proxysql_version_info{version=\"2.7.2-proxyfleet\"")
                .contains("proxyfleet_event_loop_responsive{loop=\"0\"} 1");
    }
}
