package io.proxyfleet.web;

/**
 * Who may call a route of the REST port or a page of the web dashboard. Immutable.
 */
public enum Access {
    /** No credentials: {@code /metrics} (as in ProxySQL) and load-balancer health checks. */
    PUBLIC,
    /** {@code admin-stats_credentials} or {@code admin-admin_credentials}. */
    STATS,
    /** {@code admin-admin_credentials} only; a stats user gets 403. */
    ADMIN
}
