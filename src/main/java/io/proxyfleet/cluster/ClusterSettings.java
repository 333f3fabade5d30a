package io.proxyfleet.cluster;

import io.proxyfleet.config.RuntimeConfig;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * The runtime {@code admin-cluster_*} variables the peer monitors obey, read once per check. Immutable.
 *
 * @param username               {@code admin-cluster_username}; empty disables all monitoring
 * @param checkInterval          {@code admin-cluster_check_interval_ms}
 * @param checkStatusFrequency   {@code admin-cluster_check_status_frequency}; 0 = never poll peer metrics
 * @param diffsBeforeSync        per module {@code admin-cluster_<module>_diffs_before_sync}; 0 = never sync it
 * @param saveToDisk             per module {@code admin-cluster_<module>_save_to_disk}
 * @param serversSyncAlgorithm   the effective {@code admin-cluster_mysql_servers_sync_algorithm}: 1 or 2 (3 is
 *                               resolved by {@link #from} from whether the node runs its backend monitor)
 */
public record ClusterSettings(String username, String password, Duration checkInterval, int checkStatusFrequency,
                              Map<ClusterModule, Integer> diffsBeforeSync, Map<ClusterModule, Boolean> saveToDisk,
                              int serversSyncAlgorithm) {

    /** Fetch runtime servers together with the configured ones (ProxySQL's default). */
    public static final int SYNC_RUNTIME_AND_CONFIG = 1;
    /** Fetch only the configured servers; each node's own monitor derives its runtime state. */
    public static final int SYNC_CONFIG_ONLY = 2;
    /** {@link #SYNC_RUNTIME_AND_CONFIG} when the node runs without a backend monitor, else {@link #SYNC_CONFIG_ONLY}. */
    public static final int SYNC_BY_MONITOR = 3;

    public ClusterSettings {
        username = username == null ? "" : username;
        password = password == null ? "" : password;
        diffsBeforeSync = Map.copyOf(diffsBeforeSync);
        saveToDisk = Map.copyOf(saveToDisk);
    }

    /** Reads the settings from the runtime admin variables (names without the {@code admin-} prefix). */
    public static ClusterSettings from(RuntimeConfig.Variables admin, boolean backendMonitorEnabled) {
        Map<ClusterModule, Integer> diffs = new EnumMap<>(ClusterModule.class);
        Map<ClusterModule, Boolean> save = new EnumMap<>(ClusterModule.class);
        for (ClusterModule m : ClusterModule.values()) {
            diffs.put(m, admin.getInt("cluster_" + m.variableStem() + "_diffs_before_sync"));
            save.put(m, admin.getBoolean("cluster_" + m.variableStem() + "_save_to_disk"));
        }
        int algorithm = admin.getInt("cluster_mysql_servers_sync_algorithm");
        if (algorithm == SYNC_BY_MONITOR) {
            algorithm = backendMonitorEnabled ? SYNC_CONFIG_ONLY : SYNC_RUNTIME_AND_CONFIG;
        }
        return new ClusterSettings(admin.get("cluster_username"), admin.get("cluster_password"),
                Duration.ofMillis(admin.getLong("cluster_check_interval_ms")),
                admin.getInt("cluster_check_status_frequency"), diffs, save, algorithm);
    }

    /** The {@code diffs_before_sync} threshold of a module; 0 disables its sync. */
    public int diffs(ClusterModule module) {
        return diffsBeforeSync.getOrDefault(module, 0);
    }

    public boolean saveToDisk(ClusterModule module) {
        return saveToDisk.getOrDefault(module, true);
    }

    /** Whether monitoring is enabled at all (a cluster user is configured). */
    public boolean enabled() {
        return !username.isEmpty();
    }
}
