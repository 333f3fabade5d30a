package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a byte stream into whole physical MySQL packets, each emitted as a retained slice of the cumulation
 * buffer with its 4-byte header included (no copy). Payloads of 16 MiB and more arrive as several packets; the
 * receiver reassembles them only if it must parse them. Owned by one channel's event loop.
 */
public final class PacketDecoder extends ByteToMessageDecoder {
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= Packets.HEADER_SIZE) {
            int length = Packets.payloadLength(in, in.readerIndex());
            int total = Packets.HEADER_SIZE + length;
            if (in.readableBytes() < total) {
                return;
            }
            out.add(in.readRetainedSlice(total));
        }
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
