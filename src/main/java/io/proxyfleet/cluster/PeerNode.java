package io.proxyfleet.cluster;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One entry of this node's runtime {@code proxysql_servers}: what the peer last reported and its metrics. The
 * mutable fields are guarded by the {@link ClusterManager}'s state lock; {@link #removed}, {@link #fastChecks},
 * {@link #connected} and {@link #notifyPending} are also used by the peer's monitor without it, hence volatile or
 * atomic.
 */
final class PeerNode {
    final PeerAddress address;
    int weight;
    String comment;
    final Map<ClusterModule, ModuleState> modules = new EnumMap<>(ClusterModule.class);
    /** The peer's {@code GLOBAL_CHECKSUM()} when its module rows were last downloaded; 0 before the first time. */
    long lastGlobalChecksum;

    long metricsResponseTimeMs;
    long metricsUptimeS;
    long metricsQueries;
    long metricsClientConnectionsConnected;
    long metricsClientConnectionsCreated;
    /** {@link System#currentTimeMillis()} when metrics were last read; 0 = never. */
    long metricsReadAtMillis;

    volatile boolean removed;
    /** Checks still to run at the short interval after a notify (fast path). */
    volatile int fastChecks;
    /** Whether the monitor holds a logged-in connection to the peer, which a notify can use. */
    volatile boolean connected;
    /** A {@code PROXYSQL CLUSTER_NOTIFY} the monitor is to send on its connection before its next check. */
    final AtomicBoolean notifyPending = new AtomicBoolean();
    private final Semaphore wake = new Semaphore(0);

    PeerNode(PeerAddress address, int weight, String comment) {
        this.address = address;
        this.weight = weight;
        this.comment = comment;
        for (ClusterModule m : ClusterModule.values()) {
            modules.put(m, new ModuleState());
        }
    }

    /** Cuts the monitor's current sleep short. */
    void wakeUp() {
        wake.release();
    }

    /** Sleeps up to {@code millis}, or less if {@link #wakeUp()} is called. */
    void sleep(long millis) throws InterruptedException {
        if (millis > 0 && wake.tryAcquire(millis, TimeUnit.MILLISECONDS)) {
            wake.drainPermits();
        }
    }
}
