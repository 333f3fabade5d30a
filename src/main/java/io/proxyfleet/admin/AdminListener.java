package io.proxyfleet.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.proxyfleet.login.Sha2Cache;
import io.proxyfleet.protocol.PacketDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The admin listener on admin-mysql_ifaces (several {@code host:port} separated by {@code ;}). Re-binding
 * replaces every listening socket; sessions already open stay. Started, re-bound and closed by the node's owner
 * thread or the admin thread, one at a time.
 */
public final class AdminListener implements AutoCloseable {
    private final EventLoopGroup group;
    private final AdminEngine engine;
    private final Supplier<SslContext> tls;
    private final Sha2Cache sha2Cache = new Sha2Cache();
    private final AtomicLong connectionIds = new AtomicLong();
    private final Supplier<String> serverVersion;
    private List<Channel> listeners = List.of();
    /** {@code -r}: bind with SO_REUSEPORT, so that several processes may share the port. */
    private boolean reusePort;
    /** {@code -S}: the Unix socket the admin is also served on, or null. */
    private Channel socketListener;
    private Path socketPath;
    /** Mutual TLS for cluster peers, or null where the node does not offer it (tests). */
    private volatile ClusterPeerCertificates clusterPeers;

    public AdminListener(EventLoopGroup group, AdminEngine engine, Supplier<SslContext> tls,
                         Supplier<String> serverVersion) {
        this.group = group;
        this.engine = engine;
        this.tls = tls;
        this.serverVersion = serverVersion;
    }

    /** Checks cluster peers' client certificates on this port from now on (docs/cluster.md "TLS between peers"). */
    public void clusterPeerCertificates(ClusterPeerCertificates policy) {
        this.clusterPeers = policy;
    }

    /** {@code -r}: the next binds use SO_REUSEPORT (Linux epoll only; ignored elsewhere). */
    public synchronized void reusePort(boolean enabled) {
        this.reusePort = enabled;
    }

    /** Binds every interface of {@code ifaces}; on failure nothing stays bound and the old sockets remain. */
    public synchronized void bind(String ifaces) throws InterruptedException {
        var bootstrap = new ServerBootstrap()
                .group(group)
                .channel(Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(PacketDecoder.beforeLogin(), newSession());
                    }
                });
        if (reusePort && Epoll.isAvailable()) {
            bootstrap.option(EpollChannelOption.SO_REUSEPORT, true);
        }
        var bound = new ArrayList<Channel>();
        try {
            for (String iface : ifaces.split(";")) {
                String trimmed = iface.trim();
                if (trimmed.isEmpty()) {
                    continue;
                }
                int colon = trimmed.lastIndexOf(':');
                if (colon < 0) {
                    throw new IllegalArgumentException("admin-mysql_ifaces entry without a port: " + trimmed);
                }
                String host = trimmed.substring(0, colon);
                int port = Integer.parseInt(trimmed.substring(colon + 1));
                bound.add(bootstrap.bind(host, port).sync().channel());
            }
        } catch (RuntimeException | InterruptedException e) {
            bound.forEach(Channel::close);
            throw e;
        }
        List<Channel> previous = listeners;
        listeners = List.copyOf(bound);
        previous.forEach(ch -> ch.close().syncUninterruptibly());
    }

    private AdminSession newSession() {
        ClusterPeerCertificates peers = clusterPeers;
        Supplier<SslContext> context = peers == null ? tls : () -> peers.context(tls.get());
        return new AdminSession(engine, context, peers, sha2Cache, serverVersion.get(),
                connectionIds.incrementAndGet());
    }

    /**
     * {@code -S}: also serves the admin on the Unix socket {@code path} (a stale socket file there is replaced).
     * Its clients are local, so the {@code admin} and {@code stats} users may log in through it.
     *
     * @throws IllegalStateException without Linux epoll, which Netty needs for Unix sockets
     */
    public synchronized void bindUnixSocket(Path path) throws InterruptedException {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("an admin Unix socket needs Linux epoll: " + Epoll.unavailabilityCause());
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replace " + path, e);
        }
        socketListener = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(PacketDecoder.beforeLogin(), newSession());
                    }
                })
                .bind(new DomainSocketAddress(path.toFile())).sync().channel();
        socketPath = path;
    }

    /** The port of the first interface, for tests and logs that bound port 0. */
    public synchronized int port() {
        return ((InetSocketAddress) listeners.get(0).localAddress()).getPort();
    }

    @Override
    public synchronized void close() {
        listeners.forEach(ch -> ch.close().syncUninterruptibly());
        listeners = List.of();
        if (socketListener != null) {
            socketListener.close().syncUninterruptibly();
            socketListener = null;
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException e) {
                // The process is stopping; a stale socket file is replaced at the next start.
            }
        }
    }
}
