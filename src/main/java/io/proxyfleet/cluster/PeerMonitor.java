package io.proxyfleet.cluster;

import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.protocol.client.MysqlErrorException;
import io.proxyfleet.protocol.client.QueryResult;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop of one peer's monitor (§4.6): connect as the cluster user, check the version, announce our UUID, then
 * every check interval compare the peer's global checksum, evaluate its module checksums and pull what is newer.
 * Runs on its own virtual thread, never on an event loop; it exits when the peer leaves
 * {@code runtime_proxysql_servers} or the manager closes. Pulls run synchronously on this thread, as in ProxySQL.
 */
final class PeerMonitor implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerMonitor.class);
    /** How long to idle when no cluster user is configured. */
    static final Duration NO_CREDENTIALS_PAUSE = Duration.ofSeconds(1);
    /** Added to the check interval after a failed connect. */
    static final Duration CONNECT_FAILURE_EXTRA_PAUSE = Duration.ofSeconds(1);
    /** How long to wait before retrying a peer that runs another version. */
    static final Duration VERSION_MISMATCH_PAUSE = Duration.ofSeconds(30);
    /** Query errors are logged once per this many consecutive failures. */
    static final int ERROR_LOG_EVERY = 20;

    private final ClusterManager manager;
    private final PeerNode peer;
    private int consecutiveErrors;
    private int checksSinceMetrics;

    PeerMonitor(ClusterManager manager, PeerNode peer) {
        this.manager = manager;
        this.peer = peer;
    }

    private boolean running() {
        return !peer.removed && !manager.isClosed() && !Thread.currentThread().isInterrupted();
    }

    @Override
    public void run() {
        LOG.info("Cluster: starting thread for peer {}", peer.address);
        try {
            while (running()) {
                try {
                    connectAndMonitor();
                } catch (RuntimeException e) {
                    // A bug or an unreadable setting must not end monitoring for good: report, wait, retry.
                    LOG.error("Cluster: monitor of peer {} hit an unexpected error", peer.address, e);
                    peer.sleep(NO_CREDENTIALS_PAUSE.toMillis());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            LOG.info("Cluster: closing thread for peer {}", peer.address);
        }
    }

    private void connectAndMonitor() throws InterruptedException {
        ClusterSettings settings = manager.node().settings();
        if (!settings.enabled()) {
            peer.sleep(NO_CREDENTIALS_PAUSE.toMillis());
            return;
        }
        BlockingMysqlClient client;
        try {
            client = manager.connector().open(peer.address, settings);
        } catch (IOException e) {
            manager.acks().unreachable(peer.address);
            LOG.warn("Cluster: unable to connect to peer {} . Error: {}", peer.address, e.getMessage());
            peer.sleep(settings.checkInterval().plus(CONNECT_FAILURE_EXTRA_PAUSE).toMillis());
            return;
        }
        if (client.isTls()) {
            LOG.debug("Cluster: connected to peer {} over TLS", peer.address);
        }
        try (client) {
            session(client, settings);
        }
    }

    /** One connection's life: handshake checks, then the check loop until an error or removal. */
    private void session(BlockingMysqlClient client, ClusterSettings initial) throws InterruptedException {
        String self = manager.node().version();
        String remote;
        try {
            remote = firstCell(client.select(ClusterQueries.VERSION));
        } catch (IOException e) {
            queryFailed(initial, ClusterQueries.VERSION, 0, e);
            peer.sleep(initial.checkInterval().toMillis());
            return;
        }
        if (!self.equals(remote)) {
            LOG.warn("Cluster: different ProxySQL version with peer {} . Remote: {} . Self: {}", peer.address,
                    remote, self);
            peer.sleep(VERSION_MISMATCH_PAUSE.toMillis());
            return;
        }
        LOG.info("Cluster: clustering with peer {} . Remote version: {} . Self version: {}", peer.address, remote,
                self);
        announce(client);
        boolean proxyFleetPeer;
        try {
            proxyFleetPeer = ModulePuller.isProxyFleet(client);
        } catch (IOException e) {
            queryFailed(initial, ClusterQueries.PROXYFLEET_PROBE, 0, e);
            peer.sleep(initial.checkInterval().toMillis());
            return;
        }
        peer.connected = true;
        try {
            checkLoop(client, proxyFleetPeer);
        } finally {
            peer.connected = false;
        }
    }

    /** Every check interval: a pending notify, the checksums, the decisions and pulls, sometimes the metrics. */
    private void checkLoop(BlockingMysqlClient client, boolean proxyFleetPeer) throws InterruptedException {
        while (running()) {
            ClusterSettings settings = manager.node().settings();
            if (!settings.enabled()) {
                return;
            }
            manager.observeSettings(settings);
            long started = System.nanoTime();
            String query = ClusterQueries.NOTIFY;
            try {
                // A ProxySQL peer is never sent ProxyFleet's own command; it finds the change by polling.
                if (peer.notifyPending.getAndSet(false) && proxyFleetPeer) {
                    sendNotify(client);
                }
                query = ClusterQueries.GLOBAL_CHECKSUM;
                long global = Long.parseLong(firstCell(client.select(query)).trim());
                List<SyncLogic.ReportedChecksum> reported = null;
                if (global != manager.lastGlobalChecksum(peer)) {
                    query = ClusterQueries.CHECKSUMS;
                    reported = reportedChecksums(client.select(query));
                }
                manager.evaluate(peer, global, reported, settings);
                manager.acks().observe(peer.address, reported);
                if (reported != null && manager.differs(peer)) {
                    // The peer changed to something we do not run: count the remaining diffs at the short interval,
                    // as after a notify. Nodes nobody notifies (satellites) then take a change in about one check
                    // interval, not three. A peer that changed to what we already run (it pulled what we pulled)
                    // needs no burst: at 10 core nodes that was 81 links checking 10 times a second after each change.
                    peer.fastChecks = Math.max(peer.fastChecks, ClusterManager.fastBurst(settings));
                }
                consecutiveErrors = 0;
                decideAndPull(settings);
                checksSinceMetrics++;
                if (settings.checkStatusFrequency() > 0 && checksSinceMetrics >= settings.checkStatusFrequency()) {
                    query = ClusterQueries.METRICS;
                    readMetrics(client);
                    checksSinceMetrics = 0;
                }
            } catch (IOException | RuntimeException e) {
                manager.acks().unreachable(peer.address);
                queryFailed(settings, query, elapsedMillis(started), e);
                peer.sleep(settings.checkInterval().toMillis());
                return;
            }
            peer.sleep(nextCheckDelay(settings, elapsedMillis(started)));
        }
    }

    /** {@link ClusterManager#notifyPeers()} on this connection; a peer that does not know the command is left be. */
    private void sendNotify(BlockingMysqlClient client) throws IOException {
        try {
            client.execute(ClusterQueries.NOTIFY);
        } catch (MysqlErrorException e) {
            LOG.debug("Cluster: peer {} refused CLUSTER_NOTIFY: {}", peer.address, e.getMessage());
        }
    }

    private long nextCheckDelay(ClusterSettings settings, long elapsedMillis) {
        int fast = peer.fastChecks;
        if (fast > 0 || manager.acks().wantsFastCheck(peer.address)) {
            peer.fastChecks = Math.max(0, fast - 1);
            return Math.min(settings.checkInterval().toMillis(), ClusterManager.FAST_CHECK_INTERVAL.toMillis());
        }
        return settings.checkInterval().toMillis() - elapsedMillis;
    }

    private static long elapsedMillis(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    private void announce(BlockingMysqlClient client) {
        String uuid = manager.node().uuid();
        LOG.info("Cluster: sending CLUSTER_NODE_UUID {} to peer {}", uuid, peer.address);
        try {
            client.execute(ClusterQueries.NODE_UUID + uuid + " " + manager.node().adminInterfaces());
        } catch (MysqlErrorException e) {
            // Only bookkeeping on the peer's side: a peer that does not know the command can still be synced.
            LOG.warn("Cluster: peer {} refused CLUSTER_NODE_UUID: {}", peer.address, e.getMessage());
        } catch (IOException e) {
            LOG.warn("Cluster: sending CLUSTER_NODE_UUID to peer {} failed: {}", peer.address, e.getMessage());
        }
    }

    private void queryFailed(ClusterSettings settings, String query, long elapsedMillis, Exception e) {
        if (consecutiveErrors++ % ERROR_LOG_EVERY == 0) {
            LOG.error("Cluster: unable to run query on {} using user {} after {}ms : {} . Error: {}", peer.address,
                    settings.username(), elapsedMillis, query, e.getMessage());
        }
    }

    private static String firstCell(QueryResult.Rows rows) throws IOException {
        if (rows.rows().isEmpty() || rows.rows().getFirst().isEmpty()) {
            throw new IOException("empty result");
        }
        String v = rows.rows().getFirst().getFirst();
        return v == null ? "" : v;
    }

    static List<SyncLogic.ReportedChecksum> reportedChecksums(QueryResult.Rows rows) throws IOException {
        int name = rows.columnIndex("name");
        int version = rows.columnIndex("version");
        int epoch = rows.columnIndex("epoch");
        int checksum = rows.columnIndex("checksum");
        if (name < 0 || version < 0 || epoch < 0 || checksum < 0) {
            throw new IOException("runtime_checksums_values lacks a column: " + rows.columns());
        }
        List<SyncLogic.ReportedChecksum> out = new ArrayList<>(rows.rows().size());
        for (List<String> r : rows.rows()) {
            out.add(new SyncLogic.ReportedChecksum(r.get(name), parse(r.get(version)), parse(r.get(epoch)),
                    r.get(checksum) == null ? "" : r.get(checksum)));
        }
        return out;
    }

    private static long parse(String cell) {
        return cell == null || cell.isEmpty() ? 0 : Long.parseLong(cell.trim());
    }

    private void readMetrics(BlockingMysqlClient client) throws IOException {
        long started = System.nanoTime();
        QueryResult.Rows rows = client.select(ClusterQueries.METRICS);
        long took = elapsedMillis(started);
        Map<String, Long> values = new HashMap<>();
        for (List<String> r : rows.rows()) {
            if (r.size() >= 2 && r.get(0) != null && r.get(1) != null) {
                try {
                    values.put(r.get(0), Long.parseLong(r.get(1).trim()));
                } catch (NumberFormatException ignored) {
                    // stats_mysql_global also holds non-numeric rows; none of the ones we keep is
                }
            }
        }
        manager.recordMetrics(peer, took, values);
    }

    /** §4.7 C, in module order, with the servers specifics of §4.11. */
    private void decideAndPull(ClusterSettings settings) {
        Map<String, ModuleVersion> own = manager.node().checksums();
        boolean serversPulled = false;
        for (ClusterModule m : ClusterModule.values()) {
            int d = settings.diffs(m);
            if (d == 0 || !running()) {
                continue;
            }
            if (m == ClusterModule.MYSQL_SERVERS && (serversPulled || !manager.node().supportsRuntimeServersPull()
                    || settings.serversSyncAlgorithm() != ClusterSettings.SYNC_RUNTIME_AND_CONFIG)) {
                continue;
            }
            SyncLogic.Decision decision = manager.decide(peer, m, own, d);
            switch (decision) {
                case SyncLogic.Decision.Sync s -> {
                    if (s.equalEpochs()) {
                        LOG.warn(s.log());
                        manager.countConflict(m, true);
                    } else {
                        LOG.info(s.log());
                    }
                    boolean pulled = syncFromBestPeer(m, d, settings);
                    serversPulled |= pulled && m == ClusterModule.MYSQL_SERVERS_V2;
                }
                case SyncLogic.Decision.EqualEpochConflict c -> {
                    LOG.error(c.log());
                    manager.countConflict(m, true);
                }
                case SyncLogic.Decision.VersionOne v -> {
                    LOG.warn(v.log());
                    manager.countConflict(m, false);
                }
                case SyncLogic.Decision.None n -> {
                }
            }
        }
    }

    private boolean syncFromBestPeer(ClusterModule m, int d, ClusterSettings settings) {
        SyncLogic.Choice choice = manager.choosePeer(m, d);
        switch (choice) {
            case SyncLogic.Choice.Postponed p -> {
                LOG.warn(p.log());
                return false;
            }
            case SyncLogic.Choice.NoneEligible n -> {
                return false;
            }
            case SyncLogic.Choice.Chosen c -> {
                LOG.info(c.log());
                List<ModulePuller.Expected> expected = manager.expectedFor(m, c, settings);
                if (m == ClusterModule.MYSQL_SERVERS_V2) {
                    LOG.info("Cluster: Fetch mysql_servers_v2:'YES', mysql_servers:'{}' from peer {}",
                            expected.size() > 1 ? "YES" : "NO", c.peer());
                }
                boolean ok = manager.puller().pull(c.peer(), expected, settings);
                if (ok && m == ClusterModule.PROXYSQL_SERVERS) {
                    manager.reconcile();
                }
                return ok;
            }
        }
    }
}
