package io.proxyfleet.monitor;

/** A backend address as the monitor checks it: once per host and port, whatever its hostgroups. */
public record HostPort(String host, int port) {
    @Override
    public String toString() {
        return host + ":" + port;
    }
}
