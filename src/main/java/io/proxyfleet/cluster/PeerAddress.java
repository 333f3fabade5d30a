package io.proxyfleet.cluster;

/** A peer's admin endpoint as listed in {@code runtime_proxysql_servers}. Immutable. */
public record PeerAddress(String hostname, int port) {
    @Override
    public String toString() {
        return hostname + ":" + port;
    }
}
