package io.proxyfleet.bench;

import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.admin.AdminPrincipal;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.admin.AdminRole;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.login.tls.TestCertificates;
import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.testkit.FreePorts;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Cluster scale in one JVM (bench/cluster-scale.sh): {@code --core C} core nodes that list each other and
 * {@code --satellites S} satellites that list only the core, each node with its own ports and data directory and
 * default cluster settings. Measures, over {@code --changes K} changes made on core node 1: the convergence time
 * (from {@code LOAD MYSQL USERS TO RUNTIME} until every node's runtime users carry node 1's checksum) and the time
 * {@code PROXYFLEET WAIT CLUSTER} reports for the core; then the cluster's idle CPU over {@code --idle-seconds}.
 * {@code --warmup W} changes first, not measured, let the JIT compile the paths involved (long-running nodes are
 * warm).
 * Prints one line: {@code core=C satellites=S changes=K p50_ms= p99_ms= max_ms= ack_p99_ms= cpu_per_change_ms=
 * idle_cpu_pct= threads= load=}. The CPU per change is the median of the whole JVM's CPU time from the LOAD until
 * every node converged and the core acknowledged (less noisy than wall time on a shared machine; it includes the
 * bench's own polling); the idle CPU is the JVM's CPU time over wall time, in percent of one core; load is the
 * one-minute load average at the end.
 *
 * <p>Threads: the main thread drives everything; the nodes run their own threads.
 */
public final class ClusterScaleBench {
    private static final AdminPrincipal OPERATOR = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:1");
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration CHANGE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(5);
    private static final long POLL_MILLIS = 2;
    private static final long SECOND_OFFSET_MILLIS = 20;
    private static final double PERCENTILE_99 = 0.99;

    private ClusterScaleBench() {
    }

    public static void main(String[] args) throws Exception {
        int core = intArg(args, "--core", 3);
        int satellites = intArg(args, "--satellites", 0);
        int changes = intArg(args, "--changes", 20);
        int warmup = intArg(args, "--warmup", 0);
        int idleSeconds = intArg(args, "--idle-seconds", 30);
        Path root = Files.createTempDirectory("proxyfleet-scale");
        List<ProxyFleetNode> nodes = new ArrayList<>();
        try {
            int[] ports = new int[core + satellites];
            for (int i = 0; i < ports.length; i++) {
                ports[i] = FreePorts.loopback();
            }
            StringBuilder servers = new StringBuilder("proxysql_servers=\n(\n");
            for (int i = 0; i < core; i++) {
                servers.append("    { hostname=\"127.0.0.1\", port=%d, weight=0, comment=\"core%d\" }%s\n"
                        .formatted(ports[i], i + 1, i + 1 < core ? "," : ""));
            }
            servers.append(")\n");
            long startedAt = System.nanoTime();
            // One set of TLS files for every node: generating two RSA keys per node would dominate start-up.
            Path tls = root.resolve("tls");
            TestCertificates.newCa("scale-ca").issueTo(tls);
            for (int i = 0; i < ports.length; i++) {
                Path dir = root.resolve("node" + (i + 1));
                Files.createDirectories(dir);
                for (String f : List.of(TlsFiles.CA_FILE, TlsFiles.CERT_FILE, TlsFiles.KEY_FILE)) {
                    Files.copy(tls.resolve(f), dir.resolve(f));
                }
                nodes.add(start(dir, ports[i], servers.toString()));
            }
            log("started %d nodes in %d ms", nodes.size(), millisSince(startedAt));
            awaitMonitored(nodes, core);
            log("every node monitors its %d core peers", core);

            long[] converge = new long[changes];
            long[] acks = new long[changes];
            long[] cpu = new long[changes];
            for (int k = -warmup; k < changes; k++) {
                String user = "scale_" + (k + warmup);
                sql(nodes.getFirst(), "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('"
                        + user + "', 'pw', 0)");
                sleepToNextSecond();
                long cpu0 = processCpuNanos();
                long t0 = System.nanoTime();
                sql(nodes.getFirst(), "LOAD MYSQL USERS TO RUNTIME");
                String target = checksum(nodes.getFirst());
                long converged = awaitEverywhere(nodes, target, t0);
                long acked = ackMillis(sql(nodes.getFirst(), "PROXYFLEET WAIT CLUSTER mysql_users TIMEOUT 30000"));
                long cpuMillis = (processCpuNanos() - cpu0) / 1_000_000;
                log("%s %d: all %d nodes in %d ms, core acks within %d ms, %d ms of CPU", k < 0 ? "warm-up" : "change",
                        k < 0 ? k + warmup + 1 : k + 1, nodes.size(), converged, acked, cpuMillis);
                if (k >= 0) {
                    converge[k] = converged;
                    acks[k] = acked;
                    cpu[k] = cpuMillis;
                }
            }
            double idle = idleCpuPercent(idleSeconds);
            Arrays.sort(converge);
            Arrays.sort(acks);
            Arrays.sort(cpu);
            System.out.printf("core=%d satellites=%d changes=%d warmup=%d p50_ms=%d p99_ms=%d max_ms=%d ack_p99_ms=%d"
                            + " cpu_per_change_ms=%d idle_cpu_pct=%.1f threads=%d load=%s%n", core, satellites, changes,
                    warmup, percentile(converge, 0.5), percentile(converge, PERCENTILE_99), converge[changes - 1],
                    percentile(acks, PERCENTILE_99), percentile(cpu, 0.5), idle, Thread.activeCount(), loadAverage());
        } finally {
            for (ProxyFleetNode n : nodes.reversed()) {
                n.close();
            }
            deleteTree(root);
        }
        System.exit(0);
    }

    private static ProxyFleetNode start(Path dir, int adminPort, String servers) throws IOException {
        Files.createDirectories(dir);
        Path cnf = dir.resolve("proxysql.cnf");
        Files.writeString(cnf, """
                datadir="%s"
                admin_variables=
                {
                    admin_credentials="admin:admin;cluster1:clusterpass"
                    cluster_username="cluster1"
                    cluster_password="clusterpass"
                    mysql_ifaces="127.0.0.1:%d"
                }
                mysql_variables=
                {
                    interfaces="127.0.0.1:%d"
                    threads=1
                    server_version="5.5.30"
                }
                %s
                """.formatted(dir, adminPort, FreePorts.loopback(), servers));
        return NodeFixture.start(dir, cnf);
    }

    private static void awaitMonitored(List<ProxyFleetNode> nodes, int core) throws Exception {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        for (ProxyFleetNode n : nodes) {
            while (!firstCell(sql(n, "SELECT COUNT(*) FROM stats_proxysql_servers_checksums"
                    + " WHERE name = 'mysql_users' AND updated_at > 0")).equals(Integer.toString(core))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("a node does not see its core peers after " + READY_TIMEOUT);
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
    }

    /** Milliseconds from {@code t0} until the last node runs {@code target}. */
    private static long awaitEverywhere(List<ProxyFleetNode> nodes, String target, long t0) throws Exception {
        long[] seen = new long[nodes.size()];
        int missing = nodes.size();
        long deadline = t0 + CHANGE_TIMEOUT.toNanos();
        while (missing > 0) {
            for (int i = 0; i < nodes.size(); i++) {
                if (seen[i] == 0 && target.equals(checksum(nodes.get(i)))) {
                    seen[i] = System.nanoTime();
                    missing--;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(missing + " nodes did not converge within " + CHANGE_TIMEOUT);
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
        return (Arrays.stream(seen).max().orElseThrow() - t0) / 1_000_000;
    }

    private static String checksum(ProxyFleetNode n) {
        return n.admin().moduleVersions().getOrDefault("mysql_users", ModuleVersion.NONE).checksum();
    }

    /** The largest time_to_apply_ms of a WAIT answer whose rows are all applied. */
    private static long ackMillis(AdminResponse response) {
        long worst = 0;
        for (List<String> row : ((AdminResponse.ResultSet) response).rows()) {
            if (!"applied".equals(row.get(1))) {
                throw new IllegalStateException("not acknowledged: " + row);
            }
            worst = Math.max(worst, Long.parseLong(row.get(3)));
        }
        return worst;
    }

    /** The whole JVM's CPU time: every node's threads, the bench's own polling included. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static String loadAverage() {
        return String.format("%.1f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private static double idleCpuPercent(int seconds) throws InterruptedException {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        TimeUnit.SECONDS.sleep(seconds);
        return 100.0 * (os.getProcessCpuTime() - cpu0) / (System.nanoTime() - wall0);
    }

    private static AdminResponse sql(ProxyFleetNode n, String sql) throws Exception {
        AdminResponse r = n.admin().execute(OPERATOR, sql).get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (r instanceof AdminResponse.Error e) {
            throw new IllegalStateException(sql + ": " + e.message());
        }
        return r;
    }

    private static String firstCell(AdminResponse r) {
        return ((AdminResponse.ResultSet) r).rows().getFirst().getFirst();
    }

    private static void sleepToNextSecond() throws InterruptedException {
        long now = System.currentTimeMillis();
        TimeUnit.MILLISECONDS.sleep(1000 - now % 1000 + SECOND_OFFSET_MILLIS);
    }

    private static long percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static int intArg(String[] args, String name, int otherwise) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        return otherwise;
    }

    private static void log(String format, Object... values) {
        System.err.printf("[scale] " + format + "%n", values);
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
