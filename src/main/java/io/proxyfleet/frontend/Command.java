package io.proxyfleet.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.proxyfleet.backend.BackendConnection;
import io.proxyfleet.backend.BackendConnector;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.cache.QueryCache;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ResponseTracker;
import io.proxyfleet.routing.SessionVariable;
import io.proxyfleet.stats.EventsLog;
import io.proxyfleet.stats.QueryDigestStats;
import java.util.ArrayList;
import java.util.List;

/**
 * One client command from its first packet to its end, and everything that belongs to it: its packets (kept
 * until the first reply byte so that a safe retry can resend them), its deadline and kill state, its retry
 * budget, the query-cache capture, the digest and events-log records, and the schema or variables it changes
 * once the backend says OK. It ends exactly once, by {@link #complete} or {@link #fail}; both release everything,
 * so nothing of one command can leak into the next. A new object per command, never reused, for that reason.
 * Owned by the session's event loop.
 */
final class Command implements BackendConnector.Callback {
    final int code;
    final long startNanos;
    /** SqlCommand index for stats_mysql_commands_counters; UNKNOWN for non-query commands. */
    int sqlIndex;
    QueryDigestStats.Entry digest;
    int hostgroup = -1;
    /** How long a rule makes the query wait before it runs (throttling), in ms. */
    long delayMillis;
    /** A rule's timeout for this query in ms, or 0 for mysql-default_query_timeout. */
    long ruleTimeoutMillis;
    /** A rule's retries for this query, or -1 for mysql-query_retries_on_failure. */
    int ruleRetries = -1;
    /** When the command times out (rule timeout or mysql-default_query_timeout), in nanoTime. */
    long deadlineNanos = Long.MAX_VALUE;
    /** When the proxy-internal step in progress (alignment, re-prepare) must be done, in nanoTime. */
    long phaseDeadlineNanos = Long.MAX_VALUE;
    /** KILL QUERY was sent for this command: whatever happens next, it must never run again. */
    boolean killed;
    int retriesLeft;
    /** A plain SELECT without locking clauses or side effects the proxy can see: safe to run again. */
    boolean readOnly;
    /** Some byte of the command may have reached a server. */
    boolean sent;
    /** Some byte of the reply reached the client. */
    boolean replyStarted;
    /** The client's prepared statement this command works on (execute, fetch, reset, long data). */
    SessionStatement statement;
    /** The SQL of a COM_STMT_PREPARE. */
    String preparingSql;
    /** The schema a COM_INIT_DB or USE switches to once the backend says OK. */
    String pendingSchema;
    /** Tracked variables of a SET sent to the held backend, recorded once it says OK. */
    List<SessionVariable> pendingVariables;
    private Capture capture;
    private EventsLog.Event logged;

    private ClientSession owner;
    private ByteBuf first;
    /** Continuation packets of a 16 MiB+ command; null for the usual single packet. */
    private List<ByteBuf> more;
    private long bytes;
    private boolean finished;

    Command(int code, long startNanos) {
        this.code = code;
        this.startNanos = startNanos;
    }

    /** Starts assembling a command from its first physical packet, before its code is known to be valid. */
    static Command assemble(ByteBuf packet, long startNanos) {
        int payloadLength = Packets.payloadLength(packet, packet.readerIndex());
        int code = payloadLength == 0 ? -1 : packet.getUnsignedByte(packet.readerIndex() + Packets.HEADER_SIZE);
        Command command = new Command(code, startNanos);
        command.first = packet;
        command.bytes = payloadLength;
        return command;
    }

    void append(ByteBuf packet) {
        if (more == null) {
            more = new ArrayList<>(2);
        }
        more.add(packet);
        bytes += Packets.payloadLength(packet, packet.readerIndex());
    }

    long bytes() {
        return bytes;
    }

    ByteBuf first() {
        return first;
    }

    int packetCount() {
        return first == null ? 0 : more == null ? 1 : 1 + more.size();
    }

    /** Replaces the first packet (a rewritten query, a statement id of the connection); takes ownership. */
    void replaceFirst(ByteBuf packet) {
        if (first != null) {
            first.release();
        }
        first = packet;
        if (more != null) {
            more.forEach(ByteBuf::release);
            more = null;
        }
        bytes = Packets.payloadLength(packet, packet.readerIndex());
    }

