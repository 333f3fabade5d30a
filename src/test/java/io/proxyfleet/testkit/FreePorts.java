package io.proxyfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks TCP ports on 127.0.0.1 that are free right now. Thread-safe.
 *
 * <p>Ports come from below the kernel's ephemeral range (32768 and up on Linux): a port there can be taken as the
 * source port of any outgoing connection (MariaDB clients, JDBC, sysbench) between the moment it is found free
 * and the moment a node process binds it, which made starts fail with "Address already in use". A port is also
 * never handed out twice in one JVM.
 */
public final class FreePorts {
    private static final int FIRST = 20_000;
    private static final int LAST = 32_000;
    private static final int ATTEMPTS = 200;
    private static final int NO_BACKLOG = 1;
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /** A loopback port nobody listens on, outside the ephemeral range, not given out before by this JVM. */
    public static int loopback() {
        for (int i = 0; i < ATTEMPTS; i++) {
            int port = ThreadLocalRandom.current().nextInt(FIRST, LAST);
            if (GIVEN.contains(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket(port, NO_BACKLOG, InetAddress.getLoopbackAddress())) {
                if (GIVEN.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                // taken: try another
            }
        }
        throw new UncheckedIOException(new IOException("no free loopback port in " + FIRST + ".." + LAST));
    }
}
