package io.proxyfleet.backend;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty transport of the traffic event loops: io_uring where the kernel allows it, else epoll, else NIO. The
 * system property {@value #PROPERTY} or the environment variable {@value #VARIABLE} ({@code io_uring},
 * {@code epoll}, {@code nio}) chooses another. io_uring is the default because it measured faster here: one
 * {@code io_uring_enter} does the reads and writes that cost epoll a system call each (bench/syscalls.sh: 1.9
 * system calls per relayed statement against 4.7 with epoll and 5.7 for HAProxy; docs/benchmarks.md). Channels
 * follow the event loops they are registered on, so loops a test builds itself get matching channels.
 * Stateless; any thread.
 */
public final class Transport {
    public static final String PROPERTY = "proxyfleet.transport";
    public static final String VARIABLE = "PROXYFLEET_TRANSPORT";
    /**
     * {@code false} sets the rings up without IORING_SETUP_SINGLE_ISSUER (and so without deferred task running):
     * 4.3 instead of 6.0 {@code io_uring_enter} per statement at 1 client thread; whether that is faster is left
     * to a quiet-machine measurement (docs/benchmarks.md, "Issue 11, third round"), so Netty's default stays.
     */
    public static final String SINGLE_ISSUER_PROPERTY = "proxyfleet.uring.singleIssuer";
    private static final String IO_URING = "io_uring";
    private static final String NIO = "nio";
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    private Transport() {
    }

    /** The I/O handler for the traffic event loops, as configured. */
    public static IoHandlerFactory trafficHandlerFactory() {
        String asked = System.getProperty(PROPERTY, System.getenv().getOrDefault(VARIABLE, IO_URING))
                .toLowerCase(Locale.ROOT);
        if (asked.equals(IO_URING)) {
            if (IoUring.isAvailable()) {
                boolean singleIssuer = Boolean.parseBoolean(System.getProperty(SINGLE_ISSUER_PROPERTY, "true"));
                log.info("Traffic transport: io_uring (single issuer: {})", singleIssuer);
                return IoUringIoHandler.newFactory(new IoUringIoHandlerConfig().setSingleIssuer(singleIssuer));
            }
            log.info("Traffic transport io_uring is not available here ({}); using epoll",
                    IoUring.unavailabilityCause().toString());
        }
        return asked.equals(NIO) ? NioIoHandler.newFactory() : defaultHandlerFactory();
    }

    /** Epoll where it loads, else NIO: the transport of the loops that are not traffic loops. */
    public static IoHandlerFactory defaultHandlerFactory() {
        return Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /** The client socket channel class for connections registered on {@code group}. */
    public static Class<? extends SocketChannel> socketChannel(EventLoopGroup group) {
        if (isIoType(group, IoUringIoHandler.class)) {
            return IoUringSocketChannel.class;
        }
        return isIoType(group, EpollIoHandler.class) ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** The listening socket channel class for listeners registered on {@code group}. */
    public static Class<? extends ServerSocketChannel> serverSocketChannel(EventLoopGroup group) {
        if (isIoType(group, IoUringIoHandler.class)) {
            return IoUringServerSocketChannel.class;
        }
        return isIoType(group, EpollIoHandler.class) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /**
     * Sets SO_REUSEPORT ({@code -r}) on a listener bound to {@code group}'s loops, with the option of its transport;
     * NIO has none, so there it is left unset (and said so).
     */
    public static void reusePort(ServerBootstrap bootstrap, EventLoopGroup group) {
        if (isIoType(group, IoUringIoHandler.class)) {
            bootstrap.option(IoUringChannelOption.SO_REUSEPORT, true);
        } else if (isIoType(group, EpollIoHandler.class)) {
            bootstrap.option(EpollChannelOption.SO_REUSEPORT, true);
        } else {
            log.warn("SO_REUSEPORT (-r) needs the epoll or io_uring transport; the listener binds without it");
        }
    }

    private static boolean isIoType(EventLoopGroup group, Class<? extends io.netty.channel.IoHandler> type) {
        return group instanceof IoEventLoopGroup io && io.isIoType(type);
    }
}
