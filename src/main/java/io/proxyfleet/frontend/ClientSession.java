package io.proxyfleet.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.proxyfleet.backend.BackendConnection;
import io.proxyfleet.backend.BackendConnector;
import io.proxyfleet.backend.BackendCredentials;
import io.proxyfleet.backend.BackendListener;
import io.proxyfleet.backend.BackendPool;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.OkPacket;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ProtocolException;
import io.proxyfleet.protocol.ResponseTracker;
import io.proxyfleet.protocol.StatusFlags;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection on the traffic port, as a state machine: handshake and authentication, then commands
 * relayed to a backend connection packet by packet. The session and its backend connection live on the same
 * event loop, which owns every field here; nothing is handed to another thread per command.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements BackendListener {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    /** Protocol errors a client can cause, with MySQL's codes. */
    private static final int ER_NET_PACKETS_OUT_OF_ORDER = 1156;
    private static final int ER_NET_PACKET_TOO_LARGE = 1153;
    private static final int ER_UNKNOWN_COM_ERROR = 1047;
    private static final int ER_BAD_HANDSHAKE = 1043;
    private static final int ER_CON_COUNT_ERROR = 1040;
    private static final int CR_SERVER_LOST = 2013;
    /** Collations a MariaDB backend may not know are replaced by utf8mb4_general_ci when logging in upstream. */
    private static final int FIRST_MYSQL8_ONLY_COLLATION = 255;

    private enum State { HANDSHAKE, CHANGE_USER, READY, ACQUIRING, RELAYING, LOCAL_INFILE, CLOSED }

    private final TrafficContext context;
    private final long id;
    private final ResponseTracker tracker = new ResponseTracker();
    /** Packets that arrived while a command was in flight (pipelining clients), in order. */
    private final ArrayDeque<ByteBuf> queued = new ArrayDeque<>();
    /** The physical packets of the command being assembled or sent; usually one. */
    private final List<ByteBuf> command = new ArrayList<>(1);
    private long commandBytes;
    private Channel channel;
    private State state = State.HANDSHAKE;
    private FrontendHandshake handshake;
    private MysqlUser user;
    private int capabilities;
    private int collation;
    private String schema;
    private String clientAddress = "";
    private BackendCredentials backendCredentials;
    private BackendConnection backend;
    private boolean backendPaused;
    private int lastSequenceId;
    private int currentCommand = -1;
    private long commandStartNanos;
    private long loginNanos;
    private boolean inTransaction;
    private boolean userCounted;
    /** The schema a COM_INIT_DB or USE in flight switches to once the backend says OK. */
    private String pendingSchema;

    public ClientSession(TrafficContext context) {
        this.context = context;
        this.id = context.connectionIds().incrementAndGet();
    }

    public long id() {
        return id;
    }

    /** The logged-in user, or {@code null} while authenticating. Read from any thread for the processlist. */
    public String username() {
        MysqlUser u = user;
        return u == null ? null : u.username();
    }

    public String schema() {
        return schema;
    }

    public String clientAddress() {
        return clientAddress;
    }

    /** Name of the command in flight, or {@code Sleep}. */
    public String commandName() {
        int c = currentCommand;
        return c < 0 ? "Sleep" : Commands.name(c);
    }

    public long commandStartNanos() {
        return commandStartNanos;
    }

    public BackendConnection backend() {
        return backend;
    }

    /** Closes the session from any thread (KILL CONNECTION, shutdown). */
    public void kill() {
        Channel ch = channel;
        if (ch != null) {
            ch.eventLoop().execute(this::close);
        }
    }

    // ---- connection phase ---------------------------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        if (channel.remoteAddress() instanceof InetSocketAddress remote) {
            clientAddress = remote.getAddress().getHostAddress();
        }
        RuntimeConfig cfg = context.config().current();
        TrafficSettings settings = TrafficSettings.of(cfg.mysqlVariables());
        context.sessions().add(this);
        if (context.sessions().size() > settings.maxConnections()) {
            sendErrorAndClose(new ErrPacket(ER_CON_COUNT_ERROR, "08004", "Too many connections"), 0);
            return;
        }
        SslContext tls = settings.haveSsl() ? context.tls().get() : null;
        handshake = new FrontendHandshake(this::findAccount, settings.serverVersion(), id,
                settings.defaultAuthPlugin(), tls != null, clientAddress, context.sha2Cache(), channel.alloc(),
                out -> channel.writeAndFlush(out, channel.voidPromise()));
        handshake.start();
        channel.read();
    }

    private FrontendHandshake.Account findAccount(String username) {
        MysqlUser found = context.config().current().users().frontend().get(username);
        return found == null ? null : new FrontendHandshake.Account(found.username(), found.password(), found.useSsl());
    }

    private void onHandshakePacket(ByteBuf packet) {
        FrontendHandshake.Outcome outcome;
        try {
            outcome = handshake.onPacket(packet);
        } finally {
            packet.release();
        }
        switch (outcome) {
            case FrontendHandshake.Outcome.Continue c -> channel.read();
            case FrontendHandshake.Outcome.StartTls t -> {
                SslHandler ssl = context.tls().get().newHandler(channel.alloc());
                channel.pipeline().addFirst("tls", ssl);
                channel.read();
            }
            case FrontendHandshake.Outcome.Failure f -> closeAfterFlush();
            case FrontendHandshake.Outcome.Success s -> loggedIn(s);
        }
    }

    private void loggedIn(FrontendHandshake.Outcome.Success success) {
        RuntimeConfig cfg = context.config().current();
        MysqlUser found = cfg.users().frontend().get(success.account().username());
        boolean changingUser = state == State.CHANGE_USER;
        if (userCounted) {
            context.sessions().userLoggedOut(user.username());
            userCounted = false;
        }
        user = found;
        if (context.sessions().userLoggedIn(found.username()) > found.maxConnections()) {
            context.sessions().userLoggedOut(found.username());
            sendErrorAndClose(new ErrPacket(ER_CON_COUNT_ERROR, "42000",
                    "ProxySQL Error: User '" + found.username() + "' has exceeded the 'max_user_connections' resource"
                            + " (current value: " + found.maxConnections() + ")"), success.nextSequenceId());
            return;
        }
        if (!changingUser) {
            capabilities = success.response().capabilities() & handshake.serverCapabilities();
        }
        userCounted = true;
        collation = success.response().collation();
        String requested = success.response().database();
        schema = requested != null && !requested.isEmpty() ? requested
                : found.defaultSchema() != null && !found.defaultSchema().isEmpty() ? found.defaultSchema()
                : TrafficSettings.of(cfg.mysqlVariables()).defaultSchema();
        backendCredentials = credentialsFor(cfg, found.username(), success.stage1());
        loginNanos = System.nanoTime();
        state = State.READY;
        channel.config().setAutoRead(false);
        if (log.isDebugEnabled()) {
            log.debug("Session {}: user {} logged in from {}", id, found.username(), clientAddress);
        }
        readNextCommand();
    }

    private BackendCredentials credentialsFor(RuntimeConfig cfg, String username, byte[] stage1FromClient) {
        MysqlUser backendUser = cfg.users().backend().get(username);
        if (backendUser == null || backendUser.passwordIsHashed()) {
            if (stage1FromClient != null) {
                context.backendPasswords().learn(username, stage1FromClient);
            }
            byte[] stage1 = stage1FromClient != null ? stage1FromClient : context.backendPasswords().stage1(username);
            return new BackendCredentials(username, null, stage1);
        }
        String clear = backendUser.password();
        return new BackendCredentials(username, clear,
                clear.isEmpty() ? null : io.proxyfleet.protocol.AuthPlugins.nativeStage1(clear));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                handshake.tlsEstablished();
            } else {
                close();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    // ---- inbound client packets ---------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf packet = (ByteBuf) msg;
        try {
            switch (state) {
                case HANDSHAKE, CHANGE_USER -> onHandshakePacket(packet);
                case READY -> onCommandPacket(packet);
                case LOCAL_INFILE -> onLocalInfilePacket(packet);
                case ACQUIRING, RELAYING -> queued.addLast(packet);
                case CLOSED -> packet.release();
            }
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            protocolViolation(e);
        }
    }

    private void protocolViolation(RuntimeException e) {
        if (log.isDebugEnabled()) {
            log.debug("Session {} from {}: malformed packet: {}", id, clientAddress, e.toString());
        }
        int code = state == State.HANDSHAKE ? ER_BAD_HANDSHAKE : ER_UNKNOWN_COM_ERROR;
        sendErrorAndClose(new ErrPacket(code, "08S01", "Malformed packet: " + e.getMessage()), lastSequenceId + 1);
    }

    private void onCommandPacket(ByteBuf packet) {
        int start = packet.readerIndex();
        int length = Packets.payloadLength(packet, start);
        int sequenceId = Packets.sequenceId(packet, start);
        int expected = command.isEmpty() ? 0 : (lastSequenceId + 1) & 0xFF;
        if (sequenceId != expected) {
            packet.release();
            releaseCommand();
            sendErrorAndClose(new ErrPacket(ER_NET_PACKETS_OUT_OF_ORDER, "08S01", "Got packets out of order"),
                    sequenceId + 1);
            return;
        }
        lastSequenceId = sequenceId;
        command.add(packet);
        commandBytes += length;
        TrafficSettings settings = TrafficSettings.of(context.config().current().mysqlVariables());
        if (commandBytes > settings.maxAllowedPacket()) {
            releaseCommand();
            sendErrorAndClose(new ErrPacket(ER_NET_PACKET_TOO_LARGE, "08S01",
                    "Got a packet bigger than 'max_allowed_packet' bytes"), sequenceId + 1);
            return;
        }
        if (length == Packets.MAX_PAYLOAD) {
            channel.read(); // the rest of a 16 MiB+ command follows
            return;
        }
        dispatch();
    }

    private void dispatch() {
        ByteBuf first = command.get(0);
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        if (Packets.payloadLength(first, first.readerIndex()) == 0) {
            releaseCommand();
            sendError(new ErrPacket(ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command"), 1);
            return;
        }
        int cmd = first.getUnsignedByte(payload);
        currentCommand = cmd;
        commandStartNanos = System.nanoTime();
        pendingSchema = switch (cmd) {
            case Commands.INIT_DB -> first.toString(payload + 1, Packets.payloadLength(first, first.readerIndex()) - 1,
                    java.nio.charset.StandardCharsets.UTF_8);
            case Commands.QUERY -> UseStatement.schemaOf(first, payload + 1,
                    first.readerIndex() + first.readableBytes());
            default -> null;
        };
        switch (cmd) {
            case Commands.QUIT -> {
                releaseCommand();
                close();
            }
            case Commands.PING -> {
                releaseCommand();
                sendOk(1);
            }
            case Commands.RESET_CONNECTION -> {
                releaseCommand();
                releaseBackend(false);
                inTransaction = false;
                sendOk(1);
            }
            case Commands.CHANGE_USER -> changeUser();
            case Commands.STMT_CLOSE, Commands.STMT_SEND_LONG_DATA -> forwardWithoutResponse();
            case Commands.QUERY, Commands.INIT_DB, Commands.FIELD_LIST, Commands.STATISTICS, Commands.STMT_PREPARE,
                 Commands.STMT_EXECUTE, Commands.STMT_FETCH, Commands.STMT_RESET, Commands.SET_OPTION,
                 Commands.PROCESS_KILL -> forward();
            default -> {
                releaseCommand();
                sendError(new ErrPacket(ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command"), 1);
            }
        }
    }

    private void changeUser() {
        ByteBuf packet = command.get(0);
        command.clear();
        commandBytes = 0;
        releaseBackend(false);
        inTransaction = false;
        state = State.CHANGE_USER;
        try {
            FrontendHandshake.Outcome outcome = handshake.onChangeUser(packet, capabilities);
            switch (outcome) {
                case FrontendHandshake.Outcome.Continue c -> channel.read();
                case FrontendHandshake.Outcome.Failure f -> closeAfterFlush();
                case FrontendHandshake.Outcome.Success s -> loggedIn(s);
                case FrontendHandshake.Outcome.StartTls t -> closeAfterFlush();
            }
        } finally {
            packet.release();
        }
    }

    // ---- relaying -----------------------------------------------------------------------------------------

    private void forward() {
        if (backend != null) {
            sendCommand();
            return;
        }
        state = State.ACQUIRING;
        RuntimeConfig cfg = context.config().current();
        int formatCaps = capabilities & BackendConnection.FORMAT_CAPABILITIES;
        int backendCollation = collation >= FIRST_MYSQL8_ONLY_COLLATION ? FrontendHandshake.SERVER_COLLATION : collation;
        var request = new BackendConnector.Request(user.defaultHostgroup(), backendCredentials, schema, formatCaps,
                backendCollation);
        context.connector().acquire(channel.eventLoop(), cfg, request, this, new BackendConnector.Callback() {
            @Override
            public void acquired(BackendConnection connection) {
                if (state != State.ACQUIRING) {
                    BackendPool.of(channel.eventLoop()).release(connection, false);
                    return;
                }
                backend = connection;
                connection.channel().config().setAutoRead(false);
                sendCommand();
            }

            @Override
            public void failed(ErrPacket error) {
                if (state != State.ACQUIRING) {
                    return;
                }
                releaseCommand();
                state = State.READY;
                sendError(error, 1);
            }
        });
    }

    private void sendCommand() {
        ByteBuf first = command.get(0);
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        int cmd = first.getUnsignedByte(payload);
        boolean cursor = cmd == Commands.STMT_EXECUTE
                && (first.getUnsignedByte(payload + 5) & Commands.CURSOR_TYPE_READ_ONLY) != 0;
        tracker.start(expectationOf(cmd), backend.deprecateEof(), cursor);
        for (ByteBuf packet : command) {
            backend.write(packet);
        }
        command.clear();
        commandBytes = 0;
        backend.countQuery();
        backend.flush();
        state = State.RELAYING;
        backendPaused = false;
        backend.channel().read();
    }

    private static ResponseTracker.Expect expectationOf(int cmd) {
        return switch (cmd) {
            case Commands.QUERY, Commands.STMT_EXECUTE -> ResponseTracker.Expect.RESULT;
            case Commands.STMT_FETCH, Commands.FIELD_LIST -> ResponseTracker.Expect.ROWS;
            case Commands.STMT_PREPARE -> ResponseTracker.Expect.PREPARE;
            default -> ResponseTracker.Expect.SINGLE;
        };
    }

    private void forwardWithoutResponse() {
        if (backend == null) {
            releaseCommand();
        } else {
            for (ByteBuf packet : command) {
                backend.write(packet);
            }
            command.clear();
            commandBytes = 0;
            backend.flush();
        }
        commandDone();
    }

    @Override
    public void onBackendPacket(BackendConnection connection, ByteBuf packet) {
        if (connection != backend || state != State.RELAYING) {
            packet.release();
            return;
        }
        ResponseTracker.Step step;
        try {
            step = tracker.onPacket(packet, packet.readerIndex());
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            packet.release();
            backendBroken("Malformed packet from backend: " + e.getMessage());
            return;
        }
        lastSequenceId = Packets.sequenceId(packet, packet.readerIndex());
        channel.write(packet, channel.voidPromise());
        switch (step) {
            case MORE -> { }
            case DONE -> {
                channel.flush();
                finishCommand();
            }
            case LOCAL_INFILE -> {
                channel.flush();
                state = State.LOCAL_INFILE;
                channel.read();
            }
        }
    }

    @Override
    public void onBackendReadComplete(BackendConnection connection) {
        if (connection != backend || state != State.RELAYING) {
            return;
        }
        channel.flush();
        if (channel.isWritable()) {
            connection.channel().read();
        } else {
            backendPaused = true;
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (backendPaused && channel.isWritable() && backend != null && state == State.RELAYING) {
            backendPaused = false;
            backend.channel().read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void onLocalInfilePacket(ByteBuf packet) {
        int length = Packets.payloadLength(packet, packet.readerIndex());
        lastSequenceId = Packets.sequenceId(packet, packet.readerIndex());
        if (backend == null) {
            packet.release();
            return;
        }
        backend.write(packet);
        if (length == 0) {
            backend.flush();
            tracker.afterLocalInfile();
            state = State.RELAYING;
            backend.channel().read();
        } else {
            channel.read();
        }
    }

    private void finishCommand() {
        inTransaction = (tracker.statusFlags() & StatusFlags.IN_TRANS) != 0;
        if (pendingSchema != null) {
            if (!tracker.error()) {
                schema = pendingSchema;
                backend.schema(pendingSchema);
            }
            pendingSchema = null;
        }
        commandDone();
    }

    private void commandDone() {
        currentCommand = -1;
        state = State.READY;
        readNextCommand();
    }

    private void readNextCommand() {
        while (state == State.READY) {
            ByteBuf next = queued.pollFirst();
            if (next == null) {
                channel.read();
                return;
            }
            try {
                onCommandPacket(next);
            } catch (ProtocolException | IndexOutOfBoundsException e) {
                protocolViolation(e);
            }
        }
    }

    @Override
    public void onBackendClosed(BackendConnection connection, String reason) {
        if (connection != backend) {
            return;
        }
        backendBroken(reason);
    }

    private void backendBroken(String reason) {
        BackendConnection dead = backend;
        backend = null;
        if (dead != null) {
            dead.close();
        }
        if (state == State.RELAYING || state == State.LOCAL_INFILE) {
            if (log.isDebugEnabled()) {
                log.debug("Session {}: backend lost during {}: {}", id, commandName(), reason);
            }
            inTransaction = false;
            sendError(new ErrPacket(CR_SERVER_LOST, "HY000", reason), lastSequenceId + 1);
            commandDone();
        }
    }

    // ---- replies and teardown -----------------------------------------------------------------------------

    private void sendOk(int sequenceId) {
        ByteBuf out = channel.alloc().buffer(16);
        int status = inTransaction ? StatusFlags.AUTOCOMMIT | StatusFlags.IN_TRANS : StatusFlags.AUTOCOMMIT;
        new OkPacket(0, 0, status, 0, null).writeTo(out, sequenceId);
        channel.writeAndFlush(out, channel.voidPromise());
        commandDone();
    }

    private void sendError(ErrPacket error, int sequenceId) {
        ByteBuf out = channel.alloc().buffer(32 + error.message().length() * 3);
        error.writeTo(out, sequenceId & 0xFF);
        channel.writeAndFlush(out, channel.voidPromise());
        if (state == State.READY && currentCommand >= 0) {
            commandDone();
        }
    }

    private void sendErrorAndClose(ErrPacket error, int sequenceId) {
        state = State.CLOSED;
        ByteBuf out = channel.alloc().buffer(32 + error.message().length() * 3);
        error.writeTo(out, sequenceId & 0xFF);
        channel.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
    }

    private void closeAfterFlush() {
        state = State.CLOSED;
        channel.writeAndFlush(channel.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
    }

    private void releaseCommand() {
        for (ByteBuf packet : command) {
            packet.release();
        }
        command.clear();
        commandBytes = 0;
    }

    /** Gives the backend connection back: to the pool when its state is known, closed otherwise. */
    private void releaseBackend(boolean clean) {
        BackendConnection lent = backend;
        backend = null;
        if (lent == null) {
            return;
        }
        if (state == State.RELAYING || state == State.LOCAL_INFILE || state == State.ACQUIRING) {
            lent.close(); // mid-response: its stream position is unknown
        } else {
            BackendPool.of(channel.eventLoop()).release(lent, clean);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof ProtocolException pe) {
            protocolViolation(pe);
            return;
        }
        if (log.isDebugEnabled()) {
            log.debug("Session {} from {}: {}", id, clientAddress, cause.toString());
        }
        close();
    }

    /** The one place a session releases everything it holds. Idempotent. */
    private void close() {
        if (channel == null) {
            return;
        }
        State was = state;
        state = State.CLOSED;
        if (backend != null) {
            BackendConnection lent = backend;
            backend = null;
            if (was == State.READY) {
                BackendPool.of(channel.eventLoop()).release(lent, false);
            } else {
                lent.close();
            }
        }
        releaseCommand();
        ByteBuf queuedPacket;
        while ((queuedPacket = queued.pollFirst()) != null) {
            ReferenceCountUtil.safeRelease(queuedPacket);
        }
        if (userCounted) {
            userCounted = false;
            context.sessions().userLoggedOut(user.username());
        }
        if (context.sessions().get(id) == this) {
            context.sessions().remove(this);
        }
        channel.close();
    }

    /** Capabilities negotiated with the client. */
    public int capabilities() {
        return capabilities;
    }

    public boolean tls() {
        return channel != null && channel.pipeline().get(SslHandler.class) != null;
    }

    public boolean inTransaction() {
        return inTransaction;
    }

    public long loginNanos() {
        return loginNanos;
    }

    static boolean has(int flags, int capability) {
        return Capabilities.has(flags, capability);
    }
}
