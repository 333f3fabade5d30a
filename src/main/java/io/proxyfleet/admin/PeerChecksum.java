package io.proxyfleet.admin;

/**
 * What a cluster peer advertised for one checksum module, passed to {@link AdminEngine#applyPulled} so that, when
 * the rows just loaded hash here to the same checksum, this node adopts the peer's epoch instead of "now"
 * (reference §4.4). Immutable.
 *
 * @param module   checksum module name: {@code mysql_users}, {@code mysql_servers}, {@code mysql_servers_v2},
 *                 {@code mysql_query_rules}, {@code mysql_variables}, {@code admin_variables} or
 *                 {@code proxysql_servers}
 * @param epoch    the peer's epoch for that module (Unix seconds)
 * @param checksum the peer's checksum string ({@code 0x...})
 */
public record PeerChecksum(String module, long epoch, String checksum) {
}
