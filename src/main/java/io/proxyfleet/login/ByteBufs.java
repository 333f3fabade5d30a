package io.proxyfleet.login;

import io.netty.buffer.ByteBuf;

/** Small conversions for cold paths (authentication, admin), never for relayed traffic. */
final class ByteBufs {
    private ByteBufs() {
    }

    static byte[] toBytes(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), out);
        return out;
    }
}
