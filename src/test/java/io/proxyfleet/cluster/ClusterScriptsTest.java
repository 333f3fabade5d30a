package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.testkit.MysqlCli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The cluster's shell scripts, run as a user runs them: {@code bench/convergence.sh --smoke} measures and reports,
 * {@code bench/cluster-demo.sh} prints working connection commands and stops everything on Ctrl-C. The nodes run
 * from the classes Maven compiled ({@code PROXYFLEET_CLASSPATH}), so nothing is rebuilt under the running build.
 */
@Tag("slow")
class ClusterScriptsTest {
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration OUTPUT_END_TIMEOUT = Duration.ofSeconds(30);
    /** Ctrl-C to exit: the script gives each node up to 10 s to stop before SIGKILL, and runs them in turn. */
    private static final Duration STOP_TIMEOUT = Duration.ofMinutes(1);
    private static final Pattern RESULT = Pattern.compile(
            "nodes=3 changes=3 p50_ms=(\\d+) p99_ms=(\\d+) max_ms=(\\d+)");
    private static final Pattern ADMIN_LINE = Pattern.compile("admin\\s+mysql --no-defaults -h127\\.0\\.0\\.1 -P(\\d+)");
    private static final Pattern TRAFFIC_LINE = Pattern.compile(
            "traffic\\s+mysql --no-defaults -h127\\.0\\.0\\.1 -P(\\d+) -u(\\S+) -p(\\S+) (\\S+)");
    private static final Pattern FILES = Pattern.compile("\\(files in (\\S+)\\)");
    private static final Pattern DASHBOARD_LINE = Pattern.compile("dashboard\\s+(https://127\\.0\\.0\\.1:\\d+/)");

    private static String classPath;

    @BeforeAll
    static void classes() throws IOException {
        Path jar = NodeProcess.NodeJar.path();
        Path target = jar.getParent();
        classPath = target.resolve("classes") + ":" + target.resolve("lib") + "/*";
    }

    /**
     * The script as a terminal runs it: in a process group of its own (setsid and env exec it under the same pid),
     * so that Ctrl-C reaches the shell and the command it waits on, and with SIGINT handled by default. A shell
     * that starts with SIGINT ignored (as anything started in the background by a non-interactive shell does, a
     * build included) can never trap it, and Ctrl-C would do nothing.
     */
    private static ProcessBuilder script(String... command) {
        List<String> args = new ArrayList<>(List.of("setsid", "env", "--default-signal=INT"));
        args.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(args).redirectErrorStream(true);
        pb.environment().put("PROXYFLEET_CLASSPATH", classPath);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        return pb;
    }

