package io.proxyfleet.frontend;

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
import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.login.FrontendHandshake;
import io.proxyfleet.login.TlsUpgrade;
import io.proxyfleet.protocol.AuthPlugins;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.OkPacket;
import io.proxyfleet.protocol.PacketDecoder;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ProtocolException;
import io.proxyfleet.protocol.ResponseTracker;
import io.proxyfleet.protocol.StatusFlags;
import io.proxyfleet.routing.KillStatement;
import io.proxyfleet.stats.CommandCounters;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection on the traffic port. The session and its backend connection live on the same event loop,
 * which owns every field here; other threads only submit tasks to that loop ({@link #kill}, {@link #snapshot}).
 *
 * <pre>
 * state         entered when                          leaves for
 * HANDSHAKE     the client connects                   READY (logged in), CLOSED
 * READY         login, or the command in flight ends  WAITING, ACQUIRING, ALIGNING, RELAYING, CHANGE_USER, CLOSED
 * WAITING       a rule delays the query               ACQUIRING, ALIGNING, RELAYING, READY (failed)
 * ACQUIRING     the session holds no backend          ALIGNING, RELAYING, READY (failed)
 * ALIGNING      the backend needs SETs or a PREPARE   RELAYING, READY (failed)
 * RELAYING      the command went to the backend       READY (complete or failed), LOCAL_INFILE, ACQUIRING (retry)
 * LOCAL_INFILE  the server asked for the client file  RELAYING, READY (failed)
 * CHANGE_USER   COM_CHANGE_USER                       READY, CLOSED
 * CLOSED        close(), the one place that releases  -
 * </pre>
 *
 * A command lives in a {@link Command}: it ends through {@link #finishFromBackend}, {@link #answer} or
 * {@link #reject}, each of which ends it exactly once, and {@link #endCommand} then reads the next. What ties the
 * backend to the session is in {@link SessionPins}, asked by every decision that depends on it. What a query
 * should do is decided by its {@link QueryRouter}; prepared-statement ids are mapped by {@link SessionStatements}.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements BackendListener {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    private static final int ER_NET_PACKETS_OUT_OF_ORDER = 1156;
    private static final int ER_UNKNOWN_COM_ERROR = 1047;
    private static final int ER_BAD_HANDSHAKE = 1043;
    private static final int ER_CON_COUNT_ERROR = 1040;
    private static final int ER_QUERY_INTERRUPTED = 1317;
    /** MariaDB's answer to a statement of a connection that KILL ended. */
    private static final int ER_CONNECTION_KILLED = 1927;
    private static final int ER_KILL_DENIED = 1095;
    private static final int ER_UNKNOWN_STMT_HANDLER = 1243;
    private static final int CR_SERVER_LOST = 2013;
    /** ProxySQL's answer to COM_PROCESS_KILL, whose id would name a backend thread the client cannot see. */
    private static final int ER_PROXYSQL_COMMAND_NOT_SUPPORTED = 9003;
    /** How long a server gets to stop a query after KILL QUERY before the proxy cuts the connection. */
    private static final long KILL_GRACE_NANOS = 5_000_000_000L;
    private static final String STATE_GONE = "; the transaction or session state held on it is gone";
    /**
     * How long a session keeps an unpinned backend connection after its last statement when no other session
     * needs it. A session that waits for a connection takes a kept one back at once, so this bounds only how long
     * a quiet client's connection is missing from the idle pool (its pings, age limit and trimming).
     */
    static final long KEEP_IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * Capabilities offered beyond the base set. CLIENT_SESSION_TRACK works (SessionStateTest) but is not offered:
     * MariaDB Connector/J answers it with a {@code SET session_track_system_variables=CONCAT(...)} the proxy
     * cannot track, which would pin every such session to one hostgroup. Offer it once such SETs are tracked.
     */
    private static final int OFFERED_CAPABILITIES = 0;

    private enum State { HANDSHAKE, READY, WAITING, ACQUIRING, ALIGNING, RELAYING, LOCAL_INFILE, CHANGE_USER, CLOSED }

    private final TrafficContext context;
    private final long id;
    /** Packets that arrived while a command was in flight (pipelining clients), in order. */
    private final ArrayDeque<ByteBuf> queued = new ArrayDeque<>(2);
    private final SessionVariables variables = new SessionVariables();
    private final SessionPins pins = new SessionPins();
    private final SessionStatements statements = new SessionStatements();
    private Channel channel;
    private State state = State.HANDSHAKE;
    private FrontendHandshake handshake;
    private MysqlUser user;
    /** The user's name for other threads (processlist, KILL); {@link #user} is the loop's. */
    private volatile String username;
    /** Set by {@link #kill} on any thread; read on the loop before each command. */
    private volatile boolean killRequested;
    private int capabilities;
    private int collation;
    private String schema;
    private String clientAddress = "";
    private BackendCredentials backendCredentials;
    private BackendConnection backend;
    private int lastSequenceId;
    private long loginNanos;
    private long lastActivityNanos;
    private long transactionStartNanos;
    private boolean userCounted;
    private boolean draining;
    /** The command being assembled or in flight; null between commands. */
    private Command command;
    /** Created on the first command that needs them: idle sessions stay small. */
    private ResultRelay relay;
    private QueryRouter router;
    private int insertIdDelay;
    private BackendConnector.Request lastRequest;
    /** Why the backend and the session state on it were lost between commands; told to the next command. */
    private String stateLost;

    public ClientSession(TrafficContext context) {
        this.context = context;
        this.id = context.connectionIds().incrementAndGet();
    }

    public long id() {
        return id;
    }

    /** The logged-in user, or {@code null} while authenticating. Any thread. */
    public String username() {
        return username;
    }

    /**
     * Closes the session from any thread (KILL CONNECTION, shutdown). The close runs on the session's loop, possibly
     * after a statement the client already sent; the flag makes the loop refuse any such statement, so once the
     * killer hears OK the victim runs nothing more, as with MySQL's KILL.
     */
    public void kill() {
        killRequested = true;
        onLoop(this::close);
    }

    /** KILL QUERY from another session or the admin, any thread: interrupt the statement, keep the session. */
    public void interruptQuery() {
        onLoop(this::interruptOnLoop);
    }

    /** What stats_mysql_processlist shows of this session, read on its loop; null once it is gone. */
    public CompletableFuture<SessionSnapshot> snapshot() {
        var result = new CompletableFuture<SessionSnapshot>();
        if (!onLoop(() -> result.complete(snapshotOnLoop()))) {
            result.complete(null);
        }
        return result;
    }

    private boolean onLoop(Runnable task) {
        Channel ch = channel;
        if (ch == null) {
            return false;
        }
        try {
            ch.eventLoop().execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false; // the loop is shutting down, and the session with it
        }
    }

    private SessionSnapshot snapshotOnLoop() {
        if (state == State.CLOSED || user == null) {
            return null;
        }
        Command c = command;
        boolean busy = c != null && state != State.READY;
        BackendConnection b = backend;
        return new SessionSnapshot(id, user.username(), schema, clientAddress,
                b == null ? -1 : b.server().key().hostgroupId(), b == null ? "" : b.server().key().hostname(),
                b == null ? 0 : b.server().key().port(), busy ? "Query" : "Sleep",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - (busy ? c.startNanos : lastActivityNanos)),
                pins.bits(), pins.has(SessionPins.TRANSACTION));
    }

    /**
     * Node shutdown, from any thread: an idle client gets {@code notice} as the answer to its next command, then
     * the session closes. A session inside a command or its login is closed as it is, since an error packet there
     * would break the reply under way: that client sees a lost connection.
     */
    public void serverShutdown(ErrPacket notice) {
        onLoop(() -> {
            if (state == State.READY && command == null) {
                sendErrorAndClose(notice, 1);
            } else {
                close();
            }
        });
    }

    /**
     * Drain, from any thread: closes the session if it has been idle outside a transaction for at least
     * {@code minIdleNanos}, deciding on its own loop so that no command can start in between. Completes with true
     * once the session is gone. The idle time matters because a client that just logged in or just finished a
     * statement is about to send its next one: closing it then would fail that statement with 2013.
     */
    public CompletableFuture<Boolean> closeIfIdle(long minIdleNanos) {
        var result = new CompletableFuture<Boolean>();
        if (!onLoop(() -> {
            boolean idle = state == State.CLOSED
                    || state == State.READY && command == null && !pins.has(SessionPins.TRANSACTION)
                    && System.nanoTime() - lastActivityNanos >= minIdleNanos;
            if (idle) {
                close();
            }
            result.complete(idle);
        })) {
            result.complete(true);
        }
        return result;
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
                settings.defaultAuthPlugin(), tls != null, OFFERED_CAPABILITIES, clientAddress, context.sha2Cache(),
                channel.alloc(),
                out -> channel.writeAndFlush(out, channel.voidPromise()));
        handshake.start();
        channel.read();
        // A client that never finishes logging in must not hold a session forever (mysql-connect_timeout_client).
        channel.eventLoop().schedule(() -> {
            if (state == State.HANDSHAKE) {
                log.info("Session {} from {}: login not completed within mysql-connect_timeout_client, closing",
                        id, clientAddress);
                close();
            }
        }, settings.connectTimeoutClient(), TimeUnit.MILLISECONDS);
    }

    private FrontendHandshake.Account findAccount(String name) {
        MysqlUser found = context.config().current().users().frontend().get(name);
        return found == null ? null : new FrontendHandshake.Account(found.username(), found.password(), found.useSsl());
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
            return new ErrPacket(ER_CON_COUNT_ERROR, "42000", "ProxySQL Error: User '" + found.username()
                    + "' has exceeded the 'max_user_connections' resource (current value: " + found.maxConnections()
                    + ")");
        }
        userCounted = true;
        return null;
    }

    private void onHandshakePacket(ByteBuf packet) {
        FrontendHandshake.Outcome outcome;
        try {
            outcome = handshake.onPacket(packet);
        } finally {
            packet.release();
        }
        onLoginOutcome(outcome);
    }

    private void onLoginOutcome(FrontendHandshake.Outcome outcome) {
        switch (outcome) {
            case FrontendHandshake.Outcome.Continue c -> channel.read();
            case FrontendHandshake.Outcome.StartTls t -> {
                if (state == State.CHANGE_USER) {
                    closeAfterFlush();
                    return;
                }
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
        username = found.username();
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
        lastActivityNanos = loginNanos;
        if (!changingUser) {
            LoopTicker.register(channel.eventLoop(), this);
            // max_allowed_packet is checked from each header from now on, before the packet is buffered.
            channel.pipeline().get(PacketDecoder.class)
                    .afterLogin(TrafficSettings.of(cfg.mysqlVariables()).maxAllowedPacket());
        }
        if (log.isDebugEnabled()) {
            log.debug("Session {}: user {} logged in from {}", id, found.username(), clientAddress);
        }
        if (changingUser) {
            endCommand();
        } else {
            state = State.READY;
            drain();
        }
    }

    private BackendCredentials credentialsFor(RuntimeConfig cfg, String name, byte[] stage1FromClient) {
        MysqlUser backendUser = cfg.users().backend().get(name);
        if (backendUser == null || backendUser.passwordIsHashed()) {
            if (stage1FromClient != null) {
                context.backendPasswords().learn(name, stage1FromClient);
            }
            byte[] stage1 = stage1FromClient != null ? stage1FromClient : context.backendPasswords().stage1(name);
            return new BackendCredentials(name, null, stage1);
        }
        String clear = backendUser.password();
        return new BackendCredentials(name, clear, clear.isEmpty() ? null : AuthPlugins.nativeStage1(clear));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                handshake.tlsEstablished();
            } else {
                log.info("Session {} from {}: TLS handshake failed: {}", id, clientAddress, done.cause().toString());
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
                case LOCAL_INFILE -> onLocalInfilePacket(packet);
                case CLOSED -> packet.release();
                case READY -> {
                    queued.addLast(packet);
                    drain();
                }
                // A pipelining client: kept in order for after the command in flight. The client is not read
                // again until then, so this holds at most one socket read.
                case WAITING, ACQUIRING, ALIGNING, RELAYING -> {
                    queued.addLast(packet);
                    pauseClient();
                }
            }
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            protocolViolation(e);
        }
    }

    /**
     * Runs queued commands one after the other in a loop, never by recursion, so that any number of pipelined
     * commands answered by the proxy itself (100,000 COM_PING, say) use constant stack. Re-entrant calls (a
     * command that ends while this loop runs it) return at once; the loop picks up what follows.
     */
    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            ByteBuf next;
            while (state == State.READY && (next = queued.pollFirst()) != null) {
                try {
                    onCommandPacket(next);
                } catch (ProtocolException | IndexOutOfBoundsException e) {
                    protocolViolation(e);
                }
            }
        } finally {
            draining = false;
        }
        if (state == State.READY && queued.isEmpty()) {
            resumeClient();
        } else if (!queued.isEmpty()) {
            pauseClient();
        }
    }

    /**
     * Stops reading the client while its packets wait in {@link #queued}. Only pipelining clients get here: one
     * that waits for each reply sends nothing while a command is in flight, so between such commands the
     * client's read interest stays registered and costs no epoll_ctl per statement.
     */
    private void pauseClient() {
        if (channel.config().isAutoRead()) {
            channel.config().setAutoRead(false);
        }
    }

    private void resumeClient() {
        if (!channel.config().isAutoRead()) {
            channel.config().setAutoRead(true); // reads again, as channel.read() would
        }
    }

    private void protocolViolation(RuntimeException e) {
        log.warn("Session {} from {}: malformed packet, closing: {}", id, clientAddress, e.getMessage());
        int code = state == State.HANDSHAKE ? ER_BAD_HANDSHAKE : ER_UNKNOWN_COM_ERROR;
        sendErrorAndClose(new ErrPacket(code, "08S01", "Malformed packet: " + e.getMessage()), lastSequenceId + 1);
    }

    private void onCommandPacket(ByteBuf packet) {
        if (command == null && backend != null) {
            backend.cutIfOfflineHard(); // a cut still queued on this loop must act before the new command
        }
        int start = packet.readerIndex();
        int length = Packets.payloadLength(packet, start);
        int sequenceId = Packets.sequenceId(packet, start);
        int expected = command == null ? 0 : (lastSequenceId + 1) & 0xFF;
        if (sequenceId != expected) {
            packet.release();
            sendErrorAndClose(new ErrPacket(ER_NET_PACKETS_OUT_OF_ORDER, "08S01", "Got packets out of order"),
                    sequenceId + 1);
            return;
        }
        lastSequenceId = sequenceId;
        if (command == null) {
            command = Command.assemble(packet, System.nanoTime());
        } else {
            command.append(packet);
        }
        if (length == Packets.MAX_PAYLOAD) {
            return; // the rest of a 16 MiB+ command follows; drain() reads it
        }
        dispatch(command);
    }

    private void dispatch(Command c) {
        lastActivityNanos = c.startNanos;
        if (c.code < 0) {
            reject(new ErrPacket(ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command"), 1);
            return;
        }
        if (killRequested) {
            sendErrorAndClose(new ErrPacket(ER_CONNECTION_KILLED, "70100", "Connection was killed"), 1);
            return;
        }
        if (stateLost != null && c.code != Commands.QUIT && c.code != Commands.PING) {
            // As when a server itself goes away: the client learns it and the connection ends, so nothing the
            // client sends next (a COMMIT, say) can run without the transaction it belonged to.
            sendErrorAndClose(new ErrPacket(CR_SERVER_LOST, "HY000", stateLost + STATE_GONE), 1);
            return;
        }
        ByteBuf first = c.first();
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        int payloadLength = Packets.payloadLength(first, first.readerIndex());
        c.sqlIndex = CommandCounters.UNKNOWN;
        switch (c.code) {
            case Commands.QUIT -> {
                command = null; // QUIT ends the session between commands: a clean backend may go back to the pool
                c.fail();
                close();
            }
            case Commands.PING -> answerOk(null);
            case Commands.PROCESS_KILL -> reject(new ErrPacket(ER_PROXYSQL_COMMAND_NOT_SUPPORTED, "28000",
                    "Command not supported"), 1);
            case Commands.RESET_CONNECTION -> {
                releaseBackend();
                resetSessionState();
                answerOk(null);
            }
            case Commands.CHANGE_USER -> changeUser(c);
            case Commands.STMT_CLOSE -> closeStatement(c);
            case Commands.QUERY -> onQuery(c);
            case Commands.STMT_EXECUTE, Commands.STMT_FETCH, Commands.STMT_RESET, Commands.STMT_SEND_LONG_DATA ->
                    onStatementCommand(c);
            case Commands.INIT_DB, Commands.FIELD_LIST, Commands.STATISTICS, Commands.STMT_PREPARE,
                 Commands.SET_OPTION -> {
                String text = first.toString(payload + 1, payloadLength - 1, StandardCharsets.UTF_8);
                if (c.code == Commands.STMT_PREPARE) {
                    c.preparingSql = text;
                } else if (c.code == Commands.INIT_DB) {
                    c.pendingSchema = text;
                }
                forward(context.config().current(), heldOrDefaultHostgroup());
            }
            default -> reject(new ErrPacket(ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command"), 1);
        }
    }

    private int heldOrDefaultHostgroup() {
        return holdsBackend() ? backendHostgroup() : user.defaultHostgroup();
    }

    /** True when the session holds a backend for a reason (a pin, a command); a merely kept one does not count. */
    private boolean holdsBackend() {
        return backend != null && !backend.kept();
    }

    private void changeUser(Command c) {
        ByteBuf packet = c.first().retain();
        c.fail();
        command = null;
        releaseBackend();
        resetSessionState();
        state = State.CHANGE_USER;
        FrontendHandshake.Outcome outcome;
        try {
            outcome = handshake.onChangeUser(packet, capabilities);
        } finally {
            packet.release();
        }
        onLoginOutcome(outcome);
    }

    // ---- prepared statements ------------------------------------------------------------------------------

    /** Execute, fetch, reset and long data name a statement by the proxy's id; the connection's own id differs. */
    private void onStatementCommand(Command c) {
        SessionStatement statement = statements.named(c);
        if (statement == null) {
            if (c.code == Commands.STMT_SEND_LONG_DATA) {
                answerNothing(); // no response is expected, not even an error
            } else {
                reject(new ErrPacket(ER_UNKNOWN_STMT_HANDLER, "HY000", "Unknown prepared statement handler ("
                        + SessionStatements.clientId(c) + ") given to "
                        + Commands.name(c.code).toLowerCase(Locale.ROOT)), 1);
            }
            return;
        }
        c.statement = statement;
        SessionStatements.rememberTypes(c, statement);
        forward(context.config().current(), heldOrDefaultHostgroup());
    }

    /** Makes sure the connection has the command's statement, preparing it there first when it has not. */
    private void bindStatementThenSend(Command c) {
        BackendConnection.PreparedOnBackend onBackend = backend.statement(c.statement.sql);
        if (onBackend != null) {
            SessionStatements.bind(c, onBackend, channel.alloc());
            sendCommand(c);
            return;
        }
        enterAligning(c);
        BackendConnection target = backend;
        target.prepareInternal(c.statement.sql, preparedId -> {
            if (command != c || state != State.ALIGNING || backend != target) {
                return;
            }
            if (preparedId < 0) {
                reject(new ErrPacket(ER_UNKNOWN_STMT_HANDLER, "HY000", "ProxySQL Error: could not prepare the"
                        + " statement again on backend " + target.server()), 1);
                return;
            }
            SessionStatements.bind(c, target.statement(c.statement.sql), channel.alloc());
            sendCommand(c);
        });
    }

    /**
     * COM_STMT_CLOSE has no response. The statement is forgotten; the held connection closes its copy too, while
     * other connections keep theirs for the next session that prepares the same SQL.
     */
    private void closeStatement(Command c) {
        SessionStatement closed = statements.close(c);
        BackendConnection.PreparedOnBackend onBackend = closed == null || backend == null ? null
                : backend.statement(closed.sql);
        if (onBackend != null) {
            SessionStatements.bindClose(c, onBackend);
            c.writeTo(backend);
            backend.flush();
            backend.statementClosed(closed.sql);
            pins.remove(SessionPins.CURSOR);
        }
        answerNothing();
    }

    // ---- the query processor ------------------------------------------------------------------------------

    /** COM_QUERY: the router decides, the session carries it out. */
    private void onQuery(Command c) {
        RuntimeConfig cfg = context.config().current();
        switch (router().route(c, cfg)) {
            case QueryRouter.Forward f -> {
                if (c.delayMillis <= 0) {
                    forward(cfg, c.hostgroup);
                    return;
                }
                // Throttling: the session waits (packets that arrive meanwhile queue up), then runs the query.
                state = State.WAITING;
                channel.eventLoop().schedule(() -> {
                    if (command == c && state == State.WAITING) {
                        forward(context.config().current(), c.hostgroup);
                    }
                }, c.delayMillis, TimeUnit.MILLISECONDS);
            }
            case QueryRouter.Answered a -> { }
            case QueryRouter.AnswerOk ok -> answerOk(ok.info());
            case QueryRouter.AnswerCached hit ->
                    answer(channel.alloc().buffer(hit.response().length).writeBytes(hit.response()));
            case QueryRouter.Reject r -> reject(r.error(), 1);
        }
    }

    private QueryRouter router() {
        if (router == null) {
            router = new QueryRouter(context, new RouterView(), pins, variables, channel, id, clientAddress);
        }
        return router;
    }

    /** The session as its router sees it; on the session's loop only. */
    private final class RouterView implements QueryRouter.Session {
        @Override
        public MysqlUser user() {
            return user;
        }

        @Override
        public String schema() {
            return schema;
        }

        @Override
        public int capabilities() {
            return capabilities;
        }

        @Override
        public int heldHostgroup() {
            return holdsBackend() ? backendHostgroup() : -1;
        }

        @Override
        public BackendCredentials backendCredentials() {
            return backendCredentials;
        }

        @Override
        public boolean killLocally(KillStatement kill) {
            return ClientSession.this.killLocally(kill);
        }
    }

    /**
     * {@code KILL [CONNECTION|QUERY] id} as the whole statement, where the id is a proxy session: ProxySQL answers
     * it, and so do we. A user may kill only their own sessions, as in MySQL. An id that is no proxy session goes
     * to the backend unchanged, which applies its own rules.
     *
     * @return true when the statement was answered here
     */
    private boolean killLocally(KillStatement kill) {
        ClientSession victim = kill == null ? null : context.sessions().get(kill.id());
        if (victim == null) {
            return false;
        }
        if (!user.username().equals(victim.username())) {
            reject(new ErrPacket(ER_KILL_DENIED, "HY000", "You are not owner of thread " + kill.id()), 1);
            return true;
        }
        if (victim == this) {
            if (kill.queryOnly()) {
                answerOk(null); // nothing of ours is running but this KILL
            } else {
                sendErrorAndClose(new ErrPacket(ER_QUERY_INTERRUPTED, "70100", "Query execution was interrupted"), 1);
            }
            return true;
        }
        if (kill.queryOnly()) {
            victim.interruptQuery();
        } else {
            victim.kill();
        }
        answerOk(null);
        return true;
    }

    private void resetSessionState() {
        variables.clear();
        pins.clear();
        statements.clear();
        insertIdDelay = 0;
        stateLost = null;
        if (router != null) {
            router.reset();
        }
    }

    // ---- to the backend -----------------------------------------------------------------------------------

    private void forward(RuntimeConfig cfg, int hostgroup) {
        Command c = command;
        QueryProcessing processing = QueryProcessing.current(cfg.mysqlVariables());
        c.hostgroup = hostgroup;
        long timeoutMillis = c.ruleTimeoutMillis > 0 ? c.ruleTimeoutMillis : processing.defaultQueryTimeout();
        c.deadlineNanos = timeoutMillis <= 0 ? Long.MAX_VALUE : c.startNanos + timeoutMillis * 1_000_000L;
        c.retriesLeft = c.ruleRetries >= 0 ? c.ruleRetries : processing.queryRetries();
        ServerRuntime picked = null;
        if (backend != null && backend.kept()) {
            // The statement is weighed onto a server as if the session held nothing; the kept connection serves
            // it only when the pool would have handed out that very connection.
            backend.unkeep();
            BackendConnector connector = context.connector();
            picked = connector.pick(cfg, hostgroup);
            if (!connector.mayKeep(backend, picked, backendRequest(hostgroup))) {
                releaseBackend();
            }
        }
        if (backend != null && backendHostgroup() != hostgroup) {
            releaseBackend();
        }
        if (backend != null) {
            alignAndSend(c);
            return;
        }
        acquire(cfg, c, picked);
    }

    private void acquire(RuntimeConfig cfg, Command c, ServerRuntime picked) {
        state = State.ACQUIRING;
        context.connector().acquire(channel.eventLoop(), cfg, backendRequest(c.hostgroup), this,
                c.awaitConnection(this), picked);
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

    /**
     * The connector found a connection for command {@code c}; on this session's event loop. The callback is the
     * command's own, so a connection that arrives for a command that already ended never serves another one.
     */
    void acquired(Command c, BackendConnection connection) {
        if (command != c || state != State.ACQUIRING) {
            context.connector().pool(channel.eventLoop()).release(connection, true);
            return;
        }
        backend = connection;
        alignAndSend(c);
    }

    /** Whether command {@code c} still waits for a connection: the connector stops trying for one that ended. */
    boolean awaits(Command c) {
        return command == c && state == State.ACQUIRING;
    }

    /** No connection could be had for command {@code c}; on this session's event loop. */
    void failed(Command c, ErrPacket error) {
        if (command != c || state != State.ACQUIRING) {
            return;
        }
        context.errors().record(command.hostgroup, "", 0, user.username(), clientAddress, schema, error.code(),
                error.message());
        reject(error, 1);
    }

    /** Brings the connection's session variables in line with the client's, then sends the command. */
    private void alignAndSend(Command c) {
        String sql = variables.alignmentSql(backend.applied(), backend.mariadb());
        if (sql == null) {
            sendOrBind(c);
            return;
        }
        enterAligning(c);
        BackendConnection target = backend;
        target.runInternal(target.queryCommand(sql), err -> {
            if (command != c || state != State.ALIGNING || backend != target) {
                return;
            }
            if (err != null) {
                if (!target.channel().isActive()) {
                    dropBackend();
                } else {
                    variables.alignmentRefused();
                }
                reject(err, 1);
                return;
            }
            variables.recordOn(target.applied());
            sendOrBind(c);
        });
    }

    private void enterAligning(Command c) {
        state = State.ALIGNING;
        c.phaseDeadlineNanos = System.nanoTime()
                + TrafficSettings.of(context.config().current().mysqlVariables()).internalStepNanos();
    }

    private void sendOrBind(Command c) {
        if (c.statement != null) {
            bindStatementThenSend(c);
        } else {
            sendCommand(c);
        }
    }

    private void sendCommand(Command c) {
        ByteBuf first = c.first();
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        boolean cursor = c.code == Commands.STMT_EXECUTE
                && (first.getUnsignedByte(payload + 5) & Commands.CURSOR_TYPE_READ_ONLY) != 0;
        c.writeTo(backend);
        backend.countQuery();
        backend.flush();
        if (c.code == Commands.STMT_SEND_LONG_DATA) {
            pins.add(SessionPins.LONG_DATA);
            answerNothing();
            return;
        }
        state = State.RELAYING;
        relay().start(backend, expectationOf(c.code), cursor);
    }

    private ResultRelay relay() {
        if (relay == null) {
            relay = new ResultRelay(channel);
        }
        return relay;
    }

    private static ResponseTracker.Expect expectationOf(int cmd) {
        return switch (cmd) {
            case Commands.QUERY, Commands.STMT_EXECUTE -> ResponseTracker.Expect.RESULT;
            case Commands.STMT_FETCH, Commands.FIELD_LIST -> ResponseTracker.Expect.ROWS;
            case Commands.STMT_PREPARE -> ResponseTracker.Expect.PREPARE;
            default -> ResponseTracker.Expect.SINGLE;
        };
    }

    private int backendHostgroup() {
        return backend.server().key().hostgroupId();
    }

    // ---- from the backend ---------------------------------------------------------------------------------

    /** Whole packets of the response in flight, one socket read's worth; the relay writes them to the client. */
    @Override
    public void onBackendPacket(BackendConnection connection, ByteBuf packets) {
        Command c = command;
        if (connection != backend || state != State.RELAYING || c == null) {
            packets.release();
            return;
        }
        ResponseTracker.Step step;
        try {
            step = relay.relay(packets, c, statements, backend);
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            backendBroken(new ErrPacket(CR_SERVER_LOST, "HY000", "Malformed packet from backend: " + e.getMessage()));
            return;
        }
        lastSequenceId = relay.lastSequenceId();
        switch (step) {
            case MORE -> { }
            case DONE -> finishFromBackend(c);
            case LOCAL_INFILE -> {
                state = State.LOCAL_INFILE;
                channel.read();
            }
        }
    }

    @Override
    public void onBackendReadComplete(BackendConnection connection) {
        if (connection == backend && state == State.RELAYING) {
            relay.readComplete(connection);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (backend != null && state == State.RELAYING) {
            relay.clientWritable(backend);
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
            state = State.RELAYING;
            relay.afterLocalInfile(backend);
        } else {
            channel.read();
        }
    }

    /** The backend's reply is complete: the session learns what the command changed, then the command ends. */
    private void finishFromBackend(Command c) {
        ResponseTracker t = relay.tracker();
        ErrPacket err = relay.takeError();
        if (err != null) {
            var server = backend.server().key();
            context.errors().record(server.hostgroupId(), server.hostname(), server.port(), user.username(),
                    clientAddress, schema, err.code(), err.message());
        }
        int status = t.statusFlags();
        // An error leaves a transaction as it was; the status flags the tracker holds then are older ones.
        boolean inTransaction = t.error() ? pins.has(SessionPins.TRANSACTION) || (status & StatusFlags.IN_TRANS) != 0
                : (status & StatusFlags.IN_TRANS) != 0;
        long now = System.nanoTime();
        if (inTransaction && !pins.has(SessionPins.TRANSACTION)) {
            transactionStartNanos = c.startNanos;
        }
        pins.set(SessionPins.TRANSACTION, inTransaction);
        switch (c.code) {
            case Commands.STMT_EXECUTE -> {
                pins.remove(SessionPins.LONG_DATA);
                pins.set(SessionPins.CURSOR, (status & StatusFlags.CURSOR_EXISTS) != 0);
            }
            case Commands.STMT_FETCH -> {
                if ((status & StatusFlags.LAST_ROW_SENT) != 0) {
                    pins.remove(SessionPins.CURSOR);
                }
            }
            case Commands.STMT_RESET -> pins.remove(SessionPins.CURSOR | SessionPins.LONG_DATA);
            default -> { }
        }
        if (!t.error()) {
            if (c.pendingVariables != null) {
                router().apply(c.pendingVariables);
                variables.recordOn(backend.applied());
            }
            if (c.pendingSchema != null) {
                schema = c.pendingSchema;
                backend.schema(c.pendingSchema);
            }
        }
        variables.observe(status);
        RuntimeConfig cfg = context.config().current();
        QueryProcessing processing = QueryProcessing.current(cfg.mysqlVariables());
        if (t.hasLastInsertId()) {
            insertIdDelay = processing.autoIncrementDelay();
        } else if (insertIdDelay > 0) {
            insertIdDelay--;
        }
        pins.set(SessionPins.INSERT_ID_DELAY, insertIdDelay > 0);
        if (c.code == Commands.QUERY) {
            context.commands().record(c.sqlIndex, (now - c.startNanos) / 1000);
        }
        c.complete(t, context, backend, now);
        command = null;
        state = State.READY;
        if (!user.fastForward() && !pins.keepsBackend(processing.multiplexing())
                && (backend.statementCount() > processing.maxStatementsPerConnection() || !backend.keep())) {
            releaseBackend(); // due for a statement trim, or another session waits for a connection
        }
        endCommand();
    }

    /** Another session waits for the connection this one keeps between statements: it goes back at once. */
    @Override
    public boolean giveBack(BackendConnection connection) {
        if (connection != backend) {
            return false;
        }
        backend = null;
        pins.backendLost();
        return true;
    }

    @Override
    public void onBackendClosed(BackendConnection connection, ErrPacket error) {
        if (connection == backend) {
            backendBroken(error);
        }
    }

    /**
     * The held connection died, for the reason {@code error} gives (lost: 2013; the proxy out of direct memory:
     * 1041). A lost command in flight runs again elsewhere only when {@link Command#mayRetry} says that cannot
     * change what the database does; otherwise, and always when memory ran out, the client gets the error. Between
     * commands, lost server-side state is told to the next command instead of hidden.
     */
    private void backendBroken(ErrPacket error) {
        Command c = command;
        String reason = error.message();
        boolean inFlight = c != null && (state == State.ALIGNING || state == State.RELAYING
                || state == State.LOCAL_INFILE);
        boolean hadState = pins.holdsServerState();
        boolean retry = inFlight && state != State.LOCAL_INFILE && error.code() == CR_SERVER_LOST
                && c.mayRetry(pins);
        dropBackend();
        if (retry) {
            c.retriesLeft--;
            if (log.isInfoEnabled()) {
                log.info("Session {} from {}: backend lost before answering, running the {} again: {}", id,
                        clientAddress, c.readOnly ? "read-only query" : "command that never reached it", reason);
            }
            acquire(context.config().current(), c, null);
            return;
        }
        if (inFlight) {
            log.info("Session {} from {}: backend lost during {}: {}", id, clientAddress, Commands.name(c.code), reason);
            int sequenceId = c.replyStarted ? lastSequenceId + 1 : 1;
            if (hadState) {
                sendErrorAndClose(new ErrPacket(error.code(), error.sqlState(), reason + STATE_GONE), sequenceId);
            } else {
                reject(error, sequenceId);
            }
        } else if (hadState && c != null && state == State.WAITING) {
            // The delayed command would otherwise start on a fresh connection without the state it relies on.
            sendErrorAndClose(new ErrPacket(error.code(), error.sqlState(), reason + STATE_GONE), 1);
        } else if (hadState) {
            stateLost = reason;
        }
    }

    /** Forgets the held connection and closes it; what it held on the server is gone with it. */
    private void dropBackend() {
        BackendConnection dead = backend;
        backend = null;
        pins.backendLost();
        insertIdDelay = 0;
        if (dead != null) {
            dead.close();
        }
    }

    /**
     * Gives the held connection back. The one answer to "may it go back to the pool?": only between commands and
     * only when it holds nothing of this session; otherwise its state is unknown or someone else's, and it closes.
     */
    private void releaseBackend() {
        BackendConnection lent = backend;
        backend = null;
        if (lent == null) {
            return;
        }
        boolean clean = (command == null || !command.sent) && isBetweenCommands() && !pins.holdsServerState();
        pins.backendLost();
        insertIdDelay = 0;
        if (!clean) {
            lent.close();
            return;
        }
        context.connector().pool(channel.eventLoop()).release(lent, true,
                QueryProcessing.current(context.config().current().mysqlVariables()).maxStatementsPerConnection());
    }

    private boolean isBetweenCommands() {
        return state == State.READY || state == State.WAITING || state == State.CHANGE_USER;
    }

    // ---- deadlines and housekeeping -----------------------------------------------------------------------

    /**
     * Called by the loop's ticker. Between commands: mysql-wait_timeout, and the transaction limits. During a
     * command: its deadline in every phase. A statement that reached the server is interrupted with KILL QUERY
     * over a separate connection, so the client gets the server's own error and keeps its session; a server that
     * does not react within {@link #KILL_GRACE_NANOS} loses the connection, so no session waits forever.
     */
    void tick(long now) {
        if (state == State.CLOSED || state == State.HANDSHAKE) {
            return;
        }
        TrafficSettings settings = TrafficSettings.of(context.config().current().mysqlVariables());
        if (pins.has(SessionPins.TRANSACTION) && now - transactionStartNanos > settings.maxTransactionNanos()) {
            closeForLimit("its transaction exceeded mysql-max_transaction_time");
            return;
        }
        Command c = command;
        if (backend != null && backend.kept() && now - lastActivityNanos > KEEP_IDLE_NANOS) {
            releaseBackend();
        }
        if (c == null || state == State.READY || state == State.CHANGE_USER) {
            if (now - lastActivityNanos > settings.waitTimeoutNanos()) {
                closeForLimit("it was idle longer than mysql-wait_timeout");
            } else if (pins.has(SessionPins.TRANSACTION)
                    && now - lastActivityNanos > settings.maxTransactionIdleNanos()) {
                closeForLimit("its transaction was idle longer than mysql-max_transaction_idle_time");
            }
            return;
        }
        if (state == State.ALIGNING && now - c.phaseDeadlineNanos > 0) {
            dropBackend();
            reject(new ErrPacket(CR_SERVER_LOST, "HY000", "Lost connection to backend: preparing the connection for"
                    + " the session took longer than mysql-connect_timeout_server_max"), 1);
            return;
        }
        if (now - c.deadlineNanos < 0) {
            return;
        }
        switch (state) {
            case WAITING, ACQUIRING, ALIGNING -> {
                if (state == State.ALIGNING) {
                    dropBackend();
                }
                reject(new ErrPacket(ER_QUERY_INTERRUPTED, "70100", "Query execution was interrupted: query timeout"
                        + " reached before the query was sent to a backend"), 1);
            }
            case RELAYING, LOCAL_INFILE -> {
                if (!c.killed) {
                    c.killed = true;
                    c.deadlineNanos = now + KILL_GRACE_NANOS;
                    log.info("Session {}: query exceeded its timeout on {}, sending KILL QUERY {}", id,
                            backend.server(), backend.threadId());
                    killQuery(backend);
                } else {
                    backendBroken(new ErrPacket(CR_SERVER_LOST, "HY000",
                            "Query timeout: the backend did not stop the query in time"));
                }
            }
            default -> { }
        }
    }

    private void closeForLimit(String why) {
        log.info("Session {} of {} from {}: closing, {}", id, username, clientAddress, why);
        close();
    }

    private void interruptOnLoop() {
        Command c = command;
        if (c == null || state == State.READY || state == State.CLOSED) {
            return;
        }
        if ((state == State.RELAYING || state == State.LOCAL_INFILE) && backend != null) {
            c.killed = true;
            killQuery(backend);
        } else if (state == State.WAITING || state == State.ACQUIRING || state == State.ALIGNING) {
            if (state == State.ALIGNING) {
                dropBackend();
            }
            reject(new ErrPacket(ER_QUERY_INTERRUPTED, "70100", "Query execution was interrupted"), 1);
        }
    }

    private void killQuery(BackendConnection target) {
        target.killRunningQuery(context.config().current().mysqlVariables().getInt("connect_timeout_server"));
    }

    // ---- ending a command ---------------------------------------------------------------------------------

    private void answerOk(String info) {
        ByteBuf out = channel.alloc().buffer(16 + (info == null ? 0 : info.length() * 3));
        new OkPacket(0, 0, variables.statusFlags(pins.has(SessionPins.TRANSACTION)), 0, info).writeTo(out, 1);
        answer(out);
    }

    /** Ends the command with a reply the proxy made (an OK, a cached result). */
    private void answer(ByteBuf reply) {
        channel.writeAndFlush(reply, channel.voidPromise());
        answerNothing();
    }

    /** Ends a command that has no reply (COM_STMT_CLOSE, long data), or whose reply was written. */
    private void answerNothing() {
        Command c = command;
        command = null;
        c.complete(null, context, null, System.nanoTime());
        endCommand();
    }

    /** Ends the command with an error the proxy makes; nothing of the command survives. */
    private void reject(ErrPacket error, int sequenceId) {
        ByteBuf out = channel.alloc().buffer(32 + error.message().length() * 3);
        error.writeTo(out, sequenceId & 0xFF);
        channel.writeAndFlush(out, channel.voidPromise());
        Command c = command;
        command = null;
        if (c != null) {
            c.fail();
        }
        if (state != State.CLOSED) {
            endCommand();
        }
    }

    /** The command is over: the session is ready for the next one, which may already be queued. */
    private void endCommand() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.READY;
        lastActivityNanos = System.nanoTime();
        drain();
    }

    // ---- teardown -----------------------------------------------------------------------------------------

    private void sendErrorAndClose(ErrPacket error, int sequenceId) {
        ByteBuf out = channel.alloc().buffer(32 + error.message().length() * 3);
        error.writeTo(out, sequenceId & 0xFF);
        channel.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        close();
    }

    private void closeAfterFlush() {
        channel.writeAndFlush(channel.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
        close();
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
        if (state != State.CLOSED) {
            if (cause instanceof IOException) {
                log.info("Session {} from {}: connection error, closing: {}", id, clientAddress, cause.toString());
            } else {
                log.warn("Session {} from {}: closing after an unexpected error", id, clientAddress, cause);
            }
        }
        close();
    }

    /**
     * The one place a session releases everything it holds: the command in flight, the backend (to the pool
     * only if it holds nothing of ours), queued packets, its user slot and registrations. Idempotent; the
     * channel closes after what was written to it is flushed.
     */
    private void close() {
        if (channel == null || state == State.CLOSED) {
            return;
        }
        boolean betweenCommands = command == null && isBetweenCommands();
        if (backend != null) {
            if (betweenCommands) {
                releaseBackend();
            } else {
                dropBackend();
            }
        }
        state = State.CLOSED;
        Command c = command;
        command = null;
        if (c != null) {
            c.fail();
        }
        ByteBuf queuedPacket;
        while ((queuedPacket = queued.pollFirst()) != null) {
            ReferenceCountUtil.safeRelease(queuedPacket);
        }
        if (userCounted) {
            userCounted = false;
            context.sessions().userLoggedOut(user.username());
        }
        context.sessions().remove(this);
        LoopTicker.deregister(this);
        if (channel.isActive()) {
            channel.writeAndFlush(channel.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
