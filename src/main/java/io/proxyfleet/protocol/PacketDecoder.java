package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits a byte stream into whole physical MySQL packets, emitted as retained slices of the cumulation buffer with
 * their 4-byte headers included (no copy). A decoder facing a client emits one slice per packet; a decoder facing
 * a backend emits one slice per socket read holding every whole packet of it (a batch), which the relay walks by
 * header and writes to the client as it is: one slice object and one write per read, not per row (issue 11,
 * read_only). Payloads of 16 MiB and more arrive as several packets; the receiver reassembles them only if it
 * must parse them. Owned by one channel's event loop.
 *
 * <p>A decoder facing a client has a bound on one logical payload (the parts of a 16 MiB+ payload added up), and
 * checks every header against it before buffering the packet's body, as Netty's fail-fast frame decoders do: a
 * peer that announces more than the bound costs one read, not the bytes it announced. The refused client gets
 * the phase's error with the next sequence id and the connection is closed; whatever else it sends until then is
 * dropped. Before login the bound is {@link #PRE_LOGIN_MAX_PAYLOAD}; the session raises it with {@link #afterLogin} once
 * the client is authenticated. Decoders facing backends are unbounded: their results can legally be any size.
 *
 * <p>Until login, one packet is framed per {@link #decode} call, so that the bound raised while the login packet is
 * handled applies to the very next header, even when the client pipelined it in the same segment. After that,
 * every whole packet of a read is framed in one call.
 */
public final class PacketDecoder extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(PacketDecoder.class);

    /**
     * Largest payload a client may send before it is authenticated. The largest legal login packet is a
     * HandshakeResponse41 with the most connection attributes a server accepts, 64 KiB (MySQL refuses more, and
     * its client library never sends more); the fixed part, user name, auth response (an RSA-encrypted password
     * is 512 bytes with a 4096-bit key), schema and plugin name take well under the 4 KiB added for them. The
     * other packets of the login (auth switch response, cleartext or RSA password) are smaller still.
     */
    public static final int PRE_LOGIN_MAX_PAYLOAD = 64 * 1024 + 4 * 1024;

    /** What a client gets for a login packet larger than {@link #PRE_LOGIN_MAX_PAYLOAD}, as MySQL answers it. */
    public static final ErrPacket BAD_HANDSHAKE = new ErrPacket(1043, "08S01", "Bad handshake");

    /** What a logged-in client gets for a payload larger than its bound (MySQL's ER_NET_PACKET_TOO_LARGE). */
    public static final ErrPacket PACKET_TOO_LARGE = new ErrPacket(1153, "08S01",
            "Got a packet bigger than 'max_allowed_packet' bytes");

    /**
     * How long a logged-in client refused for max_allowed_packet may go on sending before the connection is
     * closed: enough for the rest of a large packet on a local network, short enough not to pile up.
     */
    private static final long REFUSAL_LINGER_MILLIS = 3_000;

    private long maxPayload;
    private ErrPacket refusal;
    /** Payload bytes already framed for the logical payload in progress: non-zero only between its parts. */
    private long framedPayload;
    private boolean refused;
    /** True from {@link #beforeLogin} until {@link #afterLogin}: the bound is still the login phase's. */
    private boolean awaitingLogin;
    /** Emits every whole packet of a read as one slice (backends) instead of one slice per packet (clients). */
    private boolean batches;

    /**
     * A decoder without a bound, for trusted peers (backends) whose results may be of any size. It cumulates
     * reads as components of a composite buffer instead of merging them: the packets it emits are slices still
     * queued for the client, so the merge cumulator could not append in place and copied the unread tail of every
     * read into a new, larger buffer (a packet straddles almost every read of a large result). Each read now stays
     * a component, freed as soon as the client has been sent its packets (issue 11: peak RSS and CPU per
     * streamed byte). It emits batches: every whole packet of a read in one slice.
     */
    public PacketDecoder() {
        this(Long.MAX_VALUE, PACKET_TOO_LARGE);
        setCumulator(COMPOSITE_CUMULATOR);
        batches = true;
    }

    /**
     * @param maxPayload largest logical payload accepted (the parts of a 16 MiB+ payload added up)
     * @param refusal    the error sent to a peer that announces more
     */
    private PacketDecoder(long maxPayload, ErrPacket refusal) {
        this.maxPayload = maxPayload;
        this.refusal = refusal;
    }

    /** A decoder for a client that has not logged in yet: bounded by {@link #PRE_LOGIN_MAX_PAYLOAD}. */
    public static PacketDecoder beforeLogin() {
        PacketDecoder decoder = new PacketDecoder(PRE_LOGIN_MAX_PAYLOAD, BAD_HANDSHAKE);
        decoder.awaitingLogin = true;
        return decoder;
    }

    /**
     * Raises the bound once the client is authenticated, to its {@code max_allowed_packet}. As in MySQL, the
     * value is the session's: a later change of the global variable applies to new sessions.
     */
    public void afterLogin(long maxAllowedPacket) {
        this.awaitingLogin = false;
        this.maxPayload = maxAllowedPacket;
        this.refusal = PACKET_TOO_LARGE;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (refused) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (batches) {
            decodeBatch(in, out);
            return;
        }
        do {
            if (in.readableBytes() < Packets.HEADER_SIZE) {
                return;
            }
            int start = in.readerIndex();
            int length = Packets.payloadLength(in, start);
            if (framedPayload + length > maxPayload) {
                refuse(ctx, in, Packets.sequenceId(in, start), framedPayload + length);
                return;
            }
            int total = Packets.HEADER_SIZE + length;
            if (in.readableBytes() < total) {
                return;
            }
            framedPayload = length == Packets.MAX_PAYLOAD ? framedPayload + length : 0;
            out.add(in.readRetainedSlice(total));
        } while (!awaitingLogin);
    }

    /** Emits the whole packets at the front of {@code in} as one slice; a partial packet stays cumulated. */
    private static void decodeBatch(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int end = in.writerIndex();
        int next = start;
        while (end - next >= Packets.HEADER_SIZE) {
            int total = Packets.HEADER_SIZE + Packets.payloadLength(in, next);
            if (end - next < total) {
                break;
            }
            next += total;
        }
        if (next > start) {
            out.add(in.readRetainedSlice(next - start));
        }
    }

    private void refuse(ChannelHandlerContext ctx, ByteBuf in, int sequenceId, long announced) {
        refused = true;
        in.skipBytes(in.readableBytes());
        ErrPacket error = refusal;
        log.warn("Client {}: refused a payload of {} bytes (the bound is {}), closing: {}",
                ctx.channel().remoteAddress(), announced, maxPayload, error.message());
        ByteBuf packet = ctx.alloc().buffer();
        error.writeTo(packet, (sequenceId + 1) & 0xFF);
        ChannelFuture written = ctx.writeAndFlush(packet);
        if (awaitingLogin || !(ctx.channel() instanceof DuplexChannel duplex)) {
            // No legitimate client exceeds the login bound: a flood of such packets costs no more than this.
            written.addListener(ChannelFutureListener.CLOSE);
            return;
        }
        // Closing while a client is still sending the refused body would reset the connection, and the reset can
        // destroy the ERR before the client reads it. So: half-close after the ERR, read and drop whatever still
        // arrives (nothing is buffered), and close when the client does or after the linger time.
        written.addListener(done -> duplex.shutdownOutput());
        ctx.channel().config().setAutoRead(true);
        ctx.executor().schedule(() -> ctx.close(), REFUSAL_LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Removes and returns the bytes received but not yet framed. Used when TLS starts: a client may send its
     * ClientHello right behind the SSLRequest, and those bytes belong to the TLS layer, not to this decoder.
     */
    public ByteBuf takeUnframed() {
        ByteBuf pending = internalBuffer();
        return pending.readRetainedSlice(pending.readableBytes());
    }
}
