package io.proxyfleet.backend;

import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The idle backend connections of one event loop. Connections never change loop, so the pool needs no locks:
 * every method runs on its loop. Sessions on other loops have pools of their own.
 */
public final class BackendPool {
    private static final Map<EventLoop, BackendPool> POOLS = new ConcurrentHashMap<>();

    /** How long a pooled connection must have been idle before another event loop may take its slot. */
    private static final long UNUSED_NANOS = 50_000_000L;
    /** ProxySQL's default mysql-max_stmts_per_connection, for releases that do not say otherwise. */
    private static final int DEFAULT_MAX_STATEMENTS = 20;

    private final Map<PoolKey, ArrayDeque<BackendConnection>> idle = new HashMap<>();
    /** Idle connections per server on this loop; read by other loops looking for capacity, hence concurrent. */
    private final Map<io.proxyfleet.config.ServerKey, java.util.concurrent.atomic.AtomicInteger> idleCount =
            new ConcurrentHashMap<>();

    private BackendPool() {
    }

    /** The pool of {@code loop}; call on that loop. */
    public static BackendPool of(EventLoop loop) {
        return POOLS.computeIfAbsent(loop, l -> new BackendPool());
    }

    /**
     * Takes the most recently returned connection for {@code key} if it is open and already in {@code schema}
     * (or no schema is asked for); otherwise leaves the pool as it is and returns {@code null}.
     */
    BackendConnection pollInSchema(PoolKey key, String schema) {
        ArrayDeque<BackendConnection> queue = idle.get(key);
        BackendConnection last = queue == null ? null : queue.peekLast();
        if (last == null || !last.isUsable()
                || (schema != null && !schema.isEmpty() && !schema.equals(last.schema()))) {
            return null;
        }
        queue.pollLast();
        last.server().free.decrementAndGet();
        idleCounter(last.server().key()).decrementAndGet();
        return last;
    }

    private java.util.concurrent.atomic.AtomicInteger idleCounter(io.proxyfleet.config.ServerKey server) {
        return idleCount.computeIfAbsent(server, k -> new java.util.concurrent.atomic.AtomicInteger());
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
            idleCounter(connection.server().key()).decrementAndGet();
            if (connection.isUsable()) {
                return connection;
            }
            connection.close();
        }
        return null;
    }

    /**
     * Takes a connection back from a session. A {@code clean} connection (no transaction, nothing pinned to the
     * session, variables tracked by the proxy) goes back to the pool as it is: the next borrower aligns it. Any
     * other one is closed, because resetting it (COM_RESET_CONNECTION) would also reset the character set the
     * pool key promises.
     */
    public void release(BackendConnection connection, boolean clean) {
        release(connection, clean, DEFAULT_MAX_STATEMENTS);
    }

    /** As {@link #release(BackendConnection, boolean)}, keeping at most {@code maxStatements} statements. */
    public void release(BackendConnection connection, boolean clean, int maxStatements) {
        connection.unlend();
        if (!clean || !connection.isUsable() || !connection.server().acceptsNewWork()) {
            connection.close();
            return;
        }
        connection.trimStatements(maxStatements);
        offer(connection);
    }

    /**
     * Asks some other event loop that holds an idle connection to {@code server} to close one, so that the
     * calling loop may open its own within max_connections. Connections never migrate between loops, so this is
     * how a busy loop borrows capacity from an idle one.
     *
     * @return true when such a loop was found (the close happens asynchronously on it)
     */
    static boolean evictElsewhere(EventLoop caller, io.proxyfleet.config.ServerKey server) {
        for (Map.Entry<EventLoop, BackendPool> entry : POOLS.entrySet()) {
            EventLoop loop = entry.getKey();
            if (loop != caller && !loop.isShuttingDown() && entry.getValue().idleCounter(server).get() > 0) {
                try {
                    loop.execute(() -> entry.getValue().closeOneIdle(server));
                    return true;
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    POOLS.remove(loop);
                }
            }
        }
        return false;
    }

    /**
     * Closes one connection to {@code server} that sat idle here for a while. A connection just returned is
     * about to serve a session of this loop, so it is left alone: borrowing it would only churn connections.
     */
    private void closeOneIdle(io.proxyfleet.config.ServerKey server) {
        long now = System.nanoTime();
        for (ArrayDeque<BackendConnection> queue : idle.values()) {
            for (Iterator<BackendConnection> it = queue.iterator(); it.hasNext(); ) {
                BackendConnection connection = it.next();
                if (connection.server().key().equals(server) && now - connection.idleSinceNanos() > UNUSED_NANOS) {
                    it.remove();
                    connection.server().free.decrementAndGet();
                    idleCounter(server).decrementAndGet();
                    connection.close();
                    return;
                }
            }
        }
    }

    /**
     * Rows of stats_mysql_free_connections from every loop's pool. Each pool is read on its own loop; the
     * caller (the admin thread) waits briefly for each, so a busy loop only delays the stats, never corrupts them.
     */
    public static List<List<Object>> freeConnectionRows() {
        var rows = new ArrayList<List<Object>>();
        for (Map.Entry<EventLoop, BackendPool> entry : POOLS.entrySet()) {
            EventLoop loop = entry.getKey();
            if (loop.isShuttingDown()) {
                POOLS.remove(loop); // its node is gone, and its connections with it
                continue;
            }
            try {
                rows.addAll(loop.submit(entry.getValue()::snapshot).get(1, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException | java.util.concurrent.RejectedExecutionException e) {
                // A loop that does not answer within a second (or just stopped) is left out of this snapshot.
            }
        }
        return rows;
    }

    private List<List<Object>> snapshot() {
        long now = System.nanoTime();
        var rows = new ArrayList<List<Object>>();
        for (ArrayDeque<BackendConnection> queue : idle.values()) {
            for (BackendConnection c : queue) {
                Map<String, String> applied = c.applied();
                var row = new ArrayList<Object>(13);
                row.add(c.threadId());
                row.add(c.server().key().hostgroupId());
                row.add(c.server().key().hostname());
                row.add(c.server().key().port());
                row.add(c.key().username());
                row.add(c.schema());
                row.add("");
                row.add(applied.getOrDefault("time_zone", ""));
                row.add(applied.getOrDefault("sql_mode", ""));
                row.add(applied.getOrDefault("autocommit", ""));
                row.add(TimeUnit.NANOSECONDS.toMillis(now - c.idleSinceNanos()));
                row.add("{}");
                row.add("");
                rows.add(row);
            }
        }
        return rows;
    }

    private void offer(BackendConnection connection) {
        connection.server().free.incrementAndGet();
        idleCounter(connection.server().key()).incrementAndGet();
        idle.computeIfAbsent(connection.key(), k -> new ArrayDeque<>()).addLast(connection);
        connection.server().connectionReturned(connection.channel().eventLoop());
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
                    idleCounter(connection.server().key()).decrementAndGet();
                    connection.close();
                }
            }
        }
    }
}
