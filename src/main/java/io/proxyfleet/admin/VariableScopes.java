package io.proxyfleet.admin;

import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.MysqlVariables;
import io.proxyfleet.config.ProxySqlVariables;
import io.proxyfleet.config.RuntimeConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which variables travel with the cluster and which stay on their node, stated once: ProxySQL's variables travel
 * except {@code mysql-threads} and, unless the config file sets {@code cluster_sync_interfaces=true}, the
 * listener variables (reference §3.3); every variable ProxySQL does not have (ProxyFleet's own) stays on its node.
 * Also builds {@code runtime_proxyfleet_variables}, the table that shows this per variable. Stateless.
 */
final class VariableScopes {
    /** Never synced by ProxySQL, whatever the settings. */
    private static final String ALWAYS_LOCAL = "mysql-threads";
    /** Synced only with {@code cluster_sync_interfaces=true} (§3.3). */
    static final Set<String> INTERFACES = Set.of("admin-mysql_ifaces", "admin-restapi_port",
            "admin-telnet_admin_ifaces", "admin-telnet_stats_ifaces", "admin-web_port", "mysql-interfaces");
    private static final String VERSION = "admin-version";
    private static final String REPORTED_VERSION = "admin-reported_version";

    private VariableScopes() {
    }

    /** Whether {@code fullName} is hashed into its module's checksum and served to peers. */
    static boolean travels(String fullName, boolean syncInterfaces) {
        return ProxySqlVariables.isProxySql(fullName) && !fullName.equals(ALWAYS_LOCAL)
                && (syncInterfaces || !INTERFACES.contains(fullName));
    }

    /** The rows of {@code runtime_proxyfleet_variables}, by name. */
    static List<List<Object>> rows(RuntimeConfig current, boolean syncInterfaces) {
        var values = new TreeMap<String, String>();
        current.adminVariables().values().forEach((k, v) -> values.put(AdminVariables.PREFIX + k, v));
        current.mysqlVariables().values().forEach((k, v) -> values.put(MysqlVariables.PREFIX + k, v));
        var rows = new ArrayList<List<Object>>();
        for (Map.Entry<String, String> e : values.entrySet()) {
            String name = e.getKey();
            ProxySqlVariables.Spec spec = ProxySqlVariables.ALL.get(name);
            boolean travels = travels(name, syncInterfaces);
            rows.add(List.of(name, e.getValue(), defaultOf(name), spec != null ? 1 : 0,
                    spec == null || spec.implemented() ? 1 : 0, travels ? 1 : 0, note(name, spec, values)));
        }
        return rows;
    }

    private static String defaultOf(String name) {
        return name.startsWith(AdminVariables.PREFIX)
                ? AdminVariables.DEFAULTS.get(name.substring(AdminVariables.PREFIX.length()))
                : MysqlVariables.DEFAULTS.get(name.substring(MysqlVariables.PREFIX.length()));
    }

    private static String note(String name, ProxySqlVariables.Spec spec, Map<String, String> values) {
        if (spec == null) {
            return name.equals(REPORTED_VERSION)
                    ? "ProxyFleet only, node-local: when set, admin-version reports it"
                    : "ProxyFleet only, node-local: never checksummed nor synced";
        }
        if (name.equals(VERSION)) {
            String reported = values.getOrDefault(REPORTED_VERSION, "");
            return reported.isBlank() ? "read-only: ProxyFleet's version"
                    : "overridden on this node by admin-reported_version";
        }
        if (name.equals(ALWAYS_LOCAL)) {
            return "node-local: never synced (as in ProxySQL)";
        }
        if (INTERFACES.contains(name)) {
            return "listener: synced only with cluster_sync_interfaces=true";
        }
        return spec.implemented() ? "" : "not implemented: accepted, stored and synced";
    }
}
