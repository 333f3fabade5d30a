package io.proxyfleet.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.proxyfleet.backend.BackendConnection;
import io.proxyfleet.backend.BackendConnector;
import io.proxyfleet.backend.BackendListener;
import io.proxyfleet.backend.BackendPool;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ProtocolException;
import io.proxyfleet.protocol.ResponseTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A query rule's mirror_hostgroup: the same query runs once more on another hostgroup, in the background, and
 * its result is discarded (ProxySQL's mirror sessions, for testing a new server under real traffic). At most
 * mysql-mirror_max_concurrency run at once per event loop; beyond that a mirror is dropped, never queued
 * against the client. Owned by the event loop of the session that started it.
 */
final class MirrorQuery implements BackendListener, BackendConnector.Callback {
    private static final Logger log = LoggerFactory.getLogger(MirrorQuery.class);
    private static final FastThreadLocal<int[]> RUNNING = new FastThreadLocal<>() {
        @Override
        protected int[] initialValue() {
            return new int[1];
        }
    };

    /** The pool of the session's loop, where the connection goes back. */
    private final BackendPool pool;
    private final ByteBuf query;
    private final ResponseTracker tracker = new ResponseTracker();
    private BackendConnection backend;

    private MirrorQuery(BackendPool pool, ByteBuf query) {
        this.pool = pool;
        this.query = query;
    }

    /** Starts a mirror of {@code query} (a whole COM_QUERY packet, retained for the mirror) unless too many run. */
    static void start(TrafficContext context, EventLoop loop, RuntimeConfig cfg, BackendConnector.Request request,
                      ByteBuf query) {
        int[] running = RUNNING.get();
        if (running[0] >= cfg.mysqlVariables().getInt("mirror_max_concurrency")) {
            query.release();
            return;
        }
        running[0]++;
        var mirror = new MirrorQuery(context.connector().pool(loop), query);
        context.connector().acquire(loop, cfg, request, mirror, mirror);
    }

    @Override
    public void acquired(BackendConnection connection) {
        backend = connection;
        connection.channel().config().setAutoRead(false);
        tracker.start(ResponseTracker.Expect.RESULT, connection.deprecateEof(), false);
        connection.write(query);
        connection.flush();
        connection.channel().read();
    }

    @Override
    public void failed(ErrPacket error) {
        if (log.isDebugEnabled()) {
            log.debug("Mirror query could not reach its hostgroup: {}", error.message());
        }
        query.release();
        finished();
    }

    @Override
    public void onBackendPacket(BackendConnection connection, ByteBuf packets) {
        try {
            ResponseTracker.Step step = ResponseTracker.Step.MORE;
            int index = packets.readerIndex();
            while (step == ResponseTracker.Step.MORE && index < packets.writerIndex()) {
                step = tracker.onPacket(packets, index);
                index += Packets.HEADER_SIZE + Packets.payloadLength(packets, index);
            }
            if (step == ResponseTracker.Step.LOCAL_INFILE) {
                connection.close(); // a mirror has no client file to send
                finished();
            } else if (step == ResponseTracker.Step.DONE) {
                pool.release(connection,
                        (tracker.statusFlags() & io.proxyfleet.protocol.StatusFlags.IN_TRANS) == 0);
                finished();
            }
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            connection.close();
            finished();
        } finally {
            packets.release();
        }
    }

    @Override
    public void onBackendReadComplete(BackendConnection connection) {
        if (backend == connection) {
            connection.channel().read();
        }
    }

    @Override
    public void onBackendClosed(BackendConnection connection, ErrPacket error) {
        finished();
    }

    private boolean done;

    private void finished() {
        if (!done) {
            done = true;
            RUNNING.get()[0]--;
        }
    }
}
