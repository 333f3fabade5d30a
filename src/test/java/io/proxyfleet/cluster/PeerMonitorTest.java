package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.config.ProxySqlServer;
import io.proxyfleet.protocol.client.MysqlErrorException;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A monitor against a real admin engine over a real socket, seen from a node that has loaded nothing. */
class PeerMonitorTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int ACCESS_DENIED = 1045;

    @TempDir
    Path tmp;
    /** Every statement the peer's admin answered, in order. */
    private final List<String> peerReceived = new CopyOnWriteArrayList<>();
    private TestNode peer;

    private static ClusterSettings settings(String user, String password) {
        Map<ClusterModule, Integer> d = new EnumMap<>(ClusterModule.class);
        Map<ClusterModule, Boolean> save = new EnumMap<>(ClusterModule.class);
        for (ClusterModule m : ClusterModule.values()) {
            d.put(m, 2);
            save.put(m, false);
        }
        return new ClusterSettings(user, password, Duration.ofMillis(50), 1, d, save, 1);
    }

    @BeforeEach
    void setUp() throws Exception {
        peer = new TestNode(tmp.resolve("peer"), (sql, response) -> {
            peerReceived.add(sql);
            return response;
        });
        peer.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('u1', 'p1', 0)");
        peer.exec("LOAD MYSQL USERS TO RUNTIME");
    }

    @AfterEach
    void tearDown() throws Exception {
        peer.close();
    }

    private ClusterManager manager(RecordingNode node) {
        return manager(node, PeerConnector.standard());
    }

    private static ClusterManager manager(RecordingNode node, PeerConnector connector) {
        return new ClusterManager(node, connector, () -> System.currentTimeMillis() / 1000, Duration.ZERO);
    }

    private long received(String sql) {
        return peerReceived.stream().filter(sql::equals).count();
    }

    private List<ProxySqlServer> peerList() {
        return List.of(new ProxySqlServer("127.0.0.1", peer.listener.port(), 0, "p"));
    }

    @Test
    void samePeerVersionIsMonitoredAndItsNewerModulesArePulled() {
        RecordingNode node = new RecordingNode(peer.holder.current().adminVariables().get("version"), peerList(),
                settings("admin", "admin"));
        try (ClusterManager m = manager(node)) {
            m.start();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(node.applied)
                    .extracting(PulledModule::module).contains(ClusterModule.MYSQL_USERS));
            assertThat(m.checksumsStatus()).filteredOn(s -> s.name().equals("mysql_users")).singleElement()
                    .satisfies(s -> {
                        assertThat(s.version()).isEqualTo(2);
                        assertThat(s.checksum()).isEqualTo(peer.module("mysql_users").checksum());
                        assertThat(s.updatedAt()).isPositive();
                    });
            // version-1 modules of the peer (everything it did not load since boot) are never pulled
            assertThat(node.applied).extracting(PulledModule::module).doesNotContain(ClusterModule.MYSQL_QUERY_RULES);
        }
    }

    @Test
    void differentPeerVersionIsNotClusteredWith() throws Exception {
        RecordingNode node = new RecordingNode("1.4.16", peerList(), settings("admin", "admin"));
        try (ClusterManager m = manager(node)) {
            m.start();
            await().atMost(WAIT).until(() -> received(ClusterQueries.VERSION) >= 1);
            // Woken early from its long pause, the monitor connects again and asks the version again: its first
            // connection has ended by then, so whatever it would have done after the version it has done.
            m.checkNow();
            await().atMost(WAIT).until(() -> received(ClusterQueries.VERSION) >= 2
                    || peerReceived.stream().anyMatch(sql -> !sql.equals(ClusterQueries.VERSION)));
            assertThat(peerReceived).as("statements the peer received").containsOnly(ClusterQueries.VERSION);
            assertThat(m.checksumsStatus()).allSatisfy(s -> assertThat(s.updatedAt()).isZero());
            assertThat(node.applied).isEmpty();
        }
    }

    @Test
    void wrongCredentialsNeverGetPastLogin() throws Exception {
        RecordingNode node = new RecordingNode(peer.holder.current().adminVariables().get("version"), peerList(),
                settings("admin", "wrong"));
        List<Integer> refusals = new CopyOnWriteArrayList<>();
        PeerConnector recording = (address, settings) -> {
            try {
                return PeerConnector.standard().open(address, settings);
            } catch (IOException e) {
                refusals.add(e instanceof MysqlErrorException err ? err.code() : 0);
                throw e;
            }
        };
        try (ClusterManager m = manager(node, recording)) {
            m.start();
            await().atMost(WAIT).until(() -> refusals.size() >= 1);
            // Woken early from its retry pause, the monitor logs in again: the second refusal comes after whatever
            // the first one led to.
            m.checkNow();
            await().atMost(WAIT).until(() -> refusals.size() >= 2 || !peerReceived.isEmpty());
            assertThat(refusals).as("error codes of the refused logins").containsOnly(ACCESS_DENIED);
            assertThat(peerReceived).as("statements the peer received").isEmpty();
            assertThat(m.checksumsStatus()).allSatisfy(s -> assertThat(s.updatedAt()).isZero());
            assertThat(node.applied).isEmpty();
        }
    }

    @Test
    void removedPeerStopsBeingMonitoredAndAddedOneStarts() {
        RecordingNode node = new RecordingNode(peer.holder.current().adminVariables().get("version"), peerList(),
                settings("admin", "admin"));
        try (ClusterManager m = manager(node)) {
            m.start();
            assertThat(m.checksumsStatus()).hasSize(ClusterModule.values().length);
            node.setPeers(List.of(new ProxySqlServer("127.0.0.1", 1, 3, "other")));
            m.reconcile();
            assertThat(m.checksumsStatus()).extracting(PeerChecksumStatus::port).containsOnly(1);
            assertThat(m.metricsStatus()).singleElement().satisfies(x -> {
                assertThat(x.weight()).isEqualTo(3);
                assertThat(x.comment()).isEqualTo("other");
            });
        }
    }
}
