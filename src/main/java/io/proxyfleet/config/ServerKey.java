package io.proxyfleet.config;

/** Primary key of {@code mysql_servers}: a server's identity within one hostgroup. */
public record ServerKey(int hostgroupId, String hostname, int port) {
    @Override
    public String toString() {
        return hostgroupId + ":" + hostname + ":" + port;
    }
}
