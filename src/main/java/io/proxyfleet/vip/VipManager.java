package io.proxyfleet.vip;

import io.proxyfleet.frontend.ClientSession;
import io.proxyfleet.frontend.SessionRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The virtual IP: held by the Raft leader only, and only while its lease holds (docs/vip.md).
 *
 * <p>Fencing. The leader renews a lease by committing an empty Raft entry every {@code lease/5}; the lease runs
 * from the moment the last committed renewal was <em>sent</em>, and the address is dropped a margin before it
 * ends (by this thread, independently by the {@link AddressGuardian} process, and by the kernel's own address
 * lifetime when neither runs). A new leader won its term after every renewal of the old one was sent (a majority
 * voted for it, so none of those entries could commit later), and waits longer than all three bounds after
 * winning ({@link LeaseTimings}) before it adds the address: the old owner has lost it by then, even across a
 * partition or stopped. An unhealthy or draining node leaves the Raft group so that another one leads.
 *
 * <p>Owner thread: one platform thread, {@code vip-manager}, runs every state change; Raft callbacks only set
 * atomics; {@link #status()} and {@link #drain} may be called from any thread.
 */
public final class VipManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VipManager.class);
    /** The shortest lease: it must cover a renewal round and the address deletion. */
    public static final long MIN_LEASE_MILLIS = 500;
    private static final long TICK_MILLIS = 50;
    /** A node that left the group because it was unhealthy rejoins after being healthy this long. */
    private static final long REJOIN_AFTER_HEALTHY_MILLIS = 1_000;
    private static final long DRAIN_POLL_MILLIS = 50;
    /**
     * A drain closes a session only once it has been idle this long: a client that just logged in or just got its
     * answer sends its next statement within milliseconds, and closing it in between would fail that statement.
     */
    private static final long DRAIN_IDLE_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /**
     * A leader hands over to a member of higher priority once that member has been in the group this long, so
     * that a member which comes and goes does not move the VIP each time.
     */
    private static final long HANDOVER_AFTER_MILLIS = 3_000;
    /**
     * Renewals are pipelined: the next one is sent at its interval even while one is still waiting for its commit,
     * so that one slow commit does not leave the lease without a fresh one (with one at a time, a new leader on a
     * busy host waited up to 20 s for a commit fresh enough to take the address). Only two: a leader cut off from
     * the others appends every renewal it sends to its log, and when it comes back, jgroups-raft's leader walks
     * back over each of those conflicting entries one resend (100 ms) at a time before that member can vote for a
     * commit again.
     */
    private static final int MAX_RENEWALS_IN_FLIGHT = 2;

    /**
     * A member that sees no commit, no new term and no new view for this many leases, although its view holds a
     * majority, rejoins the group: its view is stale. A member that was stopped (SIGSTOP, a frozen VM) and resumes
     * still holds the view from before, which the others replaced without it; neither side hears the other, and
     * JGroups' merge of such overlapping views did not recover within 20 s. A healthy group commits a renewal
     * every lease/5, and an election moves the term or the view within seconds.
     */
    private static final int STALE_VIEW_LEASES = 3;

    /** Where this node stands. */
    public enum State { DISABLED, FOLLOWER, WAITING, OWNER, LEFT, DRAINED }

    private final VipSettings settings;
    private final LeaseTimings timings;
    private final RaftMembership raft;
    private final NodeHealth health;
    private final SessionRegistry sessions;
    private final Runnable pauseTraffic;
    private final IntSupplier trafficPort;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("vip-manager").daemon().unstarted(r));
    /** Where PROXYFLEET DRAIN stands; PROXYFLEET UNDRAIN sets it back to NONE. */
    private enum Drain { NONE, WAITING_FOR_SESSIONS, DONE }

    private final AtomicReference<Drain> drain = new AtomicReference<>(Drain.NONE);
    private final AtomicInteger renewalsInFlight = new AtomicInteger();
    /** nanoTime at which the last committed renewal was sent. */
    private final AtomicLong lastCommittedSentNanos = new AtomicLong(Long.MIN_VALUE);
    private volatile VipStatus status;

    // Manager thread only.
    private State state;
    private AddressGuardian guardian;
    private long leaderSinceNanos = -1;
    /** The Raft term this node leads in since {@link #leaderSinceNanos}. */
    private long leaderTerm;
    private long lastSentNanos;
    private long healthySinceNanos = -1;
    private long renewedUntilNanos;
    private long higherPrioritySinceNanos = -1;
    private long lastProgress = -1;
    private long progressSinceNanos;

    public VipManager(VipSettings settings, Path dataDir, NodeHealth health, SessionRegistry sessions,
                      Runnable pauseTraffic, IntSupplier trafficPort) {
        this.settings = settings;
        this.timings = LeaseTimings.of(settings.leaseMillis());
        this.raft = new RaftMembership(settings, dataDir);
        this.health = health;
        this.sessions = sessions;
        this.pauseTraffic = pauseTraffic;
        this.trafficPort = trafficPort;
        this.state = settings.enabled() ? State.LEFT : State.DISABLED;
        this.status = new VipStatus(settings.address(), state, 0, settings.raftId(), "", nowSecs(),
                settings.enabled() ? "starting" : "admin-proxyfleet_vip_address is empty", true);
    }

    /** Starts the manager thread (does nothing when the VIP is disabled). */
    public void start() {
        if (!settings.enabled()) {
            return;
        }
        log.info("VIP {}/{} on {}: Raft member {} of {}, lease {} ms, kernel lifetime {} s, takeover after {} ms",
                settings.address(), settings.prefix(), settings.iface(), settings.raftId(), settings.peers().size(),
                settings.leaseMillis(), timings.kernelLifetimeSeconds(), timings.takeoverMillis());
        thread.execute(() -> AddressGuardian.removeLeftover(settings));
        thread.scheduleWithFixedDelay(this::tickSafely, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    public VipStatus status() {
        return status;
    }

    private void tickSafely() {
        try {
            tick();
        } catch (Exception e) {
            log.error("VIP manager tick failed", e);
        }
    }

    private void tick() throws Exception {
        long now = System.nanoTime();
        Drain d = drain.get();
        NodeHealth.Health h = health.check(d == Drain.WAITING_FOR_SESSIONS);
        if (d == Drain.DONE || !h.ready()) {
            leave(now, d == Drain.DONE ? State.DRAINED : State.LEFT,
                    d == Drain.DONE ? "drained by PROXYFLEET DRAIN" : "unhealthy: " + h.reason(), h);
            return;
        }
        if (!raft.connected()) {
            if (healthySinceNanos < 0) {
                healthySinceNanos = now;
            }
            if (now - healthySinceNanos >= TimeUnit.MILLISECONDS.toNanos(REJOIN_AFTER_HEALTHY_MILLIS)) {
                raft.connect();
                lastProgress = -1;
                change(State.FOLLOWER, "joined the Raft group", h);
            }
            return;
        }
        if (staleView(now)) {
            leave(now, State.LEFT, "no commit, term or view change for " + STALE_VIEW_LEASES * settings.leaseMillis()
                    + " ms although the view " + raft.liveMembers() + " holds a majority: rejoining the group", h);
            return;
        }
        long committedSent = lastCommittedSentNanos.get();
        long validUntil = committedSent == Long.MIN_VALUE ? now
                : committedSent + TimeUnit.MILLISECONDS.toNanos(timings.validMillis());
        if (!raft.isLeader()) {
            if (electionUnderWay(now, validUntil)) {
                publish(h);
                return;
            }
            leaderSinceNanos = -1;
            higherPrioritySinceNanos = -1;
            releaseGuardian();
            if (state == State.OWNER) {
                drop(State.FOLLOWER, "no longer the Raft leader (leader: " + orNone(raft.leaderId()) + ")", h);
            } else if (state != State.FOLLOWER) {
                change(State.FOLLOWER, "not the Raft leader", h);
            } else {
                publish(h);
            }
            return;
        }
        long term = raft.term();
        if (leaderSinceNanos >= 0 && term != leaderTerm) {
            if (term == leaderTerm + 1) {
                // Nobody can have led between two consecutive terms of this node: the wait and the lease go on.
                log.info("VIP {}: re-elected Raft leader in term {}, right after term {}", settings.address(), term,
                        leaderTerm);
                leaderTerm = term;
            } else {
                if (state == State.OWNER) {
                    drop(State.WAITING, "re-elected in term " + term + " after term " + leaderTerm
                            + ": another leader may have held the address in between", h);
                }
                leaderSinceNanos = -1;
            }
        }
        if (leaderSinceNanos < 0) {
            leaderSinceNanos = now;
            leaderTerm = term;
            change(State.WAITING, "elected Raft leader in term " + term
                    + "; waiting " + timings.takeoverMillis() + " ms before taking the address", h);
        }
        if (handOver(now, h)) {
            return;
        }
        maybeRenew(now);
        committedSent = lastCommittedSentNanos.get();
        boolean committed = committedSent != Long.MIN_VALUE;
        validUntil = committed ? committedSent + TimeUnit.MILLISECONDS.toNanos(timings.validMillis()) : now;
        long freshUntil = committed ? committedSent + TimeUnit.MILLISECONDS.toNanos(timings.freshMillis()) : now;
        if (state == State.OWNER) {
            if (now >= validUntil) {
                drop(State.WAITING, "lease not renewed by a majority in time", h);
            } else if (!guardian.stillHeld()) {
                drop(State.WAITING, "the address guardian dropped the address (lease or kernel lifetime ran out)", h);
            } else if (validUntil != renewedUntilNanos && guardian.renew(validUntil, freshUntil)) {
                renewedUntilNanos = validUntil;
            }
            publish(h);
        } else if (guardian == null) {
            var g = new AddressGuardian(settings, timings.kernelLifetimeSeconds());
            if (g.start()) {
                guardian = g;
            }
            publish(h);
        } else if (now - leaderSinceNanos >= TimeUnit.MILLISECONDS.toNanos(timings.takeoverMillis())
                && committedSent > leaderSinceNanos && now < freshUntil) {
            if (!guardian.add(validUntil, freshUntil)) {
                releaseGuardian();
            } else {
                renewedUntilNanos = validUntil;
                change(State.OWNER, "took the address as leader of term " + raft.term() + ", "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - leaderSinceNanos) + " ms after winning", h);
            }
        } else {
            publish(h);
        }
    }

    /** Whether this member's view of the group has gone stale ({@link #STALE_VIEW_LEASES}). */
    private boolean staleView(long now) {
        long progress = raft.progress();
        if (progress != lastProgress || raft.viewSize() < settings.peers().size() / 2 + 1) {
            lastProgress = progress;
            progressSinceNanos = now;
            return false;
        }
        return now - progressSinceNanos >= TimeUnit.MILLISECONDS.toNanos(STALE_VIEW_LEASES * settings.leaseMillis());
    }

    /**
     * Whether this owner keeps the address although it is not the Raft leader right now: a member that joins or
     * merges back may start an election, and every voter, the leader too, steps down until it ends. The lease alone
     * fences the address (a partitioned owner keeps it just as long), and when this node wins the very next term it
     * goes on as owner; once another leader is known, or the lease runs out, it drops the address.
     */
    private boolean electionUnderWay(long now, long validUntil) {
        String leader = raft.leaderId();
        return state == State.OWNER && now < validUntil && guardian != null && guardian.stillHeld()
                && (leader.isEmpty() || leader.equals(settings.raftId()));
    }

    /**
     * Leaves the group when a member of higher priority has been in it for {@link #HANDOVER_AFTER_MILLIS} and the
     * others still make a majority without this node: they elect it (equally up-to-date logs are decided by
     * priority), and this node rejoins as a follower a second later.
     */
    private boolean handOver(long now, NodeHealth.Health h) {
        String higher = raft.higherPriorityMember();
        if (higher.isEmpty()) {
            higherPrioritySinceNanos = -1;
            return false;
        }
        if (higherPrioritySinceNanos < 0) {
            higherPrioritySinceNanos = now;
            log.info("VIP {}: member {} has a higher priority; handing over once it has been in the group {} ms",
                    settings.address(), higher, HANDOVER_AFTER_MILLIS);
        }
        int majority = settings.peers().size() / 2 + 1;
        if (now - higherPrioritySinceNanos < TimeUnit.MILLISECONDS.toNanos(HANDOVER_AFTER_MILLIS)
                || raft.viewSize() - 1 < majority) {
            return false;
        }
        higherPrioritySinceNanos = -1;
        leave(now, State.LEFT, "handing the VIP over to " + higher + ", whose priority is higher", h);
        return true;
    }

    private void maybeRenew(long now) {
        long interval = TimeUnit.MILLISECONDS.toNanos(timings.renewMillis());
        if (now - lastSentNanos < interval || renewalsInFlight.get() >= MAX_RENEWALS_IN_FLIGHT) {
            return;
        }
        lastSentNanos = now;
        renewalsInFlight.incrementAndGet();
        raft.renew().orTimeout(settings.leaseMillis(), TimeUnit.MILLISECONDS).whenComplete((r, failure) -> {
            renewalsInFlight.decrementAndGet();
            if (failure == null) {
                lastCommittedSentNanos.accumulateAndGet(now, Math::max);
            }
        });
    }

    /** Drops the address if held and leaves the Raft group, so that a healthy node leads. */
    private void leave(long now, State next, String reason, NodeHealth.Health h) {
        healthySinceNanos = -1;
        leaderSinceNanos = -1;
        if (state == State.OWNER) {
            drop(next, reason, h);
        }
        releaseGuardian();
        if (raft.connected()) {
            raft.disconnect();
        }
        if (state != next) {
            change(next, reason, h);
        } else {
            publish(h);
        }
    }

    private void drop(State next, String reason, NodeHealth.Health h) {
        releaseGuardian();
        change(next, "dropped the address: " + reason, h);
    }

    /** Stops the guardian: it deletes the address if it added it, and just exits if it was still waiting. */
    private void releaseGuardian() {
        AddressGuardian g = guardian;
        guardian = null;
        if (g != null) {
            g.release();
        }
    }

    private void change(State next, String reason, NodeHealth.Health h) {
        log.info("VIP {}: {} -> {} (term {}): {}", settings.address(), state, next, raft.term(), reason);
        state = next;
        status = new VipStatus(settings.address(), next, raft.term(), settings.raftId(), raft.leaderId(),
                nowSecs(), reason, h.inSync());
    }

    private void publish(NodeHealth.Health h) {
        VipStatus s = status;
        String leader = raft.leaderId();
        long term = raft.term();
        if (s.term() != term || !s.leader().equals(leader) || s.inSync() != h.inSync()) {
            status = new VipStatus(s.address(), s.state(), term, s.raftId(), leader, s.changedAtSecs(), s.reason(),
                    h.inSync());
        }
    }

    /**
     * PROXYFLEET DRAIN: stops accepting clients, closes each session once it has been idle outside a transaction
     * for {@link #DRAIN_IDLE_GRACE_NANOS} (or when {@code admin-proxyfleet_vip_drain_timeout_ms} ends), then hands
     * the address over. Returns at once.
     */
    public void drain() {
        Thread.ofVirtual().name("vip-drain").start(() -> {
            log.info("Drain: no new clients; waiting up to {} ms for sessions to finish their transactions",
                    settings.drainMillis());
            drain.set(Drain.WAITING_FOR_SESSIONS);
            pauseTraffic.run();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.drainMillis());
            try {
                while (System.nanoTime() < deadline && drain.get() == Drain.WAITING_FOR_SESSIONS
                        && !closeIdleSessions()) {
                    Thread.sleep(DRAIN_POLL_MILLIS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (drain.compareAndSet(Drain.WAITING_FOR_SESSIONS, Drain.DONE)) {
                log.info("Drain: {} sessions still open; handing the VIP over", sessions.size());
            }
        });
    }

    /**
     * PROXYFLEET UNDRAIN: ends a drain (or the one in progress). The caller opens the traffic listener again; this
     * node rejoins the Raft group once it has been healthy for a second, as after any other absence.
     */
    public void undrain() {
        if (drain.getAndSet(Drain.NONE) != Drain.NONE) {
            log.info("Undrain: this node may rejoin the VIP's Raft group once healthy");
        }
    }

    /** Closes every session idle outside a transaction for the grace time; true when none is left. */
    private boolean closeIdleSessions() throws InterruptedException {
        List<CompletableFuture<Boolean>> closed = new ArrayList<>();
        for (ClientSession s : sessions.all()) {
            closed.add(s.closeIfIdle(DRAIN_IDLE_GRACE_NANOS));
        }
        boolean all = true;
        for (CompletableFuture<Boolean> c : closed) {
            try {
                all &= c.get(DRAIN_POLL_MILLIS * 10, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                all = false;
            }
        }
        return all;
    }

    /** {@code stats_proxyfleet_vip}: one row. */
    public List<List<Object>> vipRows() {
        VipStatus s = status;
        return List.of(List.of(s.address(), s.state().name(), s.owner() ? s.raftId() : "", s.term(), s.raftId(),
                s.leader(), s.changedAtSecs(), s.reason()));
    }

    /**
     * {@code stats_proxyfleet_endpoints}: the traffic endpoint of every member this node sees in the Raft group
     * (healthy members only, since an unhealthy one leaves it). Members are assumed to share one traffic port.
     */
    public List<List<Object>> endpointRows() {
        var rows = new ArrayList<List<Object>>();
        String leader = raft.leaderId();
        for (String id : raft.liveMembers()) {
            for (VipSettings.Peer p : settings.peers()) {
                if (p.id().equals(id)) {
                    boolean owner = id.equals(settings.raftId()) ? status.owner() : id.equals(leader);
                    rows.add(List.of(id, p.host(), trafficPort.getAsInt(), owner ? 1 : 0));
                }
            }
        }
        return rows;
    }

    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(AddressGuardian.COMMAND_TIMEOUT_MILLIS * 2, TimeUnit.MILLISECONDS)) {
                log.warn("VIP manager thread did not stop in time");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boolean held = state == State.OWNER;
        releaseGuardian();
        if (held) {
            log.info("VIP {}: dropped the address on shutdown", settings.address());
        }
        raft.close();
    }

    private static String orNone(String s) {
        return s.isEmpty() ? "none" : s;
    }

    private static long nowSecs() {
        return System.currentTimeMillis() / 1000;
    }
}
