package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.testkit.Executables;
import io.proxyfleet.testkit.MariaDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose direct memory (-XX:MaxDirectMemorySize) runs out while it relays large results: the statements it
 * cannot relay end with MySQL's out-of-resources error (1041) and a log line, never with a malformed packet
 * (2027, what clients saw before), and the node goes on serving. Lives in this package because
 * {@link NodeProcess} does: the limit must be the node's own, not the test JVM's.
 *
 * <p>Owned by the test thread; the clients are mysql processes, waited for by it.
 */
@Tag("slow")
class DirectMemoryLimitTest {
    private static final String USER = "dm_user";
    private static final String PASSWORD = "dm-pw";
    /**
     * Small enough that eight concurrent 100 MB results exhaust it on one event loop (measured: each client gets
     * about 1.7 MB before the first allocation fails), large enough for the node to start and log in.
     */
    private static final String DIRECT_MEMORY_LIMIT = "-XX:MaxDirectMemorySize=8m";
    private static final int CLIENTS = 8;
    private static final String LARGE_RESULT = "SELECT REPEAT('x', 1000) FROM seq_1_to_100000";
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(90);
    private static final int ER_OUT_OF_RESOURCES = 1041;

    @TempDir
    static Path tmp;
    private static NodeProcess node;

    @BeforeAll
    static void startNode() throws Exception {
        node = NodeProcess.startServing(tmp, "direct-memory", MariaDb.shared(), USER, PASSWORD,
                DIRECT_MEMORY_LIMIT);
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void statementsPastTheLimitEndWithOutOfResourcesAndTheNodeServesOn() throws Exception {
        Path mysql = Executables.require("mariadb-client", "mysql", "mariadb");
        List<Process> clients = new ArrayList<>();
        List<Path> errors = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Path err = tmp.resolve("client-" + i + ".err");
            errors.add(err);
            clients.add(new ProcessBuilder(mysql.toString(), "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1",
                    "-P", Integer.toString(node.trafficPort), "-u", USER, "--password=" + PASSWORD, "--skip-ssl",
                    "--quick", "-N", "-B", "-D", "mysql", "-e", LARGE_RESULT)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(err.toFile())
                    .start());
        }
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Process client = clients.get(i);
            boolean done = client.waitFor(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                client.destroyForcibly();
                client.waitFor();
            }
            assertThat(done).as("client %d finished", i).isTrue();
            if (client.exitValue() != 0) {
                failures.add(Files.readString(errors.get(i)).trim());
            }
        }

        assertThat(failures).as("the limit must be reached for this test to mean anything").isNotEmpty();
        assertThat(failures).allSatisfy(error -> assertThat(error)
                .contains("ERROR " + ER_OUT_OF_RESOURCES + " (HY000)")
                .contains("Out of memory in the proxy")
                .doesNotContain("2027"));
        String log = node.log() + Files.readString(node.dir.resolve("console.log"));
        assertThat(log).contains("out of direct memory while relaying its reply");
        assertThat(node.isAlive()).isTrue();
        var after = node.traffic(USER, PASSWORD, "SELECT 42");
        assertThat(after.succeeded()).as(after.toString()).isTrue();
        assertThat(after.stdout().trim()).isEqualTo("42");
    }
}
