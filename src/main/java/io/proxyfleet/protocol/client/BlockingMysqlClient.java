package io.proxyfleet.protocol.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.proxyfleet.protocol.AuthPlugins;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.HandshakeV10;
import io.proxyfleet.protocol.Lenenc;
import io.proxyfleet.protocol.OkPacket;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ProtocolException;
import io.proxyfleet.protocol.StatusFlags;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A small blocking MySQL client over a plain {@link Socket}: handshake v10, HandshakeResponse41 with
 * {@code mysql_native_password} (including an auth switch to it), optional TLS after the SSL request
 * ({@link ClientTls}), {@code COM_QUERY} with text result sets, and {@code COM_QUIT}. No prepared statements, no
 * compression. Used by the cluster peer monitors and the
 * backend health checks, which run on virtual threads; never use it on a Netty event loop.
 *
 * <p>Every read is bounded by the read timeout ({@code SO_TIMEOUT}), so a silent peer costs at most that long.
 * After any {@link IOException} other than {@link MysqlErrorException} the connection must be closed.
 *
 * <p>Threading: one instance belongs to one thread at a time (not thread-safe).
 */
public final class BlockingMysqlClient implements AutoCloseable {

    /** utf8mb4_general_ci: every server we talk to knows it, and it round-trips any comment text. */
    private static final int CHARSET_UTF8MB4 = 45;
    private static final int DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;
    private static final int FILLER_LENGTH = 23;
    /** Capabilities, max packet size, charset and filler: what an SSL request carries. */
    private static final int SSL_REQUEST_LENGTH = 4 + 4 + 1 + FILLER_LENGTH;
    private static final String NATIVE_PASSWORD = AuthPlugins.NATIVE_PASSWORD;
    private static final byte COM_QUIT = 0x01;
    private static final byte COM_QUERY = 0x03;
    /** Catalog, schema, table and original table precede the column name in a column definition. */
    private static final int COLUMN_FIELDS_BEFORE_NAME = 4;

    /**
     * Where and how to connect.
     *
     * @param database default schema, or {@code null} for none
     */
    public record Options(String host, int port, String user, String password, String database,
                          Duration connectTimeout, Duration readTimeout) {
        public Options {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(user, "user");
            password = password == null ? "" : password;
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(readTimeout, "readTimeout");
        }

        /** No default schema, the given timeouts. */
        public static Options of(String host, int port, String user, String password, Duration connectTimeout,
                                 Duration readTimeout) {
            return new Options(host, port, user, password, null, connectTimeout, readTimeout);
        }
    }

    /** The TLS protocols offered to a server; older ones are disabled by current JDKs anyway. */
    private static final String[] TLS_PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** The JDK's name for checking a certificate's names against the host, as HTTPS clients do. */
    private static final String HOSTNAME_CHECK = "HTTPS";

    /** The plain socket, or the TLS socket over it once the login switched to TLS. */
    private Socket socket;
    private final PacketIo io;
    private final String serverVersion;
    private final long connectionId;
    private boolean closed;

    private BlockingMysqlClient(Socket socket, PacketIo io, String serverVersion, long connectionId) {
        this.socket = socket;
        this.io = io;
        this.serverVersion = serverVersion;
        this.connectionId = connectionId;
    }

    /**
     * Connects and authenticates.
     *
     * @throws MysqlErrorException     the server refused (e.g. 1045 access denied)
     * @throws java.net.SocketTimeoutException connect or read timeout
     * @throws IOException             any other network or protocol failure
     */
    public static BlockingMysqlClient connect(Options options) throws IOException {
        return connect(options, NATIVE_PASSWORD, null);
    }

    /**
     * Like {@link #connect(Options)}, with TLS as {@code tls} says ({@code null}: never TLS). The TLS handshake
     * happens after the greeting and before the credentials, so with TLS no credential crosses in clear.
     *
     * @throws MysqlProtocolException TLS is required and the server does not offer it (nothing was sent)
     * @throws IOException            the TLS handshake failed, e.g. an untrusted server certificate
     */
    public static BlockingMysqlClient connect(Options options, ClientTls tls) throws IOException {
        return connect(options, NATIVE_PASSWORD, tls);
    }

    /**
     * Like {@link #connect(Options)}, but announces {@code firstPlugin} in the handshake response; any other name
     * than {@code mysql_native_password} makes the server send an auth switch (a test seam for that path).
     */
    static BlockingMysqlClient connect(Options options, String firstPlugin) throws IOException {
        return connect(options, firstPlugin, null);
    }

