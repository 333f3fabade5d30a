package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ModuleVersion;

import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SyncLogicTest {
    private static final PeerAddress PEER = new PeerAddress("10.0.0.2", 6032);
    private static final String OURS = "0xAAAA000000000000";
    private static final String THEIRS = "0xBBBB000000000000";
    private static final ClusterModule M = ClusterModule.MYSQL_QUERY_RULES;

    private static ClusterSettings settings(int diffs) {
        Map<ClusterModule, Integer> d = new EnumMap<>(ClusterModule.class);
        Map<ClusterModule, Boolean> save = new EnumMap<>(ClusterModule.class);
        for (ClusterModule m : ClusterModule.values()) {
            d.put(m, diffs);
            save.put(m, true);
        }
        return new ClusterSettings("cluster", "secret", Duration.ofMillis(1000), 10, d, save, 1);
    }

    private static Map<String, ModuleVersion> own(long version, long epoch, String checksum) {
        return Map.of(M.checksumName(), new ModuleVersion(version, epoch, checksum));
    }

    private static List<SyncLogic.ReportedChecksum> report(long version, long epoch, String checksum) {
        return List.of(new SyncLogic.ReportedChecksum(M.checksumName(), version, epoch, checksum),
                new SyncLogic.ReportedChecksum("ldap_variables", 1, 1, "0x1"));
    }

    @Test
    void newChecksumStartsDiffCheckAtOneThenCountsEveryCheckWithoutDownloading() {
        Map<ClusterModule, ModuleState> states = new EnumMap<>(ClusterModule.class);
        Map<String, ModuleVersion> own = own(2, 100, OURS);
        List<String> logs = SyncLogic.evaluateReported(PEER, states, report(3, 200, THEIRS), own, settings(3), 1000);
        ModuleState s = states.get(M);
        assertThat(s.diffCheck).isEqualTo(1);
        assertThat(s.version).isEqualTo(3);
        assertThat(s.epoch).isEqualTo(200);
        assertThat(s.checksum).isEqualTo(THEIRS);
        assertThat(s.changedAt).isEqualTo(1000);
        assertThat(states).hasSize(1); // ldap_variables is not synchronised here
        assertThat(logs).containsExactly("Cluster: detected a new checksum for mysql_query_rules from peer "
                + "10.0.0.2:6032, version 3, epoch 200, checksum 0xBBBB000000000000 . Not syncing yet ...");

        SyncLogic.evaluateUnchanged(states, own, 1001);
        SyncLogic.evaluateUnchanged(states, own, 1002);
        assertThat(s.diffCheck).isEqualTo(3);
        assertThat(s.updatedAt).isEqualTo(1002);
        assertThat(s.changedAt).isEqualTo(1000);

        // the same checksum downloaded again (global checksum changed for another module) keeps counting
        SyncLogic.evaluateReported(PEER, states, report(3, 200, THEIRS), own, settings(3), 1003);
        assertThat(s.diffCheck).isEqualTo(4);
    }

    @Test
    void diffCheckDropsToZeroWhenThePeerMatchesUs() {
        Map<ClusterModule, ModuleState> states = new EnumMap<>(ClusterModule.class);
        List<String> logs = SyncLogic.evaluateReported(PEER, states, report(3, 200, OURS), own(2, 100, OURS),
                settings(3), 1000);
        assertThat(states.get(M).diffCheck).isZero();
        assertThat(logs).last().isEqualTo("Cluster: checksum for mysql_query_rules from peer 10.0.0.2:6032 matches"
                + " with local checksum 0xAAAA000000000000 , we won't sync.");
        states.get(M).diffCheck = 5;
        SyncLogic.evaluateUnchanged(states, own(2, 100, OURS), 1001);
        assertThat(states.get(M).diffCheck).isZero();
        // modules the peer never reported stay at 0
        assertThat(states.get(ClusterModule.MYSQL_USERS).diffCheck).isZero();
    }

    @Test
    void zeroThresholdIsNamedInTheNewChecksumMessage() {
        Map<ClusterModule, ModuleState> states = new EnumMap<>(ClusterModule.class);
        List<SyncLogic.ReportedChecksum> rows = List.of(
                new SyncLogic.ReportedChecksum("mysql_servers_v2", 3, 200, THEIRS));
        List<String> logs = SyncLogic.evaluateReported(PEER, states, rows, Map.of(), settings(0), 1);
        assertThat(logs).containsExactly("Cluster: detected a new checksum for mysql_servers_v2 from peer "
                + "10.0.0.2:6032, version 3, epoch 200, checksum 0xBBBB000000000000 . Not syncing due to "
                + "'admin-cluster_mysql_servers_diffs_before_sync=0'.");
    }

    @Test
    void newerPeerIsPulledOnlyOnceDiffCheckReachesTheThreshold() {
        ModuleVersion own = new ModuleVersion(2, 100, OURS);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, THEIRS, 2), own, 3))
                .isInstanceOf(SyncLogic.Decision.None.class);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, THEIRS, 3), own, 3))
                .isInstanceOfSatisfying(SyncLogic.Decision.Sync.class, s -> assertThat(s.log()).isEqualTo(
                        "Cluster: detected a peer 10.0.0.2:6032 with mysql_query_rules version 3, epoch 200,"
                                + " diff_check 3. Own version: 2, epoch: 100. Proceeding with remote sync"));
    }

    @Test
    void olderPeerIsNeverPulledAndSaysNothing() {
        ModuleVersion own = new ModuleVersion(5, 300, OURS);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, THEIRS, 300), own, 3))
                .isInstanceOf(SyncLogic.Decision.None.class);
    }

    @Test
    void freshlyBootedNodeAdoptsEvenAnOlderEpoch() {
        ModuleVersion ownBoot = new ModuleVersion(1, 300, OURS);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(2, 200, THEIRS, 3), ownBoot, 3))
                .isInstanceOf(SyncLogic.Decision.Sync.class);
    }

    @Test
    void ofEqualEpochsTheHigherChecksumWinsAndTheLowerPullsIt() {
        ModuleVersion own = new ModuleVersion(4, 200, OURS);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, THEIRS, 2), own, 3))
                .isInstanceOf(SyncLogic.Decision.None.class);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, THEIRS, 3), own, 3))
                .isInstanceOfSatisfying(SyncLogic.Decision.Sync.class, s -> {
                    assertThat(s.equalEpochs()).isTrue();
                    assertThat(s.log()).contains("Epoch times are EQUAL; the higher checksum wins on every node");
                });
    }

    @Test
    void theWinnerOfEqualEpochsWaitsForThePeerAndReportsEveryTenTimesTheThreshold() {
        // a ProxySQL peer never applies the tie-break, so the winner keeps ProxySQL's report
        ModuleVersion own = new ModuleVersion(4, 200, THEIRS);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, OURS, 3), own, 3))
                .isInstanceOf(SyncLogic.Decision.None.class);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, OURS, 29), own, 3))
                .isInstanceOf(SyncLogic.Decision.None.class);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, OURS, 30), own, 3))
                .isInstanceOfSatisfying(SyncLogic.Decision.EqualEpochConflict.class, c -> assertThat(c.log())
                        .isEqualTo("Cluster: detected a peer 10.0.0.2:6032 with mysql_query_rules version 3, epoch"
                                + " 200, diff_check 30, checksum 0xAAAA000000000000. Own version: 4, epoch: 200,"
                                + " checksum 0xBBBB000000000000. Sync conflict, epoch times are EQUAL, can't"
                                + " determine which server holds the latest config, we won't sync. This message"
                                + " will be repeated every 30 checks until LOAD MYSQL QUERY RULES TO RUNTIME is"
                                + " executed on candidate master."));
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(3, 200, OURS, 60), own, 3))
                .isInstanceOf(SyncLogic.Decision.EqualEpochConflict.class);
    }

    @Test
    void ofPeersWithEqualEpochsTheHigherChecksumIsChosen() {
        Map<PeerAddress, ModuleState> peers = new LinkedHashMap<>();
        peers.put(new PeerAddress("a", 1), new ModuleState(2, 500, OURS, 3));
        peers.put(new PeerAddress("b", 1), new ModuleState(2, 500, THEIRS, 3));
        peers.put(new PeerAddress("c", 1), new ModuleState(2, 500, OURS, 3));
        assertThat(SyncLogic.choosePeer(M, peers, 3)).isInstanceOfSatisfying(SyncLogic.Choice.Chosen.class,
                c -> assertThat(c.peer()).isEqualTo(new PeerAddress("b", 1)));
    }

    @Test
    void versionOnePeerIsNeverASourceAndWarnsEveryTenTimesTheThreshold() {
        ModuleVersion own = new ModuleVersion(1, 100, OURS);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(1, 500, THEIRS, 5), own, 1))
                .isInstanceOf(SyncLogic.Decision.None.class);
        assertThat(SyncLogic.decide(PEER, M, new ModuleState(1, 500, THEIRS, 10), own, 1))
                .isInstanceOfSatisfying(SyncLogic.Decision.VersionOne.class, v -> assertThat(v.log())
                        .isEqualTo("Cluster: detected a peer 10.0.0.2:6032 with mysql_query_rules version 1, epoch"
                                + " 500, diff_check 10. Own version: 1, epoch: 100. diff_check is increasing, but"
                                + " version 1 doesn't allow sync. This message will be repeated every 10 checks"
                                + " until LOAD MYSQL QUERY RULES TO RUNTIME is executed on candidate master."));
    }

    private static Map<PeerAddress, ModuleState> peers(ModuleState... states) {
        Map<PeerAddress, ModuleState> m = new LinkedHashMap<>();
        for (int i = 0; i < states.length; i++) {
            m.put(new PeerAddress("10.0.0." + (i + 1), 6032), states[i]);
        }
        return m;
    }

    @Test
    void choosesTheNewestEpochAmongPeersThatReachedTheThreshold() {
        SyncLogic.Choice c = SyncLogic.choosePeer(M, peers(
                new ModuleState(3, 100, "0x1", 5),
                new ModuleState(4, 300, "0x3", 3),
                new ModuleState(1, 900, "0x9", 9),    // version 1: never a source
                new ModuleState(5, 200, "0x2", 4)), 3);
        assertThat(c).isInstanceOfSatisfying(SyncLogic.Choice.Chosen.class, chosen -> {
            assertThat(chosen.peer()).isEqualTo(new PeerAddress("10.0.0.2", 6032));
            assertThat(chosen.epoch()).isEqualTo(300);
            assertThat(chosen.checksum()).isEqualTo("0x3");
            assertThat(chosen.log()).isEqualTo("Cluster: detected peer 10.0.0.2:6032 with mysql_query_rules version"
                    + " 4, epoch 300");
        });
    }

    @Test
    void postponesWhenANewerPeerHasNotReachedTheThresholdYet() {
        SyncLogic.Choice c = SyncLogic.choosePeer(M, peers(
                new ModuleState(3, 100, "0x1", 5),
                new ModuleState(4, 300, "0x3", 1)), 3);
        assertThat(c).isInstanceOfSatisfying(SyncLogic.Choice.Postponed.class, p -> assertThat(p.log()).isEqualTo(
                "Cluster: detected a peer with mysql_query_rules epoch 300 , but not enough diff_check. We won't sync"
                        + " from epoch 100: temporarily skipping sync"));
    }

    @Test
    void nobodyEligibleMeansNoPull() {
        assertThat(SyncLogic.choosePeer(M, peers(new ModuleState(1, 100, "0x1", 5), new ModuleState(3, 100, "0x1", 0)),
                3)).isInstanceOf(SyncLogic.Choice.NoneEligible.class);
    }
}