    /** Writes the packets to {@code backend} (not flushed), keeping them for a retry until the reply starts. */
    void writeTo(BackendConnection backend) {
        sent = true;
        backend.write(first.retainedDuplicate());
        if (more != null) {
            for (ByteBuf packet : more) {
                backend.write(packet.retainedDuplicate());
            }
        }
    }

    /** The first reply byte reached the client: the command can no longer be retried. */
    void replyStarted() {
        replyStarted = true;
        releasePackets();
    }

    /**
     * Whether the command may run again on another connection after its connection died. Only when running it
     * again cannot change what the database does: nothing of the reply reached the client, it was never killed,
     * the session held no state on the dead connection, and either it never left the proxy or it only reads.
     */
    boolean mayRetry(SessionPins pins) {
        return retriesLeft > 0 && !replyStarted && !killed && first != null && !pins.holdsServerState()
                && (!sent || readOnly);
    }

    /** This command, as the connector's callback for its session's connection request. */
    BackendConnector.Callback awaitConnection(ClientSession session) {
        owner = session;
        return this;
    }

    @Override
    public void acquired(BackendConnection connection) {
        owner.acquired(this, connection);
    }

    @Override
    public void failed(ErrPacket error) {
        owner.failed(this, error);
    }

    /** A connect attempt goes on only while this command still waits for it. */
    @Override
    public boolean stillWaiting() {
        return owner.awaits(this);
    }

    /** Records the response for the query cache, up to {@code maxBytes}; past that the capture is dropped. */
    void captureForCache(ByteBufAllocator alloc, QueryCache.Key key, byte[] query, long ttlMillis,
                         boolean storeEmpty, long maxBytes) {
        capture = new Capture(alloc.compositeBuffer(), key, query, ttlMillis, storeEmpty, maxBytes);
    }

    /** A reply packet on its way to the client; copies nothing, the capture holds a retained slice. */
    void captured(ByteBuf packet) {
        Capture c = capture;
        if (c == null) {
            return;
        }
        if (c.buffer.readableBytes() + (long) packet.readableBytes() > c.maxBytes) {
            c.buffer.release();
            capture = null; // too big for the cache: stop holding it
            return;
        }
        c.buffer.addComponent(true, packet.retainedDuplicate());
    }

    /** The query goes to the events log when it completes. */
    void log(EventsLog.Event event) {
        logged = event;
    }

    /**
     * The command is done: its reply went to the client in full, from a backend ({@code tracker} and
     * {@code backend} say what it did and where) or from the proxy (both null).
     */
    void complete(ResponseTracker tracker, TrafficContext context, BackendConnection backend, long nowNanos) {
        long micros = (nowNanos - startNanos) / 1000;
        long affected = tracker == null ? 0 : tracker.affectedRows();
        long rows = tracker == null ? 0 : tracker.rows();
        if (digest != null) {
            digest.record(micros, affected, rows);
        }
        if (logged != null && backend != null) {
            var server = backend.server().key();
            context.eventsLog().add(logged.finished(server.hostgroupId(), server.hostname() + ":" + server.port(),
                    micros, affected, rows));
        }
        Capture c = capture;
        capture = null;
        if (c != null) {
            try {
                if (tracker != null && !tracker.error() && (rows > 0 || c.storeEmpty)) {
                    byte[] response = new byte[c.buffer.readableBytes()];
                    c.buffer.getBytes(c.buffer.readerIndex(), response);
                    context.queryCache().put(c.key, c.query, response, c.ttlMillis, c.maxBytes,
                            System.currentTimeMillis());
                }
            } finally {
                c.buffer.release();
            }
        }
        finish();
    }

    /** The command ended without a complete reply from a backend (answered locally, refused, or lost). */
    void fail() {
        finish();
    }

    private void finish() {
        if (finished) {
            throw new IllegalStateException("command finished twice");
        }
        finished = true;
        releasePackets();
        if (capture != null) {
            capture.buffer.release();
            capture = null;
        }
        logged = null;
        digest = null;
        pendingVariables = null;
        pendingSchema = null;
    }

    private void releasePackets() {
        if (first != null) {
            first.release();
            first = null;
        }
        if (more != null) {
            more.forEach(ByteBuf::release);
            more = null;
        }
    }

    private record Capture(CompositeByteBuf buffer, QueryCache.Key key, byte[] query, long ttlMillis,
                           boolean storeEmpty, long maxBytes) {
    }
}
