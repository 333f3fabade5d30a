package io.proxyfleet.backend;

import io.netty.channel.EventLoop;
import io.proxyfleet.protocol.Commands;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The idle backend connections of one event loop. Connections never change loop, so the pool needs no locks:
 * every method runs on its loop. Sessions on other loops have pools of their own.
 */
public final class BackendPool {
    private static final Map<EventLoop, BackendPool> POOLS = new ConcurrentHashMap<>();

    private final Map<PoolKey, ArrayDeque<BackendConnection>> idle = new HashMap<>();

    private BackendPool() {
    }

    /** The pool of {@code loop}; call on that loop. */
    public static BackendPool of(EventLoop loop) {
        return POOLS.computeIfAbsent(loop, l -> new BackendPool());
    }

    /** Takes an idle, still-open connection for {@code key}, or returns {@code null}. */
    BackendConnection poll(PoolKey key) {
        ArrayDeque<BackendConnection> queue = idle.get(key);
        if (queue == null) {
            return null;
        }
        BackendConnection connection;
        while ((connection = queue.pollLast()) != null) {
            connection.server().free.decrementAndGet();
            if (connection.isUsable()) {
                return connection;
            }
            connection.close();
        }
        return null;
    }

    /**
     * Takes a connection back from a session. A connection whose state the session may have changed is reset
     * with COM_RESET_CONNECTION first; one that cannot be trusted, or whose server is no longer ONLINE, is
     * closed instead.
     */
    public void release(BackendConnection connection, boolean clean) {
        connection.unlend();
        if (!connection.isUsable() || !connection.server().acceptsNewWork()) {
            connection.close();
            return;
        }
        if (clean) {
            offer(connection);
            return;
        }
        connection.runInternal(connection.simpleCommand(Commands.RESET_CONNECTION), err -> {
            if (err != null) {
                connection.close();
                return;
            }
            // RESET keeps the schema on MariaDB but not everywhere; re-check on next use.
            connection.schema(null);
            offer(connection);
        });
    }

    private void offer(BackendConnection connection) {
        connection.server().free.incrementAndGet();
        idle.computeIfAbsent(connection.key(), k -> new ArrayDeque<>()).addLast(connection);
    }

    /** Closes idle connections to servers that are gone or no longer ONLINE, and those idle for too long. */
    public void evict(long maxIdleNanos) {
        long now = System.nanoTime();
        for (ArrayDeque<BackendConnection> queue : idle.values()) {
            for (Iterator<BackendConnection> it = queue.iterator(); it.hasNext(); ) {
                BackendConnection connection = it.next();
                if (!connection.isUsable() || !connection.server().acceptsNewWork()
                        || now - connection.idleSinceNanos() > maxIdleNanos) {
                    it.remove();
                    connection.server().free.decrementAndGet();
                    connection.close();
                }
            }
        }
    }
}
