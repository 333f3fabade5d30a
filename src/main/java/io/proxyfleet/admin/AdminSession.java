package io.proxyfleet.admin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.proxyfleet.login.FrontendHandshake;
import io.proxyfleet.login.Sha2Cache;
import io.proxyfleet.login.TlsUpgrade;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.OkPacket;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.PacketDecoder;
import io.proxyfleet.protocol.ProtocolException;
import io.proxyfleet.protocol.StatusFlags;
import io.proxyfleet.protocol.TextResultSet;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection on the admin port: the MySQL handshake with the admin credentials, then each COM_QUERY handed
 * to the {@link AdminEngine} (which runs it on its SQLite thread) and the answer written back on this channel's
 * event loop. Owned by that event loop.
 */
final class AdminSession extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AdminSession.class);
    private static final int ER_CON_COUNT_ERROR = 1040;
    private static final int ER_UNKNOWN_COM_ERROR = 1047;
    /**
     * Largest admin command: one packet, since commands are read from a single packet and never reassembled.
     * A larger one (ProxySQL crashed on a 64 MiB admin query) is refused from its first header, before its bytes
     * are buffered, with ER_NET_PACKET_TOO_LARGE.
     */
    static final int MAX_COMMAND_PAYLOAD = Packets.MAX_PAYLOAD - 1;
    /** Users that ProxySQL lets in only from the machine itself. */
    private static final String LOCAL_ONLY_ADMIN = "admin";
    private static final String LOCAL_ONLY_STATS = "stats";
    private static final String LOCAL_ONLY_MONITOR = "monitor";
    /** How ProxySQL names a client on a local (Unix) socket. */
    private static final String LOCAL_SOCKET_HOST = "localhost";
    private static final InetAddress IPV4_LOCALHOST = InetAddress.ofLiteral("127.0.0.1");

    private final AdminEngine engine;
    private final Supplier<SslContext> tls;
    /** Refuses cluster peers without a trusted client certificate when so configured; null: no such check. */
    private final ClusterPeerCertificates clusterPeers;
    private final Sha2Cache sha2Cache;
    private final String serverVersion;
    private final long connectionId;
    private Channel channel;
    private FrontendHandshake handshake;
    /** The client's IP address as text, or {@code localhost} for a local socket; known from channelActive on. */
    private String remoteHost = "";
    /** {@link #remoteHost} with the client's port, for {@link AdminPrincipal} and the log. */
    private String clientAddress = "";
    private boolean failureLogged;
    private AdminPrincipal principal;
    private int capabilities;
    private boolean busy;
    private boolean closed;

    AdminSession(AdminEngine engine, Supplier<SslContext> tls, ClusterPeerCertificates clusterPeers,
                 Sha2Cache sha2Cache, String serverVersion, long connectionId) {
        this.engine = engine;
        this.tls = tls;
        this.clusterPeers = clusterPeers;
        this.sha2Cache = sha2Cache;
        this.serverVersion = serverVersion;
        this.connectionId = connectionId;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        SocketAddress remote = channel.remoteAddress();
        if (remote instanceof InetSocketAddress inet) {
            remoteHost = inet.getAddress().getHostAddress();
            clientAddress = (inet.getAddress() instanceof Inet6Address ? "[" + remoteHost + "]" : remoteHost) + ":"
                    + inet.getPort();
        } else {
            remoteHost = LOCAL_SOCKET_HOST;
            clientAddress = LOCAL_SOCKET_HOST;
        }
        FrontendHandshake.Accounts accounts = username -> engine.account(username)
                .map(a -> new FrontendHandshake.Account(a.username(), a.password(), false,
                        localOnlyRefusal(a, remote)))
                .orElse(null);
        handshake = new FrontendHandshake(accounts, this::admission, serverVersion, connectionId,
                "mysql_native_password", tls.get() != null, 0, remoteHost, sha2Cache, channel.alloc(),
                out -> channel.writeAndFlush(out, channel.voidPromise()));
        handshake.start();
    }

    /** Once the password checked out: the loopback-only rule, then (ProxyFleet) cluster peers' certificates. */
    private ErrPacket admission(FrontendHandshake.Account account) {
        if (account.refusal() != null || clusterPeers == null) {
            return account.refusal();
        }
        return clusterPeers.refusal(account.username(), channel, clientAddress);
    }

    /**
     * ProxySQL lets {@code admin} (as an admin user), {@code stats} (as a stats user) and {@code monitor} (as
     * either) in only from 127.0.0.1, ::1 or a local socket, compared exactly: 127.0.0.2 is refused although it is
     * loopback too. Every other name in admin_credentials or stats_credentials (the remote-admin accounts, such
     * as {@code radmin}) may log in from anywhere. Returns the error for a refused login, or null.
     */
    static ErrPacket localOnlyRefusal(AdminAccount account, SocketAddress remote) {
        String user = account.username();
        boolean localOnly = switch (account.role()) {
            case ADMIN -> LOCAL_ONLY_ADMIN.equals(user) || LOCAL_ONLY_MONITOR.equals(user);
            case STATS -> LOCAL_ONLY_STATS.equals(user) || LOCAL_ONLY_MONITOR.equals(user);
        };
        if (!localOnly || isLocal(remote)) {
            return null;
        }
        return new ErrPacket(ER_CON_COUNT_ERROR, "42000", "User '" + user + "' can only connect locally");
    }

    private static boolean isLocal(SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress inet)) {
            return true; // a local socket: ProxySQL's "localhost"
        }
        InetAddress address = inet.getAddress();
        // ::1 is the only IPv6 loopback address; Java reports IPv4-mapped peers as IPv4 addresses.
        return address instanceof Inet6Address ? address.isLoopbackAddress() : IPV4_LOCALHOST.equals(address);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf packet = (ByteBuf) msg;
        try {
            if (principal == null) {
                onHandshakePacket(packet);
            } else {
                onCommand(packet);
            }
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            logSessionEnd(e);
            sendErrorAndClose(new ErrPacket(1043, "08S01", "Malformed packet: " + e.getMessage()));
        } finally {
            packet.release();
        }
    }

    private void onHandshakePacket(ByteBuf packet) {
        switch (handshake.onPacket(packet)) {
            case FrontendHandshake.Outcome.Continue c -> { }
            case FrontendHandshake.Outcome.StartTls t -> TlsUpgrade.start(channel, tls.get());
            case FrontendHandshake.Outcome.Failure f -> closeAfterFlush();
            case FrontendHandshake.Outcome.Success s -> {
                String user = s.account().username();
                AdminAccount account = engine.account(user).orElseThrow();
                capabilities = s.response().capabilities() & handshake.serverCapabilities();
                principal = new AdminPrincipal(user, account.role(), clientAddress);
                channel.pipeline().get(PacketDecoder.class).afterLogin(MAX_COMMAND_PAYLOAD);
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
            handshake.tlsEstablished();
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void onCommand(ByteBuf packet) {
        int length = Packets.payloadLength(packet, packet.readerIndex());
        if (length == 0) {
            sendError(new ErrPacket(ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command"), 1);
            return;
        }
        int payload = packet.readerIndex() + Packets.HEADER_SIZE;
        int cmd = packet.getUnsignedByte(payload);
        switch (cmd) {
            case Commands.QUIT -> channel.close();
            case Commands.PING, Commands.INIT_DB, Commands.RESET_CONNECTION, Commands.SET_OPTION -> sendOk(1);
            case Commands.QUERY -> {
                if (busy) {
                    sendError(new ErrPacket(ER_UNKNOWN_COM_ERROR, "08S01", "Commands out of sync"), 1);
                    return;
                }
                String sql = packet.toString(payload + 1, length - 1, StandardCharsets.UTF_8);
                busy = true;
                channel.config().setAutoRead(false);
                engine.execute(principal, sql).whenComplete((response, failure) ->
                        channel.eventLoop().execute(() -> answer(response, failure)));
            }
            default -> sendError(new ErrPacket(ER_UNKNOWN_COM_ERROR, "08S01",
                    "ProxySQL Admin Error: command " + Commands.name(cmd) + " is not supported on the admin port"), 1);
        }
    }

    private void answer(AdminResponse response, Throwable failure) {
        busy = false;
        if (closed) {
            return;
        }
        channel.config().setAutoRead(true);
        if (failure != null) {
            log.warn("Admin statement failed unexpectedly", failure);
            sendError(new ErrPacket(AdminResponse.ER_ADMIN, AdminResponse.SQLSTATE_ADMIN,
                    AdminResponse.ERROR_PREFIX + failure.getMessage()), 1);
            return;
        }
        switch (response) {
            case AdminResponse.Ok ok -> {
                ByteBuf out = channel.alloc().buffer(32 + ok.info().length());
                new OkPacket(ok.affectedRows(), 0, StatusFlags.AUTOCOMMIT, 0, ok.info()).writeTo(out, 1);
                channel.writeAndFlush(out, channel.voidPromise());
            }
            case AdminResponse.Error error -> sendError(new ErrPacket(error.code(), error.sqlState(), error.message()), 1);
            case AdminResponse.ResultSet rs -> {
                ByteBuf out = channel.alloc().buffer(256);
                TextResultSet.write(out, 1, rs.columns(), rs.rows(),
                        Capabilities.has(capabilities, Capabilities.DEPRECATE_EOF), StatusFlags.AUTOCOMMIT);
                channel.writeAndFlush(out, channel.voidPromise());
            }
        }
    }

    private void sendOk(int sequenceId) {
        ByteBuf out = channel.alloc().buffer(16);
        new OkPacket(0, 0, StatusFlags.AUTOCOMMIT, 0, null).writeTo(out, sequenceId);
        channel.writeAndFlush(out, channel.voidPromise());
    }

    private void sendError(ErrPacket error, int sequenceId) {
        ByteBuf out = channel.alloc().buffer(32 + error.message().length() * 3);
        error.writeTo(out, sequenceId);
        channel.writeAndFlush(out, channel.voidPromise());
    }

    private void sendErrorAndClose(ErrPacket error) {
        ByteBuf out = channel.alloc().buffer(32 + error.message().length() * 3);
        error.writeTo(out, 1);
        channel.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
    }

    private void closeAfterFlush() {
        channel.writeAndFlush(channel.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        logSessionEnd(cause);
        ctx.close();
    }

    /**
     * Every failure that ends an admin session reaches the operator once, with the client's address; a stack
     * trace only for what is not an I/O or protocol problem, since those say all in their message.
     */
    private void logSessionEnd(Throwable cause) {
        if (failureLogged) {
            return;
        }
        failureLogged = true;
        String user = principal == null ? "(not logged in)" : principal.username();
        if (cause instanceof IOException || cause instanceof ProtocolException
                || cause instanceof IndexOutOfBoundsException) {
            log.warn("Admin session {} of {} from {} closed on error: {}", connectionId, user, clientAddress,
                    cause.toString());
        } else {
            log.warn("Admin session {} of {} from {} closed on error", connectionId, user, clientAddress, cause);
        }
    }

}
