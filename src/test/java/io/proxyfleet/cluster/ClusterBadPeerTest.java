package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.proxyfleet.testkit.LogCapture;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers that misbehave in the middle of a pull, seen by an observer that also syncs from a healthy peer: one that
 * sends a gigabyte, one that hangs up mid-result. Each is logged, nothing local changes, the healthy peer still
 * syncs. (Rows that do not match their checksum, and rows for unknown columns: {@code ClusterFaultsTest},
 * {@code AdminClusterNodeTest}.)
 */
class ClusterBadPeerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String USERS_FETCH = "PROXY_SELECT username, password";

    @TempDir
    Path tmp;
    private final List<TestNode> open = new ArrayList<>();
    private LogCapture logs;
    private TestNode healthy;
    private TestNode faulty;
    private TestNode observer;

    @BeforeEach
    void nodes() throws Exception {
        logs = LogCapture.of("io.proxyfleet.cluster");
        healthy = node("healthy");
        faulty = node("faulty");
        observer = node("observer");
        for (TestNode peer : List.of(healthy, faulty)) {
            observer.exec("INSERT INTO proxysql_servers (hostname, port, weight, comment) VALUES ('127.0.0.1', "
                    + peer.listener.port() + ", 0, 'peer')");
        }
        observer.exec("LOAD PROXYSQL SERVERS TO RUNTIME");
        observer.startCluster();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (TestNode n : open.reversed()) {
            n.close();
        }
        logs.close();
    }

    /** A node with the cluster user and a short check interval; the same admin variables everywhere. */
    private TestNode node(String name) throws Exception {
        TestNode n = new TestNode(tmp.resolve(name));
        open.add(n);
        for (String[] v : new String[][] {{"cluster_username", "cluster"}, {"cluster_password", "cl-secret"},
                {"admin_credentials", "admin:admin;cluster:cl-secret"}, {"cluster_check_interval_ms", "100"}}) {
            n.exec("UPDATE global_variables SET variable_value = '" + v[1] + "' WHERE variable_name = 'admin-"
                    + v[0] + "'");
        }
        n.exec("LOAD ADMIN VARIABLES TO RUNTIME");
        return n;
    }

    private void awaitLog(String... fragments) {
        logs.await(WAIT, Level.ERROR, fragments);
    }

    /** The faulty peer's users are never taken, and the healthy peer's query rules still arrive. */
    private void nothingChangedAndTheHealthyPeerStillSyncs() throws Exception {
        String versionsBefore = observer.rows("SELECT name, version, epoch, checksum FROM runtime_checksums_values"
                + " WHERE name != 'mysql_query_rules' ORDER BY name").toString();
        healthy.exec("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)"
                + " VALUES (7, 1, '^SELECT', 0, 1)");
        healthy.exec("LOAD MYSQL QUERY RULES TO RUNTIME");
        await().atMost(WAIT).pollInterval(POLL).untilAsserted(() -> assertThat(
                observer.rows("SELECT rule_id FROM runtime_mysql_query_rules")).containsExactly(List.of("7")));
        assertThat(observer.rows("SELECT COUNT(*) FROM mysql_users")).containsExactly(List.of("0"));
        assertThat(observer.rows("SELECT COUNT(*) FROM runtime_mysql_users")).containsExactly(List.of("0"));
        assertThat(observer.rows("SELECT name, version, epoch, checksum FROM runtime_checksums_values"
                + " WHERE name != 'mysql_query_rules' ORDER BY name").toString()).isEqualTo(versionsBefore);
    }

    @Test
    void aPeerThatSendsAGigabyteIsCutOffAtTheBound() throws Exception {
        faulty.listener.flood = sql -> sql.startsWith(USERS_FETCH);
        faulty.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('victim', 'p', 0)");
        faulty.exec("LOAD MYSQL USERS TO RUNTIME");

        awaitLog("Cluster: Fetching MySQL Users from peer 127.0.0.1:" + faulty.listener.port() + " failed: ",
                "larger than the limit");
        nothingChangedAndTheHealthyPeerStillSyncs();
    }

    @Test
    void aPeerThatHangsUpMidPullChangesNothing() throws Exception {
        faulty.listener.dropMidResult = sql -> sql.startsWith(USERS_FETCH);
        faulty.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('victim', 'p', 0)");
        faulty.exec("LOAD MYSQL USERS TO RUNTIME");

        awaitLog("Cluster: Fetching MySQL Users from peer 127.0.0.1:" + faulty.listener.port() + " failed: ");
        nothingChangedAndTheHealthyPeerStillSyncs();
    }
}
