package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.testkit.FreePorts;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One ProxyFleet node running as its own operating-system process, started the way an operator starts it
 * ({@code java -jar proxyfleet-*.jar -f -D <datadir> -c <cnf>}) on free loopback ports, driven over its admin port
 * with the mysql command-line client. The data directory survives {@link #kill()}, so {@link #start()} can bring
 * the node back on it.
 *
 * <p>Threads: owned by the test thread that created it.
 */
final class NodeProcess implements AutoCloseable {
    /** A JVM start and admin boot; measured at 60 s and more at load 28 on 2 cores, with three nodes starting. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final long READY_POLL_MILLIS = 100;
    /** Netty's epoll transport loads JNI code and uses sun.misc.Unsafe; the same flags as bin/proxyfleet. */
    private static final List<String> JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC");

    final String name;
    final Path dir;
    final int adminPort;
    final int trafficPort;
    private Process process;
    private List<String> extraJvmFlags = List.of();

    private NodeProcess(String name, Path dir, int adminPort, int trafficPort) {
        this.name = name;
        this.dir = dir;
        this.adminPort = adminPort;
        this.trafficPort = trafficPort;
    }

    /**
     * A node with its own data directory under {@code parent} and a config file binding two free ports. The TLS
     * files are copied from one set generated once per parent: a key pair per node costs seconds on a busy machine.
     */
    static NodeProcess create(Path parent, String name) throws IOException {
        Path dir = parent.resolve(name);
        Files.createDirectories(dir);
        Path tls = parent.resolve("tls-template");
        if (!Files.exists(tls.resolve(TlsFiles.KEY_FILE))) {
            Files.createDirectories(tls);
            TlsFiles.open(tls);
        }
        for (String file : List.of(TlsFiles.CA_FILE, TlsFiles.CERT_FILE, TlsFiles.KEY_FILE)) {
            Files.copy(tls.resolve(file), dir.resolve(file));
        }
        NodeProcess node = new NodeProcess(name, dir, FreePorts.loopback(), FreePorts.loopback());
        Files.writeString(node.configFile(), """
                datadir="%s"
                admin_variables=
                {
                    admin_credentials="admin:admin"
                    mysql_ifaces="127.0.0.1:%d"
                }
                mysql_variables=
                {
                    interfaces="127.0.0.1:%d"
                    threads=1
                    server_version="5.5.30"
                }
                """.formatted(dir, node.adminPort, node.trafficPort));
        return node;
    }

    /**
     * Creates {@code user} afresh on {@code db}, starts a node with {@code jvmFlags} added to the defaults, waits
     * until it is ready and routes {@code user} to {@code db} (hostgroup 0) at runtime.
     */
    static NodeProcess startServing(Path parent, String name, MariaDb db, String user, String password,
                                    String... jvmFlags) throws IOException, InterruptedException {
        db.execute("DROP USER IF EXISTS " + user);
        db.createUser(user, password);
        NodeProcess node = create(parent, name);
        node.extraJvmFlags(jvmFlags);
        node.start();
        node.awaitReady();
        node.admin("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', " + db.port() + ")",
                "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('" + user + "', '"
                        + password + "', 0)",
                "LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL USERS TO RUNTIME");
        return node;
    }

    Path configFile() {
        return dir.resolve("proxysql.cnf");
    }

    Path logFile() {
        return dir.resolve("proxysql.log");
    }

    /** JVM flags added to the defaults from the next {@link #start()} on (a memory limit, say). */
    void extraJvmFlags(String... flags) {
        extraJvmFlags = List.of(flags);
    }

    /** Starts the process; returns at once (see {@link #awaitReady()}). */
    void start() throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JVM_FLAGS);
        command.addAll(extraJvmFlags);
        command.addAll(List.of("-jar", NodeJar.path().toString(), "-f", "-D", dir.toString(), "-c",
                configFile().toString()));
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("console.log").toFile()))
                .start();
    }

    /** Waits until the admin port answers; fails with the log's tail if the process died or is too slow. */
    void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + logTail());
            }
            if (MysqlCli.run(adminArgs(), "SELECT 1;\n", Duration.ofSeconds(5)).succeeded()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " not ready after " + START_TIMEOUT + ":\n" + logTail());
            }
            Thread.sleep(READY_POLL_MILLIS);
        }
    }

    /** Kills the process at once (SIGKILL), as a crash or a pulled plug would. */
    void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The operating-system process id, for reading the node's memory from /proc. */
    long pid() {
        return process.pid();
    }

    /** Sends SIGTERM, as {@code kill PID} or a service manager does, and returns the exit status. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            kill();
            throw new AssertionError(name + " did not stop within " + STOP_TIMEOUT + " of SIGTERM:\n" + logTail());
        }
        return process.exitValue();
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    private List<String> adminArgs() {
        // Without TLS: about 1 admin connection in 150 stalls 10 s in the TLS handshake and then fails (the admin
        // listener loses a ClientHello that arrives in the same read as the SSL request), unrelated to the cluster.
        return MysqlCli.loginArgs("127.0.0.1", adminPort, "admin", "admin", "--skip-ssl", "-N");
    }

    /** Runs statements on the admin port; fails the test if the client reports an error. Returns stdout. */
    String admin(String... statements) {
        MysqlCli.Result r = MysqlCli.run(adminArgs(), String.join(";\n", statements) + ";\n",
                MysqlCli.DEFAULT_TIMEOUT);
        assertThat(r.succeeded()).as(name + " admin: " + List.of(statements) + "\n" + r).isTrue();
        return r.stdout();
    }

    /** The rows of one admin query, cells split on tabs. */
    List<List<String>> rows(String sql) {
        return admin(sql).lines().map(l -> List.of(l.split("\t", -1))).toList();
    }

    /** Runs {@code sql} through the traffic port as {@code user}. */
    MysqlCli.Result traffic(String user, String password, String sql) {
        return MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", trafficPort, user, password, "-N", "-e", sql), "",
                MysqlCli.DEFAULT_TIMEOUT);
    }

    /** The whole log so far. */
    String log() {
        try {
            return Files.exists(logFile()) ? Files.readString(logFile()) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String logTail() {
        String log = log();
        List<String> lines = log.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
            }
        }
    }

    @Override
    public String toString() {
        return name + "(admin " + adminPort + ", traffic " + trafficPort + ")";
    }

    /**
     * The runnable jar in {@code target/}: reused when it is newer than every compiled class, else re-packaged
     * from the classes Maven already compiled (never recompiling under the running test JVM).
     */
    static final class NodeJar {
        private static final Duration PACKAGE_TIMEOUT = Duration.ofMinutes(5);
        private static Path jar;

        private NodeJar() {
        }

        static synchronized Path path() throws IOException {
            if (jar == null) {
                Path target = Path.of("target").toAbsolutePath();
                if (!isFresh(target)) {
                    repackage();
                }
                jar = find(target);
                if (jar == null || !isFresh(target)) {
                    throw new IllegalStateException("no fresh proxyfleet jar in " + target
                            + "; run mvn -DskipTests package");
                }
            }
            return jar;
        }

        private static Path find(Path target) throws IOException {
            if (!Files.isDirectory(target)) {
                return null;
            }
            try (Stream<Path> s = Files.list(target)) {
                return s.filter(p -> {
                    String n = p.getFileName().toString();
                    return n.startsWith("proxyfleet-") && n.endsWith(".jar") && !n.endsWith("-tests.jar")
                            && !n.endsWith("-sources.jar");
                }).findFirst().orElse(null);
            }
        }

        private static boolean isFresh(Path target) throws IOException {
            Path found = find(target);
            if (found == null || !Files.isDirectory(target.resolve("lib"))) {
                return false;
            }
            long jarTime = Files.getLastModifiedTime(found).toMillis();
            try (Stream<Path> s = Files.walk(target.resolve("classes"))) {
                return s.filter(Files::isRegularFile).allMatch(p -> {
                    try {
                        return Files.getLastModifiedTime(p).toMillis() <= jarTime;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }

        private static void repackage() throws IOException {
            // jar:jar and the pom's copy-runtime-libs execution only package what is compiled: no recompilation.
            ProcessBuilder pb = new ProcessBuilder("mvn", "-q", "-B", "-o", "jar:jar",
                    "dependency:copy-dependencies@copy-runtime-libs")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            Process p = pb.start();
            try {
                if (!p.waitFor(PACKAGE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                    p.destroyForcibly();
                    throw new IllegalStateException("mvn jar:jar failed; run mvn -DskipTests package");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while packaging the jar", e);
            }
        }
    }
}
