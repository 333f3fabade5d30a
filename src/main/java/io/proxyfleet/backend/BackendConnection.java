package io.proxyfleet.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.proxyfleet.protocol.AuthPlugins;
import io.proxyfleet.protocol.AuthSwitchRequest;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.HandshakeResponse41;
import io.proxyfleet.protocol.HandshakeV10;
import io.proxyfleet.protocol.PacketDecoder;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;
import javax.crypto.Cipher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection from the proxy to a backend MySQL server: it logs in, then relays packets for whichever
 * session it is lent to. Lives on one event loop, the same as the sessions it serves; every method must be
 * called on that loop.
 */
public final class BackendConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    /** Capabilities the proxy asks of every backend, beyond those of the pool key. */
    private static final int BASE_CAPABILITIES = Capabilities.LONG_PASSWORD | Capabilities.LONG_FLAG
            | Capabilities.PROTOCOL_41 | Capabilities.TRANSACTIONS | Capabilities.SECURE_CONNECTION
            | Capabilities.MULTI_STATEMENTS | Capabilities.MULTI_RESULTS | Capabilities.PS_MULTI_RESULTS
            | Capabilities.PLUGIN_AUTH | Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capabilities.LOCAL_FILES
            | Capabilities.CONNECT_ATTRS;
    /**
     * Capabilities that change how results look on the wire, so pooled connections must agree on them. With
     * SESSION_TRACK a backend reports the session state changes of each statement in its OKs, which then go to
     * the client as they are.
     */
    public static final int FORMAT_CAPABILITIES = Capabilities.DEPRECATE_EOF | Capabilities.FOUND_ROWS
            | Capabilities.SESSION_TRACK;
    private static final int MAX_PACKET = 1 << 30;
    private static final int CR_SERVER_LOST = 2013;
    /**
     * MySQL's ER_OUT_OF_RESOURCES: the statement whose reply could not be read because the proxy's direct memory
     * (-XX:MaxDirectMemorySize) ran out ends with it, where MySQL itself answers 1041 when it runs out of memory.
     */
    public static final int ER_OUT_OF_RESOURCES = 1041;
    /** How the proxy introduces itself to backends (visible in performance_schema.session_connect_attrs). */
    private static final Map<String, String> CONNECT_ATTRIBUTES =
            Map.of("_client_name", "proxyfleet", "program_name", "proxyfleet");

    private enum State { CONNECTING, AUTHENTICATING, IDLE, LENT, INTERNAL, INTERNAL_PREPARE, CLOSED }

    private final ServerRuntime server;
    private final PoolKey key;
    private final BackendCredentials credentials;
    private final Promise<BackendConnection> ready;
    private Channel channel;
    private State state = State.CONNECTING;
    private int capabilities;
    private byte[] scramble;
    private int sequenceId;
    private String schema;
    private BackendListener listener;
    /** The pool of this connection's loop, once logged in. */
    private BackendPool pool;
    /** Whether its session keeps it between statements only to reuse it ({@link #keep}). */
    private boolean kept;
    /** Neighbours in the pool's list of kept connections, oldest first; managed by the pool. */
    BackendConnection keptPrev;
    BackendConnection keptNext;
    private Consumer<ErrPacket> internalDone;
    private long threadId;
    private long idleSinceNanos;
    /** When the connection was opened, for mysql-connection_max_age_ms. */
    private final long createdNanos = System.nanoTime();
    private boolean mariadb;
    /**
     * Statements prepared on this connection, by SQL text: clients' statement ids are the proxy's own, mapped to
     * these per connection, so a session's statements survive multiplexing onto other connections (ProxySQL keeps
     * a global statement map for the same reason).
     */
    private final java.util.LinkedHashMap<String, PreparedOnBackend> statements =
            new java.util.LinkedHashMap<>(16, 0.75f, true);
    private final io.proxyfleet.protocol.ResponseTracker internalTracker = new io.proxyfleet.protocol.ResponseTracker();
    private java.util.function.IntConsumer prepareDone;
    private int preparedId;

    /** A statement on this connection: its id here, and which session's parameter types it last received. */
    public static final class PreparedOnBackend {
        private final int id;
        private Object typesOwner;

        PreparedOnBackend(int id) {
            this.id = id;
        }

        public int id() {
            return id;
        }

        /** The session-side statement whose parameter types the server holds for it, or null. */
        public Object typesOwner() {
            return typesOwner;
        }

        public void typesOwner(Object owner) {
            this.typesOwner = owner;
        }
    }

    /** Session variables applied on this connection by the proxy's alignment SETs (name to value). */
    private final java.util.Map<String, String> applied = new java.util.HashMap<>();

    private BackendConnection(ServerRuntime server, PoolKey key, BackendCredentials credentials,
                              Promise<BackendConnection> ready, String schema) {
        this.server = server;
        this.key = key;
        this.credentials = credentials;
        this.ready = ready;
        this.schema = schema;
    }

    /**
     * Opens and authenticates a connection on {@code loop}. The promise completes on that loop, with the
     * connection in the lent state, or fails with a {@link BackendException}.
     */
    public static Promise<BackendConnection> open(EventLoop loop, ServerRuntime server, PoolKey key,
                                                  BackendCredentials credentials, String schema,
                                                  int connectTimeoutMillis) {
        Promise<BackendConnection> ready = loop.newPromise();
        var connection = new BackendConnection(server, key, credentials, ready, schema);
        var bootstrap = new Bootstrap()
                .group(loop)
                .channel(Transport.socketChannel(loop))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.AUTO_READ, true)
                .handler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new PacketDecoder(), connection);
                    }
                });
        bootstrap.connect(server.config().hostname(), server.config().port()).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                connection.failLogin(new BackendException(2003, "HY000", "Can't connect to MySQL server on '"
                        + server.config().hostname() + "' (" + server.config().port() + "): " + rootMessage(f.cause())));
                return;
            }
            connection.channel = f.channel();
            connection.state = State.AUTHENTICATING;
            // The handshake must arrive within the connect timeout too, or a hung server would hold us forever.
            loop.schedule(() -> {
                if (connection.state == State.AUTHENTICATING) {
                    connection.failLogin(new BackendException(2013, "HY000",
                            "Lost connection to MySQL server at 'reading initial communication packet'"));
                }
            }, connectTimeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
        });
        return ready;
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    public ServerRuntime server() {
        return server;
    }

    public PoolKey key() {
        return key;
    }

    /** The schema the connection is known to be in, or {@code null} when unknown. */
    public String schema() {
        return schema;
    }

    public void schema(String known) {
        this.schema = known;
    }

    /** Variables the proxy set on this connection; the caller updates it after a successful alignment. */
    public java.util.Map<String, String> applied() {
        return applied;
    }

    /** True when the server is MariaDB, whose variable names differ from MySQL 8's in places. */
    public boolean mariadb() {
        return mariadb;
    }

    public boolean deprecateEof() {
        return (capabilities & Capabilities.DEPRECATE_EOF) != 0;
    }

    /** The backend's own connection id, for KILL. */
    public long threadId() {
        return threadId;
    }

    public boolean isUsable() {
        return state == State.IDLE && channel.isActive();
    }

    long idleSinceNanos() {
        return idleSinceNanos;
    }

    long createdNanos() {
        return createdNanos;
    }

    // ---- lending ------------------------------------------------------------------------------------------

    /** Lends the connection to a session: from now on packets go to {@code to}. */
    public void lend(BackendListener to) {
        this.listener = to;
        this.state = State.LENT;
        server.used.incrementAndGet();
    }

    /**
     * The session keeps this connection from one statement to the next although nothing of its state lives on it,
     * to save the release, the take and the alignment of the next statement. Its pool takes it back from the
     * session ({@link BackendListener#giveBack}) as soon as another session waits for a connection to its server.
     *
     * @return false when a session already waits for a connection to this server: the caller gives it back now
     */
    public boolean keep() {
        if (kept) {
            return true;
        }
        if (pool == null || server.hasWaiters()) {
            return false;
        }
        kept = true;
        pool.kept(this);
        return true;
    }

    /** The connection serves its session's statement, or leaves it: it is no longer merely kept. */
    public void unkeep() {
        if (kept) {
            kept = false;
            pool.unkept(this);
        }
    }

    public boolean kept() {
        return kept;
    }

    BackendListener listener() {
        return listener;
    }

    void trackedBy(BackendPool owner) {
        this.pool = owner;
    }

    /** Takes the connection back from its session; it stays open but delivers nothing. */
    void unlend() {
        unkeep();
        if (state == State.LENT || state == State.INTERNAL || state == State.INTERNAL_PREPARE) {
            server.used.decrementAndGet();
        }
        this.listener = null;
        this.state = channel != null && channel.isActive() ? State.IDLE : State.CLOSED;
        this.idleSinceNanos = System.nanoTime();
    }

    /** Writes a command packet (header included); the caller keeps its reference count balanced. */
    public void write(ByteBuf packet) {
        server.bytesSent.add(packet.readableBytes());
        channel.write(packet, channel.voidPromise());
    }

    public void flush() {
        channel.flush();
    }

    /** Counts one command sent, for stats_mysql_connection_pool. */
    public void countQuery() {
        server.queries.increment();
    }

    public Channel channel() {
        return channel;
    }

    /**
     * Runs one proxy-issued command whose answer is a single OK or ERR (COM_INIT_DB, COM_RESET_CONNECTION,
     * a SET), then calls {@code done} with {@code null} on success or the ERR.
     */
    public void runInternal(ByteBuf command, Consumer<ErrPacket> done) {
        State previous = state;
        this.state = State.INTERNAL;
        this.internalDone = err -> {
            if (state == State.INTERNAL) {
                state = previous;
            }
            done.accept(err);
        };
        write(command);
        flush();
        channel.read();
    }

    /** Builds COM_INIT_DB for {@code schema}. */
    public ByteBuf initDbCommand(String targetSchema) {
        ByteBuf out = channel.alloc().buffer(8 + targetSchema.length() * 3);
        int start = Packets.begin(out, 0);
        out.writeByte(Commands.INIT_DB);
        out.writeCharSequence(targetSchema, StandardCharsets.UTF_8);
        Packets.finish(out, start);
        return out;
    }

    /** The statement prepared here for {@code sql}, or null. */
    public PreparedOnBackend statement(String sql) {
        return statements.get(sql);
    }

    /** Records a statement the session prepared on this connection by relaying the client's COM_STMT_PREPARE. */
    public void statementPrepared(String sql, int id) {
        statements.put(sql, new PreparedOnBackend(id));
    }

    /** The statement for {@code sql} was closed on this connection. */
    public void statementClosed(String sql) {
        statements.remove(sql);
    }

    public int statementCount() {
        return statements.size();
    }

    /**
     * Closes the least recently used statements beyond {@code max} (mysql-max_stmts_per_connection), so that a
     * pooled connection does not gather statements that clients closed while it served someone else.
     * COM_STMT_CLOSE has no response, so this needs no waiting.
     */
    void trimStatements(int max) {
        if (statements.size() <= max || channel == null || !channel.isActive()) {
            return;
        }
        var it = statements.values().iterator();
        while (statements.size() > max && it.hasNext()) {
            int id = it.next().id();
            it.remove();
            ByteBuf out = channel.alloc().buffer(Packets.HEADER_SIZE + 5);
            int start = Packets.begin(out, 0);
            out.writeByte(Commands.STMT_CLOSE);
            out.writeIntLE(id);
            Packets.finish(out, start);
            write(out);
        }
        flush();
    }

    /**
     * Prepares {@code sql} on this connection for the proxy itself (a session's statement met a connection that
     * does not have it yet), swallowing the response, then calls {@code done} with the new id, or -1 on ERR.
     */
    public void prepareInternal(String sql, java.util.function.IntConsumer done) {
        ByteBuf out = Packets.textCommand(channel.alloc(), Commands.STMT_PREPARE, sql);
        State previous = state;
        state = State.INTERNAL_PREPARE;
        preparedId = -1;
        internalTracker.start(io.proxyfleet.protocol.ResponseTracker.Expect.PREPARE, deprecateEof(), false);
        prepareDone = id -> {
            if (state == State.INTERNAL_PREPARE) {
                state = previous;
            }
            if (id >= 0) {
                statements.put(sql, new PreparedOnBackend(id));
            }
            done.accept(id);
        };
        write(out);
        flush();
        channel.read();
    }

    private void onInternalPreparePacket(ByteBuf packet) {
        try {
            int payload = packet.readerIndex() + Packets.HEADER_SIZE;
            boolean first = preparedId == -1;
            if (first && packet.getUnsignedByte(payload) == Packets.OK) {
                preparedId = packet.getIntLE(payload + 1);
            } else if (first) {
                preparedId = -2;
            }
            if (internalTracker.onPacket(packet, packet.readerIndex()) != io.proxyfleet.protocol.ResponseTracker.Step.MORE) {
                java.util.function.IntConsumer done = prepareDone;
                prepareDone = null;
                done.accept(internalTracker.error() ? -1 : preparedId);
            } else {
                channel.read();
            }
        } finally {
            packet.release();
        }
    }

    /**
     * Asks the server to stop the statement running on this connection: KILL QUERY over a separate connection
     * of the same user (this one is busy relaying), which closes once the server answered. The statement's own
     * reply, usually ERR 1317, then arrives here as usual. On this connection's loop.
     */
    public void killRunningQuery(int connectTimeoutMillis) {
        long thread = threadId;
        var killKey = new PoolKey(server.key(), credentials.username(), 0, key.collation());
        open((EventLoop) channel.eventLoop(), server, killKey, credentials, null, connectTimeoutMillis).addListener(f -> {
            if (!f.isSuccess()) {
                log.warn("Could not connect to {} to send KILL QUERY {}: {}", server, thread, f.cause().getMessage());
                return;
            }
            BackendConnection killer = (BackendConnection) f.getNow();
            killer.channel().config().setAutoRead(false);
            killer.runInternal(killer.queryCommand("KILL QUERY " + thread), err -> killer.close());
        });
    }

    /** Builds a COM_QUERY packet for an internal statement (alignment SETs). */
    public ByteBuf queryCommand(String sql) {
        return Packets.textCommand(channel.alloc(), Commands.QUERY, sql);
    }

    public void close() {
        close(null);
    }

    /**
     * Closes the connection; the slot it frees goes first to a session waiting on {@code forLoop} when not null
     * (the loop that asked for it), else to any waiting session.
     */
    void close(Object forLoop) {
        unkeep();
        if (state == State.LENT || state == State.INTERNAL || state == State.INTERNAL_PREPARE) {
            server.used.decrementAndGet();
        }
        boolean wasOpen = state != State.CLOSED;
        state = State.CLOSED;
        if (wasOpen) {
            server.connectionClosed(forLoop);
        }
        listener = null;
        if (channel != null) {
            channel.close();
        }
    }

    // ---- inbound ------------------------------------------------------------------------------------------

    /**
     * Takes one batch from the decoder: every whole packet of a socket read. A lent connection hands it to its
     * session whole; login, internal commands and idle checks look at one packet at a time, and what is left of
     * the batch when such a step lends the connection goes to the session it was lent to.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf batch = (ByteBuf) msg;
        server.bytesReceived.add(batch.readableBytes());
        if (state == State.LENT) {
            listener.onBackendPacket(this, batch);
            return;
        }
        try {
            while (batch.isReadable() && state != State.LENT) {
                int total = Packets.HEADER_SIZE + Packets.payloadLength(batch, batch.readerIndex());
                onPacket(batch.readRetainedSlice(total));
            }
            if (batch.isReadable()) {
                listener.onBackendPacket(this, batch.retain());
            }
        } finally {
            batch.release();
        }
    }

    private void onPacket(ByteBuf packet) {
        switch (state) {
            case AUTHENTICATING -> {
                try {
                    onLoginPacket(packet);
                } catch (BackendException e) {
                    failLogin(e);
                } catch (ProtocolException | IndexOutOfBoundsException e) {
                    failLogin(new BackendException(2027, "HY000", "Malformed packet from backend: " + e.getMessage()));
                } finally {
                    packet.release();
                }
            }
            case INTERNAL_PREPARE -> onInternalPreparePacket(packet);
            case INTERNAL -> {
                ErrPacket err = null;
                if (packet.getUnsignedByte(packet.readerIndex() + Packets.HEADER_SIZE) == Packets.ERR) {
                    err = ErrPacket.decode(packet.skipBytes(Packets.HEADER_SIZE));
                }
                packet.release();
                Consumer<ErrPacket> done = internalDone;
                internalDone = null;
                done.accept(err);
            }
            default -> {
                // An idle connection must stay silent; anything else means its state is unknown.
                packet.release();
                if (log.isDebugEnabled()) {
                    log.debug("Unexpected packet from idle backend {}, closing it", server);
                }
                close();
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.LENT) {
            listener.onBackendReadComplete(this);
        }
    }

    /**
     * Closes the connection because its server went OFFLINE_HARD or away. Unlike {@link #close}, whoever holds it
     * hears of it at once, as of a lost connection: a session inside a transaction must not carry on elsewhere.
     */
    void cut() {
        lost(new ErrPacket(CR_SERVER_LOST, "HY000", "Lost connection to backend server " + server.key().hostname()
                + ":" + server.key().port() + ": the server was taken offline (" + server.status() + ")"));
        if (channel != null) {
            channel.close();
        }
    }

    /**
     * Cuts the connection now if its server is OFFLINE_HARD: the cut the configuration publisher queued for this
     * loop may not have run yet when the session's next command arrives, and that command must not beat it.
     */
    public void cutIfOfflineHard() {
        if (state != State.CLOSED && server.status() == io.proxyfleet.config.ServerStatus.OFFLINE_HARD) {
            cut();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        lost(new ErrPacket(CR_SERVER_LOST, "HY000", "Lost connection to backend server during query"));
    }

    /** The connection is gone: counters follow, and whoever waits on it hears {@code error}. */
    private void lost(ErrPacket error) {
        unkeep();
        State was = state;
        BackendListener lentTo = listener;
        if (was == State.LENT || was == State.INTERNAL || was == State.INTERNAL_PREPARE) {
            server.used.decrementAndGet();
        }
        state = State.CLOSED;
        if (was != State.CLOSED) {
            server.connectionClosed(null);
        }
        listener = null;
        if (was == State.AUTHENTICATING || was == State.CONNECTING) {
            failLogin(new BackendException(2013, "HY000", "Lost connection to MySQL server during authentication"));
        } else if (was == State.LENT) {
            lentTo.onBackendClosed(this, error);
        } else if (was == State.INTERNAL && internalDone != null) {
            Consumer<ErrPacket> done = internalDone;
            internalDone = null;
            done.accept(error);
        } else if (was == State.INTERNAL_PREPARE && prepareDone != null) {
            java.util.function.IntConsumer done = prepareDone;
            prepareDone = null;
            done.accept(-1);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (outOfMemory(cause)) {
            // Only this connection's reply is lost: the node and every other session go on. Whoever it serves
            // hears why before the close, so the statement ends with that error rather than a lost connection.
            log.warn("Backend {}: out of direct memory while relaying its reply (-XX:MaxDirectMemorySize), closing"
                    + " the connection and ending its statement with error {}: {}", server, ER_OUT_OF_RESOURCES,
                    cause.toString());
            lost(new ErrPacket(ER_OUT_OF_RESOURCES, "HY000", "Out of memory in the proxy while relaying the reply"
                    + " of backend " + server.key().hostname() + ":" + server.key().port()
                    + "; the statement was stopped"));
            ctx.close();
            return;
        }
        if (log.isDebugEnabled()) {
            log.debug("Backend {} connection error: {}", server, cause.toString());
        }
        ctx.close();
    }

    private static boolean outOfMemory(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return true;
            }
        }
        return false;
    }

    // ---- login --------------------------------------------------------------------------------------------

    private void onLoginPacket(ByteBuf packet) {
        sequenceId = Packets.sequenceId(packet, packet.readerIndex());
        ByteBuf payload = packet.skipBytes(Packets.HEADER_SIZE);
        int first = payload.isReadable() ? payload.getUnsignedByte(payload.readerIndex()) : -1;
        if (scramble == null) {
            if (first == Packets.ERR) {
                ErrPacket err = ErrPacket.decode(payload);
                failLogin(new BackendException(err.code(), err.sqlState(), err.message()));
                return;
            }
            onHandshake(HandshakeV10.decode(payload));
            return;
        }
        switch (first) {
            case Packets.OK -> loggedIn();
            case Packets.ERR -> {
                ErrPacket err = ErrPacket.decode(payload);
                failLogin(new BackendException(err.code(), err.sqlState(), err.message()));
            }
            case Packets.AUTH_SWITCH -> {
                AuthSwitchRequest request = AuthSwitchRequest.decode(payload);
                scramble = request.authData();
                sendAuthData(authResponse(request.pluginName(), scramble));
            }
            case Packets.AUTH_MORE_DATA -> onAuthMoreData(payload);
            default -> failLogin(new BackendException(2027, "HY000",
                    "Unexpected packet 0x" + Integer.toHexString(first) + " during backend login"));
        }
    }

    /**
     * Backend TLS (mysql_servers.use_ssl=1). Like ProxySQL without mysql_servers_ssl_params, the proxy encrypts
     * but does not verify the backend's certificate.
     */
    private static final class BackendTls {
        static final io.netty.handler.ssl.SslContext CONTEXT = build();

        private static io.netty.handler.ssl.SslContext build() {
            try {
                return io.netty.handler.ssl.SslContextBuilder.forClient()
                        .trustManager(io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE)
                        .protocols("TLSv1.3", "TLSv1.2").build();
            } catch (javax.net.ssl.SSLException e) {
                throw new IllegalStateException("the JDK's TLS provider cannot build a client context", e);
            }
        }
    }

    private boolean tls;

    private void onHandshake(HandshakeV10 handshake) {
        scramble = handshake.authData();
        threadId = handshake.connectionId();
        if (server.config().useSsl()) {
            if ((handshake.capabilities() & Capabilities.SSL) == 0) {
                throw new BackendException(2026, "HY000", "use_ssl=1 but backend " + server.config().hostname()
                        + ":" + server.config().port() + " does not offer TLS");
            }
            startTls(handshake);
            return;
        }
        sendHandshakeResponse(handshake);
    }

    private void startTls(HandshakeV10 handshake) {
        int caps = responseCapabilities(handshake) | Capabilities.SSL;
        ByteBuf request = channel.alloc().buffer(Packets.HEADER_SIZE + HandshakeResponse41.SSL_REQUEST_LENGTH);
        HandshakeResponse41.writeSslRequest(request, ++sequenceId & 0xFF, caps, MAX_PACKET, key.collation());
        channel.writeAndFlush(request);
        io.netty.handler.ssl.SslHandler ssl = BackendTls.CONTEXT.newHandler(channel.alloc(),
                server.config().hostname(), server.config().port());
        channel.pipeline().addFirst("tls", ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (!f.isSuccess()) {
                failLogin(new BackendException(2026, "HY000", "TLS handshake with backend failed: "
                        + rootMessage(f.cause())));
                return;
            }
            tls = true;
            try {
                sendHandshakeResponse(handshake);
            } catch (BackendException e) {
                failLogin(e);
            }
        });
    }

    private int responseCapabilities(HandshakeV10 handshake) {
        int wanted = BASE_CAPABILITIES | (key.formatCapabilities() & FORMAT_CAPABILITIES);
        if (schema != null && !schema.isEmpty()) {
            wanted |= Capabilities.CONNECT_WITH_DB;
        }
        return wanted & (handshake.capabilities() | Capabilities.CONNECT_ATTRS);
    }

    private void sendHandshakeResponse(HandshakeV10 handshake) {
        mariadb = handshake.serverVersion().contains("MariaDB");
        capabilities = responseCapabilities(handshake) | (tls ? Capabilities.SSL : 0);
        byte[] auth = authResponse(handshake.authPluginName(), scramble);
        var response = new HandshakeResponse41(capabilities, MAX_PACKET, key.collation(), credentials.username(),
                auth, schema, handshake.authPluginName(), CONNECT_ATTRIBUTES);
        ByteBuf out = channel.alloc().buffer(128);
        response.writeTo(out, ++sequenceId & 0xFF);
        channel.writeAndFlush(out);
    }

    private byte[] authResponse(String plugin, byte[] nonce) {
        return switch (plugin) {
            case AuthPlugins.NATIVE_PASSWORD -> AuthPlugins.nativeScramble(credentials.stage1(), nonce);
            case AuthPlugins.CACHING_SHA2_PASSWORD -> {
                if (credentials.clearPassword() == null) {
                    throw new BackendException(1045, "28000", "Backend asks caching_sha2_password for user '"
                            + credentials.username() + "' but mysql_users stores only a native hash of the password");
                }
                yield AuthPlugins.sha2Scramble(credentials.clearPassword(), nonce);
            }
            case AuthPlugins.CLEAR_PASSWORD -> nulTerminated(credentials.clearPassword());
            default -> throw new BackendException(1251, "08004",
                    "Backend requested unsupported authentication plugin " + plugin);
        };
    }

    private static byte[] nulTerminated(String password) {
        byte[] raw = (password == null ? "" : password).getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(raw, raw.length + 1);
    }

    private void onAuthMoreData(ByteBuf payload) {
        payload.skipBytes(1);
        if (payload.readableBytes() == 1) {
            int code = payload.readUnsignedByte();
            if (code == AuthPlugins.SHA2_FAST_AUTH_SUCCESS) {
                return; // the OK follows
            }
            if (code == AuthPlugins.SHA2_PERFORM_FULL_AUTH) {
                // Inside TLS the password itself may travel; otherwise ask for the key to encrypt it with.
                sendAuthData(tls ? nulTerminated(credentials.clearPassword())
                        : new byte[] {(byte) AuthPlugins.SHA2_REQUEST_PUBLIC_KEY});
                return;
            }
        }
        // The server's RSA public key, PEM encoded: encrypt the scrambled password with it.
        String pem = payload.toString(StandardCharsets.US_ASCII);
        sendAuthData(rsaEncrypt(pem, AuthPlugins.xorWithScramble(nulTerminated(credentials.clearPassword()), scramble)));
    }

    private static byte[] rsaEncrypt(String pem, byte[] data) {
        try {
            String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            PublicKey key = KeyFactory.getInstance("RSA").generatePublic(
                    new X509EncodedKeySpec(Base64.getDecoder().decode(base64)));
            Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPWithSHA-1AndMGF1Padding");
            cipher.init(Cipher.ENCRYPT_MODE, key);
            return cipher.doFinal(data);
        } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
            throw new BackendException(2061, "HY000", "Could not encrypt the password with the backend's key: " + e);
        }
    }

    private void sendAuthData(byte[] data) {
        ByteBuf out = channel.alloc().buffer(Packets.HEADER_SIZE + data.length);
        int start = Packets.begin(out, ++sequenceId & 0xFF);
        out.writeBytes(data);
        Packets.finish(out, start);
        channel.writeAndFlush(out);
    }

    private void loggedIn() {
        server.connectSucceeded();
        state = State.IDLE;
        if (!ready.trySuccess(this)) {
            close();
        }
    }

    private void failLogin(BackendException error) {
        if (state == State.CLOSED && ready.isDone()) {
            return;
        }
        state = State.CLOSED;
        if (channel != null) {
            channel.close();
        }
        ready.tryFailure(error);
    }

    @Override
    public String toString() {
        return "BackendConnection[" + server + ", thread " + threadId + "]";
    }
}
