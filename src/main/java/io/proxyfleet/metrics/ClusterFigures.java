package io.proxyfleet.metrics;

import io.proxyfleet.cluster.ClusterManager;
import io.proxyfleet.cluster.ClusterModule;
import io.proxyfleet.cluster.PeerChecksumStatus;
import io.proxyfleet.cluster.PeerMetrics;
import io.proxyfleet.config.ModuleVersion;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Cluster figures: pulls and conflicts per module, what each peer last reported
 * ({@code stats_proxysql_servers_checksums} and {@code _metrics}, under ProxySQL's names), and ProxyFleet's
 * per-module sync state. The manager hands out snapshots taken under its lock. Called on the scraping thread.
 */
final class ClusterFigures {
    private static final String PULLED_HELP = "Number of times a 'module' have been pulled from a peer.";
    private static final String CONFLICT_HELP = "Number of times a 'module' has not been able to be synced.";

    private ClusterFigures() {
    }

    static void collect(MetricSources s, Families f) {
        ClusterManager cluster = s.cluster().get();
        Map<String, ModuleVersion> own = s.admin().moduleVersions();
        ownModules(own, f);
        if (cluster == null) {
            return;
        }
        pullsAndConflicts(cluster, f);
        long nowSeconds = System.currentTimeMillis() / 1000;
        for (PeerChecksumStatus p : cluster.checksumsStatus()) {
            String[] labels = {"hostname", p.hostname(), "port", Integer.toString(p.port()), "name", p.name()};
            f.counter("proxysql_servers_checksums_version_total",
                    "Number of times the configuration has been loaded locally.", p.version(), labels);
            f.gauge("proxysql_servers_checksums_epoch",
                    "Time at which this configuration was created (locally or imported).", p.epoch(), labels);
            f.gauge("proxysql_servers_checksums_changed_at", "Time at which this configuration was loaded locally.",
                    p.changedAt(), labels);
            f.gauge("proxysql_servers_checksums_updated_at",
                    "Last time local ProxySQL checked the checksum of a remote instance.", p.updatedAt(), labels);
            f.gauge("proxysql_servers_checksums_diff_check", "Number of checks in a row in which it was detected"
                    + " that remote conf is different than local one.", p.diffCheck(), labels);
            ModuleVersion mine = own.get(p.name());
            boolean inSync = p.updatedAt() != 0 && mine != null && mine.checksum().equals(p.checksum());
            f.gauge("proxyfleet_cluster_module_in_sync", "1 when the peer has been read and its last reported"
                    + " checksum of the module equals this node's, 0 otherwise.", inSync ? 1 : 0, labels);
            long since = inSync ? nowSeconds : Math.max(p.changedAt(), mine == null ? 0 : mine.epoch());
            f.gauge("proxyfleet_cluster_sync_lag_seconds", "Seconds since the later of the peer's last checksum"
                    + " change and this node's last load of the module, while the two differ; 0 in sync.",
                    Math.max(0, nowSeconds - since), labels);
        }
        for (PeerMetrics m : cluster.metricsStatus()) {
            String[] labels = {"hostname", m.hostname(), "port", Integer.toString(m.port())};
            f.counter("proxysql_servers_metrics_uptime_s_total", "Current uptime of the Cluster node, in seconds.",
                    m.uptimeS(), labels);
            f.counter("proxysql_servers_metrics_queries_total", "Number of queries the Cluster node has processed.",
                    m.queries(), labels);
            f.counter("proxysql_servers_metrics_client_conns_created_total",
                    "Number of frontend client connections created over time on the Cluster node.",
                    m.clientConnectionsCreated(), labels);
            f.gauge("proxysql_servers_metrics_weight",
                    "Weight of the Cluster node, defined in the proxysql_servers table", m.weight(), labels);
            f.gauge("proxysql_servers_metrics_response_time_ms",
                    "Latest time to respond to Cluster checks, in milliseconds.", m.responseTimeMs(), labels);
            f.gauge("proxysql_servers_metrics_last_check_ms",
                    "Latest time to process Cluster checks, in milliseconds", m.lastCheckMs(), labels);
            f.gauge("proxysql_servers_metrics_client_conns_connected_total",
                    "Number of frontend client connections currently open on the Cluster node.",
                    m.clientConnectionsConnected(), labels);
        }
    }

    /** ProxySQL counts both server pulls (v2 and runtime) as {@code mysql_servers}. */
    private static void pullsAndConflicts(ClusterManager cluster, Families f) {
        Map<String, long[]> byName = new LinkedHashMap<>();
        for (ClusterModule m : ClusterModule.values()) {
            long[] sums = byName.computeIfAbsent(moduleName(m), n -> new long[4]);
            sums[0] += cluster.pulledTotal(m, true);
            sums[1] += cluster.pulledTotal(m, false);
            sums[2] += cluster.conflictTotal(m, true);
            sums[3] += cluster.conflictTotal(m, false);
        }
        for (var e : byName.entrySet()) {
            long[] v = e.getValue();
            f.counter("proxysql_cluster_pulled_total", PULLED_HELP, v[0], "module_name", e.getKey(), "status",
                    "success");
            f.counter("proxysql_cluster_pulled_total", PULLED_HELP, v[1], "module_name", e.getKey(), "status",
                    "failure");
            f.counter("proxysql_cluster_syn_conflict_total", CONFLICT_HELP, v[2], "module_name", e.getKey(),
                    "reason", "servers_share_epoch");
            f.counter("proxysql_cluster_syn_conflict_total", CONFLICT_HELP, v[3], "module_name", e.getKey(),
                    "reason", "version_one");
        }
    }

    private static String moduleName(ClusterModule m) {
        return m == ClusterModule.MYSQL_SERVERS_V2 ? ClusterModule.MYSQL_SERVERS.checksumName() : m.checksumName();
    }

    private static void ownModules(Map<String, ModuleVersion> own, Families f) {
        for (var e : own.entrySet()) {
            f.gauge("proxyfleet_module_version", "Version of this node's runtime module (runtime_checksums_values).",
                    e.getValue().version(), "name", e.getKey());
            f.gauge("proxyfleet_module_epoch", "Unix time this node's runtime module was loaded or its pulled rows"
                    + " were created (runtime_checksums_values.epoch).", e.getValue().epoch(), "name", e.getKey());
        }
    }
}
