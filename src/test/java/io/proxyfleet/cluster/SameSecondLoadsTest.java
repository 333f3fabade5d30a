package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.proxyfleet.config.ModuleVersion;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two loads on one node within one second, with the fast path on: the peer pulls the first load within a fraction
 * of a second and adopts its epoch; the second load gets the same epoch (Unix seconds), so the peer sees "epoch
 * times are EQUAL" and never pulls it. ProxySQL has the same rule, but its 3 s convergence rarely meets it.
 */
class SameSecondLoadsTest {
    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(10);

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
        for (int i = 0; i < 2; i++) {
            nodes.add(new TestNode(tmp.resolve("node" + i), true));
        }
        for (TestNode n : nodes) {
            n.exec("UPDATE global_variables SET variable_value = 'cluster' WHERE variable_name = 'admin-cluster_username'");
            n.exec("UPDATE global_variables SET variable_value = 'cl-secret' WHERE variable_name = 'admin-cluster_password'");
            n.exec("UPDATE global_variables SET variable_value = 'admin:admin;cluster:cl-secret'"
                    + " WHERE variable_name = 'admin-admin_credentials'");
            n.exec("LOAD ADMIN VARIABLES TO RUNTIME");
            for (TestNode peer : nodes) {
                n.exec("INSERT INTO proxysql_servers (hostname, port, weight, comment) VALUES ('127.0.0.1', "
                        + peer.listener.port() + ", 0, 'node')");
            }
            n.exec("LOAD PROXYSQL SERVERS TO RUNTIME");
        }
        nodes.forEach(TestNode::startCluster);
        TestNode a = nodes.get(0);
        TestNode b = nodes.get(1);
        Thread.sleep(1500); // every monitor has finished its first check

        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(2))
                .until(() -> System.currentTimeMillis() % 1000 < 50);
        long second = nowSecond();
        a.exec("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup) VALUES"
                + " (1, 1, '^SELECT', 1)");
        a.exec("LOAD MYSQL QUERY RULES TO RUNTIME");
        awaitSame(a, b, Duration.ofSeconds(2));
        a.exec("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup) VALUES"
                + " (2, 1, '^INSERT', 2)");
        a.exec("LOAD MYSQL QUERY RULES TO RUNTIME");
        assumeTrue(nowSecond() == second, "the peer pulled the first load only after the second had passed");

        awaitSame(a, b, SYNC_TIMEOUT);
        assertThat(b.rows("SELECT rule_id FROM runtime_mysql_query_rules ORDER BY rule_id"))
                .containsExactly(List.of("1"), List.of("2"));
    }
}
