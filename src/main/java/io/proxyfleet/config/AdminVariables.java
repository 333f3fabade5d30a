package io.proxyfleet.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code admin-*} variables ProxyFleet implements, with ProxySQL 2.7's defaults. Names are stored without
 * the {@code admin-} prefix, in the order {@code SHOW VARIABLES} lists them.
 */
public final class AdminVariables {
    public static final String PREFIX = "admin-";
    /**
     * Prefix of ProxyFleet's own admin variables (after {@link #PREFIX}). They are node-local: left out of the
     * {@code admin_variables} checksum and of what ProxyFleet peers fetch, so ProxySQL peers never depend on them.
     */
    public static final String LOCAL_PREFIX = "proxyfleet_";

    /** Name to default value, in listing order. */
    public static final Map<String, String> DEFAULTS;

    static {
        var d = new LinkedHashMap<String, String>();
        d.put("admin_credentials", "admin:admin");
        d.put("stats_credentials", "stats:stats");
        d.put("mysql_ifaces", "0.0.0.0:6032");
        d.put("refresh_interval", "2000");
        d.put("read_only", "false");
        d.put("vacuum_stats", "true");
        d.put("version", "2.7.2-proxyfleet");
        d.put("cluster_username", "");
        d.put("cluster_password", "");
        d.put("cluster_check_interval_ms", "1000");
        d.put("cluster_check_status_frequency", "10");
        for (String module : new String[] {"mysql_query_rules", "mysql_servers", "mysql_users", "proxysql_servers",
                "mysql_variables", "admin_variables", "ldap_variables"}) {
            d.put("cluster_" + module + "_diffs_before_sync", "3");
        }
        for (String module : new String[] {"mysql_query_rules", "mysql_servers", "mysql_users", "proxysql_servers",
                "mysql_variables", "admin_variables", "ldap_variables"}) {
            d.put("cluster_" + module + "_save_to_disk", "true");
        }
        d.put("cluster_mysql_servers_sync_algorithm", "1");
        d.put("restapi_enabled", "false");
        d.put("restapi_port", "6070");
        d.put("web_enabled", "false");
        d.put("web_port", "6080");
        d.put("prometheus_memory_metrics_interval", "61");
        // ProxyFleet-only, node-local (LOCAL_PREFIX): the virtual IP, docs/vip.md.
        d.put("proxyfleet_vip_address", "");
        d.put("proxyfleet_vip_prefix", "24");
        d.put("proxyfleet_vip_interface", "");
        d.put("proxyfleet_vip_lease_ms", "1000");
        d.put("proxyfleet_vip_raft_id", "");
        d.put("proxyfleet_vip_raft_peers", "");
        d.put("proxyfleet_vip_drain_timeout_ms", "10000");
        // ProxyFleet-only, node-local (LOCAL_PREFIX); docs/cluster.md "Acknowledged changes" and "TLS between peers".
        d.put("proxyfleet_cluster_load_wait", "false");
        d.put("proxyfleet_cluster_ack_quorum", "false");
        d.put("proxyfleet_cluster_ack_timeout_ms", "10000");
        d.put("proxyfleet_cluster_tls", "true");
        d.put("proxyfleet_cluster_tls_required", "false");
        d.put("proxyfleet_cluster_tls_ca", "");
        d.put("proxyfleet_cluster_tls_client_cert", "false");
        DEFAULTS = java.util.Collections.unmodifiableMap(d);
    }

    private AdminVariables() {
    }
}
