package io.proxyfleet.frontend;

import io.proxyfleet.login.TlsUpgrade;
import io.proxyfleet.login.FrontendHandshake;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
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
import io.proxyfleet.routing.CompiledRules;
import io.proxyfleet.routing.QueryClassifier;
import io.proxyfleet.routing.QueryContext;
import io.proxyfleet.routing.RoutingDecision;
import io.proxyfleet.routing.SessionVariable;
import io.proxyfleet.routing.SetStatement;
import io.proxyfleet.routing.SetStatementParser;
import io.proxyfleet.stats.CommandCounters;
import io.proxyfleet.stats.QueryDigestStats;
import io.proxyfleet.stats.SqlCommand;
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
public final class ClientSession extends ChannelInboundHandlerAdapter
        implements BackendListener, BackendConnector.Callback {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    /** Protocol errors a client can cause, with MySQL's codes. */
    private static final int ER_NET_PACKETS_OUT_OF_ORDER = 1156;
    private static final int ER_NET_PACKET_TOO_LARGE = 1153;
    private static final int ER_UNKNOWN_COM_ERROR = 1047;
    private static final int ER_BAD_HANDSHAKE = 1043;
    private static final int ER_CON_COUNT_ERROR = 1040;
    private static final int CR_SERVER_LOST = 2013;
    private static final int ER_QUERY_RULE_ERROR = 1148;
    private static final int ER_NO_SUCH_THREAD = 1094;
    private static final int ER_LOCKED_HOSTGROUP = 9006;
    private static final byte[] NO_BYTES = new byte[0];
    private static final int KILL_COMMAND = CommandCounters.COMMANDS.indexOf("KILL");
    private static final int SELECT_COMMAND = CommandCounters.COMMANDS.indexOf("SELECT");
    private static final long KILL_GRACE_NANOS = 5_000_000_000L;

    private enum State { HANDSHAKE, CHANGE_USER, READY, ACQUIRING, RELAYING, LOCAL_INFILE, CLOSED }

    private final TrafficContext context;
    private final long id;
    /** Created on the first command; idle sessions stay small (see {@link #tracker()}). */
    private ResponseTracker tracker;
    /** Packets that arrived while a command was in flight (pipelining clients), in order. */
    private final ArrayDeque<ByteBuf> queued = new ArrayDeque<>(2);
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
    private RoutingDecision decision;
    private final SessionVariables variables = new SessionVariables();
    private QueryContext queryContext;
    private byte[] queryBytes = NO_BYTES;
    /** QueryClassifier flags that keep the backend connection with this session (ProxySQL's status flags). */
    private int pinFlags;
    /** A rule with multiplex=0 matched. */
    private boolean noMultiplex;
    private int lockedHostgroup = -1;
    /** The client's prepared statements by the ids the proxy gave them. */
    private io.netty.util.collection.IntObjectHashMap<SessionStatement> statements;
    private int lastStatementId;
    /** The SQL of the COM_STMT_PREPARE in flight. */
    private String preparingSql;
    /** The statement the command in flight (execute, fetch, reset, long data) works on. */
    private SessionStatement commandStatement;
    /** Long data was sent for a statement: the backend holds it until the execute. */
    private boolean longDataPending;
    /** An execute opened a cursor that later fetches read from this backend connection. */
    private boolean cursorOpen;
    private int insertIdDelay;
    private int commandIndex = CommandCounters.UNKNOWN;
    private QueryDigestStats.Entry digestEntry;
    /** The command's packets, retained until the response starts, so a lost backend can be retried. */
    private final List<ByteBuf> inFlight = new ArrayList<>(1);

    private boolean responseStarted;
    private int retriesLeft;
    private int commandHostgroup = -1;
    /** The response being recorded for the query cache, or null when the query is not cacheable. */
    private io.netty.buffer.CompositeByteBuf cacheCapture;
    private QueryCache.Key cacheKey;
    private byte[] cacheQuery;
    private long cacheTtlMillis;
    private boolean cacheEmptyResult;
    /** When the command in flight times out (rule timeout or mysql-default_query_timeout), in nanoTime. */
    private long commandDeadline = Long.MAX_VALUE;
    private boolean killRequested;
    private BackendConnector.Request lastRequest;
    /** The query being logged to the events log (rule log=1), or null. */
    private String loggedQuery;
    private String loggedDigest;
    private long loggedStartMicros;
    /** Why the backend and the session state on it were lost while idle; reported to the next command. */
    private String stateLost;
    /** Tracked variables of a SET sent to the held backend, recorded when it answers OK. */
    private List<SessionVariable> pendingVariables;
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
        handshake = new FrontendHandshake(this::findAccount, this::admit, settings.serverVersion(), id,
                settings.defaultAuthPlugin(), tls != null, Capabilities.SESSION_TRACK, clientAddress,
                context.sha2Cache(), channel.alloc(),
                out -> channel.writeAndFlush(out, channel.voidPromise()));
        handshake.start();
        channel.read();
        // A client that never finishes logging in must not hold a session forever (mysql-connect_timeout_client).
        channel.eventLoop().schedule(() -> {
            if (state == State.HANDSHAKE) {
                if (log.isDebugEnabled()) {
                    log.debug("Session {} from {}: handshake not completed in time, closing", id, clientAddress);
                }
                close();
            }
        }, settings.connectTimeoutClient(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private FrontendHandshake.Account findAccount(String username) {
        MysqlUser found = context.config().current().users().frontend().get(username);
        if (found == null) {
            return null;
        }
        return new FrontendHandshake.Account(found.username(), found.password(), found.useSsl());
    }

    /**
     * Takes a slot of the user's max_connections just before the OK is written, so that the refusal replaces the
     * OK rather than following it, and two logins racing for the last slot cannot both get it.
     */
    private ErrPacket admit(FrontendHandshake.Account account) {
        MysqlUser found = context.config().current().users().frontend().get(account.username());
        if (found == null) {
            return new ErrPacket(1045, "28000", "ProxySQL Error: Access denied for user '" + account.username() + "'");
        }
        if (userCounted) {
            context.sessions().userLoggedOut(user.username());
            userCounted = false;
        }
        if (context.sessions().userLoggedIn(found.username()) > found.maxConnections()) {
            context.sessions().userLoggedOut(found.username());
            return tooManyUserConnections(found);
        }
        userCounted = true;
        return null;
    }

    private static ErrPacket tooManyUserConnections(MysqlUser found) {
        return new ErrPacket(ER_CON_COUNT_ERROR, "42000", "ProxySQL Error: User '" + found.username()
                + "' has exceeded the 'max_user_connections' resource (current value: " + found.maxConnections() + ")");
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
                TlsUpgrade.start(channel, context.tls().get());
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
        user = found;
        if (!changingUser) {
            capabilities = success.response().capabilities() & handshake.serverCapabilities();
        }
        collation = success.response().collation();
        variables.negotiated(collation);
        String requested = success.response().database();
        schema = requested != null && !requested.isEmpty() ? requested
                : found.defaultSchema() != null && !found.defaultSchema().isEmpty() ? found.defaultSchema()
                : TrafficSettings.of(cfg.mysqlVariables()).defaultSchema();
        backendCredentials = credentialsFor(cfg, found.username(), success.stage1());
        loginNanos = System.nanoTime();
        if (!changingUser) {
            LoopTicker.register(channel.eventLoop(), this);
        }
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
            commandDone();
            return;
        }
        int cmd = first.getUnsignedByte(payload);
        currentCommand = cmd;
        commandStartNanos = System.nanoTime();
        commandStatement = null;
        if (stateLost != null && cmd != Commands.QUIT && cmd != Commands.PING) {
            String reason = stateLost;
            stateLost = null;
            inTransaction = false;
            pinFlags = 0;
            cursorOpen = false;
            longDataPending = false;
            lockedHostgroup = -1;
            releaseCommand();
            sendError(new ErrPacket(CR_SERVER_LOST, "HY000", reason
                    + "; the transaction or session state held on it is gone"), 1);
            return;
        }
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
                sendOk(1, null);
            }
            case Commands.RESET_CONNECTION -> {
                releaseCommand();
                releaseBackend(false);
                resetSessionState();
                sendOk(1, null);
            }
            case Commands.CHANGE_USER -> changeUser();
            case Commands.STMT_CLOSE -> closeStatement();
            case Commands.QUERY -> onQuery();
            case Commands.STMT_EXECUTE, Commands.STMT_FETCH, Commands.STMT_RESET, Commands.STMT_SEND_LONG_DATA ->
                    onStatementCommand(cmd);
            case Commands.INIT_DB, Commands.FIELD_LIST, Commands.STATISTICS, Commands.STMT_PREPARE,
                 Commands.SET_OPTION, Commands.PROCESS_KILL -> {
                if (cmd == Commands.STMT_PREPARE) {
                    preparingSql = first.toString(payload + 1, Packets.payloadLength(first, first.readerIndex()) - 1,
                            java.nio.charset.StandardCharsets.UTF_8);
                }
                commandIndex = CommandCounters.UNKNOWN;
                digestEntry = null;
                forward(context.config().current(), backend != null ? backendHostgroup() : user.defaultHostgroup());
            }
            default -> {
                releaseCommand();
                sendError(new ErrPacket(ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command"), 1);
            }
        }
    }

    /** Execute, fetch, reset and long data name a statement by the proxy's id; the connection's own id differs. */
    private void onStatementCommand(int cmd) {
        ByteBuf first = command.get(0);
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        int clientId = first.getIntLE(payload + 1);
        SessionStatement statement = statements().get(clientId);
        commandIndex = CommandCounters.UNKNOWN;
        digestEntry = null;
        if (statement == null) {
            releaseCommand();
            if (cmd == Commands.STMT_SEND_LONG_DATA) {
                commandDone(); // no response is expected, not even an error
            } else {
                sendError(new ErrPacket(1243, "HY000", "Unknown prepared statement handler (" + clientId
                        + ") given to " + Commands.name(cmd).toLowerCase(java.util.Locale.ROOT)), 1);
            }
            return;
        }
        commandStatement = statement;
        if (cmd == Commands.STMT_EXECUTE && statement.params > 0 && command.size() == 1) {
            int flagAt = payload + 10 + (statement.params + 7) / 8;
            if (flagAt < first.writerIndex() && first.getByte(flagAt) == 1) {
                statement.paramTypes = new byte[2 * statement.params];
                first.getBytes(flagAt + 1, statement.paramTypes);
            }
        }
        if (cmd == Commands.STMT_SEND_LONG_DATA) {
            longDataPending = true;
        }
        forward(context.config().current(), backend != null ? backendHostgroup() : user.defaultHostgroup());
    }

    /**
     * Makes sure the connection has the command's statement (preparing it there first when it has not), puts the
     * connection's id into the packet, and gives it the parameter types when it lacks them.
     */
    private void bindStatementThenSend() {
        SessionStatement statement = commandStatement;
        BackendConnection.PreparedOnBackend onBackend = backend.statement(statement.sql);
        if (onBackend != null) {
            rewriteStatementId(statement, onBackend);
            sendCommand();
            return;
        }
        state = State.ACQUIRING;
        BackendConnection target = backend;
        target.prepareInternal(statement.sql, id -> {
            if (state != State.ACQUIRING || backend != target) {
                return;
            }
            if (id < 0) {
                releaseCommand();
                releaseInFlight();
                state = State.READY;
                sendError(new ErrPacket(1243, "HY000", "ProxySQL Error: could not prepare the statement again on"
                        + " backend " + target.server()), 1);
                return;
            }
            rewriteStatementId(statement, target.statement(statement.sql));
            sendCommand();
        });
    }

    private void rewriteStatementId(SessionStatement statement, BackendConnection.PreparedOnBackend onBackend) {
        List<ByteBuf> packets = command.isEmpty() ? inFlight : command;
        ByteBuf first = packets.get(0);
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        first.setIntLE(payload + 1, onBackend.id());
        if (currentCommand != Commands.STMT_EXECUTE || statement.params == 0 || packets.size() != 1) {
            return;
        }
        int flagAt = payload + 10 + (statement.params + 7) / 8;
        boolean typesBound = flagAt < first.writerIndex() && first.getByte(flagAt) == 1;
        if (!typesBound && onBackend.typesOwner() != statement && statement.paramTypes != null) {
            // This connection never received this statement's types (they went to another one): send them.
            ByteBuf withTypes = channel.alloc().buffer(first.readableBytes() + statement.paramTypes.length);
            int start = Packets.begin(withTypes, 0);
            withTypes.writeBytes(first, payload, flagAt - payload);
            withTypes.writeByte(1);
            withTypes.writeBytes(statement.paramTypes);
            withTypes.writeBytes(first, flagAt + 1, first.writerIndex() - flagAt - 1);
            Packets.finish(withTypes, start);
            first.release();
            packets.set(0, withTypes);
        }
        onBackend.typesOwner(statement);
    }

    private void changeUser() {
        ByteBuf packet = command.get(0);
        command.clear();
        commandBytes = 0;
        releaseBackend(false);
        resetSessionState();
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

    // ---- timeouts -----------------------------------------------------------------------------------------

    /**
     * Called by the loop's ticker. A query past its deadline is interrupted on the server with KILL QUERY sent
     * over a separate connection, so the client receives the server's own "interrupted" error and the session
     * and its connection stay usable; a server that does not react within {@link #KILL_GRACE_NANOS} loses the
     * connection instead, so no session waits forever.
     */
    void tick(long now) {
        if (state != State.RELAYING || now < commandDeadline || backend == null) {
            return;
        }
        if (!killRequested) {
            killRequested = true;
            commandDeadline = now + KILL_GRACE_NANOS;
            if (log.isInfoEnabled()) {
                log.info("Session {}: query exceeded its timeout on {}, sending KILL QUERY {}", id, backend.server(),
                        backend.threadId());
            }
            killQuery(backend);
            return;
        }
        backendBroken("Query timeout: the backend did not stop the query in time");
    }

    private void killQuery(BackendConnection target) {
        RuntimeConfig cfg = context.config().current();
        var key = new io.proxyfleet.backend.PoolKey(target.server().key(), backendCredentials.username(), 0,
                FrontendHandshake.SERVER_COLLATION);
        long threadId = target.threadId();
        BackendConnection.open(channel.eventLoop(), target.server(), key, backendCredentials, null,
                cfg.mysqlVariables().getInt("connect_timeout_server")).addListener(f -> {
                    if (!f.isSuccess()) {
                        log.warn("Session {}: could not connect to send KILL QUERY {}: {}", id, threadId,
                                f.cause().getMessage());
                        return;
                    }
                    BackendConnection killer = (BackendConnection) f.getNow();
                    killer.channel().config().setAutoRead(false);
                    killer.runInternal(killer.queryCommand("KILL QUERY " + threadId), err -> killer.close());
                });
    }

    // ---- per-command state, created on first use ----------------------------------------------------------

    private ResponseTracker tracker() {
        if (tracker == null) {
            tracker = new ResponseTracker();
        }
        return tracker;
    }

    private RoutingDecision decision() {
        if (decision == null) {
            decision = new RoutingDecision();
        }
        return decision;
    }

    private io.netty.util.collection.IntObjectHashMap<SessionStatement> statements() {
        if (statements == null) {
            statements = new io.netty.util.collection.IntObjectHashMap<>(4);
        }
        return statements;
    }

    // ---- the query processor ------------------------------------------------------------------------------

    /**
     * COM_QUERY: digest, query rules, session-state tracking, then routing to a hostgroup. Runs on the event
     * loop and allocates nothing on the common path beyond what the digest table needs for a new digest.
     */
    private void onQuery() {
        RuntimeConfig cfg = context.config().current();
        ByteBuf first = command.get(0);
        int payload = first.readerIndex() + Packets.HEADER_SIZE + 1;
        int length = Packets.payloadLength(first, first.readerIndex()) - 1;
        commandIndex = SqlCommand.classify(first, payload, payload + length);
        digestEntry = null;
        pendingVariables = null;
        loggedQuery = null;
        if (user.fastForward()) {
            forward(cfg, backend != null ? backendHostgroup() : user.defaultHostgroup());
            return;
        }
        QueryProcessing processing = QueryProcessing.current(cfg.mysqlVariables());
        QueryContext qc = queryContext(processing);
        int digestLength = Math.min(length, processing.maxQueryLength());
        if (queryBytes.length < digestLength) {
            queryBytes = new byte[Math.max(digestLength, 256)];
        }
        first.getBytes(payload, queryBytes, 0, digestLength);
        qc.schema(schema);
        qc.query(queryBytes, 0, digestLength);
        CompiledRules.of(cfg.queryRules().program()).evaluate(qc, decision());
        if (decision().errorMsg() != null) {
            releaseCommand();
            sendError(new ErrPacket(ER_QUERY_RULE_ERROR, "42000", decision().errorMsg()), 1);
            return;
        }
        if (decision().okMsg() != null) {
            releaseCommand();
            sendOk(1, decision().okMsg());
            return;
        }
        if (decision().cacheTtl() > 0 && commandIndex == SELECT_COMMAND && length == digestLength
                && serveFromCache(cfg, length)) {
            return;
        }
        int hostgroup = decision().destinationHostgroup() >= 0 ? decision().destinationHostgroup()
                : user.defaultHostgroup();
        if (backend != null && (inTransaction && user.transactionPersistent() || !canLetGo(processing))) {
            hostgroup = backendHostgroup();
        }
        if (lockedHostgroup >= 0 && hostgroup != lockedHostgroup) {
            releaseCommand();
            sendError(new ErrPacket(ER_LOCKED_HOSTGROUP, "HY000", "ProxySQL Error: connection is locked to hostgroup "
                    + lockedHostgroup + " but trying to reach hostgroup " + hostgroup), 1);
            return;
        }
        if (processing.digestsEnabled()) {
            var key = new QueryDigestStats.Key(hostgroup, schema, user.username(),
                    processing.trackHostname() ? clientAddress : "", qc.digest().hash());
            digestEntry = context.digests().entry(key, qc.digest()::textString);
        }
        if (!processing.eventsLogFile().isEmpty()
                && (decision().log() == 1 || decision().log() < 0 && processing.eventsLogByDefault())) {
            context.eventsLog().fileName(processing.eventsLogFile());
            loggedQuery = qc.queryString();
            loggedDigest = qc.digest().hashString();
            loggedStartMicros = System.currentTimeMillis() * 1000;
        }
        int flags = processing.classifier().classify(qc.digest());
        if (commandIndex == KILL_COMMAND && killLocally(qc.queryText())) {
            return;
        }
        if ((flags & QueryClassifier.SET_STATEMENT) != 0 && onSet(qc, hostgroup, processing)) {
            return;
        }
        if ((flags & QueryClassifier.UNLOCK_TABLES) != 0) {
            pinFlags &= ~QueryClassifier.LOCK_TABLES;
        }
        if ((flags & QueryClassifier.TRANSACTION_END) != 0) {
            pinFlags &= ~QueryClassifier.SAVEPOINT;
        }
        int pinning = flags & QueryClassifier.PINNING;
        if (decision().multiplex() == 2) {
            pinning &= ~QueryClassifier.USER_VARIABLE;
        } else if (decision().multiplex() == 0) {
            noMultiplex = true;
        } else if (decision().multiplex() == 1) {
            noMultiplex = false;
        }
        pinFlags |= pinning;
        if (decision().rewrittenQuery() != null) {
            rewriteCommand(decision().rewrittenQuery());
        }
        if (decision().mirrorHostgroup() >= 0 && command.size() == 1) {
            startMirror(cfg, decision().mirrorHostgroup());
        }
        long delay = decision().delay() > 0 ? decision().delay() : processing.defaultQueryDelay();
        if (delay > 0) {
            // Throttling: the session waits (packets that arrive meanwhile queue up), then runs the query.
            state = State.ACQUIRING;
            int target = hostgroup;
            channel.eventLoop().schedule(() -> {
                if (state == State.ACQUIRING) {
                    state = State.READY;
                    forward(context.config().current(), target);
                }
            }, delay, java.util.concurrent.TimeUnit.MILLISECONDS);
            return;
        }
        forward(cfg, hostgroup);
    }

    /**
     * Answers from the query cache when it holds this exact query for this user and schema; otherwise arranges
     * for the response to be recorded on its way to the client.
     *
     * @return true when the client was answered from the cache
     */
    private boolean serveFromCache(RuntimeConfig cfg, int length) {
        QueryCache.Key key = QueryCache.key(user.username(), schema,
                capabilities & BackendConnection.FORMAT_CAPABILITIES, queryBytes, length);
        byte[] cached = context.queryCache().get(key, queryBytes, System.currentTimeMillis());
        if (cached != null) {
            releaseCommand();
            channel.writeAndFlush(channel.alloc().buffer(cached.length).writeBytes(cached), channel.voidPromise());
            if (digestEntry != null) {
                digestEntry.record((System.nanoTime() - commandStartNanos) / 1000, 0, 0);
                digestEntry = null;
            }
            commandDone();
            return true;
        }
        cacheKey = key;
        cacheQuery = java.util.Arrays.copyOf(queryBytes, length);
        cacheTtlMillis = decision().cacheTtl();
        int emptyRule = decision().cacheEmptyResult();
        cacheEmptyResult = emptyRule == 1
                || emptyRule < 0 && cfg.mysqlVariables().getBoolean("query_cache_stores_empty_result");
        cacheCapture = channel.alloc().compositeBuffer();
        return false;
    }

    private void finishCacheCapture(RuntimeConfig cfg) {
        io.netty.buffer.CompositeByteBuf captured = cacheCapture;
        cacheCapture = null;
        if (captured == null) {
            return;
        }
        try {
            if (!tracker().error() && (tracker().rows() > 0 || cacheEmptyResult)) {
                byte[] response = new byte[captured.readableBytes()];
                captured.readBytes(response);
                long maxBytes = cfg.mysqlVariables().getLong("query_cache_size_MB") * 1024 * 1024;
                context.queryCache().put(cacheKey, cacheQuery, response, cacheTtlMillis, maxBytes,
                        System.currentTimeMillis());
            }
        } finally {
            captured.release();
            cacheKey = null;
            cacheQuery = null;
        }
    }

    private void startMirror(RuntimeConfig cfg, int mirrorHostgroup) {
        int formatCaps = capabilities & BackendConnection.FORMAT_CAPABILITIES;
        var request = new BackendConnector.Request(mirrorHostgroup, backendCredentials, schema, formatCaps,
                variables.backendCollation());
        MirrorQuery.start(context, channel.eventLoop(), cfg, request, command.get(0).retainedDuplicate());
    }

    private QueryContext queryContext(QueryProcessing processing) {
        if (queryContext == null) {
            queryContext = new QueryContext(processing.digest());
            String local = channel.localAddress() instanceof InetSocketAddress l ? l.getAddress().getHostAddress() : null;
            int port = channel.localAddress() instanceof InetSocketAddress l ? l.getPort() : -1;
            queryContext.session(user.username(), clientAddress, local, port);
        }
        return queryContext;
    }

    /**
     * A SET of session variables the proxy tracks is answered here and replayed lazily on whichever backend
     * connection runs the next query. Any other SET runs on the backend, which then stays with the session.
     *
     * @return true when the statement was fully handled here
     */
    private boolean onSet(QueryContext qc, int hostgroup, QueryProcessing processing) {
        SetStatement parsed = SetStatementParser.parse(qc.queryText());
        if (parsed instanceof SetStatement.Assignments assignments && assignments.allTracked()
                && sessionScoped(assignments)) {
            if (backend != null || (capabilities & Capabilities.SESSION_TRACK) != 0) {
                // The connection stays with the session (a transaction, say): the SET must take effect there now,
                // e.g. SET autocommit=1 commits. A client that tracks session state gets the server's own report
                // of the change in the OK. It is recorded once the backend accepts it.
                pendingVariables = assignments.variables();
                return false;
            }
            applyVariables(assignments.variables());
            releaseCommand();
            sendOk(1, null);
            return true;
        }
        if (parsed instanceof SetStatement.Assignments assignments) {
            pendingVariables = assignments.variables(); // its tracked session variables, once the backend says OK
        }
        pinFlags |= QueryClassifier.USER_VARIABLE;
        if (parsed instanceof SetStatement.Unparsable && processing.lockOnUnparsableSet()) {
            lockedHostgroup = hostgroup;
        }
        return false;
    }

    private void applyVariables(List<SessionVariable> assigned) {
        variables.apply(assigned, schema);
    }

    private static boolean sessionScoped(SetStatement.Assignments assignments) {
        for (SessionVariable variable : assignments.variables()) {
            if (variable.scope() != SessionVariable.Scope.SESSION) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code KILL [CONNECTION|QUERY] id} names a proxy session id: ProxySQL translates it, and so do we. KILL QUERY
     * interrupts the victim's running query on its backend and keeps its session; KILL [CONNECTION] closes it.
     */
    private boolean killLocally(CharSequence query) {
        long target = -1;
        int i = query.length() - 1;
        while (i >= 0 && (query.charAt(i) == ';' || Character.isWhitespace(query.charAt(i)))) {
            i--;
        }
        int end = i + 1;
        while (i >= 0 && Character.isDigit(query.charAt(i))) {
            i--;
        }
        if (i + 1 < end) {
            target = Long.parseLong(query.subSequence(i + 1, end).toString());
        }
        if (target < 0) {
            return false;
        }
        boolean queryOnly = containsWordIgnoreCase(query, "QUERY");
        releaseCommand();
        ClientSession victim = context.sessions().get(target);
        if (victim == null || !user.username().equals(victim.username())) {
            sendError(new ErrPacket(ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + target), 1);
            return true;
        }
        if (queryOnly) {
            victim.interruptQuery();
            sendOk(1, null);
            return true;
        }
        if (victim == this) {
            sendError(new ErrPacket(1317, "70100", "Query execution was interrupted"), 1);
            close();
            return true;
        }
        victim.kill();
        sendOk(1, null);
        return true;
    }

    private static boolean containsWordIgnoreCase(CharSequence text, String word) {
        int n = text.length();
        int w = word.length();
        for (int i = 0; i + w <= n; i++) {
            boolean match = true;
            for (int j = 0; j < w && match; j++) {
                match = Character.toUpperCase(text.charAt(i + j)) == word.charAt(j);
            }
            if (match && (i == 0 || !Character.isLetter(text.charAt(i - 1)))
                    && (i + w == n || !Character.isLetter(text.charAt(i + w)))) {
                return true;
            }
        }
        return false;
    }

    /** KILL QUERY from another session (or the admin): interrupt the running query, keep the session. */
    public void interruptQuery() {
        Channel ch = channel;
        if (ch == null) {
            return;
        }
        ch.eventLoop().execute(() -> {
            if (state == State.RELAYING && backend != null) {
                killQuery(backend);
            }
        });
    }

    private void rewriteCommand(String query) {
        releaseCommand();
        byte[] bytes = query.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuf out = channel.alloc().buffer(Packets.HEADER_SIZE + 1 + bytes.length);
        int start = Packets.begin(out, 0);
        out.writeByte(Commands.QUERY);
        out.writeBytes(bytes);
        Packets.finish(out, start);
        command.add(out);
        commandBytes = bytes.length + 1;
    }

    private int backendHostgroup() {
        return backend.server().key().hostgroupId();
    }

    /**
     * Whether the backend connection may leave the session after the current command: multiplexing on, and
     * nothing ties the connection's server-side state to this session (§5.5).
     */
    private boolean canLetGo(QueryProcessing processing) {
        return processing.multiplexing() && !user.fastForward() && !inTransaction && pinFlags == 0 && !noMultiplex
                && !cursorOpen && !longDataPending && insertIdDelay == 0 && lockedHostgroup < 0
                && variables.autocommit();
    }

    private void resetSessionState() {
        inTransaction = false;
        variables.clear();
        pinFlags = 0;
        noMultiplex = false;
        lockedHostgroup = -1;
        statements().clear();
        cursorOpen = false;
        longDataPending = false;
        insertIdDelay = 0;
        if (queryContext != null) {
            queryContext.nextQueryFlagIn(RoutingDecision.UNSET);
        }
    }

    // ---- relaying -----------------------------------------------------------------------------------------

    private void forward(RuntimeConfig cfg, int hostgroup) {
        commandHostgroup = hostgroup;
        long timeoutMillis = currentCommand == Commands.QUERY && decision().timeout() > 0 ? decision().timeout()
                : QueryProcessing.current(cfg.mysqlVariables()).defaultQueryTimeout();
        commandDeadline = commandStartNanos + timeoutMillis * 1_000_000L;
        killRequested = false;
        retriesLeft = currentCommand == Commands.QUERY && decision().retries() >= 0 ? decision().retries()
                : QueryProcessing.current(cfg.mysqlVariables()).queryRetries();
        if (backend != null && backend.server().status() == io.proxyfleet.config.ServerStatus.OFFLINE_HARD) {
            // OFFLINE_HARD cuts connections in use at their next command (§5.1.1).
            BackendConnection cut = backend;
            backend = null;
            cut.close();
        }
        if (backend != null && backendHostgroup() != hostgroup) {
            releaseBackend(true);
        }
        if (backend != null) {
            alignAndSend();
            return;
        }
        acquire(cfg, hostgroup);
    }

    private void acquire(RuntimeConfig cfg, int hostgroup) {
        state = State.ACQUIRING;
        context.connector().acquire(channel.eventLoop(), cfg, backendRequest(hostgroup), this, this);
    }

    /** What a backend connection for this session must look like; rebuilt only when something in it changed. */
    private BackendConnector.Request backendRequest(int hostgroup) {
        BackendConnector.Request last = lastRequest;
        if (last != null && last.hostgroup() == hostgroup && last.schema() == schema
                && last.collation() == variables.backendCollation() && last.credentials() == backendCredentials) {
            return last;
        }
        int formatCaps = capabilities & BackendConnection.FORMAT_CAPABILITIES;
        lastRequest = new BackendConnector.Request(hostgroup, backendCredentials, schema, formatCaps,
                variables.backendCollation());
        return lastRequest;
    }

    /** The connector found a connection ({@link BackendConnector.Callback}); on this session's event loop. */
    @Override
    public void acquired(BackendConnection connection) {
        if (state != State.ACQUIRING) {
            BackendPool.of(channel.eventLoop()).release(connection, true);
            return;
        }
        backend = connection;
        connection.channel().config().setAutoRead(false);
        alignAndSend();
    }

    /** No connection could be had ({@link BackendConnector.Callback}); on this session's event loop. */
    @Override
    public void failed(ErrPacket error) {
        if (state != State.ACQUIRING) {
            return;
        }
        context.errors().record(commandHostgroup, "", 0, user.username(), clientAddress, schema, error.code(),
                error.message());
        releaseCommand();
        releaseInFlight();
        state = State.READY;
        sendError(error, 1);
    }

    /** Brings the connection's session variables in line with the client's, then sends the command. */
    private void alignAndSend() {
        String sql = variables.alignmentSql(backend.applied(), backend.mariadb());
        if (sql == null) {
            sendOrBind();
            return;
        }
        state = State.ACQUIRING;
        BackendConnection target = backend;
        target.runInternal(target.queryCommand(sql), err -> {
            if (state != State.ACQUIRING || backend != target) {
                return;
            }
            if (err != null) {
                if (!target.channel().isActive()) {
                    backend = null;
                    target.close();
                } else {
                    variables.alignmentRefused();
                }
                releaseCommand();
                releaseInFlight();
                state = State.READY;
                sendError(err, 1);
                return;
            }
            variables.recordOn(target.applied());
            sendOrBind();
        });
    }

    private void sendOrBind() {
        if (commandStatement != null) {
            bindStatementThenSend();
        } else {
            sendCommand();
        }
    }

    private void sendCommand() {
        ByteBuf first = !command.isEmpty() ? command.get(0) : inFlight.get(0);
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        int cmd = first.getUnsignedByte(payload);
        boolean cursor = cmd == Commands.STMT_EXECUTE
                && (first.getUnsignedByte(payload + 5) & Commands.CURSOR_TYPE_READ_ONLY) != 0;
        tracker().start(expectationOf(cmd), backend.deprecateEof(), cursor);
        if (!command.isEmpty()) {
            // Keep the packets until the first response byte, so that a dead connection can be retried.
            releaseInFlight();
            inFlight.addAll(command);
            command.clear();
            commandBytes = 0;
        }
        for (ByteBuf packet : inFlight) {
            backend.write(packet.retainedDuplicate());
        }
        responseStarted = false;
        backend.countQuery();
        backend.flush();
        if (cmd == Commands.STMT_SEND_LONG_DATA) {
            releaseInFlight();
            state = State.READY;
            commandDone();
            return;
        }
        state = State.RELAYING;
        backendPaused = false;
        backend.channel().read();
    }

    private void releaseInFlight() {
        for (ByteBuf packet : inFlight) {
            packet.release();
        }
        inFlight.clear();
    }

    private static ResponseTracker.Expect expectationOf(int cmd) {
        return switch (cmd) {
            case Commands.QUERY, Commands.STMT_EXECUTE -> ResponseTracker.Expect.RESULT;
            case Commands.STMT_FETCH, Commands.FIELD_LIST -> ResponseTracker.Expect.ROWS;
            case Commands.STMT_PREPARE -> ResponseTracker.Expect.PREPARE;
            default -> ResponseTracker.Expect.SINGLE;
        };
    }

    /**
     * COM_STMT_CLOSE has no response. The statement is forgotten; the held connection closes its copy too, while
     * other connections keep theirs for the next session that prepares the same SQL.
     */
    private void closeStatement() {
        ByteBuf first = command.get(0);
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        SessionStatement closed = statements().remove(first.getIntLE(payload + 1));
        BackendConnection.PreparedOnBackend onBackend = closed == null || backend == null ? null
                : backend.statement(closed.sql);
        if (onBackend != null) {
            first.setIntLE(payload + 1, onBackend.id());
            for (ByteBuf packet : command) {
                backend.write(packet);
            }
            command.clear();
            commandBytes = 0;
            backend.flush();
            backend.statementClosed(closed.sql);
            cursorOpen = false;
        } else {
            releaseCommand();
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
            step = tracker().onPacket(packet, packet.readerIndex());
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            packet.release();
            backendBroken("Malformed packet from backend: " + e.getMessage());
            return;
        }
        lastSequenceId = Packets.sequenceId(packet, packet.readerIndex());
        if (!responseStarted) {
            responseStarted = true;
            releaseInFlight();
            if (currentCommand == Commands.STMT_PREPARE) {
                statementPrepared(packet);
            }
        }
        if (cacheCapture != null) {
            cacheCapture.addComponent(true, packet.retainedDuplicate());
        }
        if (step == ResponseTracker.Step.DONE && tracker().error()) {
            recordBackendError(packet);
        }
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

    /** PREPARE_OK: the client gets the proxy's statement id; the connection's own id is remembered on it. */
    private void statementPrepared(ByteBuf packet) {
        int payload = packet.readerIndex() + Packets.HEADER_SIZE;
        if (packet.getUnsignedByte(payload) != Packets.OK || preparingSql == null) {
            return;
        }
        int backendId = packet.getIntLE(payload + 1);
        int params = packet.getUnsignedShortLE(payload + 7);
        int clientId = ++lastStatementId;
        packet.setIntLE(payload + 1, clientId);
        statements().put(clientId, new SessionStatement(clientId, preparingSql, params));
        backend.statementPrepared(preparingSql, backendId);
        preparingSql = null;
    }

    /** Counts the ERR that ends this response in stats_mysql_errors (errors are rare: decoding is fine here). */
    private void recordBackendError(ByteBuf packet) {
        int payload = packet.readerIndex() + Packets.HEADER_SIZE;
        if (packet.getUnsignedByte(payload) != Packets.ERR) {
            return;
        }
        ErrPacket err = ErrPacket.decode(packet.slice(payload, packet.readableBytes() - Packets.HEADER_SIZE));
        var server = backend.server().key();
        context.errors().record(server.hostgroupId(), server.hostname(), server.port(), user.username(),
                clientAddress, schema, err.code(), err.message());
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
            tracker().afterLocalInfile();
            state = State.RELAYING;
            backend.channel().read();
        } else {
            channel.read();
        }
    }

    private void finishCommand() {
        inTransaction = (tracker().statusFlags() & StatusFlags.IN_TRANS) != 0;
        long micros = (System.nanoTime() - commandStartNanos) / 1000;
        if (digestEntry != null) {
            digestEntry.record(micros, tracker().affectedRows(), tracker().rows());
            digestEntry = null;
        }
        if (loggedQuery != null) {
            var server = backend.server().key();
            context.eventsLog().add(new EventsLog.Event(id, user.username(), schema, clientAddress,
                    server.hostgroupId(), server.hostname() + ":" + server.port(), loggedStartMicros,
                    loggedStartMicros + micros, tracker().affectedRows(), tracker().rows(), loggedDigest, loggedQuery));
            loggedQuery = null;
        }
        if (currentCommand == Commands.QUERY) {
            context.commands().record(commandIndex, micros);
        }
        if (currentCommand == Commands.STMT_EXECUTE) {
            longDataPending = false;
            cursorOpen = (tracker().statusFlags() & StatusFlags.CURSOR_EXISTS) != 0;
        } else if (currentCommand == Commands.STMT_FETCH && (tracker().statusFlags() & StatusFlags.LAST_ROW_SENT) != 0) {
            cursorOpen = false;
        } else if (currentCommand == Commands.STMT_RESET) {
            cursorOpen = false;
            longDataPending = false;
        }
        if (pendingVariables != null) {
            if (!tracker().error()) {
                applyVariables(pendingVariables);
                variables.recordOn(backend.applied());
            }
            pendingVariables = null;
        }
        variables.observe(tracker().statusFlags());
        RuntimeConfig cfg = context.config().current();
        finishCacheCapture(cfg);
        QueryProcessing processing = QueryProcessing.current(cfg.mysqlVariables());
        if (tracker().hasLastInsertId()) {
            insertIdDelay = processing.autoIncrementDelay();
        } else if (insertIdDelay > 0) {
            insertIdDelay--;
        }
        if (pendingSchema != null) {
            if (!tracker().error()) {
                schema = pendingSchema;
                backend.schema(pendingSchema);
            }
            pendingSchema = null;
        }
        state = State.READY;
        if (canLetGo(processing)) {
            releaseBackend(true);
        }
        commandDone();
    }

    private void commandDone() {
        pendingVariables = null; // a SET that failed before the backend answered changed nothing
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
        if (state == State.RELAYING && !responseStarted && !inFlight.isEmpty() && retriesLeft > 0
                && !inTransaction && pinFlags == 0 && !cursorOpen && !longDataPending) {
            // Nothing reached the client and no server-side state is lost: run the command elsewhere.
            retriesLeft--;
            if (log.isDebugEnabled()) {
                log.debug("Session {}: backend lost before answering, retrying: {}", id, reason);
            }
            acquire(context.config().current(), commandHostgroup);
            return;
        }
        releaseInFlight();
        releaseCommand();
        if (cacheCapture != null) {
            cacheCapture.release();
            cacheCapture = null;
        }
        if (state == State.READY && (inTransaction || pinFlags != 0 || cursorOpen || longDataPending)) {
            // The connection took server-side state with it (a transaction, user variables, ...). Carrying on
            // on a fresh connection would hide that loss, so the next command learns about it.
            stateLost = reason;
        }
        if (state == State.RELAYING || state == State.LOCAL_INFILE || state == State.ACQUIRING) {
            if (log.isDebugEnabled()) {
                log.debug("Session {}: backend lost during {}: {}", id, commandName(), reason);
            }
            inTransaction = false;
            sendError(new ErrPacket(CR_SERVER_LOST, "HY000", reason), lastSequenceId + 1);
            commandDone();
        }
    }

    // ---- replies and teardown -----------------------------------------------------------------------------

    private void sendOk(int sequenceId, String info) {
        ByteBuf out = channel.alloc().buffer(16 + (info == null ? 0 : info.length() * 3));
        new OkPacket(0, 0, variables.statusFlags(inTransaction), 0, info).writeTo(out, sequenceId, Packets.OK,
                (capabilities & Capabilities.SESSION_TRACK) != 0);
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
            BackendPool.of(channel.eventLoop()).release(lent, clean,
                    QueryProcessing.current(context.config().current().mysqlVariables()).maxStatementsPerConnection());
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
            boolean clean = was == State.READY && user != null
                    && canLetGo(QueryProcessing.current(context.config().current().mysqlVariables()));
            BackendPool.of(channel.eventLoop()).release(lent, clean);
        }
        releaseCommand();
        releaseInFlight();
        if (cacheCapture != null) {
            cacheCapture.release();
            cacheCapture = null;
        }
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
        LoopTicker.deregister(this);
        channel.close();
    }



    public boolean inTransaction() {
        return inTransaction;
    }

    /**
     * Why the backend connection stays with this session, for stats_mysql_processlist.status_flags: the
     * QueryClassifier pinning flags, plus bits for the other reasons (open statements, a multiplex=0 rule, a
     * hostgroup lock, the last-insert-id delay, autocommit off).
     */
    public int statusFlags() {
        int flags = pinFlags;
        if (cursorOpen || longDataPending) {
            flags |= 1 << 20;
        }
        if (noMultiplex) {
            flags |= 1 << 21;
        }
        if (lockedHostgroup >= 0) {
            flags |= 1 << 22;
        }
        if (insertIdDelay > 0) {
            flags |= 1 << 23;
        }
        if (!variables.autocommit()) {
            flags |= 1 << 24;
        }
        return flags;
    }

    public long loginNanos() {
        return loginNanos;
    }
}
