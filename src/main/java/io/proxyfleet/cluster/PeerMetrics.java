package io.proxyfleet.cluster;

/**
 * One row of {@code stats_proxysql_servers_metrics}: the peer's counters from its {@code stats_mysql_global}.
 * Immutable.
 *
 * @param responseTimeMs how long the metrics query took
 * @param lastCheckMs    milliseconds since the metrics were read (computed when the snapshot is taken)
 */
public record PeerMetrics(String hostname, int port, int weight, String comment, long responseTimeMs, long uptimeS,
                          long lastCheckMs, long queries, long clientConnectionsConnected,
                          long clientConnectionsCreated) {
}
