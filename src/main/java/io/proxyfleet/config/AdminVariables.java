package io.proxyfleet.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code admin-*} variables: every one of ProxySQL 2.7 with its default ({@link ProxySqlVariables}), then
 * ProxyFleet's own. Names are stored without the {@code admin-} prefix. A variable added here that ProxySQL does
 * not have stays on its node: it is never checksummed nor synced.
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
        var d = new LinkedHashMap<>(ProxySqlVariables.defaults(PREFIX));
        // ProxyFleet's own version; admin-reported_version replaces it to join ProxySQL peers (read-only itself).
        d.put("version", "2.7.2-proxyfleet");
        // ProxyFleet only, node-local: the version string this node reports when not empty (docs/dropin.md).
        d.put("reported_version", "");
        // ProxyFleet-only, node-local (LOCAL_PREFIX): the virtual IP, docs/vip.md.
        d.put("proxyfleet_vip_address", "");
        d.put("proxyfleet_vip_prefix", "24");
        d.put("proxyfleet_vip_interface", "");
        d.put("proxyfleet_vip_lease_ms", "1000");
        d.put("proxyfleet_vip_raft_id", "");
        d.put("proxyfleet_vip_raft_peers", "");
        d.put("proxyfleet_vip_drain_timeout_ms", "10000");
        d.put("proxyfleet_vip_priority", "0");
        // ProxyFleet-only, node-local (LOCAL_PREFIX); docs/cluster.md "Acknowledged changes" and "TLS between peers".
        d.put("proxyfleet_cluster_load_wait", "false");
        d.put("proxyfleet_cluster_ack_quorum", "false");
        d.put("proxyfleet_cluster_ack_timeout_ms", "10000");
        d.put("proxyfleet_cluster_tls", "true");
        d.put("proxyfleet_cluster_tls_required", "false");
        d.put("proxyfleet_cluster_tls_ca", "");
        d.put("proxyfleet_cluster_tls_client_cert", "false");
        d.put("proxyfleet_cluster_tls_require_client_cert", "false");
        // docs/cluster.md "Conflicts" and "History and rollback"
        d.put("proxyfleet_cluster_conflict_strict", "false");
        d.put("proxyfleet_cluster_history_size", "10");
        DEFAULTS = java.util.Collections.unmodifiableMap(d);
    }

    private AdminVariables() {
    }
}
