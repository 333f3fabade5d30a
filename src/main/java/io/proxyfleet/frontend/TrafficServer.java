package io.proxyfleet.frontend;

import io.proxyfleet.login.Sha2Rsa;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.proxyfleet.backend.Transport;
import io.proxyfleet.protocol.PacketDecoder;
import java.net.InetSocketAddress;

/**
 * The traffic listener (mysql-interfaces): accepts clients and gives each a {@link ClientSession} on one of
 * the mysql-threads event loops. Started and closed by the node's owner thread.
 */
public final class TrafficServer implements AutoCloseable {
    /** Keeps at most this much relayed data queued per client before the backend is paused. */
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private final Channel listener;

    private TrafficServer(Channel listener) {
        this.listener = listener;
    }

    public static TrafficServer start(TrafficContext context, EventLoopGroup workers, String host, int port)
            throws InterruptedException {
        return start(context, workers, host, port, false);
    }

    /** With {@code reusePort} ({@code -r}), binds with SO_REUSEPORT (epoll or io_uring only). */
    public static TrafficServer start(TrafficContext context, EventLoopGroup workers, String host, int port,
                                      boolean reusePort) throws InterruptedException {
        Sha2Rsa.warmUpAfterStart();
        var bootstrap = new ServerBootstrap()
                .group(workers)
                .channel(Transport.serverSocketChannel(workers))
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(PacketDecoder.beforeLogin(), new ClientSession(context));
                    }
                });
        if (reusePort) {
            Transport.reusePort(bootstrap, workers);
        }
        Channel channel = bootstrap.bind(host, port).sync().channel();
        return new TrafficServer(channel);
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
    }
}
