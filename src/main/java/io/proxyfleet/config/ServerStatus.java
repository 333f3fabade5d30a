package io.proxyfleet.config;

import java.util.Locale;

/**
 * Status of a backend server: the four values {@code mysql_servers.status} accepts, plus
 * {@link #SHUNNED_REPLICATION_LAG}, which only the monitor sets on a live server.
 */
public enum ServerStatus {
    ONLINE,
    SHUNNED,
    OFFLINE_SOFT,
    OFFLINE_HARD,
    /**
     * Runtime only (reference §5.1.1): the replication-lag check took the server out of rotation. Never part of a
     * configuration row; admin tables that show configured status show it as {@link #SHUNNED}.
     */
    SHUNNED_REPLICATION_LAG;

    /** Parses a status case-insensitively, as ProxySQL's CHECK constraint accepts it. */
    public static ServerStatus parse(String text) {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
    }
}
