package io.proxyfleet.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.proxyfleet.backend.BackendConnection;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ProtocolException;
import io.proxyfleet.protocol.ResponseTracker;

/**
 * Streams a backend's response to one command to the client, and holds the backend back while the client cannot
 * take more. One per session, owned by the session's event loop like the session itself; the session decides
 * everything about the command (docs/session.md), the relay only moves its reply.
 *
 * <p>The backend decoder hands over every whole packet of a socket read as one slice. The relay walks its
 * headers through the {@link ResponseTracker} to find where the response ends, then writes the slice to the
 * client as it is: one write per read, flushed once per read, however many rows the read held.
 */
final class ResultRelay {
    private final Channel client;
    private final ResponseTracker tracker = new ResponseTracker();
    /** The backend's auto-read is off because the client's socket is full. */
    private boolean backendPaused;
    private int lastSequenceId;
    /** The ERR that ended the last response, decoded before the batch holding it went to the client. */
    private ErrPacket error;

    ResultRelay(Channel client) {
        this.client = client;
    }

    /** The command went to {@code backend}: its response starts, and the backend is read. */
    void start(BackendConnection backend, ResponseTracker.Expect expect, boolean cursor) {
        tracker.start(expect, backend.deprecateEof(), cursor);
        error = null;
        backendPaused = false;
        read(backend);
    }

    /** The client sent the last of its LOCAL INFILE data: the server answers next. */
    void afterLocalInfile(BackendConnection backend) {
        tracker.afterLocalInfile();
        read(backend);
    }

    /**
     * Relays one batch of whole packets of command {@code c}'s response; takes ownership of {@code batch}.
     *
     * @return where the response stands after it: MORE, DONE (flushed), or LOCAL_INFILE (flushed)
     * @throws ProtocolException when the batch breaks the protocol, or holds packets past the response's end;
     *                           nothing of the batch reached the client then
     */
    ResponseTracker.Step relay(ByteBuf batch, Command c, SessionStatements statements, BackendConnection backend) {
        int start = batch.readerIndex();
        int end = batch.writerIndex();
        int index = start;
        int last = start;
        ResponseTracker.Step step = ResponseTracker.Step.MORE;
        try {
            while (index < end && step == ResponseTracker.Step.MORE) {
                last = index;
                step = tracker.onPacket(batch, index);
                index += Packets.HEADER_SIZE + Packets.payloadLength(batch, index);
            }
            if (index != end) {
                // A server sends nothing that was not asked for: its connection's state is unknown.
                throw new ProtocolException("the server sent packets after the end of its response");
            }
            lastSequenceId = Packets.sequenceId(batch, last);
            if (step == ResponseTracker.Step.DONE && tracker.error()
                    && batch.getUnsignedByte(last + Packets.HEADER_SIZE) == Packets.ERR) {
                error = ErrPacket.decode(batch.slice(last + Packets.HEADER_SIZE, index - last - Packets.HEADER_SIZE));
            }
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            batch.release();
            throw e;
        }
        if (!c.replyStarted) {
            c.replyStarted();
            if (c.code == Commands.STMT_PREPARE) {
                statements.prepared(c.preparingSql, batch, start, backend);
            }
        }
        c.captured(batch);
        client.write(batch, client.voidPromise());
        if (step != ResponseTracker.Step.MORE) {
            client.flush();
        }
        return step;
    }

    /** The backend's socket read is fully relayed: flush once, and stop reading it while the client is full. */
    void readComplete(BackendConnection backend) {
        client.flush();
        if (!client.isWritable()) {
            backendPaused = true;
            backend.channel().config().setAutoRead(false);
        }
    }

    /** The client's socket drained: a backend held back is read again. */
    void clientWritable(BackendConnection backend) {
        if (backendPaused && client.isWritable()) {
            backendPaused = false;
            read(backend);
        }
    }

    /**
     * The backend is read with auto-read on: it sends only what a command asked for, so keeping its read interest
     * registered costs nothing between commands, where switching it off and on would cost two epoll_ctl per
     * statement. Auto-read goes off only while the client cannot take more ({@link #readComplete}).
     */
    private static void read(BackendConnection backend) {
        if (!backend.channel().config().isAutoRead()) {
            backend.channel().config().setAutoRead(true);
        }
    }

    ResponseTracker tracker() {
        return tracker;
    }

    /** Sequence id of the last packet relayed, for an ERR the proxy may have to add. */
    int lastSequenceId() {
        return lastSequenceId;
    }

    /** The ERR that ended the last response, or null; read once. */
    ErrPacket takeError() {
        ErrPacket e = error;
        error = null;
        return e;
    }
}
