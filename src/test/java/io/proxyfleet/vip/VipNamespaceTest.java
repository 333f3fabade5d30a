package io.proxyfleet.vip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.testkit.Executables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virtual IP across three node processes, each in its own network namespace, with MariaDB and a client in
 * two more, all on a bridge that only they share (docs/vip.md). The scenarios run in order on one cluster.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class VipNamespaceTest {
    private static final String VIP = "198.18.0.100";
    private static final String DB = "198.18.0.30";
    private static final long LEASE_MILLIS = 1_000;
    /**
     * Failover bound asserted. The target is under 3 s (docs/vip.md records what was measured); the bound leaves
     * room for a machine whose two cores are shared with other builds.
     */
    private static final Duration FAILOVER_BOUND = Duration.ofSeconds(8);
    /** A node process starts in seconds alone, but in much longer on a machine shared with other builds. */
    private static final Duration START_BOUND = Duration.ofSeconds(240);
    private static final long SAMPLE_MILLIS = 25;
    private static final int HIGH_PRIORITY = 100;
    /** Rows the client must commit through the VIP after each event: it goes on. */
    private static final int CLIENT_PROGRESS = 5;
    /** Sampling, process start-up of ip(8) and scheduling delays on top of the lease. */
    private static final long LEASE_SLACK_MILLIS = 500;
    /** The kernel lifetime of the address (one second at this lease) and the kernel's check granularity. */
    private static final long KERNEL_REMOVAL_BOUND_MILLIS = LeaseTimings.of(LEASE_MILLIS).kernelLifetimeSeconds()
            * 1_000L + LeaseTimings.KERNEL_EXPIRY_SLACK_MILLIS + LEASE_SLACK_MILLIS;
    private static final List<String> JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Xms32m", "-Xmx128m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true");

    /** Kept when a test fails: the node, client and MariaDB logs are what explains it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path dir;
    private static Netns lab;
    private static Process mariadb;
    private static final Process[] nodes = new Process[3];
    private static Process client;
    private static Thread sampler;
    private static final AtomicBoolean sampling = new AtomicBoolean();
    private static final AtomicInteger maxHolders = new AtomicInteger();

    @BeforeAll
    static void startLab() throws Exception {
        String reason = Netns.unavailableReason();
        Assumptions.assumeTrue(reason == null, reason);
        lab = new Netns();
        for (int i = 1; i <= 3; i++) {
            lab.member("n" + i, nodeAddress(i));
        }
        lab.member("c", "198.18.0.20");
        lab.member("db", DB);
        startMariaDb();
        for (int i = 1; i <= 3; i++) {
            startNode(i);
        }
        sampling.set(true);
        sampler = Thread.ofPlatform().name("vip-sampler").start(VipNamespaceTest::sample);
        for (int i = 1; i <= 3; i++) {
            awaitJoined(i);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> holders().size() == 1);
    }

    @AfterAll
    static void stopLab() throws Exception {
        sampling.set(false);
        if (sampler != null) {
            sampler.join(Duration.ofSeconds(5));
        }
        if (client != null) {
            // The client loop is a grandchild (timeout, ip netns exec, bash): killing only the process we started
            // left the loop running, connecting to a VIP that no longer exists, long after the test.
            List<ProcessHandle> tree = new ArrayList<>(client.descendants().toList());
            client.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            for (ProcessHandle h : tree) {
                h.destroyForcibly();
                h.onExit().get(5, TimeUnit.SECONDS);
            }
        }
        for (Process p : nodes) {
            if (p != null) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (mariadb != null) {
            mariadb.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    @Order(1)
    void sigkillOfTheOwnerMovesTheVipAndTheClientLosesNothingCommitted() throws Exception {
        startClient();
        int owner = onlyHolder();
        awaitClientRows(CLIENT_PROGRESS);
        System.out.println("SIGKILL of owner n" + owner + " at " + java.time.Instant.now());
        long t0 = System.nanoTime();
        nodes[owner - 1].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        try {
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(SAMPLE_MILLIS))
                    .until(() -> isOnlyHolderOtherThan(owner));
            long moved = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("VIP failover after SIGKILL of the owner: " + moved + " ms");
            assertThat(Duration.ofMillis(moved)).isLessThan(FAILOVER_BOUND);
            awaitClientRows(okCount() + CLIENT_PROGRESS);
            assertCommittedRowsPresent();
        } finally {
            startNode(owner);
            awaitJoined(owner);
        }
    }

    @Test
    @Order(2)
    void aPartitionedOwnerDropsTheVipWithinItsLeaseAndTwoNeverHoldIt() throws Exception {
        int owner = onlyHolder();
        System.out.println("Partition of owner n" + owner + " at " + java.time.Instant.now());
        long t0 = System.nanoTime();
        lab.link("n" + owner, false);
        try {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(SAMPLE_MILLIS))
                    .until(() -> !holders().contains(owner));
            long dropped = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            await().atMost(Duration.ofSeconds(15)).until(() -> holders().size() == 1);
            long moved = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("Partitioned owner dropped the VIP after " + dropped + " ms; new owner after "
                    + moved + " ms");
            assertThat(dropped).isLessThanOrEqualTo(LEASE_MILLIS + LEASE_SLACK_MILLIS);
        } finally {
            lab.link("n" + owner, true);
        }
        assertThat(maxHolders.get()).as("namespaces holding the VIP at once").isLessThanOrEqualTo(1);
        awaitClientRows(okCount() + CLIENT_PROGRESS);
        assertCommittedRowsPresent();
    }

    @Test
    @Order(3)
    void theKernelRemovesTheAddressOfAStoppedOwnerWithinItsLifetime() throws Exception {
        int owner = onlyHolder();
        List<Long> pids = new ArrayList<>(List.of(nodes[owner - 1].pid()));
        nodes[owner - 1].toHandle().descendants().forEach(d -> pids.add(d.pid()));
        System.out.println("SIGSTOP of owner n" + owner + " (JVM and guardian, pids " + pids + ") at "
                + java.time.Instant.now());
        long t0 = System.nanoTime();
        signal("-STOP", pids);
        try {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(SAMPLE_MILLIS))
                    .until(() -> !holders().contains(owner));
            long gone = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(SAMPLE_MILLIS))
                    .until(() -> isOnlyHolderOtherThan(owner));
            long moved = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("Stopped owner's address removed by the kernel after " + gone + " ms; new owner after "
                    + moved + " ms");
            assertThat(gone).as("ms until the kernel removed the stopped owner's address")
                    .isLessThanOrEqualTo(KERNEL_REMOVAL_BOUND_MILLIS);
        } finally {
            signal("-CONT", pids);
        }
        // Resumed, the old owner finds its lease over and drops out; it may win a later term, but never overlaps.
        awaitJoined(owner);
        await().atMost(Duration.ofSeconds(30)).until(() -> holders().size() == 1);
        assertThat(maxHolders.get()).as("namespaces holding the VIP at once").isLessThanOrEqualTo(1);
        awaitClientRows(okCount() + CLIENT_PROGRESS);
        assertCommittedRowsPresent();
    }

    @Test
    @Order(4)
    void aDrainedOwnerHandsTheVipOverWithNoFailedTransaction() throws Exception {
        int owner = onlyHolder();
        int failedBefore = failedTransactions();
        Netns.Result r = Netns.ns(Netns.PREFIX + "n" + owner, "mysql", "-h127.0.0.1", "-P6032", "-uadmin",
                "-padmin", "-e", "PROXYFLEET DRAIN");
        assertThat(r.ok()).as(r.output()).isTrue();
        long t0 = System.nanoTime();
        int failedDuringDrain;
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> isOnlyHolderOtherThan(owner));
            System.out.println("VIP moved after PROXYFLEET DRAIN in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");
            awaitClientRows(okCount() + CLIENT_PROGRESS);
            failedDuringDrain = failedTransactions() - failedBefore;
            assertCommittedRowsPresent();
            assertThat(maxHolders.get()).isLessThanOrEqualTo(1);
            assertThat(admin(Netns.PREFIX + "n" + owner, "SELECT state FROM stats_proxyfleet_vip")).contains("DRAINED");
        } finally {
            // PROXYFLEET UNDRAIN brings it back without a restart (and keeps the next scenarios at three members).
            admin(Netns.PREFIX + "n" + owner, "PROXYFLEET UNDRAIN");
            awaitJoined(owner);
        }
        assertThat(failedDuringDrain).as("transactions failed during the drain").isZero();
        assertThat(Netns.ns(Netns.PREFIX + "c", "mysql", "-h" + nodeAddress(owner), "-P6033", "-uapp", "-papp",
                "--connect-timeout=5", "-N", "-e", "SELECT 1").output()).contains("1");
    }

    @Test
    @Order(5)
    void healthFollowsBackendsAndConfig() throws Exception {
        int node = onlyHolder();
        String ns = Netns.PREFIX + "n" + node;
        assertThat(http(ns, "/health")).startsWith("200 ").contains("\"ready\":true");
        assertThat(http(ns, "/role")).startsWith("200 ").contains("\"owner\":true");
        admin(ns, "UPDATE mysql_users SET default_hostgroup=7; LOAD MYSQL USERS TO RUNTIME");
        await().atMost(Duration.ofSeconds(10)).until(() -> http(ns, "/health").startsWith("503 "));
        assertThat(http(ns, "/health")).contains("hostgroup 7 has no ONLINE server");
        // An unhealthy owner gives the VIP up.
        await().atMost(Duration.ofSeconds(15)).until(() -> isOnlyHolderOtherThan(node));
        admin(ns, "UPDATE mysql_users SET default_hostgroup=0; LOAD MYSQL USERS TO RUNTIME");
        await().atMost(Duration.ofSeconds(10)).until(() -> http(ns, "/health").startsWith("200 "));
        assertThat(maxHolders.get()).isLessThanOrEqualTo(1);
    }

    @Test
    @Order(6)
    void aMemberOfHigherPriorityTakesTheVipOverOnceItHasJoined() throws Exception {
        int owner = onlyHolder();
        int other = owner % 3 + 1;
        nodes[other - 1].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        startNode(other, HIGH_PRIORITY);
        awaitJoined(other);
        long t0 = System.nanoTime();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(SAMPLE_MILLIS))
                .until(() -> holders().equals(List.of(other)));
        System.out.println("VIP handed over to higher-priority n" + other + " "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms after it joined");
        assertThat(admin(Netns.PREFIX + "n" + owner, "SELECT state FROM stats_proxyfleet_vip"))
                .doesNotContain("OWNER");
        assertThat(maxHolders.get()).isLessThanOrEqualTo(1);
    }

    @Test
    @Order(7)
    void withTwoOfThreeDownNobodyHoldsTheVip() throws Exception {
        int owner = onlyHolder();
        int other = owner % 3 + 1;
        int survivor = 6 - owner - other;
        nodes[other - 1].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        nodes[owner - 1].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> holders().isEmpty());
        // The survivor must stay without the address well past the time a takeover needs.
        await().during(Duration.ofMillis(LEASE_MILLIS * 4)).atMost(Duration.ofSeconds(10))
                .until(() -> holders().isEmpty());
        assertThat(admin(Netns.PREFIX + "n" + survivor, "SELECT state FROM stats_proxyfleet_vip"))
                .doesNotContain("OWNER");
        assertThat(http(Netns.PREFIX + "n" + survivor, "/role")).startsWith("503 ");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static String nodeAddress(int i) {
        return "198.18.0.1" + i;
    }

    private static void startMariaDb() throws Exception {
        Path base = dir.resolve("db");
        Path data = base.resolve("data");
        Files.createDirectories(base.resolve("tmp"));
        Path installDb = Executables.require("mariadb-server", "mariadb-install-db", "mysql_install_db");
        Process install = new ProcessBuilder(installDb.toString(), "--no-defaults",
                "--auth-root-authentication-method=normal", "--datadir=" + data, "--skip-test-db",
                "--user=root", "--tmpdir=" + base.resolve("tmp"), "--innodb-log-file-size=8M")
                .redirectErrorStream(true).redirectOutput(base.resolve("install.log").toFile()).start();
        assertThat(install.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(install.exitValue()).as(Files.readString(base.resolve("install.log"))).isZero();
        Path server = Executables.require("mariadb-server", "mariadbd", "mysqld");
        mariadb = new ProcessBuilder("ip", "netns", "exec", Netns.PREFIX + "db", server.toString(), "--no-defaults",
                "--datadir=" + data, "--port=3306", "--bind-address=" + DB, "--socket=" + base.resolve("sock"),
                "--user=root", "--skip-log-bin", "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M",
                "--performance-schema=0", "--tmpdir=" + base.resolve("tmp"), "--log-error=" + base.resolve("err.log"))
                .redirectErrorStream(true).redirectOutput(base.resolve("console.log").toFile()).start();
        String setup = "CREATE USER app@'%' IDENTIFIED BY 'app'; GRANT ALL ON *.* TO app@'%';"
                + " CREATE USER monitor@'%' IDENTIFIED BY 'monitor'; GRANT USAGE ON *.* TO monitor@'%';"
                + " CREATE DATABASE t; CREATE TABLE t.k (i INT PRIMARY KEY) ENGINE=InnoDB;";
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                Netns.ns(Netns.PREFIX + "db", "mysql", "-S", base.resolve("sock").toString(), "-uroot", "-e",
                        "SELECT 1").ok());
        Netns.Result r = Netns.ns(Netns.PREFIX + "db", "mysql", "-S", base.resolve("sock").toString(), "-uroot",
                "-e", setup);
        assertThat(r.ok()).as(r.output()).isTrue();
    }

    private static void startNode(int i) throws IOException {
        startNode(i, 0);
    }

    private static void startNode(int i, int priority) throws IOException {
        Path d = dir.resolve("n" + i);
        Files.createDirectories(d);
        // A key pair per node costs seconds of CPU on a busy machine: each node copies one set made once.
        Path tls = dir.resolve("tls-template");
        if (!Files.exists(tls.resolve(TlsFiles.KEY_FILE))) {
            Files.createDirectories(tls);
            TlsFiles.open(tls);
        }
        for (String file : List.of(TlsFiles.CA_FILE, TlsFiles.CERT_FILE, TlsFiles.KEY_FILE)) {
            if (!Files.exists(d.resolve(file))) {
                Files.copy(tls.resolve(file), d.resolve(file));
            }
        }
        String peers = "n1=" + nodeAddress(1) + ":7800,n2=" + nodeAddress(2) + ":7800,n3=" + nodeAddress(3) + ":7800";
        Files.writeString(d.resolve("proxysql.cnf"), """
                datadir="%s"
                admin_variables=
                {
                    admin_credentials="admin:admin"
                    mysql_ifaces="0.0.0.0:6032"
                    restapi_enabled="true"
                    restapi_port=6070
                    proxyfleet_vip_address="%s"
                    proxyfleet_vip_prefix=24
                    proxyfleet_vip_interface="eth0"
                    proxyfleet_vip_lease_ms=%d
                    proxyfleet_vip_raft_id="n%d"
                    proxyfleet_vip_raft_peers="%s"
                    proxyfleet_vip_drain_timeout_ms=5000
                    proxyfleet_vip_priority=%d
                }
                mysql_variables=
                {
                    interfaces="0.0.0.0:6033"
                    threads=1
                    monitor_username="monitor"
                    monitor_password="monitor"
                }
                mysql_servers=
                (
                    { address="%s", port=3306, hostgroup=0 }
                )
                mysql_users=
                (
                    { username="app", password="app", default_hostgroup=0 }
                )
                """.formatted(d, VIP, LEASE_MILLIS, i, peers, priority, DB));
        var command = new ArrayList<>(List.of("ip", "netns", "exec", Netns.PREFIX + "n" + i,
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(JVM_FLAGS);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.proxyfleet.Main", "-f", "-D",
                d.toString(), "-c", d.resolve("proxysql.cnf").toString()));
        if (priority != 0) {
            // Like ProxySQL, a node with a database reads its config file only with --initial.
            command.add("--initial");
        }
        nodes[i - 1] = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(d.resolve("console.log").toFile())).start();
    }

    /**
     * Bounds each client invocation: one sent to the owner just before its link was cut would otherwise wait for
     * TCP's retransmission back-off (up to minutes) to learn that the address has moved.
     */
    private static final int CLIENT_STATEMENT_SECONDS = 10;

    /**
     * A client in its own namespace: one connection per transaction to the VIP, a bounded number of times. Each
     * committed row is printed as {@code ok N}; a failure to connect (refused, timed out, or cut during the
     * handshake or TLS set-up) as {@code noconnect N}, to be retried; an invocation cut by its time bound as
     * {@code hung N} (its outcome unknown, so it is in neither count); any other failure as {@code failed N}.
     */
    private static void startClient() throws IOException {
        Path log = dir.resolve("client.log");
        String script = """
                for i in $(seq 1 100000); do
                  out=$(timeout %d mysql -h%s -P6033 -uapp -papp --connect-timeout=2 -e "BEGIN; INSERT INTO t.k VALUES ($i); COMMIT" 2>&1)
                  rc=$?
                  if [ $rc -eq 0 ]; then echo "ok $i"
                  elif [ $rc -eq 124 ]; then echo "hung $i"
                  elif echo "$out" | grep -qE 'ERROR (2002|2003|2005|2026) |ERROR 2013 .*(handshake|reading initial)'; then echo "noconnect $i $out"
                  else echo "failed $i $out"; fi
                  sleep 0.05
                done
                """.formatted(CLIENT_STATEMENT_SECONDS, VIP);
        client = new ProcessBuilder("timeout", "300", "ip", "netns", "exec", Netns.PREFIX + "c", "bash", "-c", script)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static List<String> clientLines() throws IOException {
        Path log = dir.resolve("client.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private static int okCount() throws IOException {
        return (int) clientLines().stream().filter(l -> l.startsWith("ok ")).count();
    }

    private static int failedTransactions() throws IOException {
        // A hung statement counts too: in a drain, no statement may be left without an answer.
        return (int) clientLines().stream().filter(l -> l.startsWith("failed ") || l.startsWith("hung ")).count();
    }

    private static void awaitClientRows(int count) {
        await().atMost(Duration.ofSeconds(60)).until(() -> okCount() >= count);
    }

    /** Every row the client saw committed is in the database. */
    private static void assertCommittedRowsPresent() throws IOException {
        List<String> committed = clientLines().stream().filter(l -> l.startsWith("ok ")).map(l -> l.substring(3))
                .toList();
        Netns.Result r = Netns.ns(Netns.PREFIX + "db", "mysql", "-S", dir.resolve("db/sock").toString(), "-uroot",
                "-N", "-e", "SELECT i FROM t.k");
        List<String> stored = List.of(r.output().split("\n"));
        assertThat(stored).containsAll(committed);
    }

    /** The node numbers whose namespace holds the VIP now, from one {@code ip} call per namespace. */
    private static List<Integer> holders() {
        var out = new ArrayList<Integer>();
        for (int i = 1; i <= 3; i++) {
            Netns.Result r = Netns.run(List.of("ip", "-n", Netns.PREFIX + "n" + i, "-o", "addr", "show", "dev",
                    "eth0"));
            if (r.output().contains(" " + VIP + "/")) {
                out.add(i);
            }
        }
        return out;
    }

    /**
     * Waits until node {@code i} answers on its admin port and sits in the Raft group, and every other running node
     * sees it there too: a node that resumes after SIGSTOP believes it is in the group while the others excluded it.
     */
    private static void awaitJoined(int i) {
        String ns = Netns.PREFIX + "n" + i;
        await().atMost(START_BOUND).pollInterval(Duration.ofMillis(500)).until(() -> {
            Netns.Result r = Netns.ns(ns, "mysql", "-h127.0.0.1", "-P6032", "-uadmin", "-padmin", "-N", "-e",
                    "SELECT state FROM stats_proxyfleet_vip");
            if (!r.ok() || !r.output().matches("(?s).*(FOLLOWER|WAITING|OWNER).*")) {
                return false;
            }
            for (int j = 1; j <= 3; j++) {
                if (j != i && nodes[j - 1] != null && nodes[j - 1].isAlive()) {
                    Netns.Result e = Netns.ns(Netns.PREFIX + "n" + j, "mysql", "-h127.0.0.1", "-P6032", "-uadmin",
                            "-padmin", "-N", "-e", "SELECT * FROM stats_proxyfleet_endpoints");
                    if (!e.ok() || !e.output().contains(nodeAddress(i))) {
                        return false;
                    }
                }
            }
            return true;
        });
    }

    private static boolean isOnlyHolderOtherThan(int node) {
        List<Integer> h = holders();
        return h.size() == 1 && h.getFirst() != node;
    }

    /** The one holder, from the same sample that found exactly one (a second sample may catch a flap). */
    private static int onlyHolder() {
        var seen = new java.util.concurrent.atomic.AtomicReference<List<Integer>>(List.of());
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            seen.set(holders());
            return seen.get().size() == 1;
        });
        return seen.get().getFirst();
    }

    private static void sample() {
        while (sampling.get()) {
            maxHolders.accumulateAndGet(holders().size(), Math::max);
            try {
                Thread.sleep(SAMPLE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Signals each process still alive (a short-lived child of the guardian, ip or arping, may be gone). */
    private static void signal(String signal, List<Long> pids) {
        for (long pid : pids) {
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                Netns.Result r = Netns.run(List.of("kill", signal, Long.toString(pid)));
                assertThat(r.ok() || r.output().contains("No such process")).as(r.output()).isTrue();
            }
        }
    }

    private static String http(String ns, String path) {
        Netns.Result r = Netns.ns(ns, "curl", "-s", "-m", "5", "-w", "\n%{http_code}",
                "http://127.0.0.1:6070" + path);
        String out = r.output().strip();
        int nl = out.lastIndexOf('\n');
        return nl < 0 ? out : out.substring(nl + 1) + " " + out.substring(0, nl);
    }

    private static String admin(String ns, String sql) {
        Netns.Result r = Netns.ns(ns, "mysql", "-h127.0.0.1", "-P6032", "-uadmin", "-padmin", "-N", "-e", sql);
        assertThat(r.ok()).as(r.output()).isTrue();
        return r.output();
    }
}
