package io.proxyfleet.backend;

import static io.proxyfleet.config.ServerStatus.OFFLINE_HARD;
import static io.proxyfleet.config.ServerStatus.OFFLINE_SOFT;
import static io.proxyfleet.config.ServerStatus.ONLINE;
import static io.proxyfleet.config.ServerStatus.SHUNNED;
import static io.proxyfleet.config.ServerStatus.SHUNNED_REPLICATION_LAG;
import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.backend.ServerRuntime.Event;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.ServerStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The server status transition table, and its precedence under concurrent writers. */
class ServerRuntimeTest {
    private static final long RECOVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    @ParameterizedTest(name = "configured ONLINE, {0} + {1} -> {2}")
    @CsvSource({
            "ONLINE, SHUN, SHUNNED",
            "ONLINE, RECOVER, ONLINE",
            "ONLINE, LAG_SHUN, SHUNNED_REPLICATION_LAG",
            "ONLINE, LAG_RECOVER, ONLINE",
            "SHUNNED, SHUN, SHUNNED",
            "SHUNNED, RECOVER, ONLINE",
            "SHUNNED, LAG_SHUN, SHUNNED",
            "SHUNNED, LAG_RECOVER, SHUNNED",
            "SHUNNED_REPLICATION_LAG, SHUN, SHUNNED",
            "SHUNNED_REPLICATION_LAG, RECOVER, SHUNNED_REPLICATION_LAG",
            "SHUNNED_REPLICATION_LAG, LAG_SHUN, SHUNNED_REPLICATION_LAG",
            "SHUNNED_REPLICATION_LAG, LAG_RECOVER, ONLINE",
    })
    void automaticEventsMoveAServerTheOperatorLeftOnline(ServerStatus current, Event event, ServerStatus expected) {
        assertThat(ServerRuntime.next(ONLINE, current, event)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "configured {0}: no automatic event moves it")
    @EnumSource(value = ServerStatus.class, names = {"SHUNNED", "OFFLINE_SOFT", "OFFLINE_HARD"})
    void automaticEventsNeverMoveAStatusTheOperatorSet(ServerStatus configured) {
        for (Event event : Event.values()) {
            assertThat(ServerRuntime.next(configured, configured, event)).as(event.name()).isEqualTo(configured);
        }
    }

    @Test
    void monitorRecoveryDoesNotUndoAnOperatorsOfflineHard() {
        ServerRuntime server = new ServerRuntime(MysqlServer.of(0, "127.0.0.1", 3306));
        long now = System.nanoTime();
        assertThat(server.shun(now)).isTrue();

        assertThat(server.reconfigure(withStatus(OFFLINE_HARD))).as("cut its connections").isTrue();

        assertThat(server.maybeRecover(now + RECOVERY_NANOS, RECOVERY_NANOS)).isFalse();
        assertThat(server.replicationLag(false)).isFalse();
        assertThat(server.shun(now)).isFalse();
        assertThat(server.status()).isEqualTo(OFFLINE_HARD);
    }

    @Test
    void theOperatorBringsBackAServerWhateverHealthChecksDecided() {
        ServerRuntime server = new ServerRuntime(MysqlServer.of(0, "127.0.0.1", 3306));
        assertThat(server.replicationLag(true)).isTrue();
        assertThat(server.status()).isEqualTo(SHUNNED_REPLICATION_LAG);
        assertThat(server.reconfigure(withStatus(OFFLINE_SOFT))).as("OFFLINE_SOFT drains, nothing is cut").isFalse();
        assertThat(server.status()).isEqualTo(OFFLINE_SOFT);

        assertThat(server.reconfigure(withStatus(ONLINE))).isFalse();

        assertThat(server.status()).isEqualTo(ONLINE);
    }

    @Test
    void aRemovedServerIsOfflineHardAndIsCutOnce() {
        ServerRuntime server = new ServerRuntime(MysqlServer.of(0, "127.0.0.1", 3306));

        assertThat(server.retire()).isTrue();
        assertThat(server.retire()).isFalse();

        assertThat(server.status()).isEqualTo(OFFLINE_HARD);
        assertThat(server.takenOffline()).isTrue();
    }

    @Test
    void shunnedServerRecoversOnlyAfterTheRecoveryTime() {
        ServerRuntime server = new ServerRuntime(MysqlServer.of(0, "127.0.0.1", 3306));
        long now = System.nanoTime();
        server.shun(now);

        assertThat(server.maybeRecover(now + RECOVERY_NANOS - 1, RECOVERY_NANOS)).isFalse();
        assertThat(server.maybeRecover(now + RECOVERY_NANOS, RECOVERY_NANOS)).isTrue();
        assertThat(server.status()).isEqualTo(ONLINE);
    }

    /**
     * Monitor threads shun and recover a server over and over while the operator takes it OFFLINE_HARD: once the
     * operator's write is done, no automatic writer may have brought it back.
     */
    @Test
    void concurrentRecoveriesNeverOverwriteTheOperator() throws Exception {
        for (int round = 0; round < 200; round++) {
            ServerRuntime server = new ServerRuntime(MysqlServer.of(0, "127.0.0.1", 3306));
            var start = new CountDownLatch(1);
            List<Thread> monitors = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                monitors.add(Thread.ofPlatform().start(() -> {
                    awaitQuietly(start);
                    for (int i = 0; i < 500; i++) {
                        server.shun(0);
                        server.maybeRecover(RECOVERY_NANOS, 0);
                        server.replicationLag(i % 2 == 0);
                    }
                }));
            }
            start.countDown();
            server.reconfigure(withStatus(OFFLINE_HARD));
            for (Thread monitor : monitors) {
                monitor.join();
            }
            assertThat(server.status()).as("round %d", round).isEqualTo(OFFLINE_HARD);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static MysqlServer withStatus(ServerStatus status) {
        MysqlServer s = MysqlServer.of(0, "127.0.0.1", 3306);
        return new MysqlServer(s.hostgroupId(), s.hostname(), s.port(), s.gtidPort(), status, s.weight(),
                s.compression(), s.maxConnections(), s.maxReplicationLag(), s.useSsl(), s.maxLatencyMs(), s.comment());
    }
}
