package io.proxyfleet.backend;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.ServerKey;
import io.proxyfleet.config.ServerStatus;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live state of one server in one hostgroup: its current configuration, its health status and its counters.
 * Shared by every event loop; every field is safe to read and update from any thread.
 *
 * <p>The status has two writers with a fixed precedence. The operator (a load of {@code mysql_servers}, on the
 * thread that publishes it) sets the configured status, and it always takes effect. Automatic events (connect
 * errors on event loops, the monitor's pings and lag checks) move the status only while the configured status is
 * ONLINE, so a recovery can never undo an operator's OFFLINE_SOFT, OFFLINE_HARD or SHUNNED. Both statuses live in
 * one word changed by compare-and-set, so no writer acts on a status another one has just replaced.
 */
public final class ServerRuntime {
    private static final VarHandle STATE;
    private static final int STATUS_BITS = 8;
    private static final int STATUS_MASK = (1 << STATUS_BITS) - 1;
    private static final ServerStatus[] STATUSES = ServerStatus.values();
    /** Connect errors further apart than this start a new count (ProxySQL counts errors per second). */
    private static final long ERROR_WINDOW_NANOS = 1_000_000_000L;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(ServerRuntime.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What moves a server's status without the operator. */
    enum Event {
        /** Too many connect errors, or missed monitor pings. */
        SHUN,
        /** shun_recovery_time_sec passed since the last error. */
        RECOVER,
        /** Replication lag above max_replication_lag for monitor_replication_lag_count checks. */
        LAG_SHUN,
        /** Replication lag back within max_replication_lag. */
        LAG_RECOVER
    }

    private final ServerKey key;
    private volatile MysqlServer config;
    /** The configured status and the effective one, packed as {@code configured << 8 | effective}. */
    @SuppressWarnings("unused") // written through STATE
    private volatile int state;
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
    /**
     * Waiters registered and not yet taken off a queue, on every loop (some may have stopped waiting): read per
     * statement by sessions that keep a connection, where walking the queues would allocate.
     */
    private final AtomicInteger waiting = new AtomicInteger();
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
        this.state = pack(config.status(), config.status());
    }

    public ServerKey key() {
        return key;
    }

    public MysqlServer config() {
        return config;
    }

    /** The effective status: the configured one, or what health checks made of an ONLINE server. */
    public ServerStatus status() {
        return effective(state);
    }

    /**
     * The automatic transition table: the status an {@code event} leads to from {@code current} while the operator
     * configured {@code configured}. Anything but a configured ONLINE is the operator's and stays as it is.
     */
    static ServerStatus next(ServerStatus configured, ServerStatus current, Event event) {
        if (configured != ServerStatus.ONLINE) {
            return current;
        }
        return switch (event) {
            case SHUN -> current == ServerStatus.ONLINE || current == ServerStatus.SHUNNED_REPLICATION_LAG
                    ? ServerStatus.SHUNNED : current;
            case RECOVER -> current == ServerStatus.SHUNNED ? ServerStatus.ONLINE : current;
            case LAG_SHUN -> current == ServerStatus.ONLINE ? ServerStatus.SHUNNED_REPLICATION_LAG : current;
            case LAG_RECOVER -> current == ServerStatus.SHUNNED_REPLICATION_LAG ? ServerStatus.ONLINE : current;
        };
    }

    /**
     * Applies an automatic event by compare-and-set.
     *
     * @return true when this call changed the status
     */
    boolean apply(Event event) {
        while (true) {
            int witnessed = state;
            ServerStatus current = effective(witnessed);
            ServerStatus target = next(configured(witnessed), current, event);
            if (target == current) {
                return false;
            }
            if (STATE.compareAndSet(this, witnessed, pack(configured(witnessed), target))) {
                return true;
            }
        }
    }

    /**
     * The operator's row for this server changed: its configured status takes effect whatever health checks
     * decided (ProxySQL's LOAD MYSQL SERVERS does the same).
     *
     * @return true when this made the server OFFLINE_HARD, so its connections must be cut
     */
    boolean reconfigure(MysqlServer next) {
        this.config = next;
        return configure(next.status());
    }

    /**
     * The server left the configuration: it becomes OFFLINE_HARD, as ProxySQL's removed servers do, so that any
     * session or connect attempt still holding it lets go.
     *
     * @return true when it was not OFFLINE_HARD already
     */
    boolean retire() {
        return configure(ServerStatus.OFFLINE_HARD);
    }

    private boolean configure(ServerStatus configured) {
        int previous = (int) STATE.getAndSet(this, pack(configured, configured));
        return configured == ServerStatus.OFFLINE_HARD && effective(previous) != ServerStatus.OFFLINE_HARD;
    }

    private static int pack(ServerStatus configured, ServerStatus effective) {
        return configured.ordinal() << STATUS_BITS | effective.ordinal();
    }

    private static ServerStatus configured(int packed) {
        return STATUSES[packed >>> STATUS_BITS];
    }

    private static ServerStatus effective(int packed) {
        return STATUSES[packed & STATUS_MASK];
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
        return status() == ServerStatus.ONLINE;
    }

    /**
     * True when one more connection may be opened: the lent, idle and opening ones together stay within
     * max_connections, so the server never sees more than that from this node.
     */
    boolean mayOpen() {
        return used.get() + free.get() + opening.get() < config.maxConnections();
    }

    /** True when the operator took the server out (OFFLINE_SOFT or OFFLINE_HARD) or removed it. */
    boolean takenOffline() {
        ServerStatus current = status();
        return current == ServerStatus.OFFLINE_SOFT || current == ServerStatus.OFFLINE_HARD;
    }

    /** True while the server may receive new work: ONLINE (an OFFLINE_SOFT server drains, others are cut). */
    boolean acceptsNewWork() {
        return status() == ServerStatus.ONLINE;
    }

    /**
     * Records a failed connect. Shuns the server after mysql-shun_on_failures errors within one second, as
     * ProxySQL does, so that sessions stop waiting on a dead server.
     */
    void connectFailed(long nowNanos, int shunOnFailures) {
        connectErrors.increment();
        if (nowNanos - lastErrorNanos > ERROR_WINDOW_NANOS) {
            recentErrors = 0;
        }
        lastErrorNanos = nowNanos;
        if (++recentErrors >= shunOnFailures) {
            apply(Event.SHUN);
        }
    }

    /**
     * Shuns the server automatically, as of {@code nowNanos}: it stays out of rotation until
     * shun_recovery_time_sec passed without a new error. Used by the monitor when pings fail; calling it again
     * while the server stays unreachable pushes the recovery back. A status the operator set is left alone.
     *
     * @return true when this call took the server out of rotation
     */
    public boolean shun(long nowNanos) {
        int witnessed = state;
        if (configured(witnessed) != ServerStatus.ONLINE) {
            return false;
        }
        lastErrorNanos = nowNanos;
        return apply(Event.SHUN);
    }

    /**
     * Brings an automatically shunned server back once shun_recovery_time_sec passed since its last error.
     *
     * @return true when this call brought it back
     */
    public boolean maybeRecover(long nowNanos, long recoveryNanos) {
        if (effective(state) != ServerStatus.SHUNNED || nowNanos - lastErrorNanos < recoveryNanos) {
            return false;
        }
        if (!apply(Event.RECOVER)) {
            return false;
        }
        recentErrors = 0;
        return true;
    }

    /**
     * The replication-lag check's verdict: lagging takes an ONLINE server out of rotation, catching up brings
     * back one that lag took out. Other statuses are left alone.
     *
     * @return true when the status changed
     */
    public boolean replicationLag(boolean lagging) {
        return apply(lagging ? Event.LAG_SHUN : Event.LAG_RECOVER);
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
        waiting.incrementAndGet();
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

    /** Whether any session, on any loop, may wait for a connection here: a kept connection is then given back. */
    boolean hasWaiters() {
        return waiting.get() > 0;
    }

    /**
     * A connection came back to {@code loop}'s pool: wake the first waiting session of that loop, which takes
     * it. Only when none waits there does a session of another loop look again (it then borrows the slot).
     */
    void connectionReturned(Object loop) {
        if (!wakeFirst(waiters.get(loop))) {
            connectionClosed(null);
        }
    }

    /**
     * A connection went away, freeing a slot any loop may use: let one waiting session look again, one of
     * {@code preferredLoop} when it has any (the loop that asked for the slot), else of any loop.
     */
    void connectionClosed(Object preferredLoop) {
        if (preferredLoop != null && wakeFirst(waiters.get(preferredLoop))) {
            return;
        }
        for (var queue : waiters.values()) {
            if (wakeFirst(queue)) {
                return;
            }
        }
    }

    private boolean wakeFirst(java.util.concurrent.ConcurrentLinkedDeque<Waiter> queue) {
        if (queue == null) {
            return false;
        }
        Waiter waiter;
        while ((waiter = queue.pollFirst()) != null) {
            waiting.decrementAndGet();
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