    private static BlockingMysqlClient connect(Options options, String firstPlugin, ClientTls tls)
            throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            // The whole login (greeting included) is bounded by the connect timeout, as ProxySQL bounds its peers'
            // handshakes: a peer that accepts and then says nothing must not hold a monitor for the read timeout.
            socket.setSoTimeout(toMillis(options.connectTimeout()));
            socket.connect(new InetSocketAddress(options.host(), options.port()), toMillis(options.connectTimeout()));
            PacketIo io = new PacketIo(socket.getInputStream(), socket.getOutputStream(), DEFAULT_MAX_PAYLOAD);
            ByteBuf greetingPacket = Unpooled.wrappedBuffer(io.read());
            if (first(greetingPacket) == Packets.ERR) {
                throw error(greetingPacket);
            }
            HandshakeV10 greeting = decode(() -> HandshakeV10.decode(greetingPacket));
            if ((greeting.capabilities() & Capabilities.PROTOCOL_41) == 0) {
                throw new MysqlProtocolException("server does not speak protocol 4.1");
            }
            boolean offered = (greeting.capabilities() & Capabilities.SSL) != 0;
            if (tls != null && tls.required() && !offered) {
                throw new MysqlProtocolException("server does not offer TLS, which is required; no credentials were"
                        + " sent");
            }
            BlockingMysqlClient client =
                    new BlockingMysqlClient(socket, io, greeting.serverVersion(), greeting.connectionId());
            client.authenticate(options, greeting.capabilities(), firstPlugin, greeting.authData(),
                    offered ? tls : null);
            socket.setSoTimeout(toMillis(options.readTimeout()));
            return client;
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    /**
     * Sends the SSL request (the first 32 bytes of a handshake response, with {@code CLIENT_SSL}) and switches
     * the connection to TLS; the handshake response then follows encrypted, with the next sequence id.
     */
    private void startTls(Options options, int capabilities, ClientTls tls) throws IOException {
        ByteArrayOutputStream p = new ByteArrayOutputStream(SSL_REQUEST_LENGTH);
        writeInt32(p, capabilities);
        writeInt32(p, DEFAULT_MAX_PAYLOAD);
        p.write(CHARSET_UTF8MB4);
        p.writeBytes(new byte[FILLER_LENGTH]);
        io.write(p.toByteArray());
        SSLSocket ssl = (SSLSocket) tls.context().getSocketFactory().createSocket(socket, options.host(),
                options.port(), true);
        ssl.setUseClientMode(true);
        SSLParameters parameters = ssl.getSSLParameters();
        parameters.setProtocols(TLS_PROTOCOLS);
        if (tls.verifyHostname()) {
            parameters.setEndpointIdentificationAlgorithm(HOSTNAME_CHECK);
        }
        ssl.setSSLParameters(parameters);
        socket = ssl;
        // The handshake is bounded by the read timeout, not the connect timeout: a server that answered the greeting
        // is there, and a cold JVM on a loaded machine may need more than a second for its first handshake.
        ssl.setSoTimeout(toMillis(options.readTimeout()));
        try {
            ssl.startHandshake();
        } catch (IOException e) {
            IOException failed = new IOException("TLS handshake failed: " + e.getMessage());
            failed.initCause(e);
            throw failed;
        }
        ssl.setSoTimeout(toMillis(options.connectTimeout()));
        io.switchStreams(ssl.getInputStream(), ssl.getOutputStream());
    }

    /** Whether the login switched to TLS. */
    public boolean isTls() {
        return socket instanceof SSLSocket;
    }

