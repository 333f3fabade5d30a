package io.proxyfleet.config;

import java.util.Locale;

/** Configured status of a backend server, as written in {@code mysql_servers.status}. */
public enum ServerStatus {
    ONLINE,
    SHUNNED,
    OFFLINE_SOFT,
    OFFLINE_HARD;

    /** Parses a status case-insensitively, as ProxySQL's CHECK constraint accepts it. */
    public static ServerStatus parse(String text) {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
    }
}
