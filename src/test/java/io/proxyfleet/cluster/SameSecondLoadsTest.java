package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.config.ModuleVersion;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two loads on one node within one second, with the fast path on: the peer pulls the first load within a fraction
 * of a second and adopts its epoch. With epochs in Unix seconds alone the second load would get the same epoch, so
 * the peer would see "epoch times are EQUAL" and never pull it (ProxySQL has that rule, but its 3 s convergence
 * rarely meets it); a local load always advances its module's epoch, so the peer pulls the second load too.
 */
class SameSecondLoadsTest {
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_ATTEMPTS = 5;
    /** admin-cluster_check_interval_ms's default: the notify of the fast path, not the checks, makes pulls quick. */
    private static final int DEFAULT_CHECK_INTERVAL_MS = 1000;
    /** A pair of loads starts within this many milliseconds of a new second. */
    private static final long SECOND_START_MILLIS = 50;
    /**
     * How long to look for the start of a second: a poll every 2 ms can miss a 50 ms window when a loaded machine
     * does not schedule the test thread, so it gets several seconds' windows.
     */
    private static final Duration SECOND_START_WAIT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;
    private final List<TestNode> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() throws Exception {
        for (TestNode n : nodes) {
            n.close();
        }
    }

    private static long nowSecond() {
        return System.currentTimeMillis() / 1000;
    }

    private static void awaitSame(TestNode source, TestNode target, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            ModuleVersion want = source.module("mysql_query_rules");
            assertThat(target.module("mysql_query_rules").checksum()).isEqualTo(want.checksum());
        });
    }

    @Test
    void aSecondLoadWithinTheSameSecondStillReachesAPeerThatPulledTheFirst() throws Exception {
        TestNode.cluster(tmp, 2, DEFAULT_CHECK_INTERVAL_MS, Map.of(), nodes);
        TestNode a = nodes.get(0);
        TestNode b = nodes.get(1);
        // Every monitor has checked its peers once, so a notify is answered by a check on an open connection.
        await().atMost(SYNC_TIMEOUT).untilAsserted(() -> {
            for (TestNode n : nodes) {
                assertThat(n.cluster.get().checksumsStatus()).allSatisfy(st -> assertThat(st.updatedAt()).isPositive());
            }
        });

        // The case only exists when both loads land in one clock second; on a loaded machine the peer's pull of the
        // first can push the second past it, and then the pair is tried again.
        int rule = 0;
        boolean sameSecond = false;
        for (int attempt = 0; attempt < MAX_ATTEMPTS && !sameSecond; attempt++) {
            await().atMost(SECOND_START_WAIT).pollInterval(Duration.ofMillis(2))
                    .until(() -> System.currentTimeMillis() % 1000 < SECOND_START_MILLIS);
            long second = nowSecond();
            addRule(a, ++rule);
            awaitSame(a, b, SYNC_TIMEOUT);
            addRule(a, ++rule);
            sameSecond = nowSecond() == second;
        }
        assertThat(sameSecond).as("two loads, the first pulled by the peer, within one second in %d attempts",
                MAX_ATTEMPTS).isTrue();

        awaitSame(a, b, SYNC_TIMEOUT);
        String rules = "SELECT rule_id FROM runtime_mysql_query_rules ORDER BY rule_id";
        assertThat(b.rows(rules)).hasSize(rule).isEqualTo(a.rows(rules));
    }

    private static void addRule(TestNode node, int ruleId) throws Exception {
        node.exec("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup) VALUES ("
                + ruleId + ", 1, '^SELECT " + ruleId + "', 1)");
        node.exec("LOAD MYSQL QUERY RULES TO RUNTIME");
    }
}