    private static int toMillis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, d.toMillis()));
    }

    private void authenticate(Options options, int serverCapabilities, String firstPlugin, byte[] scramble,
                              ClientTls tls) throws IOException {
        int wanted = Capabilities.LONG_PASSWORD | Capabilities.PROTOCOL_41 | Capabilities.TRANSACTIONS
                | Capabilities.SECURE_CONNECTION | Capabilities.MULTI_RESULTS | Capabilities.PLUGIN_AUTH
                | Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA;
        if (options.database() != null) {
            wanted |= Capabilities.CONNECT_WITH_DB;
        }
        if (tls != null) {
            wanted |= Capabilities.SSL;
        }
        int capabilities = wanted & serverCapabilities;
        if (tls != null) {
            startTls(options, capabilities, tls);
        }
        // Whatever the server's default plugin, we answer as mysql_native_password over the greeting's scramble;
        // a server whose account uses another plugin sends an auth switch (handled below if it is ours).
        byte[] authResponse = NATIVE_PASSWORD.equals(firstPlugin)
                ? nativePassword(options.password(), scramble) : new byte[0];

        ByteArrayOutputStream p = new ByteArrayOutputStream(128);
        writeInt32(p, capabilities);
        writeInt32(p, DEFAULT_MAX_PAYLOAD);
        p.write(CHARSET_UTF8MB4);
        p.writeBytes(new byte[FILLER_LENGTH]);
        writeNul(p, options.user());
        if ((capabilities & Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
            writeLenenc(p, authResponse.length);
        } else {
            p.write(authResponse.length);
        }
        p.writeBytes(authResponse);
        if ((capabilities & Capabilities.CONNECT_WITH_DB) != 0) {
            writeNul(p, options.database());
        }
        if ((capabilities & Capabilities.PLUGIN_AUTH) != 0) {
            writeNul(p, firstPlugin);
        }
        io.write(p.toByteArray());

        ByteBuf reply = Unpooled.wrappedBuffer(io.read());
        if (first(reply) == Packets.AUTH_SWITCH) {
            String plugin = decode(() -> {
                reply.skipBytes(1);
                return Lenenc.readNulString(reply);
            });
            if (!NATIVE_PASSWORD.equals(plugin)) {
                throw new MysqlProtocolException("server requires unsupported authentication plugin " + plugin);
            }
            byte[] data = new byte[Math.min(AuthPlugins.SCRAMBLE_LENGTH, reply.readableBytes())];
            reply.readBytes(data);
            io.write(nativePassword(options.password(), data));
            checkAuthResult(Unpooled.wrappedBuffer(io.read()));
            return;
        }
        checkAuthResult(reply);
    }

    private void checkAuthResult(ByteBuf reply) throws IOException {
        int head = first(reply);
        if (head == Packets.ERR) {
            throw error(reply);
        }
        if (head != Packets.OK) {
            throw new MysqlProtocolException("unexpected authentication reply 0x" + Integer.toHexString(head));
        }
    }

    /** SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for an empty password. */
    static byte[] nativePassword(String password, byte[] scramble) {
        if (password.isEmpty()) {
            return new byte[0];
        }
        return AuthPlugins.nativeScramble(AuthPlugins.nativeStage1(password), scramble);
    }

    /** The server's version string from the greeting. */
    public String serverVersion() {
        return serverVersion;
    }

    /** The server's id for this connection. */
    public long connectionId() {
        return connectionId;
    }

    /**
     * Runs one statement. When the statement yields several results (multi-statement, procedures) the first is
     * returned and the others are read and discarded so the connection stays usable.
     *
     * @throws MysqlErrorException the server answered ERR; the connection stays usable
     */
    public QueryResult query(String sql) throws IOException {
        ensureOpen();
        io.resetSequence();
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        byte[] packet = new byte[text.length + 1];
        packet[0] = COM_QUERY;
        System.arraycopy(text, 0, packet, 1, text.length);
        io.write(packet);
        QueryResult first = null;
        MysqlErrorException firstError = null;
        boolean more = true;
        while (more) {
            Result r = readResult();
            more = r.moreResults();
            if (first == null && firstError == null) {
                first = r.result();
                firstError = r.error();
            }
        }
        if (firstError != null) {
            throw firstError;
        }
        return first;
    }

    /** Runs a statement that must return rows. */
    public QueryResult.Rows select(String sql) throws IOException {
        if (query(sql) instanceof QueryResult.Rows rows) {
            return rows;
        }
        throw new MysqlProtocolException("statement returned no result set: " + sql);
    }

    /** Runs a statement whose result, if any, is not needed. */
    public void execute(String sql) throws IOException {
        query(sql);
    }

    private record Result(QueryResult result, MysqlErrorException error, boolean moreResults) {
    }

    private Result readResult() throws IOException {
        ByteBuf packet = Unpooled.wrappedBuffer(io.read());
        switch (first(packet)) {
            case Packets.OK -> {
                OkPacket ok = decode(() -> OkPacket.decode(packet));
                return new Result(new QueryResult.Ok(ok.affectedRows(), ok.lastInsertId(), ok.statusFlags(),
                        ok.warnings(), ok.info()), null, (ok.statusFlags() & StatusFlags.MORE_RESULTS_EXISTS) != 0);
            }
            case Packets.ERR -> {
                return new Result(null, error(packet), false);
            }
            case Packets.LOCAL_INFILE -> {
                // We never send files: an empty packet ends the transfer, then the server answers OK or ERR.
                io.write(new byte[0]);
                Result after = readResult();
                throw after.error() != null ? after.error()
                        : new MysqlProtocolException("LOAD DATA LOCAL INFILE is not supported");
            }
            default -> {
                return readRows(decode(() -> columnCount(packet)));
            }
        }
    }

    /**
     * The column count that starts a result set, checked as unsigned. Nothing is sized from it: each column must
     * still arrive as its own packet, so a lying count costs only the packets the server really sends.
     */
    private static int columnCount(ByteBuf packet) {
        long count = Lenenc.readInt(packet);
        if (count <= 0 || count > Integer.MAX_VALUE) {
            throw new ProtocolException("result set with " + Long.toUnsignedString(count) + " columns");
        }
        return (int) count;
    }

    private Result readRows(int columnCount) throws IOException {
        List<String> columns = new ArrayList<>();
        for (int i = 0; i < columnCount; i++) {
            ByteBuf def = Unpooled.wrappedBuffer(io.read());
            columns.add(decode(() -> {
                for (int skip = 0; skip < COLUMN_FIELDS_BEFORE_NAME; skip++) {
                    Lenenc.readNullableString(def);
                }
                return Lenenc.readNullableString(def);
            }));
        }
        ByteBuf eof = Unpooled.wrappedBuffer(io.read());
        if (!isEof(eof)) {
            if (first(eof) == Packets.ERR) {
                throw error(eof);
            }
            throw new MysqlProtocolException("expected EOF after column definitions");
        }
        List<List<String>> rows = new ArrayList<>();
        while (true) {
            ByteBuf row = Unpooled.wrappedBuffer(io.read());
            if (isEof(row)) {
                int status = decode(() -> row.getUnsignedShortLE(row.readerIndex() + 3));
                return new Result(new QueryResult.Rows(columns, rows), null,
                        (status & StatusFlags.MORE_RESULTS_EXISTS) != 0);
            }
            if (first(row) == Packets.ERR) {
                return new Result(null, error(row), false);
            }
            List<String> cells = new ArrayList<>(columns.size());
            decode(() -> {
                for (int c = 0; c < columnCount; c++) {
                    cells.add(Lenenc.readNullableString(row));
                }
                return cells;
            });
            rows.add(cells);
        }
    }

    /** A classic EOF: 0xFE and shorter than any row that could start with 0xFE (an 8-byte lenenc prefix). */
    private static boolean isEof(ByteBuf packet) {
        return packet.readableBytes() < Packets.EOF_MAX_PAYLOAD && first(packet) == Packets.EOF;
    }

    private static int first(ByteBuf packet) {
        return packet.isReadable() ? packet.getUnsignedByte(packet.readerIndex()) : -1;
    }

    private static MysqlErrorException error(ByteBuf packet) throws MysqlProtocolException {
        ErrPacket err = decode(() -> ErrPacket.decode(packet));
        return new MysqlErrorException(err.code(), err.sqlState(), err.message());
    }

    /** A decoding step over bytes the server sent; malformed input surfaces as an unchecked exception. */
    private interface Decoding<T> {
        T run();
    }

    /** Turns the shared decoders' unchecked failures into this client's checked protocol exception. */
    private static <T> T decode(Decoding<T> step) throws MysqlProtocolException {
        try {
            return step.run();
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            MysqlProtocolException wrapped = new MysqlProtocolException("malformed packet: " + e.getMessage());
            wrapped.initCause(e);
            throw wrapped;
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("client is closed");
        }
    }

    /** Sends {@code COM_QUIT} (best effort) and closes the socket. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            io.resetSequence();
            io.write(new byte[] {COM_QUIT});
        } catch (IOException ignored) {
            // The server may already be gone; closing the socket is all that matters.
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing useful to do: the socket is unusable either way
        }
    }

    private static void writeInt32(ByteArrayOutputStream p, int v) {
        p.write(v);
        p.write(v >>> 8);
        p.write(v >>> 16);
        p.write(v >>> 24);
    }

    private static void writeNul(ByteArrayOutputStream p, String s) {
        p.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        p.write(0);
    }

    private static void writeLenenc(ByteArrayOutputStream p, int n) {
        if (n < Lenenc.NULL_VALUE) {
            p.write(n);
        } else {
            p.write(Lenenc.PREFIX_2);
            p.write(n);
            p.write(n >>> 8);
        }
    }
}
