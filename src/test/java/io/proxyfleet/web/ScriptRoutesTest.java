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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * restapi_routes: scripts run on request through /sync/, with the parameters as one argument and nothing
 * interpreted by a shell; a slow script is killed at its timeout and a chatty one at the output cap.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class ScriptRoutesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ADMIN = "Basic " + Base64.getEncoder().encodeToString(
            "admin:admin".getBytes(StandardCharsets.UTF_8));

    private ProxyFleetNode node;
    private int restPort;
    private Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        int adminPort = NodeFixture.freePort();
        restPort = NodeFixture.freePort();
        Path echo = script("echo.sh", "#!/bin/sh\nprintf '{\"argc\":%d,\"arg\":%s}' \"$#\" \"$1\"\n");
        Path slow = script("slow.sh", "#!/bin/sh\nsleep 30\necho '{}'\n");
        Path chatty = script("chatty.sh", "#!/bin/sh\nyes '\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",'\n");
        Path broken = script("broken.sh", "#!/bin/sh\necho 'not json'\n");
        Path failing = script("failing.sh", "#!/bin/sh\nexit 3\n");
        Path data = dir.resolve("node");
        node = NodeFixture.start(data, NodeFixture.writeConfig(data, adminPort, NodeFixture.freePort(), ""));
        MysqlCli.Result r = NodeFixture.admin(adminPort, "SET admin-restapi_enabled='true'",
                "SET admin-restapi_port='" + restPort + "'", "LOAD ADMIN VARIABLES TO RUNTIME",
                route(1, "GET", "echo", echo, 5000), route(2, "POST", "echo", echo, 5000),
                route(3, "GET", "slow", slow, 500), route(4, "GET", "chatty", chatty, 5000),
                route(5, "GET", "broken", broken, 5000), route(6, "GET", "failing", failing, 5000),
                route(7, "GET", "relative", Path.of("echo.sh"), 5000),
                "LOAD RESTAPI TO RUNTIME");
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        await().atMost(WAIT).until(() -> node.restApi().port() == restPort);
    }

    @AfterAll
    void stop() {
        node.close();
        http.close();
    }

    private Path script(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    private static String route(int id, String method, String uri, Path script, int timeoutMs) {
        return "INSERT INTO restapi_routes (id, active, timeout_ms, method, uri, script) VALUES (" + id + ", 1, "
                + timeoutMs + ", '" + method + "', '" + uri + "', '" + script + "')";
    }

    private HttpResponse<String> call(String method, String pathAndQuery, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + pathAndQuery))
                .timeout(WAIT).header("Authorization", ADMIN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void getParametersReachTheScriptAsOneJsonArgumentWithoutAShell() throws Exception {
        HttpResponse<String> r = call("GET", "/sync/echo?name=%24(touch%20pwned)%3B%60id%60&n=1", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"argc\":1,\"arg\":{\"name\":\"$(touch pwned);`id`\",\"n\":\"1\"}}");
    }

    @Test
    void postBodyIsPassedAsIsAndMustBeJson() throws Exception {
        assertThat(call("POST", "/sync/echo", "{\"a\":[1,2]}").body()).isEqualTo("{\"argc\":1,\"arg\":{\"a\":[1,2]}}");
        HttpResponse<String> bad = call("POST", "/sync/echo", "{\"a\":");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"type\":\"in\"").contains("Error parsing input JSON parameters");
        assertThat(call("POST", "/sync/echo", "").body()).contains("Empty parameters");
    }

    @Test
    void unknownRoutesAndBadScriptsAreClearErrors() throws Exception {
        assertThat(call("GET", "/sync/nope", null).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/sync/nope", null).body()).contains("was not found");
        assertThat(call("GET", "/sync/..%2Fetc", null).statusCode()).isEqualTo(400);
        HttpResponse<String> failing = call("GET", "/sync/failing", null);
        assertThat(failing.statusCode()).isEqualTo(424);
        assertThat(failing.body()).contains("Script failed to be executed").contains("\"error_code\":\"3\"");
        assertThat(call("GET", "/sync/broken", null).body()).contains("Script response is not valid JSON");
        assertThat(call("GET", "/sync/relative", null).body()).contains("is not an absolute path");
    }

    @Test
    void slowScriptIsKilledAtItsTimeoutAndAChattyOneAtTheOutputCap() throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> slow = call("GET", "/sync/slow", null);
        assertThat(slow.statusCode()).isEqualTo(424);
        assertThat(slow.body()).contains("Script execution timed out");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));

        HttpResponse<String> chatty = call("GET", "/sync/chatty", null);
        assertThat(chatty.statusCode()).isEqualTo(424);
        assertThat(chatty.body()).contains("Script output larger than 1048576 bytes");
        assertThat(call("GET", "/api/status", null).statusCode()).isEqualTo(200);
    }

    @Test
    void statsUsersCannotRunScripts() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort
                + "/sync/echo?a=1")).header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                "stats:stats".getBytes(StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(403);
    }
}
