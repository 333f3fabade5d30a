package io.proxyfleet.backend;

import io.netty.channel.EventLoop;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The backend connection pools of one node, one {@link BackendPool} per event loop that asked for one. Owned by
 * the node's {@link Hostgroups}, so two nodes in one JVM never share connections. The registry is concurrent:
 * each loop finds its own pool here, and the admin thread and the configuration publisher visit all of them,
 * always by a task submitted to the pool's loop.
 */
public final class BackendPools {
    /** How often each loop's housekeeper runs (ProxySQL's pool maintenance is as coarse). */
    static final long HOUSEKEEPING_MILLIS = 500;
    /**
     * How often each loop looks at its sessions waiting at max_connections: the deadline and the guard against a
     * missed wake-up, for all of them at once, where a timer per wait cost a scheduled task per statement.
     */
    static final long WAIT_CHECK_MILLIS = 100;
    /** How long the admin thread waits for one loop's answer before leaving it out of a stats snapshot. */
    private static final long STATS_WAIT_MILLIS = 1000;

    private final ConfigHolder config;
    private final Map<EventLoop, BackendPool> pools = new ConcurrentHashMap<>();
    private volatile Settings settings;

    BackendPools(ConfigHolder config) {
        this.config = config;
    }

    /** The mysql-* variables of pool maintenance, parsed once per loaded variables module. */
    record Settings(RuntimeConfig.Variables source, long pingIntervalNanos, long pingTimeoutMillis,
                    long maxAgeNanos, int freeConnectionsPct) {
        static Settings of(RuntimeConfig.Variables v) {
            return new Settings(v, TimeUnit.MILLISECONDS.toNanos(v.getLong("ping_interval_server_msec")),
                    v.getLong("ping_timeout_server"), TimeUnit.MILLISECONDS.toNanos(v.getLong("connection_max_age_ms")),
                    v.getInt("free_connections_pct"));
        }

        /** True when a connection opened at {@code createdNanos} outlived mysql-connection_max_age_ms (0 = never). */
        boolean tooOld(long createdNanos, long nowNanos) {
            return maxAgeNanos > 0 && nowNanos - createdNanos > maxAgeNanos;
        }
    }

    Settings settings() {
        RuntimeConfig.Variables current = config.current().mysqlVariables();
        Settings cached = settings;
        if (cached == null || cached.source() != current) {
            cached = Settings.of(current);
            settings = cached;
        }
        return cached;
    }

    /** The pool of {@code loop}, created (with its housekeeper) on first use; call on that loop. */
    public BackendPool of(EventLoop loop) {
        BackendPool pool = pools.get(loop);
        if (pool != null) {
            return pool;
        }
        pool = new BackendPool(this, loop);
        pools.put(loop, pool);
        loop.scheduleWithFixedDelay(pool::houseKeep, HOUSEKEEPING_MILLIS, HOUSEKEEPING_MILLIS, TimeUnit.MILLISECONDS);
        loop.scheduleWithFixedDelay(pool::checkWaiting, WAIT_CHECK_MILLIS, WAIT_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        return pool;
    }

    /**
     * Asks another event loop to close a connection to {@code server}, so that the calling loop, whose sessions
     * wait at max_connections, may open its own: a loop that holds more connections to it than its share
     * ({@link BackendPool#holdsMoreThan}), or one whose own sessions do not wait and that has an idle one (it
     * closes that only if unused for a while). Connections never migrate between loops, so this is how a busy
     * loop borrows capacity from another. Each loop takes one such request at a time, so waiting sessions do not
     * flood it with tasks.
     *
     * @return true when such a loop was asked (the close happens asynchronously on it, if still due)
     */
    boolean evictElsewhere(EventLoop caller, ServerRuntime server) {
        ServerKey key = server.key();
        BackendPool own = pools.get(caller);
        int asking = own == null ? 0 : own.openCount(key);
        for (Map.Entry<EventLoop, BackendPool> entry : pools.entrySet()) {
            EventLoop loop = entry.getKey();
            BackendPool pool = entry.getValue();
            if (loop == caller || loop.isShuttingDown()) {
                continue;
            }
            boolean due = BackendPool.holdsMoreThan(pool.openCount(key), asking)
                    || (!server.hasWaiters(loop) && (pool.idleCount(key) > 0 || pool.keptCount() > 0)
                    && pool.mayAskForUnused(System.nanoTime()));
            if (due && pool.evictionAsked.compareAndSet(false, true)) {
                try {
                    loop.execute(() -> pool.closeOneIdle(server, caller, asking));
                    return true;
                } catch (RejectedExecutionException e) {
                    pools.remove(loop);
                }
            }
        }
        return false;
    }

    /** Logged-in connections to {@code server} on {@code loop}; any thread. */
    int openCount(EventLoop loop, ServerKey server) {
        BackendPool pool = pools.get(loop);
        return pool == null ? 0 : pool.openCount(server);
    }

    /**
     * Whether {@code loop} may open a connection to {@code server} within max_connections: only while it holds no
     * more than any other loop whose sessions wait for one. Otherwise a slot freed for that loop (by
     * {@link #evictElsewhere}) would be taken back here by a session that runs before the other loop's does.
     */
    boolean fairToOpen(EventLoop loop, ServerRuntime server) {
        ServerKey key = server.key();
        BackendPool own = pools.get(loop);
        int held = own == null ? 0 : own.openCount(key);
        for (Map.Entry<EventLoop, BackendPool> entry : pools.entrySet()) {
            if (entry.getKey() != loop && entry.getValue().openCount(key) < held
                    && server.hasWaiters(entry.getKey())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Closes every connection to {@code server} at once, idle and lent, each on its own loop: the server became
     * OFFLINE_HARD or left the configuration. Sessions holding one hear of it as a lost connection. Called by the
     * thread that published the change; never blocks.
     */
    void cut(ServerRuntime server) {
        for (Map.Entry<EventLoop, BackendPool> entry : pools.entrySet()) {
            BackendPool pool = entry.getValue();
            try {
                entry.getKey().execute(() -> pool.cut(server));
            } catch (RejectedExecutionException e) {
                pools.remove(entry.getKey()); // the loop stopped, and its connections with it
            }
        }
    }

    /**
     * Rows of stats_mysql_free_connections from every loop's pool. Each pool is read on its own loop; the
     * caller (the admin thread) waits briefly for each, so a busy loop only delays the stats, never corrupts them.
     */
    public List<List<Object>> freeConnectionRows() {
        var rows = new ArrayList<List<Object>>();
        for (Map.Entry<EventLoop, BackendPool> entry : pools.entrySet()) {
            EventLoop loop = entry.getKey();
            if (loop.isShuttingDown()) {
                pools.remove(loop); // its node is gone, and its connections with it
                continue;
            }
            try {
                rows.addAll(loop.submit(entry.getValue()::snapshot).get(STATS_WAIT_MILLIS, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
                // A loop that does not answer in time (or just stopped) is left out of this snapshot.
            }
        }
        return rows;
    }
}
