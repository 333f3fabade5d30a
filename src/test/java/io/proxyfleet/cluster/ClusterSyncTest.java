package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.config.ModuleVersion;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two (or three) real admin engines, each behind a real admin socket, clustering with {@link ClusterManager}: what
 * an operator loads on one node appears on the others with the same checksum and epoch.
 */
class ClusterSyncTest {
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(20);
    private static final int SAME_SECOND_ATTEMPTS = 5;
    /** Loads meant for one second start within this many milliseconds of its beginning. */
    private static final long SECOND_START_MILLIS = 500;

    @TempDir
    Path tmp;

    private final List<TestNode> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() throws Exception {
        for (TestNode n : nodes) {
            n.close();
        }
    }

    /** Nodes that list each other in proxysql_servers, with the given check interval, clustering. */
    private List<TestNode> cluster(int count, int checkIntervalMs) throws Exception {
        return TestNode.cluster(tmp, count, checkIntervalMs, Map.of("cluster_check_status_frequency", "2"), nodes);
    }

    private static void awaitSameModule(TestNode source, TestNode target, String module) {
        await().atMost(SYNC_TIMEOUT).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            ModuleVersion want = source.module(module);
            ModuleVersion got = target.module(module);
            assertThat(got.checksum()).as(module + " checksum").isEqualTo(want.checksum());
            assertThat(got.epoch()).as(module + " epoch").isEqualTo(want.epoch());
        });
    }

    @Test
    void queryRulesLoadedOnOneNodeArePulledByTheOtherWithTheSameChecksumAndEpoch() throws Exception {
        List<TestNode> c = cluster(2, 200);
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        long bVersionBefore = b.module("mysql_query_rules").version();
        a.exec("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply, comment)"
                + " VALUES (10, 1, '^SELECT .* FOR UPDATE', 1, 1, 'it''s a writer rule')");
        a.exec("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup) VALUES"
                + " (20, 0, '^SELECT', 2)");
        a.exec("LOAD MYSQL QUERY RULES TO RUNTIME");
        assertThat(a.module("mysql_query_rules").checksum()).isNotEqualTo("0x0000000000000000");

        awaitSameModule(a, b, "mysql_query_rules");
        assertThat(b.module("mysql_query_rules").version()).isEqualTo(bVersionBefore + 1);
        // only the active rule travels, written back as active
        assertThat(b.rows("SELECT rule_id, active, match_digest, comment FROM main.mysql_query_rules"))
                .containsExactly(List.of("10", "1", "^SELECT .* FOR UPDATE", "it's a writer rule"));
        assertThat(b.rows("SELECT rule_id FROM disk.mysql_query_rules")).containsExactly(List.of("10"));
        // the source never pulls back: its checksum and epoch are unchanged
        assertThat(a.module("mysql_query_rules").version()).isEqualTo(2);

        await().atMost(SYNC_TIMEOUT).untilAsserted(() -> {
            assertThat(b.rows("SELECT version, epoch, checksum, diff_check FROM stats_proxysql_servers_checksums"
                    + " WHERE name = 'mysql_query_rules' AND port = " + a.listener.port())).containsExactly(List.of(
                    "2", Long.toString(a.module("mysql_query_rules").epoch()), a.module("mysql_query_rules").checksum(),
                    "0"));
            // counted by b's monitor thread once the apply returns, a moment after the load shows
            assertThat(b.cluster.get().pulledTotal(ClusterModule.MYSQL_QUERY_RULES, true)).isEqualTo(1);
        });
    }

    @Test
    void usersServersAndVariablesFollowTheNewestNode() throws Exception {
        List<TestNode> c = cluster(2, 200);
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        a.exec("INSERT INTO mysql_users (username, password, default_hostgroup, comment) VALUES"
                + " ('app', '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9', 1, 'the app')");
        a.exec("LOAD MYSQL USERS TO RUNTIME");
        a.exec("INSERT INTO mysql_servers (hostgroup_id, hostname, port, status, comment) VALUES"
                + " (1, '10.0.0.1', 3306, 'ONLINE', 'writer'), (2, '10.0.0.2', 3306, 'SHUNNED', 'reader'),"
                + " (2, '10.0.0.3', 3306, 'OFFLINE_HARD', 'gone')");
        a.exec("INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, comment) VALUES"
                + " (1, 2, 'pair')");
        a.exec("LOAD MYSQL SERVERS TO RUNTIME");
        a.exec("UPDATE global_variables SET variable_value = '77' WHERE variable_name = 'mysql-max_connections'");
        a.exec("LOAD MYSQL VARIABLES TO RUNTIME");

        awaitSameModule(a, b, "mysql_users");
        awaitSameModule(a, b, "mysql_servers_v2");
        awaitSameModule(a, b, "mysql_servers");
        awaitSameModule(a, b, "mysql_variables");
        assertThat(b.rows("SELECT username, active, default_hostgroup, comment FROM main.mysql_users"))
                .containsExactly(List.of("app", "1", "1", "the app"));
        // OFFLINE_HARD never travels and SHUNNED arrives as ONLINE
        assertThat(b.rows("SELECT hostgroup_id, hostname, status FROM main.mysql_servers ORDER BY hostname"))
                .containsExactly(List.of("1", "10.0.0.1", "ONLINE"), List.of("2", "10.0.0.2", "ONLINE"));
        assertThat(b.rows("SELECT writer_hostgroup, reader_hostgroup, comment FROM main.mysql_replication_hostgroups"))
                .containsExactly(List.of("1", "2", "pair"));
        assertThat(b.holder.current().mysqlVariables().get("max_connections")).isEqualTo("77");
        assertThat(b.rows("SELECT variable_value FROM disk.global_variables"
                + " WHERE variable_name = 'mysql-max_connections'")).containsExactly(List.of("77"));
    }

    @Test
    void aPeerAddedOnOneNodeIsAddedEverywhere() throws Exception {
        List<TestNode> c = cluster(2, 200);
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        // both nodes loaded proxysql_servers during set-up; a load within the same second would be an
        // equal-epoch conflict, which ProxySQL (and we) refuse to resolve
        long setUpEpoch = Math.max(a.module("proxysql_servers").epoch(), b.module("proxysql_servers").epoch());
        await().atMost(Duration.ofSeconds(3)).until(() -> System.currentTimeMillis() / 1000 > setUpEpoch);
        a.exec("INSERT INTO proxysql_servers (hostname, port, weight, comment) VALUES ('127.0.0.1', 1, 5, 'down')");
        a.exec("LOAD PROXYSQL SERVERS TO RUNTIME");
        awaitSameModule(a, b, "proxysql_servers");
        assertThat(b.holder.current().peers().rows()).hasSize(3);
        // B now monitors the new (unreachable) peer too
        await().atMost(SYNC_TIMEOUT).untilAsserted(() -> assertThat(b.cluster.get().checksumsStatus())
                .extracting(PeerChecksumStatus::port).contains(1));
    }

    @Test
    void notifyMakesPeersPullLongBeforeTheirNextPoll() throws Exception {
        // a 20 s check interval with diffs_before_sync 3 would take a minute by polling alone
        Duration checkInterval = Duration.ofSeconds(20);
        List<TestNode> c = cluster(3, (int) checkInterval.toMillis());
        TestNode a = c.get(0);
        // every monitor has finished its first check, so what follows is the notify's doing, not a first poll's;
        // a first connect that fails on a loaded machine is retried only after a check interval and a pause
        await().atMost(SYNC_TIMEOUT.plus(checkInterval).plus(PeerMonitor.CONNECT_FAILURE_EXTRA_PAUSE))
                .untilAsserted(() -> {
            for (TestNode n : c) {
                assertThat(n.cluster.get().checksumsStatus()).allSatisfy(s -> assertThat(s.updatedAt()).isPositive());
            }
        });
        long started = System.nanoTime();
        a.exec("INSERT INTO mysql_query_rules (rule_id, active, match_pattern, destination_hostgroup) VALUES"
                + " (1, 1, '^INSERT', 1)");
        a.exec("LOAD MYSQL QUERY RULES TO RUNTIME");
        awaitSameModule(a, c.get(1), "mysql_query_rules");
        awaitSameModule(a, c.get(2), "mysql_query_rules");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void loadsInTheSameSecondOnTwoNodesConvergeOnTheHigherChecksumEverywhere() throws Exception {
        List<TestNode> c = cluster(2, 50);
        TestNode a = c.get(0);
        TestNode b = c.get(1);
        // load proxysql_servers on both in one second, after the epochs of set-up, with different contents. On a
        // loaded machine the two loads can straddle a second: the later one wins, the other node pulls it, and
        // once that pull is done (so it cannot overwrite the next rows) the pair is tried again.
        boolean sameSecond = false;
        String loadedOnA = "";
        String loadedOnB = "";
        for (int attempt = 0; attempt < SAME_SECOND_ATTEMPTS && !sameSecond; attempt++) {
            if (attempt > 0) {
                awaitSameModule(a, b, "proxysql_servers");
            }
            a.exec("UPDATE proxysql_servers SET comment = 'from a " + attempt + "'");
            b.exec("UPDATE proxysql_servers SET comment = 'from b " + attempt + "'");
            long lastEpoch = Math.max(a.module("proxysql_servers").epoch(), b.module("proxysql_servers").epoch());
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
                long now = System.currentTimeMillis();
                return now / 1000 > lastEpoch && now % 1000 < SECOND_START_MILLIS;
            });
            a.exec("LOAD PROXYSQL SERVERS TO RUNTIME");
            ModuleVersion loadA = a.module("proxysql_servers");
            b.exec("LOAD PROXYSQL SERVERS TO RUNTIME");
            ModuleVersion loadB = b.module("proxysql_servers");
            loadedOnA = loadA.checksum();
            loadedOnB = loadB.checksum();
            // a's notify can make b pull a's rows before b's own load, which then loads them: no conflict then
            sameSecond = loadA.epoch() == loadB.epoch() && !loadedOnA.equals(loadedOnB);
        }
        assertThat(sameSecond).as("both loads in one second, with different rows, within %d attempts",
                SAME_SECOND_ATTEMPTS).isTrue();
        // ProxySQL never resolves this; ProxyFleet lets the higher checksum win on both nodes, so the loser pulls it
        String winner = Collections.max(List.of(loadedOnA, loadedOnB));
        TestNode loser = loadedOnA.equals(winner) ? b : a;
        await().atMost(SYNC_TIMEOUT).untilAsserted(() -> {
            assertThat(a.module("proxysql_servers").checksum()).isEqualTo(winner);
            assertThat(b.module("proxysql_servers").checksum()).isEqualTo(winner);
            assertThat(a.module("proxysql_servers").epoch()).isEqualTo(b.module("proxysql_servers").epoch());
            // counted once the pull's save to disk is done too, a moment after the load shows
            assertThat(loser.cluster.get().pulledTotal(ClusterModule.PROXYSQL_SERVERS, true)).isPositive();
        });
        assertThat(loser.cluster.get().conflictTotal(ClusterModule.PROXYSQL_SERVERS, true)).isPositive();
    }

    @Test
    void peerMetricsAreCollected() throws Exception {
        List<TestNode> c = cluster(2, 100);
        await().atMost(SYNC_TIMEOUT).untilAsserted(() -> assertThat(c.get(0).cluster.get().metricsStatus())
                .hasSize(2)
                .allSatisfy(m -> {
                    assertThat(m.comment()).isEqualTo("node");
                    assertThat(m.lastCheckMs()).isPositive();
                }));
        assertThat(c.get(0).rows("SELECT hostname, comment FROM stats_proxysql_servers_metrics"))
                .containsExactly(List.of("127.0.0.1", "node"), List.of("127.0.0.1", "node"));
    }
}
