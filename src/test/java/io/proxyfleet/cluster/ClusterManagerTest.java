package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ProxySqlServer;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The manager's own bookkeeping, without any peer answering (the listed peer's port is closed). */
class ClusterManagerTest {
    private static final PeerAddress CLOSED = new PeerAddress("127.0.0.1", 1);

    private static ClusterSettings settings(int rulesDiffs, int algorithm) {
        Map<ClusterModule, Integer> d = new EnumMap<>(ClusterModule.class);
        Map<ClusterModule, Boolean> save = new EnumMap<>(ClusterModule.class);
        for (ClusterModule m : ClusterModule.values()) {
            d.put(m, 3);
            save.put(m, true);
        }
        d.put(ClusterModule.MYSQL_QUERY_RULES, rulesDiffs);
        return new ClusterSettings("", "", Duration.ofSeconds(1), 0, d, save, algorithm);
    }

    private static ClusterManager managerWithOnePeer() {
        RecordingNode node = new RecordingNode("v", List.of(new ProxySqlServer("127.0.0.1", 1, 0, "")),
                settings(3, 1));
        ClusterManager m = new ClusterManager(node, PeerConnector.standard(), () -> 1000, Duration.ZERO);
        m.reconcile();
        return m;
    }

    private static void downloaded(ClusterManager m, long globalChecksum) {
        m.evaluate(m.peer(CLOSED), globalChecksum, List.of(), settings(3, 1));
    }

    @Test
    void reEnablingAModulesSyncForcesEveryPeerToBeDownloadedAgain() {
        try (ClusterManager m = managerWithOnePeer()) {
            downloaded(m, 42);
            m.observeSettings(settings(0, 1));
            assertThat(m.lastGlobalChecksum(m.peer(CLOSED))).isEqualTo(42);
            m.observeSettings(settings(0, 1));
            assertThat(m.lastGlobalChecksum(m.peer(CLOSED))).isEqualTo(42);
            m.observeSettings(settings(3, 1));
            assertThat(m.lastGlobalChecksum(m.peer(CLOSED))).isZero();
        }
    }

    @Test
    void changingTheServersAlgorithmForcesADownloadToo() {
        try (ClusterManager m = managerWithOnePeer()) {
            m.observeSettings(settings(3, 1));
            downloaded(m, 42);
            m.observeSettings(settings(5, 1)); // a threshold change alone does not
            assertThat(m.lastGlobalChecksum(m.peer(CLOSED))).isEqualTo(42);
            m.observeSettings(settings(5, 2));
            assertThat(m.lastGlobalChecksum(m.peer(CLOSED))).isZero();
        }
    }

    @Test
    void statsListSevenModulesPerPeerStartingEmpty() {
        try (ClusterManager m = managerWithOnePeer()) {
            assertThat(m.checksumsStatus()).extracting(PeerChecksumStatus::name).containsExactly(
                    "admin_variables", "mysql_query_rules", "mysql_servers_v2", "mysql_servers", "mysql_users",
                    "mysql_variables", "proxysql_servers");
            assertThat(m.checksumsStatus()).allSatisfy(s -> {
                assertThat(s.version()).isZero();
                assertThat(s.checksum()).isEmpty();
                assertThat(s.diffCheck()).isZero();
            });
            assertThat(m.metricsStatus()).singleElement().satisfies(x -> assertThat(x.lastCheckMs()).isZero());
        }
    }

    @Test
    void aNotifyFromAnAnnouncedPeerSpeedsUpOnlyThatPeersChecks() {
        PeerAddress other = new PeerAddress("127.0.0.1", 2);
        RecordingNode node = new RecordingNode("v", List.of(new ProxySqlServer("127.0.0.1", 1, 0, ""),
                new ProxySqlServer("127.0.0.1", 2, 0, "")), settings(3, 1));
        // No cluster user: the monitors idle, so nothing consumes the fast checks set here.
        try (ClusterManager m = new ClusterManager(node, PeerConnector.standard(), () -> 1000, Duration.ZERO)) {
            m.reconcile();
            m.peer(CLOSED).fastChecks = 0;
            m.peer(other).fastChecks = 0;
            m.checkNow("127.0.0.1:2;[::1]:7");
            assertThat(m.peer(other).fastChecks).isEqualTo(ClusterManager.fastBurst(settings(3, 1)));
            assertThat(m.peer(CLOSED).fastChecks).isZero();

            m.checkNow("0.0.0.0:6032"); // a wildcard names no listed peer: every peer is checked
            assertThat(m.peer(CLOSED).fastChecks).isEqualTo(ClusterManager.fastBurst(settings(3, 1)));
        }
    }
}
