package io.proxyfleet.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.proxyfleet.testkit.Executables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every benchmark script of {@code bench/} in its {@code --smoke} mode, so that the scripts keep working
 * as the node changes: each must exit 0 and print its table, with every run complete. The node is started
 * from this JVM's class path ({@code PROXYFLEET_CLASSPATH}) so that no script rebuilds {@code target/} while
 * Maven runs. Runs on the JUnit test thread; the scripts clean up their own servers, also when killed.
 */
@Tag("slow")
class BenchSmokeTest {
    private static final Path BENCH = Path.of("bench");
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(30);
    private static final int OUTPUT_TAIL_CHARS = 4_000;
    private static final List<String> SETUPS = List.of("direct", "proxyfleet", "haproxy");
    /** A row of the sysbench and latency tables: test, PS mode, [threads,] setup, ..., runs ok as "k/n". */
    private static final Pattern SYSBENCH_ROW = Pattern.compile("^\\| oltp_\\w+ \\| (?:auto|disable) \\|.*\\| (\\d+)/(\\d+) \\|$",
            Pattern.MULTILINE);
    private static final Pattern STREAMING_ROW = Pattern.compile("^\\| (fast|slow[^|]*) \\| (\\w+) \\| (\\d+) \\|",
            Pattern.MULTILINE);
    private static final int SMOKE_ROWS = 20_000;
    private static final int ROW_BYTES_WITH_NEWLINE = 1_001;

    @TempDir
    Path tmp;

    @Test
    void sysbenchPrintsEveryConfigurationOnEverySetup() throws Exception {
        assumeTools("sysbench", "haproxy");

        String out = runSmoke("sysbench.sh");

        assertThat(out).contains("| Test | PS mode | Threads | Setup | QPS | QPS ×direct | p50 ms | p95 ms | p99 ms");
        // 2 tests x 2 PS modes x threads 1 and 8 x 3 setups
        assertCompleteRuns(out, 2 * 2 * 2 * SETUPS.size());
        assertThat(out).doesNotContain("Failed runs");
    }

    @Test
    void latencyPrintsAddedMicrosecondsPerSetup() throws Exception {
        assumeTools("sysbench", "haproxy");

        String out = runSmoke("latency.sh");

        assertThat(out).contains("| Test | PS mode | Setup | p50 µs | Added p50 µs");
        // oltp_point_select x 2 PS modes x 3 setups
        assertCompleteRuns(out, 2 * SETUPS.size());
    }

    @Test
    void idleConnectionsAllLogInAndMemoryIsReported() throws Exception {
        String out = runSmoke("idle-connections.sh");

        assertThat(out).contains("| Measure | Value |")
                .contains("| Idle client connections logged in | 200 of 200 (0 failed)")
                .containsPattern("\\| RSS per idle connection \\| -?[0-9.]+ KiB \\|")
                .containsPattern("\\| Backend connections used/free, with the idle clients \\| \\d+/\\d+ \\|");
    }

    @Test
    void streamingDeliversTheWholeResultToFastAndSlowClients() throws Exception {
        assumeTools("haproxy");

        String out = runSmoke("streaming.sh");

        assertThat(out).contains("| Client | Setup | Bytes received | Seconds | MiB/s | ProxyFleet peak RSS |");
        Matcher row = STREAMING_ROW.matcher(out);
        int rows = 0;
        while (row.find()) {
            rows++;
            assertThat(Long.parseLong(row.group(3))).as("bytes to the %s client via %s", row.group(1), row.group(2))
                    .isEqualTo((long) SMOKE_ROWS * ROW_BYTES_WITH_NEWLINE);
        }
        assertThat(rows).as("fast: direct, proxyfleet, haproxy; slow: proxyfleet").isEqualTo(4);
    }

