package io.proxyfleet.login;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.proxyfleet.protocol.PacketDecoder;

/**
 * Switches a client channel to TLS after its SSLRequest, on the channel's event loop. Clients often send the
 * ClientHello in the same segment as the SSLRequest, so bytes the packet decoder already holds are handed to
 * the new TLS layer rather than left behind it.
 */
public final class TlsUpgrade {
    private TlsUpgrade() {
    }

    public static void start(Channel channel, SslContext context) {
        channel.pipeline().addFirst("tls", context.newHandler(channel.alloc()));
        ByteBuf early = channel.pipeline().get(PacketDecoder.class).takeUnframed();
        if (!early.isReadable()) {
            early.release();
            return;
        }
        // After the current read returns, so that the decoder is not re-entered.
        channel.eventLoop().execute(() -> {
            channel.pipeline().fireChannelRead(early);
            channel.pipeline().fireChannelReadComplete(); // TLS flushes its handshake replies here
        });
    }
}
