package io.proxyfleet.monitor;

/** A backend address as the monitor checks it: once per host and port, whatever its hostgroups. Immutable. */
public record HostPort(String host, int port) {
    @Override
    public String toString() {
        return host + ":" + port;
    }
}
