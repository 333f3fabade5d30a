package io.proxyfleet.monitor;

import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.protocol.client.MysqlErrorException;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps one idle monitor connection per server and purpose (ping, read_only, replication lag), so that a check
 * measures the server rather than the TCP and authentication handshake. A check {@link #borrow borrows} the
 * connection, which leaves the map while in use, and {@link #release releases} it afterwards; a connection that
 * failed is closed instead. The read timeout of each connection is its purpose's check timeout, so a connection
 * whose settings changed is replaced. Safe for concurrent use by the check threads.
 */
final class MonitorConnections implements AutoCloseable {

    /** What a pooled connection is used for; each purpose has its own timeout. */
    enum Purpose { PING, READ_ONLY, REPLICATION_LAG }

    private record Key(HostPort server, Purpose purpose) {
    }

    private record Pooled(BlockingMysqlClient client, String user, String password, Duration connectTimeout,
                          Duration readTimeout) {
        boolean matches(String u, String p, Duration connect, Duration read) {
            return user.equals(u) && password.equals(p) && connectTimeout.equals(connect)
                    && readTimeout.equals(read);
        }
    }

    /** A borrowed connection; give it back with {@link #release} or {@link #discard}. */
    static final class Lease {
        private final Key key;
        private final Pooled pooled;

        private Lease(Key key, Pooled pooled) {
            this.key = key;
            this.pooled = pooled;
        }

        BlockingMysqlClient client() {
            return pooled.client();
        }
    }

    private final Map<Key, Pooled> idle = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * An idle connection to {@code server} for {@code purpose}, or a new one.
     *
     * @throws IOException the server could not be reached or refused the monitor user
     */
    Lease borrow(HostPort server, Purpose purpose, MonitorSettings settings, Duration readTimeout) throws IOException {
        Key key = new Key(server, purpose);
        Pooled pooled = idle.remove(key);
        if (pooled != null) {
            if (pooled.matches(settings.username(), settings.password(), settings.connectTimeout(), readTimeout)) {
                return new Lease(key, pooled);
            }
            pooled.client().close();
        }
        BlockingMysqlClient client = BlockingMysqlClient.connect(BlockingMysqlClient.Options.of(server.host(),
                server.port(), settings.username(), settings.password(), settings.connectTimeout(), readTimeout));
        return new Lease(key, new Pooled(client, settings.username(), settings.password(),
                settings.connectTimeout(), readTimeout));
    }

    /** Returns a connection that is still usable. */
    void release(Lease lease) {
        if (closed) {
            lease.client().close();
            return;
        }
        Pooled previous = idle.put(lease.key, lease.pooled);
        if (previous != null) {
            previous.client().close();
        }
    }

    /**
     * Ends a lease after a failure: a server-side error (ERR packet) leaves the connection usable, anything else
     * (timeout, reset) may leave unread bytes behind, so the connection is closed.
     */
    void discard(Lease lease, IOException failure) {
        if (failure instanceof MysqlErrorException) {
            release(lease);
        } else {
            lease.client().close();
        }
    }

    /** Closes every idle connection of a server, e.g. once it stopped answering pings. */
    void closeServer(HostPort server) {
        for (Purpose purpose : Purpose.values()) {
            Pooled pooled = idle.remove(new Key(server, purpose));
            if (pooled != null) {
                pooled.client().close();
            }
        }
    }

    /** Closes the idle connections of servers no longer configured. */
    void retainOnly(Set<HostPort> servers) {
        for (Key key : idle.keySet()) {
            if (!servers.contains(key.server())) {
                Pooled pooled = idle.remove(key);
                if (pooled != null) {
                    pooled.client().close();
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Key key : idle.keySet()) {
            Pooled pooled = idle.remove(key);
            if (pooled != null) {
                pooled.client().close();
            }
        }
    }
}
