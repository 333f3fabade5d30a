package io.proxyfleet.cluster;

import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.admin.ClusterView;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;
import io.proxyfleet.protocol.client.BlockingMysqlClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ProxySQL-compatible native clustering for one node: one monitor per row of the node's runtime
 * {@code proxysql_servers}, each on its own virtual thread (§4.5-§4.11), plus the per-peer state behind
 * {@code stats_proxysql_servers_checksums} and {@code stats_proxysql_servers_metrics}.
 *
 * <p>Beyond ProxySQL, a fast path: after an operator's {@code LOAD ... TO RUNTIME} (never after a pull) the admin
 * tells this manager through its {@link ClusterView}, which calls {@link #notifyPeers()},
 * which sends {@code PROXYSQL CLUSTER_NOTIFY} to every peer; a peer's admin answers it by calling
 * {@link #checkNow()}, so its monitors check at once and then a few times at a short interval instead of waiting
 * {@code diffs_before_sync} full check intervals. Polling stays the repair path for any notification lost.
 *
 * <p>Threads: public methods may be called from any thread (the admin executor, the wiring). The per-peer state is
 * guarded by one lock, held only for in-memory work, never across I/O. A supervisor virtual thread re-reads the
 * peer list every second as a safety net for a missed {@link #reconcile()}.
 */
public final class ClusterManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterManager.class);
    /** Interval of the checks that follow a notify. */
    static final Duration FAST_CHECK_INTERVAL = Duration.ofMillis(100);
    private static final Duration SUPERVISOR_INTERVAL = Duration.ofSeconds(1);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    private static final long NANOS_PER_MILLI = 1_000_000;

    private final LocalNode node;
    private final PeerConnector connector;
    private final LongSupplier clockSeconds;
    private final ModulePuller puller;
    private final AckTracker acks;
    private final ReentrantLock stateLock = new ReentrantLock();
    /** In {@code proxysql_servers} order of first appearance; guarded by {@link #stateLock}. */
    private final Map<PeerAddress, PeerNode> peers = new LinkedHashMap<>();
    private final Map<PeerAddress, Thread> monitors = new LinkedHashMap<>();
    private final Map<ClusterModule, LongAdder> epochConflicts = new EnumMap<>(ClusterModule.class);
    private final Map<ClusterModule, LongAdder> versionOneConflicts = new EnumMap<>(ClusterModule.class);
    private final Map<ClusterModule, LongAdder> concurrentEdits = new EnumMap<>(ClusterModule.class);
    /** The settings the monitors last acted on; guarded by {@link #stateLock}. */
    private ClusterSettings observedSettings;
    private volatile boolean closed;
    private Thread supervisor;

    /** A manager for {@code node} using real sockets and the system clock; call {@link #start()}. */
    public ClusterManager(LocalNode node) {
        this(node, PeerConnector.standard(), () -> System.currentTimeMillis() / 1000, ModulePuller.FAILURE_PAUSE);
    }

    /** Like {@link #ClusterManager(LocalNode)}, connecting to peers over TLS as {@code tls} says. */
    public ClusterManager(LocalNode node, ClusterTls tls) {
        this(node, PeerConnector.standard(tls), () -> System.currentTimeMillis() / 1000, ModulePuller.FAILURE_PAUSE);
    }

    ClusterManager(LocalNode node, PeerConnector connector, LongSupplier clockSeconds, Duration pullFailurePause) {
        this.node = node;
        this.connector = connector;
        this.clockSeconds = clockSeconds;
        this.puller = new ModulePuller(node, connector, pullFailurePause);
        this.acks = new AckTracker(node::checksums, this::peerAddresses, this::wakeMonitors,
                () -> System.nanoTime() / NANOS_PER_MILLI);
        for (ClusterModule m : ClusterModule.values()) {
            epochConflicts.put(m, new LongAdder());
            versionOneConflicts.put(m, new LongAdder());
            concurrentEdits.put(m, new LongAdder());
        }
    }

    /** Starts a monitor per current peer and the supervisor. */
    public synchronized void start() {
        if (supervisor != null) {
            return;
        }
        reconcile();
        acks.localChange();
        supervisor = Thread.ofVirtual().name("cluster-supervisor").start(this::supervise);
    }

    private void supervise() {
        while (!closed) {
            try {
                Thread.sleep(SUPERVISOR_INTERVAL);
                reconcile();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.error("Cluster: reading the peer list failed", e);
            }
        }
    }

    /**
     * Makes the monitors match the node's runtime {@code proxysql_servers} (§4.5): new rows get an entry and a
     * monitor, removed rows lose theirs (their monitor exits), kept rows get their new weight and comment. Call it
     * after every {@code LOAD PROXYSQL SERVERS TO RUNTIME}.
     */
    public void reconcile() {
        if (closed) {
            return;
        }
        List<ProxySqlServer> wanted = node.peers();
        List<PeerNode> toStart = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        stateLock.lock();
        try {
            Map<PeerAddress, ProxySqlServer> byAddress = new LinkedHashMap<>();
            for (ProxySqlServer s : wanted) {
                byAddress.put(new PeerAddress(s.hostname(), s.port()), s);
            }
            for (var it = peers.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (!byAddress.containsKey(e.getKey())) {
                    e.getValue().removed = true;
                    e.getValue().wakeUp();
                    it.remove();
                    monitors.remove(e.getKey());
                    LOG.info("Destroyed Cluster Node Entry for host {}", e.getKey());
                }
            }
            for (var e : byAddress.entrySet()) {
                PeerNode existing = peers.get(e.getKey());
                if (existing != null) {
                    existing.weight = e.getValue().weight();
                    existing.comment = e.getValue().comment();
                    continue;
                }
                PeerNode created = new PeerNode(e.getKey(), e.getValue().weight(), e.getValue().comment());
                peers.put(e.getKey(), created);
                toStart.add(created);
                LOG.info("Created new Cluster Node Entry for host {}", e.getKey());
            }
            for (PeerNode p : toStart) {
                Thread t = Thread.ofVirtual().name("cluster-peer-" + p.address).unstarted(new PeerMonitor(this, p));
                monitors.put(p.address, t);
                threads.add(t);
            }
        } finally {
            stateLock.unlock();
        }
        threads.forEach(Thread::start);
    }

    /**
     * What the node wiring calls from {@code NodeControl.moduleLoaded} after any load, pulled ones included: a new
     * {@code proxysql_servers} changes the monitors. Peers are told only of local loads, by {@link ClusterView}.
     *
     * @param module the checksum module name, e.g. {@code proxysql_servers}
     */
    public void moduleLoaded(String module) {
        if (ClusterModule.PROXYSQL_SERVERS.checksumName().equals(module)) {
            reconcile();
        }
        acks.localChange();
    }

    /**
     * Feeds {@code stats_proxysql_servers_checksums}, {@code stats_proxysql_servers_metrics} and ProxyFleet's
     * {@code stats_proxyfleet_cluster_acks} of {@code engine} from this manager, rows in the tables' DDL column
     * order, lets the engine wait for acknowledgements ({@code PROXYFLEET WAIT CLUSTER}), and gives it this
     * manager's {@link ClusterView} (concurrent-edit detection, notifies after local loads).
     */
    public void registerStatsTables(AdminEngine engine) {
        engine.clusterView(new View());
        engine.registerTableSource("stats_proxysql_servers_checksums", () -> checksumsStatus().stream()
                .map(s -> List.<Object>of(s.hostname(), s.port(), s.name(), s.version(), s.epoch(), s.checksum(),
                        s.changedAt(), s.updatedAt(), s.diffCheck()))
                .toList());
        engine.registerTableSource("stats_proxysql_servers_metrics", () -> metricsStatus().stream()
                .map(m -> List.<Object>of(m.hostname(), m.port(), m.weight(), m.comment(), m.responseTimeMs(),
                        m.uptimeS(), m.lastCheckMs(), m.queries(), m.clientConnectionsConnected(),
                        m.clientConnectionsCreated()))
                .toList());
        engine.registerTableSource("stats_proxyfleet_cluster_acks", () -> acks.rows().stream()
                .map(r -> Arrays.<Object>asList(r.node().hostname(), r.node().port(),
                        r.module().checksumName(), r.state().label(), r.checksum(), r.target(),
                        r.timeToApplyMs() < 0 ? null : r.timeToApplyMs()))
                .toList());
        engine.clusterWaits(acks);
    }

    /**
     * Fast path, receiving side: check every peer now, then {@code max(diffs_before_sync) + 1} more times at
     * {@link #FAST_CHECK_INTERVAL}, so a change a peer just announced is pulled within a fraction of a second.
     */
    public void checkNow() {
        int burst = fastBurst(node.settings());
        stateLock.lock();
        try {
            for (PeerNode p : peers.values()) {
                p.fastChecks = burst;
                p.wakeUp();
            }
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * {@link #checkNow()} for a notify from a peer that announced {@code announcedInterfaces} (its
     * {@code admin-mysql_ifaces}, {@code host:port;...}): only the peers listed at one of those addresses are checked
     * fast, since only the notifier has something new; the other peers' burst would be a wasted query each 100 ms.
     * When no listed peer matches (null, a wildcard address, a name listed differently), every peer is checked.
     */
    public void checkNow(String announcedInterfaces) {
        List<PeerAddress> from = announcedInterfaces == null ? List.of() : parseInterfaces(announcedInterfaces);
        int burst = fastBurst(node.settings());
        stateLock.lock();
        try {
            List<PeerNode> notifiers = new ArrayList<>();
            for (PeerAddress a : from) {
                PeerNode p = peers.get(a);
                if (p != null) {
                    notifiers.add(p);
                }
            }
            for (PeerNode p : notifiers.isEmpty() ? peers.values() : notifiers) {
                p.fastChecks = burst;
                p.wakeUp();
            }
        } finally {
            stateLock.unlock();
        }
    }

    private static List<PeerAddress> parseInterfaces(String interfaces) {
        List<PeerAddress> out = new ArrayList<>();
        for (String iface : interfaces.split(";")) {
            String trimmed = iface.trim();
            int colon = trimmed.lastIndexOf(':');
            if (colon <= 0) {
                continue;
            }
            try {
                out.add(new PeerAddress(trimmed.substring(0, colon), Integer.parseInt(trimmed.substring(colon + 1))));
            } catch (NumberFormatException e) {
                // not an address this node can list; the notify falls back to checking every peer
            }
        }
        return out;
    }

    /** Whether {@code p} last reported a checksum different from ours for some module (a diff being counted). */
    boolean differs(PeerNode p) {
        stateLock.lock();
        try {
            for (ModuleState s : p.modules.values()) {
                if (s.diffCheck > 0) {
                    return true;
                }
            }
            return false;
        } finally {
            stateLock.unlock();
        }
    }

    /** How many checks at {@link #FAST_CHECK_INTERVAL} reach any module's {@code diffs_before_sync}. */
    static int fastBurst(ClusterSettings settings) {
        int burst = 1;
        for (ClusterModule m : ClusterModule.values()) {
            burst = Math.max(burst, settings.diffs(m) + 1);
        }
        return burst;
    }

    /**
     * Fast path, sending side: tells every peer that this node just loaded a module. A peer whose monitor is
     * logged in gets it on that connection (the monitor sends it before its next check); the others on a new
     * connection from a short-lived virtual thread, as before. Reusing the monitor's connection saves a TCP
     * connection, a TLS handshake and a login on both sides per peer and change (at 10 core nodes, 9 of each on
     * the loading node's single admin event loop). ProxySQL peers are never sent the command. Failures are harmless
     * (the peer's polling catches up) and only logged at DEBUG.
     */
    public void notifyPeers() {
        ClusterSettings settings = node.settings();
        if (!settings.enabled() || closed) {
            return;
        }
        List<PeerAddress> targets = new ArrayList<>();
        stateLock.lock();
        try {
            for (PeerNode p : peers.values()) {
                if (p.connected) {
                    p.notifyPending.set(true);
                    p.wakeUp();
                } else {
                    targets.add(p.address);
                }
            }
        } finally {
            stateLock.unlock();
        }
        for (PeerAddress target : targets) {
            Thread.ofVirtual().name("cluster-notify-" + target).start(() -> {
                try (BlockingMysqlClient client = connector.open(target, settings)) {
                    if (ModulePuller.isProxyFleet(client)) {
                        client.execute(ClusterQueries.NOTIFY);
                    }
                } catch (Exception e) {
                    LOG.debug("Cluster: notifying peer {} failed: {}", target, e.getMessage());
                }
            });
        }
    }

    /** {@code stats_proxysql_servers_checksums}: 7 rows per peer, in peer then module order. */
    public List<PeerChecksumStatus> checksumsStatus() {
        stateLock.lock();
        try {
            List<PeerChecksumStatus> out = new ArrayList<>();
            for (PeerNode p : peers.values()) {
                for (ClusterModule m : ClusterModule.values()) {
                    ModuleState s = p.modules.get(m);
                    out.add(new PeerChecksumStatus(p.address.hostname(), p.address.port(), m.checksumName(),
                            s.version, s.epoch, s.checksum, s.changedAt, s.updatedAt, s.diffCheck));
                }
            }
            return out;
        } finally {
            stateLock.unlock();
        }
    }

    /** {@code stats_proxysql_servers_metrics}: one row per peer, zeros until its metrics were first read. */
    public List<PeerMetrics> metricsStatus() {
        long now = System.currentTimeMillis();
        stateLock.lock();
        try {
            List<PeerMetrics> out = new ArrayList<>();
            for (PeerNode p : peers.values()) {
                long age = p.metricsReadAtMillis == 0 ? 0 : now - p.metricsReadAtMillis;
                out.add(new PeerMetrics(p.address.hostname(), p.address.port(), p.weight, p.comment,
                        p.metricsResponseTimeMs, p.metricsUptimeS, age, p.metricsQueries,
                        p.metricsClientConnectionsConnected, p.metricsClientConnectionsCreated));
            }
            return out;
        } finally {
            stateLock.unlock();
        }
    }

    /** {@code proxysql_cluster_pulled_total{module_name, status}}. */
    public long pulledTotal(ClusterModule module, boolean success) {
        return puller.pulled(module, success);
    }

    /** {@code proxysql_cluster_syn_conflict_total{module_name, reason}}; reason share_epoch or version_one. */
    public long conflictTotal(ClusterModule module, boolean shareEpoch) {
        return (shareEpoch ? epochConflicts : versionOneConflicts).get(module).sum();
    }

    /**
     * Local loads made over a newer peer version of {@code module} (concurrent edits; ProxyFleet only), refused
     * ones included; each is a row of {@code stats_proxyfleet_cluster_conflicts}.
     */
    public long concurrentEditTotal(ClusterModule module) {
        return concurrentEdits.get(module).sum();
    }

    /** Pulls of {@code module} whose rows did not hash here to the checksum the peer advertised. */
    public long checksumMismatchTotal(ClusterModule module) {
        return node.checksumMismatches(module);
    }

    /** The admin's window on the peers' reported versions; called on the admin thread, memory only. */
    private final class View implements ClusterView {
        @Override
        public Optional<PeerVersion> newerThan(String module, ModuleVersion base) {
            ClusterModule m = ClusterModule.byChecksumName(module).orElse(null);
            if (m == null) {
                return Optional.empty();
            }
            stateLock.lock();
            try {
                PeerVersion newest = null;
                for (PeerNode p : peers.values()) {
                    ModuleState s = p.modules.get(m);
                    // what the sync rules would pull: any real load if ours is the boot one, else a newer epoch
                    // or the winner of equal epochs
                    boolean wouldPull = base.version() <= 1 || s.epoch > base.epoch()
                            || s.epoch == base.epoch() && SyncLogic.winsTie(s.checksum, base.checksum());
                    boolean newer = newest == null || s.epoch > newest.epoch()
                            || s.epoch == newest.epoch() && SyncLogic.winsTie(s.checksum, newest.checksum());
                    if (s.version > 1 && !s.checksum.equals(base.checksum()) && wouldPull && newer) {
                        newest = new PeerVersion(p.address.toString(), s.version, s.epoch, s.checksum);
                    }
                }
                return Optional.ofNullable(newest);
            } finally {
                stateLock.unlock();
            }
        }

        @Override
        public void concurrentEdit(String module) {
            ClusterModule.byChecksumName(module).ifPresent(m -> concurrentEdits.get(m).increment());
        }

        @Override
        public void localLoad(String module) {
            notifyPeers();
        }
    }

    /** Stops every monitor; waits briefly for them to finish their current step. */
    @Override
    public void close() {
        closed = true;
        List<Thread> threads;
        stateLock.lock();
        try {
            threads = new ArrayList<>(monitors.values());
            peers.values().forEach(PeerNode::wakeUp);
            peers.values().forEach(p -> p.removed = true);
        } finally {
            stateLock.unlock();
        }
        synchronized (this) {
            if (supervisor != null) {
                supervisor.interrupt();
            }
        }
        for (Thread t : threads) {
            t.interrupt();
        }
        for (Thread t : threads) {
            try {
                t.join(CLOSE_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Called by the monitors

    boolean isClosed() {
        return closed;
    }

    LocalNode node() {
        return node;
    }

    PeerConnector connector() {
        return connector;
    }

    ModulePuller puller() {
        return puller;
    }

    AckTracker acks() {
        return acks;
    }

    private List<PeerAddress> peerAddresses() {
        stateLock.lock();
        try {
            return List.copyOf(peers.keySet());
        } finally {
            stateLock.unlock();
        }
    }

    private void wakeMonitors() {
        stateLock.lock();
        try {
            peers.values().forEach(PeerNode::wakeUp);
        } finally {
            stateLock.unlock();
        }
    }

    /** The entry of a peer, or null; for tests. */
    PeerNode peer(PeerAddress address) {
        stateLock.lock();
        try {
            return peers.get(address);
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * Called by every monitor with the settings of its check: re-enabling a module's sync (its
     * {@code diffs_before_sync} going from 0 to non-zero) or changing the servers sync algorithm forgets every
     * peer's global checksum, so the next checks download all module rows again (ProxySQL's
     * {@code Reset_Global_Checksums}).
     */
    void observeSettings(ClusterSettings settings) {
        List<String> reasons = new ArrayList<>();
        stateLock.lock();
        try {
            ClusterSettings previous = observedSettings;
            observedSettings = settings;
            if (previous == null || previous.equals(settings)) {
                return;
            }
            for (ClusterModule m : ClusterModule.values()) {
                if (m != ClusterModule.MYSQL_SERVERS && previous.diffs(m) == 0 && settings.diffs(m) != 0) {
                    reasons.add("Re-enabled previously disabled 'admin-cluster_" + m.variableStem()
                            + "_diffs_before_sync'. Resetting global checksums to force Cluster re-sync.");
                }
            }
            if (previous.serversSyncAlgorithm() != settings.serversSyncAlgorithm()) {
                reasons.add("Changed 'admin-cluster_mysql_servers_sync_algorithm' to "
                        + settings.serversSyncAlgorithm() + ". Resetting global checksums to force Cluster re-sync.");
            }
            if (!reasons.isEmpty()) {
                peers.values().forEach(p -> p.lastGlobalChecksum = 0);
            }
        } finally {
            stateLock.unlock();
        }
        for (String reason : reasons) {
            LOG.info(reason);
        }
    }

    long lastGlobalChecksum(PeerNode p) {
        stateLock.lock();
        try {
            return p.lastGlobalChecksum;
        } finally {
            stateLock.unlock();
        }
    }

    /** §4.7 A or B for one check of one peer. */
    void evaluate(PeerNode p, long globalChecksum, List<SyncLogic.ReportedChecksum> reported,
                  ClusterSettings settings) {
        Map<String, ModuleVersion> own = node.checksums();
        long now = clockSeconds.getAsLong();
        List<String> logs = List.of();
        stateLock.lock();
        try {
            if (reported == null) {
                SyncLogic.evaluateUnchanged(p.modules, own, now);
            } else {
                p.lastGlobalChecksum = globalChecksum;
                logs = SyncLogic.evaluateReported(p.address, p.modules, reported, own, settings, now);
            }
        } finally {
            stateLock.unlock();
        }
        for (String line : logs) {
            LOG.info(line);
        }
    }

    SyncLogic.Decision decide(PeerNode p, ClusterModule m, Map<String, ModuleVersion> own, int d) {
        stateLock.lock();
        try {
            return SyncLogic.decide(p.address, m, p.modules.get(m), own.getOrDefault(m.checksumName(),
                    ModuleVersion.NONE), d);
        } finally {
            stateLock.unlock();
        }
    }

    SyncLogic.Choice choosePeer(ClusterModule m, int d) {
        stateLock.lock();
        try {
            Map<PeerAddress, ModuleState> states = new LinkedHashMap<>();
            peers.forEach((a, p) -> states.put(a, p.modules.get(m)));
            return SyncLogic.choosePeer(m, states, d);
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * The checksums a pull must reproduce (§4.8): those of the chosen peer, the one the rows come from (for servers
     * v2, and with algorithm 1 its runtime servers too). ProxySQL expects the triggering peer's checksum for the
     * other modules, which fails for certain whenever the chosen peer is a different one that has moved on ("Checksum
     * changed from X to Y", retried each second while the trigger still reports X: a 10-node bench on a loaded
     * machine stalled 8 s that way). The peer's advertised checksum is still what its rows must hash to.
     */
    List<ModulePuller.Expected> expectedFor(ClusterModule m, SyncLogic.Choice.Chosen chosen,
                                            ClusterSettings settings) {
        stateLock.lock();
        try {
            if (m == ClusterModule.MYSQL_SERVERS_V2 || m == ClusterModule.MYSQL_SERVERS) {
                PeerNode source = peers.get(chosen.peer());
                List<ModulePuller.Expected> out = new ArrayList<>();
                ModuleState first = source.modules.get(m);
                out.add(new ModulePuller.Expected(m, first.checksum, first.epoch));
                if (m == ClusterModule.MYSQL_SERVERS_V2
                        && settings.serversSyncAlgorithm() == ClusterSettings.SYNC_RUNTIME_AND_CONFIG) {
                    ModuleState runtime = source.modules.get(ClusterModule.MYSQL_SERVERS);
                    out.add(new ModulePuller.Expected(ClusterModule.MYSQL_SERVERS, runtime.checksum, runtime.epoch));
                }
                return out;
            }
            return List.of(new ModulePuller.Expected(m, chosen.checksum(), chosen.epoch()));
        } finally {
            stateLock.unlock();
        }
    }

    void recordMetrics(PeerNode p, long responseTimeMs, Map<String, Long> values) {
        stateLock.lock();
        try {
            p.metricsResponseTimeMs = responseTimeMs;
            p.metricsUptimeS = values.getOrDefault("ProxySQL_Uptime", 0L);
            p.metricsQueries = values.getOrDefault("Questions", 0L);
            p.metricsClientConnectionsConnected = values.getOrDefault("Client_Connections_connected", 0L);
            p.metricsClientConnectionsCreated = values.getOrDefault("Client_Connections_created", 0L);
            p.metricsReadAtMillis = System.currentTimeMillis();
        } finally {
            stateLock.unlock();
        }
    }

    void countConflict(ClusterModule m, boolean shareEpoch) {
        (shareEpoch ? epochConflicts : versionOneConflicts).get(m).increment();
    }
}