    /**
     * Reads the process's output on a virtual thread, line by line, into {@code lines}; join the returned thread
     * (see {@link #awaitOutput}) before reading {@code lines} in full.
     */
    private static Thread drain(Process p, List<String> lines) {
        return Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        });
    }

    /**
     * Waits until the reader has seen the end of the output. The script's exit alone does not mean that its last
     * lines were read, and a child it left behind holding the pipe open would keep the reader from ever ending.
     */
    private static void awaitOutput(Thread reader, List<String> lines) throws InterruptedException {
        assertThat(reader.join(OUTPUT_END_TIMEOUT)).as("the script's output ended (no child left holding it):\n%s",
                String.join("\n", lines)).isTrue();
    }

    @Test
    void convergenceSmokeRunReportsOrderedPercentiles() throws Exception {
        Process p = script("bench/convergence.sh", "--smoke").start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = drain(p, lines);
        boolean finished = p.waitFor(SCRIPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (!finished) {
            p.destroy();
        }
        assertThat(finished).as(String.join("\n", lines)).isTrue();
        awaitOutput(reader, lines);
        String output = String.join("\n", lines);
        assertThat(p.exitValue()).as(output).isZero();
        Matcher m = lines.stream().map(RESULT::matcher).filter(Matcher::matches).findFirst()
                .orElseThrow(() -> new AssertionError("no result line in:\n" + output));
        long p50 = Long.parseLong(m.group(1));
        long p99 = Long.parseLong(m.group(2));
        long max = Long.parseLong(m.group(3));
        assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
        assertThat(p99).isLessThanOrEqualTo(max);
        assertThat(lines).filteredOn(l -> l.contains("every node serves conv_")).hasSize(3);
    }

    @Test
    void demoPrintsWorkingCommandsAndCtrlCStopsEverything() throws Exception {
        Process p = script("bench/cluster-demo.sh").start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = drain(p, lines);
        try {
            await().atMost(SCRIPT_TIMEOUT).pollInterval(Duration.ofMillis(500)).until(() ->
                    !p.isAlive() || lines.stream().anyMatch(l -> l.contains("Press Ctrl-C")));
            String output = String.join("\n", lines);
            assertThat(p.isAlive()).as(output).isTrue();

            List<Integer> adminPorts = new ArrayList<>();
            List<Matcher> traffic = new ArrayList<>();
            List<String> dashboards = new ArrayList<>();
            Path files = null;
            for (String line : lines) {
                Matcher a = ADMIN_LINE.matcher(line);
                if (a.find()) {
                    adminPorts.add(Integer.parseInt(a.group(1)));
                }
                Matcher t = TRAFFIC_LINE.matcher(line);
                if (t.find()) {
                    traffic.add(t);
                }
                Matcher d = DASHBOARD_LINE.matcher(line);
                if (d.find()) {
                    dashboards.add(d.group(1));
                }
                Matcher f = FILES.matcher(line);
                if (f.find()) {
                    files = Path.of(f.group(1));
                }
            }
            assertThat(adminPorts).as(output).hasSize(3);
            assertThat(traffic).as(output).hasSize(3);
            assertThat(dashboards).as(output).hasSize(3);
            for (String url : dashboards) {
                Process curl = new ProcessBuilder("curl", "-sk", "--digest", "-u", "stats:stats", "-o", "/dev/null",
                        "-w", "%{http_code}", url + "api/whoami").start();
                assertThat(curl.waitFor(MysqlCli.DEFAULT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
                assertThat(new String(curl.getInputStream().readAllBytes())).as(url).isEqualTo("200");
            }
            assertThat(files).as(output).isNotNull().isDirectory();
            // every node's printed commands work: the admin shows three peers, the app user reaches MariaDB
            for (int port : adminPorts) {
                MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", port, "admin", "admin", "-N",
                        "-e", "SELECT COUNT(*) FROM runtime_proxysql_servers"), "", MysqlCli.DEFAULT_TIMEOUT);
                assertThat(r.stdout()).as(r.toString()).isEqualTo("3\n");
            }
            for (Matcher t : traffic) {
                MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", Integer.parseInt(t.group(1)),
                        t.group(2), t.group(3), "-N", "-D", t.group(4), "-e", "SELECT DATABASE()"), "",
                        MysqlCli.DEFAULT_TIMEOUT);
                assertThat(r.stdout()).as(r.toString()).isEqualTo(t.group(4) + "\n");
            }

            // Ctrl-C: the terminal sends SIGINT to the foreground process group, the script's
            Process interrupt = new ProcessBuilder("kill", "-INT", "--", "-" + p.pid()).start();
            assertThat(interrupt.waitFor()).isZero();
            assertThat(p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).as("demo stopped after SIGINT")
                    .isTrue();
            assertThat(p.exitValue()).isEqualTo(130);
            awaitOutput(reader, lines);
            assertThat(Files.exists(files)).as("temporary files removed").isFalse();
            for (int port : adminPorts) {
                MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", port, "admin", "admin", "-N",
                        "-e", "SELECT 1"), "", Duration.ofSeconds(10));
                assertThat(r.succeeded()).as("node on admin port " + port + " stopped").isFalse();
            }
        } finally {
            if (p.isAlive()) {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
            }
            reader.join(OUTPUT_END_TIMEOUT);
        }
    }
}
