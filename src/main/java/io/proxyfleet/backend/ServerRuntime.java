package io.proxyfleet.backend;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.ServerKey;
import io.proxyfleet.config.ServerStatus;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live state of one server in one hostgroup: its current configuration, its health status and its counters.
 * Shared by every event loop; every field is safe to read and update from any thread.
 */
public final class ServerRuntime {
    private final ServerKey key;
    private volatile MysqlServer config;
    private volatile ServerStatus status;
    /** Connections lent to sessions, on every event loop. */
    final AtomicInteger used = new AtomicInteger();
    /** Idle connections sitting in the event loops' pools. */
    final AtomicInteger free = new AtomicInteger();
    /** Connections being opened or logging in. */
    final AtomicInteger opening = new AtomicInteger();
    final LongAdder connectOk = new LongAdder();
    final LongAdder connectErrors = new LongAdder();
    final LongAdder queries = new LongAdder();
    final LongAdder bytesSent = new LongAdder();
    final LongAdder bytesReceived = new LongAdder();
    /** Sessions waiting for this server's max_connections to leave room, as wake-up actions. */
    private final java.util.Map<Object, java.util.concurrent.ConcurrentLinkedDeque<Waiter>> waiters =
            new java.util.concurrent.ConcurrentHashMap<>();
    private volatile long lastErrorNanos;
    /** Latency of the last successful monitor ping, in microseconds; 0 until the monitor measured one. */
    private volatile long pingLatencyMicros;
    private volatile int recentErrors;

    ServerRuntime(MysqlServer config) {
        this.key = config.key();
        this.config = config;
        this.status = config.status();
    }

    public ServerKey key() {
        return key;
    }

    public MysqlServer config() {
        return config;
    }

    public ServerStatus status() {
        return status;
    }

    void reconfigure(MysqlServer next) {
        this.config = next;
        this.status = next.status();
    }

    /** Sets the health status; used by the monitor and by connect-error shunning. */
    public void status(ServerStatus next) {
        this.status = next;
    }

    public int usedConnections() {
        return used.get();
    }

    public int freeConnections() {
        return free.get();
    }

    public long connectOk() {
        return connectOk.sum();
    }

    public long connectErrors() {
        return connectErrors.sum();
    }

    public long queries() {
        return queries.sum();
    }

    public long bytesSent() {
        return bytesSent.sum();
    }

    public long bytesReceived() {
        return bytesReceived.sum();
    }

    /** Latency of the last successful monitor ping (Latency_us in stats_mysql_connection_pool). */
    public long pingLatencyMicros() {
        return pingLatencyMicros;
    }

    /** Recorded by the monitor after each successful ping; feeds max_latency_ms (reference §5.1.2). */
    public void pingLatencyMicros(long micros) {
        this.pingLatencyMicros = micros;
    }

    /** True when sessions may be sent here: ONLINE. Whether a connection is at hand is a separate question. */
    boolean acceptsConnections() {
        return status == ServerStatus.ONLINE;
    }

    /**
     * True when one more connection may be opened: the lent, idle and opening ones together stay within
     * max_connections, so the server never sees more than that from this node.
     */
    boolean mayOpen() {
        return used.get() + free.get() + opening.get() < config.maxConnections();
    }

    /** True while the server may receive new work: ONLINE (an OFFLINE_SOFT server drains, others are cut). */
    boolean acceptsNewWork() {
        return status == ServerStatus.ONLINE;
    }

    /**
     * Records a failed connect. Shuns the server after mysql-shun_on_failures errors within one second, as
     * ProxySQL does, so that sessions stop waiting on a dead server.
     */
    void connectFailed(long nowNanos, int shunOnFailures) {
        connectErrors.increment();
        if (nowNanos - lastErrorNanos > 1_000_000_000L) {
            recentErrors = 0;
        }
        lastErrorNanos = nowNanos;
        if (++recentErrors >= shunOnFailures && status == ServerStatus.ONLINE) {
            status = ServerStatus.SHUNNED;
        }
    }

    /**
     * Shuns the server automatically, as of {@code nowNanos}: it stays out of rotation until
     * shun_recovery_time_sec passed without a new error. Used by the monitor when pings fail; calling it again
     * while the server stays unreachable pushes the recovery back. Servers taken offline by the user are left
     * alone.
     */
    public void shun(long nowNanos) {
        ServerStatus current = status;
        if (current == ServerStatus.OFFLINE_SOFT || current == ServerStatus.OFFLINE_HARD) {
            return;
        }
        lastErrorNanos = nowNanos;
        status = ServerStatus.SHUNNED;
    }

    /** Brings an automatically shunned server back once shun_recovery_time_sec passed since its last error. */
    public void maybeRecover(long nowNanos, long recoveryNanos) {
        if (status == ServerStatus.SHUNNED && config.status() == ServerStatus.ONLINE
                && nowNanos - lastErrorNanos >= recoveryNanos) {
            recentErrors = 0;
            status = ServerStatus.ONLINE;
        }
    }

    /** A session waiting for a connection to this server; {@link #wake} is false when it no longer waits. */
    interface Waiter {
        boolean wake();
    }

    /**
     * Registers a waiting session, kept per event loop because a returned connection can only serve a session
     * of its own loop. A session that was woken but lost the connection goes back to the head ({@code first}),
     * so that waiters are served in order and none starves.
     */
    void awaitCapacity(Object loop, Waiter waiter, boolean first) {
        var queue = waiters.computeIfAbsent(loop, l -> new java.util.concurrent.ConcurrentLinkedDeque<>());
        if (first) {
            queue.addFirst(waiter);
        } else {
            queue.addLast(waiter);
        }
    }

    /** Whether sessions of {@code loop} wait for a connection here: newcomers then queue behind them. */
    boolean hasWaiters(Object loop) {
        var queue = waiters.get(loop);
        return queue != null && !queue.isEmpty();
    }

    /**
     * A connection came back to {@code loop}'s pool: wake the first waiting session of that loop, which takes
     * it. Only when none waits there does a session of another loop look again (it then borrows the slot).
     */
    void connectionReturned(Object loop) {
        if (!wakeFirst(waiters.get(loop))) {
            connectionClosed();
        }
    }

    /** A connection went away, freeing a slot any loop may use: let one waiting session look again. */
    void connectionClosed() {
        for (var queue : waiters.values()) {
            if (wakeFirst(queue)) {
                return;
            }
        }
    }

    private static boolean wakeFirst(java.util.concurrent.ConcurrentLinkedDeque<Waiter> queue) {
        if (queue == null) {
            return false;
        }
        Waiter waiter;
        while ((waiter = queue.pollFirst()) != null) {
            if (waiter.wake()) {
                return true;
            }
        }
        return false;
    }

    void connectSucceeded() {
        connectOk.increment();
        recentErrors = 0;
    }

    @Override
    public String toString() {
        return key.toString();
    }
}
