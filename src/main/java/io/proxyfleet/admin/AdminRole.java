package io.proxyfleet.admin;

/**
 * What an admin-port login may do. {@link #ADMIN} users (from {@code admin-admin_credentials}, which must list
 * the cluster user for peers to log in) read and write everything; {@link #STATS} users (from
 * {@code admin-stats_credentials}) get a read-only session on the {@code stats} and {@code monitor} schemas, as
 * ProxySQL's stats sessions do.
 */
public enum AdminRole {
    ADMIN,
    STATS
}
