package io.proxyfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Picks TCP ports on 127.0.0.1 that are free right now. Stateless; any thread. */
public final class FreePorts {
    private static final int ANY_PORT = 0;
    private static final int NO_BACKLOG = 1;

    private FreePorts() {
    }

    /**
     * A loopback port the kernel just handed out. Another process may take it before the caller binds it, so
     * callers that spawn servers retry on a bind failure.
     */
    public static int loopback() {
        try (ServerSocket socket = new ServerSocket(ANY_PORT, NO_BACKLOG, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
