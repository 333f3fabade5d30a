package io.proxyfleet.cluster;

/**
 * One row of {@code stats_proxysql_servers_checksums}: what a peer last reported for one module. Immutable.
 *
 * @param changedAt Unix seconds when a different checksum was last received (0 = never)
 * @param updatedAt Unix seconds when the row was last evaluated (0 = never)
 * @param diffCheck consecutive checks in which the peer's checksum differed from ours
 */
public record PeerChecksumStatus(String hostname, int port, String name, long version, long epoch, String checksum,
                                 long changedAt, long updatedAt, long diffCheck) {
}
