package io.proxyfleet.config;

/** One row of {@code mysql_servers}, as loaded to runtime. Immutable; safe to share between threads. */
public record MysqlServer(
        int hostgroupId,
        String hostname,
        int port,
        int gtidPort,
        ServerStatus status,
        int weight,
        int compression,
        int maxConnections,
        int maxReplicationLag,
        boolean useSsl,
        int maxLatencyMs,
        String comment) {

    public MysqlServer {
        if (hostgroupId < 0) {
            throw new IllegalArgumentException("hostgroup_id must be >= 0");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be within 0..65535");
        }
        comment = comment == null ? "" : comment;
    }

    /** A server with ProxySQL's column defaults. */
    public static MysqlServer of(int hostgroupId, String hostname, int port) {
        return new MysqlServer(hostgroupId, hostname, port, 0, ServerStatus.ONLINE, 1, 0, 1000, 0, false, 0, "");
    }

    /** Identity of the server inside its hostgroup: hostgroup, host and port. */
    public ServerKey key() {
        return new ServerKey(hostgroupId, hostname, port);
    }
}
