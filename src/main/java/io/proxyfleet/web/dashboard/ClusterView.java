package io.proxyfleet.web.dashboard;

import io.proxyfleet.cluster.PeerChecksumStatus;
import io.proxyfleet.cluster.PeerMetrics;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The cluster as this node sees it, rebuilt once a second: every node of {@code runtime_proxysql_servers} (and
 * this node, listed or not) with up or down from {@link PeerProbe}, the per-module version and checksum the
 * cluster's monitors last read (the rows of {@code stats_proxysql_servers_checksums}), its uptime from
 * {@code stats_proxysql_servers_metrics}, and whether all its checksums equal this node's. It remembers when each
 * node last matched, so the page can say for how long one has been out of sync.
 *
 * <p>Threads: {@link #refresh} runs on the dashboard's sampler thread only; {@link #snapshot} is a volatile read
 * that handler threads may call at any time.
 */
final class ClusterView {
    /** Addresses by which the local node may list itself in {@code proxysql_servers}. */
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "0.0.0.0", "::1");
    private static final long MILLIS_PER_SECOND = 1000;

    /** What {@link #refresh} reads, from the node's wiring. */
    record Sources(Supplier<List<ProxySqlServer>> peers, Supplier<List<PeerChecksumStatus>> checksums,
                   Supplier<List<PeerMetrics>> metrics, Supplier<Map<String, ModuleVersion>> localVersions,
                   Supplier<String> localVersion, Supplier<String> localHost, IntSupplier localPort,
                   long startedMillis) {
    }

    private final Sources sources;
    private final Map<String, Long> lastMatchedMillis = new ConcurrentHashMap<>();
    private final Map<String, Long> downSinceMillis = new ConcurrentHashMap<>();
    private volatile Map<String, Object> snapshot = Map.of("nodes", List.of());

    ClusterView(Sources sources) {
        this.sources = sources;
    }

    /** The latest view, as a JSON-ready map. */
    Map<String, Object> snapshot() {
        return snapshot;
    }

    /** The peers to probe this round. */
    List<PeerProbe.Peer> peersToProbe() {
        List<PeerProbe.Peer> out = new ArrayList<>();
        for (ProxySqlServer s : sources.peers().get()) {
            if (!isSelf(s)) {
                out.add(new PeerProbe.Peer(s.hostname(), s.port()));
            }
        }
        return out;
    }

    private boolean isSelf(ProxySqlServer s) {
        return s.port() == sources.localPort().getAsInt()
                && (LOOPBACK.contains(s.hostname()) || s.hostname().equals(sources.localHost().get()));
    }

    /** Rebuilds the view from the sources and the probe's latest results. */
    void refresh(Map<String, PeerProbe.Result> probes) {
        long now = System.currentTimeMillis();
        Map<String, ModuleVersion> local = sources.localVersions().get();
        Map<String, Map<String, PeerChecksumStatus>> reported = new LinkedHashMap<>();
        for (PeerChecksumStatus row : sources.checksums().get()) {
            reported.computeIfAbsent(row.hostname() + ":" + row.port(), k -> new LinkedHashMap<>()).put(row.name(), row);
        }
        Map<String, PeerMetrics> metrics = new LinkedHashMap<>();
        for (PeerMetrics m : sources.metrics().get()) {
            metrics.put(m.hostname() + ":" + m.port(), m);
        }
        List<Object> nodes = new ArrayList<>();
        boolean selfListed = false;
        // A pull rewrites proxysql_servers in its own order: sort so rows do not jump between refreshes.
        List<ProxySqlServer> listed = new ArrayList<>(sources.peers().get());
        listed.sort(Comparator.comparing(ProxySqlServer::hostname).thenComparingInt(ProxySqlServer::port));
        for (ProxySqlServer s : listed) {
            String key = s.hostname() + ":" + s.port();
            if (isSelf(s)) {
                selfListed = true;
                nodes.addFirst(self(key, s.comment(), local, now));
            } else {
                nodes.add(peer(key, s.comment(), reported.getOrDefault(key, Map.of()), metrics.get(key),
                        probes.get(key), local, now));
            }
        }
        if (!selfListed) {
            nodes.addFirst(self(sources.localHost().get() + ":" + sources.localPort().getAsInt(), "", local, now));
        }
        lastMatchedMillis.keySet().retainAll(keys(nodes));
        downSinceMillis.keySet().retainAll(keys(nodes));
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("nowMillis", now);
        view.put("modules", new ArrayList<>(new TreeSet<>(local.keySet())));
        view.put("nodes", nodes);
        snapshot = view;
    }

    private static Set<String> keys(List<Object> nodes) {
        Set<String> out = new HashSet<>();
        for (Object n : nodes) {
            out.add((String) ((Map<?, ?>) n).get("address"));
        }
        return out;
    }

    private Map<String, Object> self(String key, String comment, Map<String, ModuleVersion> local, long now) {
        Map<String, Object> modules = new LinkedHashMap<>();
        for (var e : local.entrySet()) {
            modules.put(e.getKey(), module(e.getValue().version(), e.getValue().epoch(), e.getValue().checksum(), true));
        }
        lastMatchedMillis.put(key, now);
        return new Row(key, comment, true, true, sources.localVersion().get(), "", null,
                (now - sources.startedMillis()) / MILLIS_PER_SECOND, true, now, modules).json();
    }

    private Map<String, Object> peer(String key, String comment, Map<String, PeerChecksumStatus> reported,
                                     PeerMetrics metrics, PeerProbe.Result probe, Map<String, ModuleVersion> local,
                                     long now) {
        boolean up = probe != null && probe.up();
        Map<String, Object> modules = new LinkedHashMap<>();
        boolean allMatch = !reported.isEmpty();
        for (var e : local.entrySet()) {
            PeerChecksumStatus r = reported.get(e.getKey());
            boolean match = r != null && r.version() > 0 && r.checksum().equals(e.getValue().checksum());
            allMatch &= match || r == null;
            modules.put(e.getKey(), r == null ? module(0, 0, "", false)
                    : module(r.version(), r.epoch(), r.checksum(), match));
        }
        boolean inSync = up && allMatch;
        if (inSync) {
            lastMatchedMillis.put(key, now);
        }
        if (up) {
            downSinceMillis.remove(key);
        } else {
            downSinceMillis.putIfAbsent(key, now);
        }
        // The metrics are read every few checks; their age brings the uptime up to now.
        Long uptimeSeconds = metrics == null || metrics.uptimeS() == 0 || !up ? null
                : metrics.uptimeS() + metrics.lastCheckMs() / MILLIS_PER_SECOND;
        return new Row(key, comment, false, up, probe == null ? "" : probe.version(),
                probe == null || up ? "" : probe.error(), downSinceMillis.get(key), uptimeSeconds, inSync,
                lastMatchedMillis.get(key), modules).json();
    }

    /** One node's line of the page; null numbers are unknown (a peer never seen up or never in sync). */
    private record Row(String address, String comment, boolean self, boolean up, String version, String error,
                       Long downSinceMillis, Long uptimeSeconds, boolean inSync, Long lastMatchedMillis,
                       Map<String, Object> modules) {
        Map<String, Object> json() {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("address", address);
            node.put("comment", comment);
            node.put("self", self);
            node.put("up", up);
            node.put("version", version);
            node.put("error", error);
            node.put("downSinceMillis", downSinceMillis);
            node.put("uptimeSeconds", uptimeSeconds);
            node.put("inSync", inSync);
            node.put("lastMatchedMillis", lastMatchedMillis);
            node.put("modules", modules);
            return node;
        }
    }

    private static Map<String, Object> module(long version, long epoch, String checksum, boolean match) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", version);
        m.put("epoch", epoch);
        m.put("checksum", checksum);
        m.put("match", match);
        return m;
    }
}
