package io.proxyfleet.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.proxyfleet.config.ServerKey;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.Packets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend connections of one event loop: the idle ones, and a register of every logged-in one so that an
 * OFFLINE_HARD server or a removed one can be cut at once, lent connections included. Connections never change
 * loop, so the pool needs no locks: every method runs on its loop, including the periodic
 * {@link #houseKeep housekeeper} (after HikariCP's HouseKeeper). Sessions on other loops have pools of their own.
 *
 * <p>While the housekeeper pings an idle connection it lends it to the pool itself, so no session can take it
 * and the lent/idle counters stay true.
 *
 * <p>Connections move between loops only by being closed on one and opened on the other, so a loop gives one up
 * only when it holds more than its share ({@link #holdsMoreThan}) or has not used it for {@link #UNUSED_NANOS}:
 * two loops that both have work keep their connections instead of trading them back and forth.
 */
public final class BackendPool implements BackendListener {
    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
    /**
     * How long a pooled connection must have been idle before the housekeeper trims it, or before another loop
     * may take its slot although this loop holds no more than its share: a whole housekeeping period, far longer
     * than a loaded loop takes to hand a returned connection to its next session.
     */
    private static final long UNUSED_NANOS = TimeUnit.MILLISECONDS.toNanos(BackendPools.HOUSEKEEPING_MILLIS);
    /** ProxySQL's default mysql-max_stmts_per_connection, for releases that do not say otherwise. */
    private static final int DEFAULT_MAX_STATEMENTS = 20;
    private static final int PERCENT = 100;

    private final BackendPools pools;
    private final EventLoop loop;
    private final Map<PoolKey, ArrayDeque<BackendConnection>> idle = new HashMap<>();
    /** Idle connections per server on this loop; read by other loops looking for capacity, hence concurrent. */
    private final Map<ServerKey, AtomicInteger> idleCount = new ConcurrentHashMap<>();
    /** Every logged-in connection of this loop, idle or lent, until its channel closes. */
    private final Set<BackendConnection> open = new HashSet<>();
    /** Logged-in connections per server on this loop; read by other loops weighing whether to ask for one. */
    private final Map<ServerKey, AtomicInteger> openCount = new ConcurrentHashMap<>();
    /** Set by a loop that asked this one to give up a connection, until the request runs: one at a time. */
    final AtomicBoolean evictionAsked = new AtomicBoolean();
    /**
     * When another loop last asked this one for a connection it does not use: it may close only one unused for
     * {@link #UNUSED_NANOS}, so asking more often than that finds nothing more; any thread.
     */
    private final AtomicLong unusedAskedNanos = new AtomicLong(System.nanoTime() - UNUSED_NANOS);
    /**
     * A loop that asked for a connection to {@link #owedServer} while this one held more than its share and had
     * none idle: the next connection to that server returned here closes instead, its slot going to that loop.
     */
    private EventLoop owedLoop;
    private ServerRuntime owedServer;
    /** Connect attempts of this loop waiting at a server's max_connections, looked at every check period. */
    private ArrayList<Waiting> waiting = new ArrayList<>();
    private ArrayList<Waiting> checking = new ArrayList<>();
    /**
     * Connections that sessions of this loop keep between statements ({@link BackendConnection#keep}), linked
     * through the connections themselves so that keeping one allocates nothing; the head was kept longest.
     */
    private BackendConnection keptHead;
    private BackendConnection keptTail;
    /** How many are kept; written on the loop only, read by other loops looking for one to take back. */
    private volatile int keptCount;

    BackendPool(BackendPools pools, EventLoop loop) {
        this.pools = pools;
        this.loop = loop;
    }

    /** Registers a connection that just logged in on this loop, so that {@link #cut} finds it while lent. */
    void track(BackendConnection connection) {
        connection.trackedBy(this);
        open.add(connection);
        AtomicInteger count = openCount.computeIfAbsent(connection.server().key(), k -> new AtomicInteger());
        count.incrementAndGet();
        connection.channel().closeFuture().addListener(f -> {
            open.remove(connection);
            count.decrementAndGet();
        });
    }

    /** Whether another loop may ask now for a connection this loop does not use (at most once per period). */
    boolean mayAskForUnused(long nowNanos) {
        long last = unusedAskedNanos.get();
        return nowNanos - last >= UNUSED_NANOS && unusedAskedNanos.compareAndSet(last, nowNanos);
    }

    /** Logged-in connections to {@code server} on this loop, idle or lent; any thread may ask. */
    int openCount(ServerKey server) {
        AtomicInteger count = openCount.get(server);
        return count == null ? 0 : count.get();
    }

    /**
     * Whether a loop holding {@code held} connections to a server should give one up to a loop holding
     * {@code asking} whose sessions wait: when it holds more than one more, or when the asking loop has none
     * (else sessions there would wait until their deadline). Within one of each other, both keep theirs.
     */
    static boolean holdsMoreThan(int held, int asking) {
        return asking == 0 ? held > 0 : held > asking + 1;
    }

    /** A connect attempt of this loop waiting at a server's max_connections. */
    interface Waiting {
        /**
         * Looks at the wait again: past its deadline it fails; woken by nothing for a while, it looks for a
         * connection again (a wake-up may have gone to a session that no longer waited).
         *
         * @return whether it still waits
         */
        boolean recheck(long nowNanos);
    }

    /** Adds a waiting attempt to the periodic check ({@link #checkWaiting}); once per wait, on this loop. */
    void await(Waiting attempt) {
        waiting.add(attempt);
    }

    /**
     * The periodic check of this loop's waiting attempts: one task per loop instead of a timer per wait.
     * An attempt that ends or waits anew during the pass may add attempts, which go to the next pass.
     */
    void checkWaiting() {
        if (waiting.isEmpty()) {
            return;
        }
        ArrayList<Waiting> pass = waiting;
        waiting = checking;
        checking = pass;
        long now = System.nanoTime();
        try {
            for (Waiting attempt : pass) {
                if (attempt.recheck(now)) {
                    waiting.add(attempt);
                }
            }
        } finally {
            pass.clear();
        }
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
        taken(last);
        return last;
    }

    void kept(BackendConnection connection) {
        connection.keptPrev = keptTail;
        connection.keptNext = null;
        if (keptTail == null) {
            keptHead = connection;
        } else {
            keptTail.keptNext = connection;
        }
        keptTail = connection;
        keptCount = keptCount + 1; // one writer, the loop
    }

    void unkept(BackendConnection connection) {
        BackendConnection prev = connection.keptPrev;
        BackendConnection next = connection.keptNext;
        if (prev == null) {
            keptHead = next;
        } else {
            prev.keptNext = next;
        }
        if (next == null) {
            keptTail = prev;
        } else {
            next.keptPrev = prev;
        }
        connection.keptPrev = null;
        connection.keptNext = null;
        keptCount = keptCount - 1;
    }

    int keptCount() {
        return keptCount;
    }

    /**
     * Takes back the connection to {@code server} kept longest by a session of this loop between its statements,
     * because another session needs one: the one kept longest is the least likely to be wanted again at once.
     * With {@code reuseKey}, only a connection of that key is taken, and it goes to the idle queue for the asking
     * session (or the first waiter of this loop). Without, any connection to the server is closed, which frees its
     * slot for a session of any loop.
     *
     * @return true when a connection was taken back
     */
    boolean reclaimKept(ServerRuntime server, PoolKey reuseKey) {
        return reclaimKept(server, reuseKey, null);
    }

    /** As {@link #reclaimKept(ServerRuntime, PoolKey)}; a closed connection's slot goes first to {@code forLoop}. */
    boolean reclaimKept(ServerRuntime server, PoolKey reuseKey, EventLoop forLoop) {
        for (BackendConnection connection = keptHead; connection != null; connection = connection.keptNext) {
            if (connection.server() == server && (reuseKey == null || reuseKey.equals(connection.key()))) {
                BackendListener keeper = connection.listener();
                connection.unkeep();
                if (keeper == null || !keeper.giveBack(connection)) {
                    return false;
                }
                if (reuseKey != null) {
                    release(connection, true);
                } else {
                    connection.close(forLoop);
                }
                return true;
            }
        }
        return false;
    }

    int idleCount(ServerKey server) {
        AtomicInteger count = idleCount.get(server);
        return count == null ? 0 : count.get();
    }

    private AtomicInteger idleCounter(ServerKey server) {
        return idleCount.computeIfAbsent(server, k -> new AtomicInteger());
    }

    /** A connection left the idle queues (the caller removed it): the counters follow. */
    private void taken(BackendConnection connection) {
        connection.server().free.decrementAndGet();
        idleCounter(connection.server().key()).decrementAndGet();
    }

    /** Takes an idle, still-open connection for {@code key}, or returns {@code null}. */
    BackendConnection poll(PoolKey key) {
        ArrayDeque<BackendConnection> queue = idle.get(key);
        if (queue == null) {
            return null;
        }
        BackendConnection connection;
        while ((connection = queue.pollLast()) != null) {
            taken(connection);
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
     * pool key promises. So is one older than mysql-connection_max_age_ms, or one whose server stopped taking
     * new work.
     */
    public void release(BackendConnection connection, boolean clean) {
        release(connection, clean, DEFAULT_MAX_STATEMENTS);
    }

    /** As {@link #release(BackendConnection, boolean)}, keeping at most {@code maxStatements} statements. */
    public void release(BackendConnection connection, boolean clean, int maxStatements) {
        connection.unlend();
        if (!clean || !connection.isUsable() || !connection.server().acceptsNewWork()
                || pools.settings().tooOld(connection.createdNanos(), System.nanoTime())) {
            connection.close();
            return;
        }
        if (owedServer == connection.server()) {
            EventLoop to = owedLoop;
            owedServer = null;
            owedLoop = null;
            ServerRuntime server = connection.server();
            if (server.hasWaiters(to) && holdsMoreThan(openCount(server.key()), pools.openCount(to, server.key()))) {
                connection.close(to);
                return;
            }
        }
        connection.trimStatements(maxStatements);
        offer(connection);
    }

    /**
     * A loop holding {@code asking} connections to {@code server}, whose sessions wait, asked for one. While this
     * loop holds more than its share it closes its oldest idle connection, or else one that a session keeps
     * between statements. Otherwise it closes only a connection unused for {@link #UNUSED_NANOS}: a connection
     * just returned is about to serve a session of this loop, and closing it would only have that session open
     * one again (connections churned this way, hundreds in seconds, before this rule).
     */
    void closeOneIdle(ServerRuntime server, EventLoop askingLoop, int asking) {
        evictionAsked.set(false);
        long now = System.nanoTime();
        boolean surplus = holdsMoreThan(openCount(server.key()), asking);
        long idleAtLeast = surplus ? 0 : UNUSED_NANOS;
        for (ArrayDeque<BackendConnection> queue : idle.values()) {
            for (Iterator<BackendConnection> it = queue.iterator(); it.hasNext(); ) {
                BackendConnection connection = it.next();
                if (connection.server() == server && now - connection.idleSinceNanos() >= idleAtLeast) {
                    it.remove();
                    taken(connection);
                    connection.close(askingLoop);
                    return;
                }
            }
        }
        if (surplus && !reclaimKept(server, null, askingLoop)) {
            // Every connection is lent: a busy loop hands a returned one straight to its next session, so none
            // is ever idle when this runs. The next one returned pays the debt.
            owedServer = server;
            owedLoop = askingLoop;
        }
    }

    /** Closes every connection of this loop to {@code server}, idle ones quietly, lent ones as lost. */
    void cut(ServerRuntime server) {
        for (ArrayDeque<BackendConnection> queue : idle.values()) {
            for (Iterator<BackendConnection> it = queue.iterator(); it.hasNext(); ) {
                BackendConnection connection = it.next();
                if (connection.server() == server) {
                    it.remove();
                    taken(connection);
                    connection.close();
                }
            }
        }
        // Sessions told of the loss may open new connections here at once, so the register is not iterated live.
        List<BackendConnection> lent = new ArrayList<>();
        for (BackendConnection connection : open) {
            if (connection.server() == server) {
                lent.add(connection);
            }
        }
        for (BackendConnection connection : lent) {
            connection.cut();
        }
    }

    /**
     * One housekeeping pass over the idle connections: those broken, whose server stopped taking new work, or
     * older than mysql-connection_max_age_ms are closed (the next acquire opens a fresh one); those idle for
     * mysql-ping_interval_server_msec are pinged, and closed unless the server answers within
     * mysql-ping_timeout_server; finally each server keeps at most mysql-free_connections_pct percent of its
     * max_connections idle, across all loops, and the oldest idle ones beyond that are closed.
     */
    void houseKeep() {
        try {
            keepHouse();
        } catch (RuntimeException e) {
            // A periodic task that throws is never run again; one bad pass (a malformed variable, say) must not
            // end housekeeping for the life of the loop.
            log.error("Backend pool housekeeping failed on {}: {}", loop, e.toString(), e);
        }
    }

    private void keepHouse() {
        BackendPools.Settings settings = pools.settings();
        long now = System.nanoTime();
        List<BackendConnection> toPing = null;
        for (ArrayDeque<BackendConnection> queue : idle.values()) {
            for (Iterator<BackendConnection> it = queue.iterator(); it.hasNext(); ) {
                BackendConnection connection = it.next();
                boolean dead = !connection.isUsable() || !connection.server().acceptsNewWork()
                        || settings.tooOld(connection.createdNanos(), now);
                boolean due = !dead && settings.pingIntervalNanos() > 0
                        && now - connection.idleSinceNanos() >= settings.pingIntervalNanos();
                if (dead || due) {
                    it.remove();
                    taken(connection);
                }
                if (dead) {
                    connection.close();
                } else if (due) {
                    if (toPing == null) {
                        toPing = new ArrayList<>();
                    }
                    toPing.add(connection);
                }
            }
        }
        trim(settings, now);
        if (toPing != null) {
            for (BackendConnection connection : toPing) {
                ping(connection, settings.pingTimeoutMillis());
            }
        }
    }

    private void trim(BackendPools.Settings settings, long now) {
        for (ArrayDeque<BackendConnection> queue : idle.values()) {
            // The head of each queue is the connection returned longest ago.
            BackendConnection oldest;
            // While a session waits for the server, a trimmed connection would only be opened again at once.
            while ((oldest = queue.peekFirst()) != null && now - oldest.idleSinceNanos() >= UNUSED_NANOS
                    && !oldest.server().hasWaiters() && claimSurplus(oldest.server(), keepIdle(oldest.server(), settings))) {
                queue.pollFirst();
                idleCounter(oldest.server().key()).decrementAndGet();
                oldest.close();
            }
        }
    }

    /**
     * Takes one idle slot of {@code server} if more than {@code keep} are idle across all loops. Loops trim at
     * the same time, so the count is claimed by compare-and-set: together they never go below {@code keep}.
     */
    private static boolean claimSurplus(ServerRuntime server, long keep) {
        while (true) {
            int idleNow = server.free.get();
            if (idleNow <= keep) {
                return false;
            }
            if (server.free.compareAndSet(idleNow, idleNow - 1)) {
                return true;
            }
        }
    }

    private static long keepIdle(ServerRuntime server, BackendPools.Settings settings) {
        return (long) server.config().maxConnections() * settings.freeConnectionsPct() / PERCENT;
    }

    /** Sends COM_PING on an idle connection taken out of the queues; it goes back only if the server answers. */
    private void ping(BackendConnection connection, long timeoutMillis) {
        connection.lend(this);
        var ping = new Ping(connection);
        loop.schedule(ping, timeoutMillis, TimeUnit.MILLISECONDS);
        connection.runInternal(pingCommand(connection), ping);
    }

    private static ByteBuf pingCommand(BackendConnection connection) {
        ByteBuf out = connection.channel().alloc().buffer(Packets.HEADER_SIZE + 1);
        int start = Packets.begin(out, 0);
        out.writeByte(Commands.PING);
        Packets.finish(out, start);
        return out;
    }

    /** One housekeeping ping: its answer returns the connection, its timeout (the Runnable) closes it. */
    private final class Ping implements Consumer<ErrPacket>, Runnable {
        private final BackendConnection connection;
        private boolean finished;

        Ping(BackendConnection connection) {
            this.connection = connection;
        }

        @Override
        public void accept(ErrPacket error) {
            if (finished) {
                return;
            }
            finished = true;
            if (error == null) {
                release(connection, true);
            } else {
                connection.close();
            }
        }

        @Override
        public void run() {
            if (!finished) {
                finished = true;
                connection.close();
            }
        }
    }

    // ---- the pool as the listener of connections it pings ------------------------------------------------------

    /** A pinged connection answers through the ping's callback; anything else leaves its state unknown. */
    @Override
    public void onBackendPacket(BackendConnection connection, ByteBuf packet) {
        packet.release();
        connection.close();
    }

    @Override
    public void onBackendReadComplete(BackendConnection connection) {
        // Nothing to flush: the pool relays nothing.
    }

    @Override
    public void onBackendClosed(BackendConnection connection, io.proxyfleet.protocol.ErrPacket error) {
        // The ping's callback hears of it as a failed ping.
    }

    List<List<Object>> snapshot() {
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
}