    @Test
    void multiplexingServesManyClientsOnFewBackendConnections() throws Exception {
        assumeTools("sysbench", "haproxy");

        String out = runSmoke("multiplex.sh");

        assertThat(out).contains("| setup | QPS (median) | ratio to direct | p99 ms (median) | errors | failed runs"
                + " | most server connections |");
        // 100 clients onto at most 10 backend connections (plus the sampler's own), with no error and no failure.
        assertThat(out).containsPattern("\\| proxyfleet \\| \\d+ \\| [0-9.]+ \\| [0-9.]+ \\| 0 \\| 0 \\| (\\d|10|11) \\|");
    }

    @Test
    void syscallsCountsCallsPerStatementForProxyFleetAndHaproxy() throws Exception {
        assumeTools("sysbench", "haproxy", "strace");

        String out = runSmoke("syscalls.sh");

        assertThat(out).contains("| System call | proxyfleet per statement | haproxy per statement |")
                .containsPattern("\\| \\*\\*total\\*\\* \\| \\*\\*[0-9.]+\\*\\* \\| \\*\\*[0-9.]+\\*\\* \\|");
    }

    @Test
    void allocationsReportsBytesPerStatementAndTheirSites() throws Exception {
        assumeTools("sysbench");

        String out = runSmoke("allocations.sh");

        assertThat(out).containsPattern("Statements: [1-9]\\d*; heap allocated: [0-9.]+ MiB, \\d+ bytes per statement")
                .contains("Allocation by Site");
    }

    @Test
        void startupReportsWhenAdminAndTrafficAnswer() throws Exception {
        String out = runSmoke("startup.sh");

        assertThat(out).contains("| Setup | Until | Median ms | Min..max ms | Median CPU ms | Rounds |");
        for (String until : List.of("first start: admin SELECT 1", "restart: admin SELECT 1",
                "first start: traffic SELECT 1 from -c")) {
            // setup | until | median ms | min..max ms | median CPU ms | rounds
            assertThat(out).containsPattern("\\| classpath \\| " + Pattern.quote(until)
                    + " \\| \\d+ \\| \\d+\\.\\.\\d+ \\| \\d+ \\| 1 \\|");
        }
    }

    private static void assumeTools(String... tools) {
        for (String tool : tools) {
            assumeThat(Executables.find(tool)).as("%s is installed (bin/test installs it)", tool).isPresent();
        }
    }

    private static void assertCompleteRuns(String out, int expectedRows) {
        Matcher row = SYSBENCH_ROW.matcher(out);
        int rows = 0;
        while (row.find()) {
            rows++;
            assertThat(row.group(1)).as("completed runs in: %s", row.group()).isEqualTo(row.group(2));
        }
        assertThat(rows).as("table rows in:%n%s", out).isEqualTo(expectedRows);
        for (String setup : SETUPS) {
            assertThat(out).contains("| " + setup + " |");
        }
    }

    /** Runs {@code bench/SCRIPT --smoke}; returns stdout after asserting exit status 0. */
    private String runSmoke(String script) throws IOException, InterruptedException {
        Path stdout = tmp.resolve(script + ".out");
        Path stderr = tmp.resolve(script + ".err");
        ProcessBuilder builder = new ProcessBuilder("bash", BENCH.resolve(script).toString(), "--smoke")
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        builder.environment().put("PROXYFLEET_CLASSPATH", System.getProperty("java.class.path"));
        builder.environment().put("TMPDIR", tmp.toString());
        Process process = builder.start();
        boolean finished = process.waitFor(SCRIPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (!finished) {
            // SIGTERM lets the script's trap stop the servers it started.
            process.destroy();
            if (!process.waitFor(CLEANUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
            }
        }
        String out = Files.readString(stdout);
        String diagnostics = "stdout:\n" + out + "\nstderr (tail):\n" + tail(Files.readString(stderr));
        assertThat(finished).as("%s --smoke finished within %s%n%s", script, SCRIPT_TIMEOUT, diagnostics).isTrue();
        assertThat(process.exitValue()).as("exit status of %s --smoke%n%s", script, diagnostics).isZero();
        return out;
    }

    private static String tail(String text) {
        return text.length() <= OUTPUT_TAIL_CHARS ? text : text.substring(text.length() - OUTPUT_TAIL_CHARS);
    }
}
