package io.proxyfleet.admin;

import io.proxyfleet.config.ModuleVersion;
import java.sql.SQLException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code (version, epoch, checksum)} of every checksum module (reference §4.4) and the rules that give a load
 * its next one: ProxySQL's, plus restart-safe versions, a refusal of pulls whose rows do not hash here to what the
 * peer advertised, and the concurrent-edit check of local loads.
 *
 * <p>Thread ownership: the engine's admin thread, except {@link #published()} and {@link #checksumMismatches},
 * which any thread may read, and {@link #view(ClusterView)}, which any thread may set.
 */
final class ModuleVersions {
    private static final Logger LOG = LoggerFactory.getLogger(ModuleVersions.class);

    private final Map<String, ModuleVersion> versions = new LinkedHashMap<>();
    /** The copy other threads read. */
    private volatile Map<String, ModuleVersion> published;
    private final ClusterHistory history;
    private volatile ClusterView view = ClusterView.NONE;
    /** Pulls whose rows, loaded here, did not hash to what the peer advertised. */
    private final Map<String, LongAdder> checksumMismatches = new ConcurrentHashMap<>();

    ModuleVersions(List<String> modules, ClusterHistory history) {
        this.history = history;
        for (String module : modules) {
            versions.put(module, ModuleVersion.NONE);
        }
        published = Map.copyOf(versions);
    }

    Map<String, ModuleVersion> published() {
        return published;
    }

    /** Every module in {@code runtime_checksums_values} order; admin thread. */
    Map<String, ModuleVersion> inOrder() {
        return Collections.unmodifiableMap(versions);
    }

    ModuleVersion get(String module) {
        return versions.get(module);
    }

    void view(ClusterView clusterView) {
        this.view = clusterView;
    }

    ClusterView view() {
        return view;
    }

    long checksumMismatches(String module) {
        LongAdder n = checksumMismatches.get(module);
        return n == null ? 0 : n.sum();
    }

    /**
     * The next version of a checksum module, from the checksum computed here (never a peer's string): version + 1
     * and epoch now — but the peer's epoch for a pull whose rows hash here to what the peer advertised, and the
     * version and epoch saved with this very configuration for a boot load (restart-safe versions). A pull whose
     * rows hash to something else is refused (variables and runtime servers keep ProxySQL's rule: loaded with
     * the local checksum and a new epoch); a local load over a newer peer version is a concurrent edit.
     */
    ModuleVersion next(String module, String computed, LoadOrigin origin)
            throws SQLException, AdminException {
        ModuleVersion old = versions.get(module);
        // Beyond ProxySQL: a local load always gets a later epoch than the one it replaces, even within the same
        // second, so that peers never see "epochs are EQUAL" between two loads of one node (with the cluster's
        // fast path, a peer can pull the first of two same-second loads before the second happens).
        long epoch = Math.max(System.currentTimeMillis() / 1000, old.epoch() + 1);
        switch (origin) {
            case LoadOrigin.Boot b -> {
                ModuleVersion restored = history.restored(module, computed);
                if (restored != null) {
                    LOG.info("Cluster: {} restored at version {}, epoch {} as saved with this configuration", module,
                            restored.version(), restored.epoch());
                    return restored;
                }
            }
            case LoadOrigin.Local local -> checkConcurrentEdit(module, old, computed, local);
            case LoadOrigin.Pulled pulled -> {
                for (PeerChecksum peer : pulled.advertised()) {
                    if (!peer.module().equals(module)) {
                        continue;
                    }
                    if (peer.checksum().equals(computed)) {
                        checkSameSecondEdit(module, old, computed, peer, pulled);
                        return new ModuleVersion(old.version() + 1, peer.epoch(), computed);
                    }
                    mismatch(module, computed, peer, pulled);
                }
            }
        }
        return new ModuleVersion(old.version() + 1, epoch, computed);
    }

    private void mismatch(String module, String computed, PeerChecksum peer, LoadOrigin.Pulled pulled)
            throws AdminException {
        if (module.equals("mysql_servers")) {
            // the runtime list is rebuilt here from the configured servers, which may differ from the peer's runtime
            return;
        }
        checksumMismatches.computeIfAbsent(module, k -> new LongAdder()).increment();
        if (module.endsWith("_variables")) {
            LOG.warn("Cluster: checksum of {} computed locally {} differs from the one peer {} advertised, {};"
                    + " loaded with the local checksum and a new epoch", module, computed, pulled.peer(),
                    peer.checksum());
            return;
        }
        throw new AdminException("checksum of " + module + " computed locally " + computed
                + " differs from the one peer " + pulled.peer() + " advertised, " + peer.checksum()
                + "; nothing was applied");
    }

    /**
     * A local load whose base is older than a version a peer already reported is a concurrent edit: recorded in
     * {@code stats_proxyfleet_cluster_conflicts}, counted, and, with {@code admin-proxyfleet_cluster_conflict_strict},
     * refused. Runtime servers are left out: the monitor changes them, not operators.
     */
    private void checkConcurrentEdit(String module, ModuleVersion base, String computed, LoadOrigin.Local local)
            throws SQLException, AdminException {
        if (module.equals("mysql_servers") || base.version() == 0) {
            return;
        }
        Optional<ClusterView.PeerVersion> newer = view.newerThan(module, base);
        if (newer.isEmpty() || newer.get().checksum().equals(computed)) {
            return;
        }
        ClusterView.PeerVersion peer = newer.get();
        boolean refuse = history.strict();
        history.conflict(module, refuse ? "refused" : "loaded", local.adminUser(), base, computed, peer);
        view.concurrentEdit(module);
        String what = "node is behind the cluster for " + module + "; the newest version is " + peer.version()
                + " from node " + peer.node();
        LOG.warn("Cluster: concurrent edit of {} by {}: {} (epoch {}, checksum {}); this node's base is version {},"
                + " epoch {}, checksum {}; {}", module, local.adminUser(), what, peer.epoch(), peer.checksum(),
                base.version(), base.epoch(), base.checksum(),
                refuse ? "LOAD refused (admin-proxyfleet_cluster_conflict_strict)" : "loading anyway, the peer's version"
                        + " stays in its history");
        if (refuse) {
            throw new AdminException(what + " (epoch " + peer.epoch() + ", checksum " + peer.checksum()
                    + "); wait for this node to pull it, then edit again");
        }
    }

    /**
     * A pull that replaces a different configuration of the same epoch ends two edits made in one second on two
     * nodes, neither of which had seen the other's (the tie went to the higher checksum). They were concurrent: a
     * ProxyFleet node gives a load a later epoch than the version it replaces, and a pull keeps the peer's, so an
     * edit made after the other one was pulled would carry a later epoch. Recorded, counted and logged as a
     * concurrent edit; the overwritten version stays in this node's history, to be re-applied with
     * {@code PROXYFLEET CLUSTER ROLLBACK TO}.
     */
    private void checkSameSecondEdit(String module, ModuleVersion old, String computed, PeerChecksum peer,
                                     LoadOrigin.Pulled pulled) throws SQLException {
        if (module.equals("mysql_servers") || old.version() <= 1 || old.epoch() != peer.epoch()
                || old.checksum().equals(computed)) {
            return;
        }
        // The peer's version number is what it reported to the monitors (0 if they no longer hold it).
        long peerVersion = view.newerThan(module, old).filter(v -> v.checksum().equals(peer.checksum()))
                .map(ClusterView.PeerVersion::version).orElse(0L);
        history.conflict(module, "overwritten", "", old, computed,
                new ClusterView.PeerVersion(pulled.peer(), peerVersion, peer.epoch(), peer.checksum()));
        view.concurrentEdit(module);
        LOG.warn("Cluster: concurrent edit of {}: this node's version {} (epoch {}, checksum {}) and peer {}'s"
                + " checksum {} were loaded in the same second, neither over the other; the higher checksum wins on"
                + " every node, so this node takes the peer's; its own version stays in its history", module,
                old.version(), old.epoch(), old.checksum(), pulled.peer(), peer.checksum());
    }

    void commit(String module, ModuleVersion next) {
        versions.put(module, next);
        published = Map.copyOf(versions);
    }

    /** Whether every advertised checksum and epoch already runs here: the pull would only repeat it. */
    boolean alreadyLoaded(List<PeerChecksum> advertised) {
        if (advertised.isEmpty()) {
            return false;
        }
        for (PeerChecksum a : advertised) {
            ModuleVersion current = versions.get(a.module());
            if (current == null || !current.checksum().equals(a.checksum()) || current.epoch() != a.epoch()) {
                return false;
            }
        }
        return true;
    }
}
