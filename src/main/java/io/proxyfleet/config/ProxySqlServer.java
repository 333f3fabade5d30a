package io.proxyfleet.config;

/** One row of {@code proxysql_servers}: a cluster peer's admin endpoint. */
public record ProxySqlServer(String hostname, int port, int weight, String comment) {
    public ProxySqlServer {
        comment = comment == null ? "" : comment;
    }
}
