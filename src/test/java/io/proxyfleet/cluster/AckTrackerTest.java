package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.admin.ClusterWaits;
import io.proxyfleet.config.ModuleVersion;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The states, times and wait rules of {@link AckTracker}, with a hand-driven clock and hand-made reports. */
class AckTrackerTest {
    private static final PeerAddress A = new PeerAddress("10.0.0.1", 6032);
    private static final PeerAddress B = new PeerAddress("10.0.0.2", 6032);
    private static final PeerAddress C = new PeerAddress("10.0.0.3", 6032);
    private static final Duration LONG = Duration.ofSeconds(30);

    private final Map<String, ModuleVersion> own = new HashMap<>();
    private final AtomicLong clock = new AtomicLong(1_000);
    private final AtomicInteger wakes = new AtomicInteger();
    private final AckTracker acks = new AckTracker(() -> Map.copyOf(own), () -> List.of(A, B, C),
            wakes::incrementAndGet, clock::get);

    private static List<SyncLogic.ReportedChecksum> users(long version, long epoch, String checksum) {
        return List.of(new SyncLogic.ReportedChecksum("mysql_users", version, epoch, checksum));
    }

    private void load(long version, long epoch, String checksum) {
        own.put("mysql_users", new ModuleVersion(version, epoch, checksum));
        acks.localChange();
    }

    private List<String> states() {
        return acks.rows().stream().filter(r -> r.module() == ClusterModule.MYSQL_USERS)
                .map(r -> r.node() + " " + r.state().label() + " " + r.timeToApplyMs()).toList();
    }

    @Test
    void statesAndTimesFollowWhatEachPeerReports() {
        acks.observe(A, users(2, 100, "0xOLD"));
        acks.observe(B, users(2, 100, "0xOLD"));
        load(3, 200, "0xNEW");
        assertThat(wakes).hasValue(1);

        clock.addAndGet(250);
        acks.observe(A, users(3, 200, "0xNEW"));
        acks.observe(B, users(2, 100, "0xOLD"));
        acks.unreachable(C);
        assertThat(states()).containsExactly("10.0.0.1:6032 applied 250", "10.0.0.2:6032 pending -1",
                "10.0.0.3:6032 unreachable -1");

        // B loaded something else after our change: it will not take ours.
        acks.observe(B, users(3, 201, "0xOTHER"));
        assertThat(states()).element(1).isEqualTo("10.0.0.2:6032 conflict -1");
        // A restarted node (version 1) with a later boot epoch will still take ours: pending, not conflict.
        acks.observe(B, users(1, 300, "0xBOOT"));
        assertThat(states()).element(1).isEqualTo("10.0.0.2:6032 pending -1");
    }

    @Test
    void aPeerThatHadTheConfigurationAlreadyTookNoTime() {
        acks.observe(A, users(2, 100, "0xSAME"));
        clock.addAndGet(5_000);
        load(2, 100, "0xSAME");
        assertThat(states()).first().isEqualTo("10.0.0.1:6032 applied 0");
    }

    @Test
    void aWaitEndsWhenEveryNodeAppliedOrWhenAQuorumDid() throws Exception {
        load(2, 100, "0xNEW");
        CompletableFuture<ClusterWaits.Result> all = acks.await("mysql_users", LONG, false);
        CompletableFuture<ClusterWaits.Result> quorum = acks.await("mysql_users", LONG, true);
        acks.observe(A, users(2, 100, "0xNEW"));
        assertThat(quorum).isNotDone();
        assertThat(acks.wantsFastCheck(C)).isTrue();
        acks.observe(B, users(2, 100, "0xNEW"));
        assertThat(quorum.get(1, TimeUnit.SECONDS).satisfied()).isTrue();
        assertThat(all).isNotDone();
        acks.observe(C, users(2, 100, "0xNEW"));
        ClusterWaits.Result r = all.get(1, TimeUnit.SECONDS);
        assertThat(r.satisfied()).isTrue();
        assertThat(r.rows()).extracting(row -> row.get(0) + " " + row.get(1)).containsExactly(
                "10.0.0.1:6032 applied", "10.0.0.2:6032 applied", "10.0.0.3:6032 applied");
    }

    @Test
    void aWaitThatTimesOutReturnsTheRowsAsTheyAre() throws Exception {
        load(2, 100, "0xNEW");
        acks.observe(A, users(2, 100, "0xNEW"));
        acks.unreachable(B);
        ClusterWaits.Result r = acks.await("mysql_users", Duration.ofMillis(50), false).get(10, TimeUnit.SECONDS);
        assertThat(r.satisfied()).isFalse();
        assertThat(r.missing()).containsExactly("10.0.0.2:6032 unreachable", "10.0.0.3:6032 pending");
    }

    @Test
    void monitorsCheckFastOnlyWhileAChangeIsFreshOrSomeoneWaits() {
        for (ClusterModule m : ClusterModule.values()) {
            own.put(m.checksumName(), new ModuleVersion(1, 50, "0x" + m));
        }
        load(2, 100, "0xNEW");
        assertThat(acks.wantsFastCheck(A)).isTrue();
        acks.observe(A, own.entrySet().stream().map(e -> new SyncLogic.ReportedChecksum(e.getKey(),
                e.getValue().version(), e.getValue().epoch(), e.getValue().checksum())).toList());
        assertThat(acks.wantsFastCheck(A)).isFalse();
        clock.addAndGet(AckTracker.FRESH_CHANGE.toMillis());
        assertThat(acks.wantsFastCheck(B)).isFalse();
    }

    @Test
    void serversMeanTheConfiguredServers() {
        assertThat(AckTracker.module("mysql_servers")).contains(ClusterModule.MYSQL_SERVERS_V2);
        assertThat(acks.synchronises("scheduler")).isFalse();
    }
}
