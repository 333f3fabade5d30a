package io.proxyfleet;

/**
 * One running ProxyFleet node: traffic listener, admin listener, admin database and cluster monitors, wired
 * together. Owned by the thread that starts and closes it.
 */
public final class ProxyFleetNode implements AutoCloseable {
    // Wiring lands with the traffic path; see issue 2.

    public static ProxyFleetNode start(NodeOptions options) {
        throw new UnsupportedOperationException("not wired yet");
    }

    @Override
    public void close() {
    }
}
