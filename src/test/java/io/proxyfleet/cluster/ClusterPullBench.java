package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.protocol.client.BlockingMysqlClient;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 6, step one: how long one node takes to pull {@code mysql_users} from another when there are
 * 100,000 users and one of them changed — the whole table travels, as in ProxySQL. A bench, not a test: it runs
 * only when asked, {@code bin/test -o -Dtest=ClusterPullBench -Dbench=true} (users: {@code -Dbench.users=N}), and
 * prints a table. Owned by the JUnit thread.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ClusterPullBench {
    private static final int USERS = Integer.getInteger("bench.users", 100_000);
    /** Rounds of each kind: whole pulls and delta pulls alternate. */
    private static final int ROUNDS = 5;
    private static final Duration STATEMENT_TIMEOUT = Duration.ofMinutes(5);
    /** Generous: on a machine shared with other jobs one 100,000-row answer can take longer than the 10 s default. */
    private static final PeerConnector PATIENT = (peer, settings) -> BlockingMysqlClient.connect(
            BlockingMysqlClient.Options.of(peer.hostname(), peer.port(), settings.username(), settings.password(),
                    STATEMENT_TIMEOUT, STATEMENT_TIMEOUT));
    private static final String ADMIN_THREAD = "proxyfleet-admin";
    private static final String PASSWORD = "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9";

    /** As a real pull: saved to disk too. */
    private static final ClusterSettings SETTINGS = settings();

    @TempDir
    Path tmp;

    private static ClusterSettings settings() {
        java.util.Map<ClusterModule, Integer> d = new java.util.EnumMap<>(ClusterModule.class);
        java.util.Map<ClusterModule, Boolean> save = new java.util.EnumMap<>(ClusterModule.class);
        for (ClusterModule m : ClusterModule.values()) {
            d.put(m, 3);
            save.put(m, true);
        }
        return new ClusterSettings("admin", "admin", Duration.ofSeconds(1), 0, d, save, 1);
    }

    @Test
    void pullOfOneChangedUserAmongMany() throws Exception {
        Path sourceDir = tmp.resolve("source");
        int adminPort = io.proxyfleet.NodeFixture.freePort();
        try (io.proxyfleet.ProxyFleetNode source = io.proxyfleet.NodeFixture.start(sourceDir,
                io.proxyfleet.NodeFixture.writeConfig(sourceDir, adminPort, io.proxyfleet.NodeFixture.freePort(), ""));
             TestNode target = new TestNode(tmp.resolve("target"))) {
            long started = System.nanoTime();
            exec(source, "INSERT INTO mysql_users (username, password, default_hostgroup, comment)"
                    + " WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < " + USERS + ")"
                    + " SELECT 'user' || x, '" + PASSWORD + "', x % 4, 'bench' FROM n");
            exec(source, "LOAD MYSQL USERS TO RUNTIME");
            long loadMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();

            AdminClusterNode targetNode = new AdminClusterNode(target.engine, target.holder, false, true);
            ModulePuller deltaPuller = new ModulePuller(targetNode, PATIENT, Duration.ZERO);
            ModulePuller wholePuller = new ModulePuller(new ClusterDeltaTest.WholeTablesOnly(targetNode), PATIENT, Duration.ZERO);
            PeerAddress peer = new PeerAddress("127.0.0.1", source.adminPort());
            List<Long> fetch = new ArrayList<>();
            List<Long> whole = new ArrayList<>();
            List<Long> delta = new ArrayList<>();
            List<Long> endToEnd = new ArrayList<>();
            long bytes = 0;
            List<Long> loads = new ArrayList<>();
            List<Long> cpu = new ArrayList<>();
            // round 0 brings the target to the source's rows; then whole and delta pulls alternate
            for (int round = 0; round <= 2 * ROUNDS; round++) {
                exec(source, "UPDATE mysql_users SET comment = 'round " + round + "' WHERE username = 'user1'");
                long c0 = cpuNanos();
                long l0 = System.nanoTime();
                exec(source, "LOAD MYSQL USERS TO RUNTIME");
                long loadNanos = System.nanoTime() - l0;
                loads.add(Duration.ofNanos(loadNanos).toMillis());
                ModuleVersion advertised = source.admin().moduleVersions().get("mysql_users");
                boolean useDelta = round % 2 == 0 && round > 0;
                if (!useDelta) {
                    long t0 = System.nanoTime();
                    try (BlockingMysqlClient c = PATIENT.open(peer, SETTINGS)) {
                        var rows = c.select(ClusterQueries.USERS);
                        bytes = rows.rows().stream().flatMap(List::stream)
                                .mapToLong(x -> x == null ? 0 : x.length()).sum();
                    }
                    fetch.add(Duration.ofNanos(System.nanoTime() - t0).toMillis());
                }
                long deltasBefore = deltaPuller.deltaPulls();
                long t1 = System.nanoTime();
                boolean ok = (useDelta ? deltaPuller : wholePuller).pull(peer, List.of(new ModulePuller.Expected(
                        ClusterModule.MYSQL_USERS, advertised.checksum(), advertised.epoch())), SETTINGS);
                long pullNanos = System.nanoTime() - t1;
                assertThat(ok).isTrue();
                assertThat(target.module("mysql_users").checksum()).isEqualTo(advertised.checksum());
                if (round > 0) {
                    (useDelta ? delta : whole).add(Duration.ofNanos(pullNanos).toMillis());
                }
                if (useDelta) {
                    assertThat(deltaPuller.deltaPulls()).as("applied as a delta").isEqualTo(deltasBefore + 1);
                    endToEnd.add(Duration.ofNanos(loadNanos + pullNanos).toMillis());
                    cpu.add(Duration.ofNanos(cpuNanos() - c0).toMillis());
                }
            }
            System.out.printf("%n| users | cell bytes | first LOAD | LOAD of one change (median) |"
                    + " fetch only (median/max) | whole pull: fetch+verify+apply+save (median/max) |"
                    + " delta pull (median/max) | LOAD + delta pull (median/max) |"
                    + " CPU of LOAD + delta pull (median/max) |%n"
                    + "|---|---|---|---|---|---|---|---|---|%n| %d | %d | %d ms | %d ms | %d / %d ms | %d / %d ms |"
                    + " %d / %d ms | %d / %d ms | %d / %d ms |%n%n", USERS, bytes, loadMillis, median(loads),
                    median(fetch), Collections.max(fetch), median(whole), Collections.max(whole), median(delta),
                    Collections.max(delta), median(endToEnd), Collections.max(endToEnd), median(cpu),
                    Collections.max(cpu));
        }
    }

    private static void exec(io.proxyfleet.ProxyFleetNode node, String sql) throws Exception {
        var r = node.admin().execute(new io.proxyfleet.admin.AdminPrincipal("admin", io.proxyfleet.admin.AdminRole.ADMIN,
                "127.0.0.1:1"), sql).get(STATEMENT_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        assertThat(r).as(sql).isNotInstanceOf(io.proxyfleet.admin.AdminResponse.Error.class);
    }

    /**
     * CPU time so far of both nodes' admin threads (the loads and applies) and of this thread (the puller's fetch
     * and checks): unlike wall-clock time, it barely depends on what else the shared machine runs.
     */
    private static long cpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = threads.getCurrentThreadCpuTime();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(ADMIN_THREAD)) {
                sum += Math.max(0, threads.getThreadCpuTime(t.threadId()));
            }
        }
        return sum;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
