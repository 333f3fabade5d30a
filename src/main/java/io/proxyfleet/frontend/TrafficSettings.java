package io.proxyfleet.frontend;

import io.proxyfleet.config.RuntimeConfig;

/**
 * The {@code mysql-*} variables the traffic path reads per command, parsed once per loaded variables module
 * instead of per use. Immutable.
 */
record TrafficSettings(RuntimeConfig.Variables source, String serverVersion, int maxConnections,
                       long maxAllowedPacket, String defaultSchema, String defaultAuthPlugin, boolean haveSsl,
                       long connectTimeoutClient, long waitTimeoutNanos, long maxTransactionNanos,
                       long maxTransactionIdleNanos, long internalStepNanos) {

    private static volatile TrafficSettings last;

    static TrafficSettings of(RuntimeConfig.Variables variables) {
        TrafficSettings cached = last;
        if (cached != null && cached.source == variables) {
            return cached;
        }
        String version = variables.get("server_version");
        TrafficSettings parsed = new TrafficSettings(variables,
                "5.1.30".equals(version) ? "5.5.30" : version,
                variables.getInt("max_connections"),
                variables.getLong("max_allowed_packet"),
                variables.get("default_schema"),
                variables.get("default_authentication_plugin"),
                variables.getBoolean("have_ssl"),
                variables.getLong("connect_timeout_client"),
                millisToNanos(variables.getLong("wait_timeout")),
                millisToNanos(variables.getLong("max_transaction_time")),
                millisToNanos(variables.getLong("max_transaction_idle_time")),
                // Alignment SETs and re-prepares are the proxy's own short statements: they get as long as a
                // connection attempt may take in all, not the client's query timeout.
                millisToNanos(variables.getLong("connect_timeout_server_max")));
        last = parsed;
        return parsed;
    }

    /** Zero or less means no limit. */
    private static long millisToNanos(long millis) {
        return millis <= 0 ? Long.MAX_VALUE : millis * 1_000_000L;
    }
}
