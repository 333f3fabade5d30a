package io.proxyfleet.cluster;

import io.proxyfleet.admin.ClusterWaits;
import io.proxyfleet.config.ModuleVersion;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Acknowledged changes (ProxyFleet, beyond ProxySQL): which peers run this node's current configuration of each
 * module. The target of a module is this node's current checksum, and it starts when that checksum appears (a
 * local load or a pull). A peer has applied it once its monitor reads that checksum from the peer's
 * {@code runtime_checksums_values}, the same query the monitor sends anyway; the time to apply is when that was
 * first seen, minus when the target started, so it includes up to one check interval of observation delay. Only
 * the peers of {@code runtime_proxysql_servers} are known: satellites that nobody lists are not counted.
 *
 * <p>Threads: the peer monitors report ({@link #observe}, {@link #contact}); admin event loops wait
 * ({@link #await}); the stats supplier reads on the admin thread. One lock, for in-memory work only; it is never
 * held while calling the suppliers or completing a wait.
 */
final class AckTracker implements ClusterWaits {
    /** After a change, monitors check at the short interval until the peer shows it, for at most this long. */
    static final Duration FRESH_CHANGE = Duration.ofSeconds(3);

    /** What a node's row says. */
    enum State {
        APPLIED, PENDING, UNREACHABLE, CONFLICT;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One node's view of one module.
     *
     * @param checksum        what the node last reported ({@code ""} before its first check)
     * @param target          this node's current checksum
     * @param timeToApplyMs   for {@link State#APPLIED}, milliseconds from the target's start until the node was
     *                        first seen with it (0 when it already had it); otherwise -1
     */
    record Row(PeerAddress node, ClusterModule module, State state, String checksum, String target,
               long timeToApplyMs) {
    }

    private record Target(String checksum, long epoch, long sinceMillis) {
    }

    private record Seen(String checksum, long version, long epoch, long sinceMillis) {
    }

    private record Waiter(ClusterModule module, boolean quorum, CompletableFuture<Result> done) {
    }

    private final Supplier<Map<String, ModuleVersion>> own;
    private final Supplier<List<PeerAddress>> peers;
    private final Runnable wakeMonitors;
    private final LongSupplier clockMillis;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<ClusterModule, Target> targets = new EnumMap<>(ClusterModule.class);
    private final Map<PeerAddress, Map<ClusterModule, Seen>> seen = new HashMap<>();
    /** Whether the last attempt to reach each peer succeeded; absent before the first attempt. */
    private final Map<PeerAddress, Boolean> reachable = new HashMap<>();
    private final List<Waiter> waiters = new ArrayList<>();

    /**
     * @param own          this node's {@code runtime_checksums_values}
     * @param peers        the peers of {@code runtime_proxysql_servers}, in order
     * @param wakeMonitors makes every monitor check now
     * @param clockMillis  a monotonic clock in milliseconds
     */
    AckTracker(Supplier<Map<String, ModuleVersion>> own, Supplier<List<PeerAddress>> peers, Runnable wakeMonitors,
               LongSupplier clockMillis) {
        this.own = own;
        this.peers = peers;
        this.wakeMonitors = wakeMonitors;
        this.clockMillis = clockMillis;
    }

    /** The module {@code PROXYFLEET WAIT CLUSTER} means by {@code name}; servers are the configured ones (v2). */
    static Optional<ClusterModule> module(String name) {
        if (ClusterModule.MYSQL_SERVERS.checksumName().equals(name)) {
            return Optional.of(ClusterModule.MYSQL_SERVERS_V2);
        }
        return ClusterModule.byChecksumName(name);
    }

    /** This node's runtime changed (a load or a pull): modules with a new checksum get a new target. */
    void localChange() {
        Map<String, ModuleVersion> current = own.get();
        lock.lock();
        try {
            refreshTargets(current);
        } finally {
            lock.unlock();
        }
        wakeMonitors.run();
        settleWaiters();
    }

    /** A successful check of {@code peer}; {@code reported} is null when its checksums did not change. */
    void observe(PeerAddress peer, List<SyncLogic.ReportedChecksum> reported) {
        long now = clockMillis.getAsLong();
        lock.lock();
        try {
            reachable.put(peer, true);
            if (reported != null) {
                Map<ClusterModule, Seen> mine = seen.computeIfAbsent(peer, p -> new EnumMap<>(ClusterModule.class));
                for (SyncLogic.ReportedChecksum r : reported) {
                    Optional<ClusterModule> m = ClusterModule.byChecksumName(r.name());
                    if (m.isEmpty()) {
                        continue;
                    }
                    Seen before = mine.get(m.get());
                    long since = before != null && before.checksum().equals(r.checksum()) ? before.sinceMillis() : now;
                    mine.put(m.get(), new Seen(r.checksum(), r.version(), r.epoch(), since));
                }
            }
            if (waiters.isEmpty()) {
                return;
            }
        } finally {
            lock.unlock();
        }
        settleWaiters();
    }

    /** A failed attempt to connect to or query {@code peer}. */
    void unreachable(PeerAddress peer) {
        lock.lock();
        try {
            reachable.put(peer, false);
            if (waiters.isEmpty()) {
                return;
            }
        } finally {
            lock.unlock();
        }
        settleWaiters();
    }

    /** Whether {@code peer}'s monitor should check at the short interval: someone waits, or a fresh change. */
    boolean wantsFastCheck(PeerAddress peer) {
        long now = clockMillis.getAsLong();
        lock.lock();
        try {
            if (!waiters.isEmpty()) {
                return true;
            }
            Map<ClusterModule, Seen> mine = seen.getOrDefault(peer, Map.of());
            for (var e : targets.entrySet()) {
                Target t = e.getValue();
                Seen s = mine.get(e.getKey());
                boolean fresh = now - t.sinceMillis() < FRESH_CHANGE.toMillis();
                if (fresh && (s == null || !s.checksum().equals(t.checksum()))) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean synchronises(String module) {
        return module(module).isPresent();
    }

    @Override
    public CompletableFuture<Result> await(String moduleName, Duration timeout, boolean quorum) {
        ClusterModule module = module(moduleName).orElseThrow(() ->
                new IllegalArgumentException("not a cluster module: " + moduleName));
        Waiter w = new Waiter(module, quorum, new CompletableFuture<>());
        Map<String, ModuleVersion> current = own.get();
        lock.lock();
        try {
            refreshTargets(current);
            waiters.add(w);
        } finally {
            lock.unlock();
        }
        CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(() -> finish(w));
        wakeMonitors.run();
        settleWaiters();
        return w.done();
    }

    /** Every peer's row for every module, in peer then module order; {@code stats_proxyfleet_cluster_acks}. */
    List<Row> rows() {
        List<PeerAddress> all = peers.get();
        lock.lock();
        try {
            List<Row> out = new ArrayList<>();
            for (PeerAddress p : all) {
                for (ClusterModule m : ClusterModule.values()) {
                    out.add(row(p, m));
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    private void refreshTargets(Map<String, ModuleVersion> current) {
        long now = clockMillis.getAsLong();
        for (ClusterModule m : ClusterModule.values()) {
            ModuleVersion v = current.getOrDefault(m.checksumName(), ModuleVersion.NONE);
            Target t = targets.get(m);
            if (t == null || !t.checksum().equals(v.checksum())) {
                targets.put(m, new Target(v.checksum(), v.epoch(), now));
            }
        }
    }

    private Row row(PeerAddress p, ClusterModule m) {
        Target t = targets.getOrDefault(m, new Target("", 0, 0));
        Seen s = seen.getOrDefault(p, Map.of()).get(m);
        String reported = s == null ? "" : s.checksum();
        State state;
        long took = -1;
        if (s != null && s.checksum().equals(t.checksum())) {
            state = State.APPLIED;
            took = Math.max(0, s.sinceMillis() - t.sinceMillis());
        } else if (Boolean.FALSE.equals(reachable.get(p))) {
            state = State.UNREACHABLE;
        } else if (s != null && s.version() > 1 && s.epoch() >= t.epoch()) {
            // A different configuration at least as new as ours, loaded after the peer's start (a peer at version
            // 1 takes any newer configuration): the peer will not take ours.
            state = State.CONFLICT;
        } else {
            state = State.PENDING;
        }
        return new Row(p, m, state, reported, t.checksum(), took);
    }

    /** Completes the waiters that are satisfied now. */
    private void settleWaiters() {
        List<PeerAddress> all = peers.get();
        List<Runnable> completions = new ArrayList<>();
        lock.lock();
        try {
            for (var it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                Result r = result(w, all);
                if (r.satisfied()) {
                    it.remove();
                    completions.add(() -> w.done().complete(r));
                }
            }
        } finally {
            lock.unlock();
        }
        completions.forEach(Runnable::run);
    }

    /** The timeout: the waiter gets the rows as they are. */
    private void finish(Waiter w) {
        List<PeerAddress> all = peers.get();
        Result r;
        lock.lock();
        try {
            if (!waiters.remove(w)) {
                return;
            }
            r = result(w, all);
        } finally {
            lock.unlock();
        }
        w.done().complete(r);
    }

    private Result result(Waiter w, List<PeerAddress> all) {
        List<List<String>> cells = new ArrayList<>(all.size());
        int applied = 0;
        for (PeerAddress p : all) {
            Row row = row(p, w.module());
            if (row.state() == State.APPLIED) {
                applied++;
            }
            cells.add(Arrays.asList(p.toString(), row.state().label(), row.checksum(),
                    row.timeToApplyMs() < 0 ? null : Long.toString(row.timeToApplyMs())));
        }
        int needed = w.quorum() ? all.size() / 2 + 1 : all.size();
        return new Result(all.isEmpty() || applied >= needed, cells);
    }
}
