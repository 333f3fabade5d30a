package io.proxyfleet.protocol.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A small blocking MySQL client over a plain {@link Socket}: handshake v10, HandshakeResponse41 with
 * {@code mysql_native_password} (including an auth switch to it), {@code COM_QUERY} with text result sets, and
 * {@code COM_QUIT}. No TLS, no prepared statements, no compression. Used by the cluster peer monitors and the
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
    private static final int HANDSHAKE_V10 = 10;
    private static final int SCRAMBLE_LENGTH = 20;
    private static final int FILLER_LENGTH = 23;
    private static final String NATIVE_PASSWORD = "mysql_native_password";

    private static final int OK = 0x00;
    private static final int EOF = 0xFE;
    private static final int ERR = 0xFF;
    private static final int LOCAL_INFILE = 0xFB;
    private static final int AUTH_SWITCH = 0xFE;
    /** An EOF packet is shorter than this; a row starting with 0xFE is longer. */
    private static final int EOF_MAX_LENGTH = 9;

    private static final byte COM_QUIT = 0x01;
    private static final byte COM_QUERY = 0x03;

    private static final int CLIENT_LONG_PASSWORD = 0x1;
    private static final int CLIENT_CONNECT_WITH_DB = 0x8;
    private static final int CLIENT_PROTOCOL_41 = 0x200;
    private static final int CLIENT_TRANSACTIONS = 0x2000;
    private static final int CLIENT_SECURE_CONNECTION = 0x8000;
    private static final int CLIENT_MULTI_RESULTS = 0x20000;
    private static final int CLIENT_PLUGIN_AUTH = 0x80000;
    private static final int CLIENT_PLUGIN_AUTH_LENENC_DATA = 0x200000;
    private static final int SERVER_MORE_RESULTS_EXISTS = 0x8;

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

    private final Socket socket;
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
        return connect(options, NATIVE_PASSWORD);
    }

    /**
     * Like {@link #connect(Options)}, but announces {@code firstPlugin} in the handshake response; any other name
     * than {@code mysql_native_password} makes the server send an auth switch (a test seam for that path).
     */
    static BlockingMysqlClient connect(Options options, String firstPlugin) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(toMillis(options.readTimeout()));
            socket.connect(new InetSocketAddress(options.host(), options.port()), toMillis(options.connectTimeout()));
            PacketIo io = new PacketIo(socket.getInputStream(), socket.getOutputStream(), DEFAULT_MAX_PAYLOAD);
            Payload greeting = new Payload(io.read());
            if (greeting.peek() == ERR) {
                throw readError(greeting);
            }
            int protocol = greeting.u8();
            if (protocol != HANDSHAKE_V10) {
                throw new MysqlProtocolException("unsupported handshake protocol version " + protocol);
            }
            String version = greeting.nulString();
            long connectionId = greeting.u32();
            byte[] scramblePart1 = greeting.bytes(8);
            greeting.skip(1);
            int capabilities = greeting.u16();
            byte[] scramblePart2 = new byte[0];
            if (greeting.remaining() > 0) {
                greeting.skip(1 + 2); // charset, status flags
                capabilities |= greeting.u16() << 16;
                int authDataLength = greeting.u8();
                greeting.skip(10);
                if ((capabilities & CLIENT_SECURE_CONNECTION) != 0) {
                    int n = Math.max(13, authDataLength - 8);
                    // The last byte of part 2 is a NUL terminator, not scramble.
                    scramblePart2 = greeting.bytes(Math.min(n, greeting.remaining()));
                }
            }
            byte[] scramble = new byte[SCRAMBLE_LENGTH];
            System.arraycopy(scramblePart1, 0, scramble, 0, 8);
            System.arraycopy(scramblePart2, 0, scramble, 8, Math.min(12, scramblePart2.length));
            if ((capabilities & CLIENT_PROTOCOL_41) == 0) {
                throw new MysqlProtocolException("server does not speak protocol 4.1");
            }
            BlockingMysqlClient client = new BlockingMysqlClient(socket, io, version, connectionId);
            client.authenticate(options, capabilities, firstPlugin, scramble);
            return client;
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    private static int toMillis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, d.toMillis()));
    }

    private void authenticate(Options options, int serverCapabilities, String firstPlugin, byte[] scramble)
            throws IOException {
        int wanted = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION
                | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | CLIENT_PLUGIN_AUTH_LENENC_DATA;
        if (options.database() != null) {
            wanted |= CLIENT_CONNECT_WITH_DB;
        }
        int capabilities = wanted & serverCapabilities;
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
        if ((capabilities & CLIENT_PLUGIN_AUTH_LENENC_DATA) != 0) {
            writeLenenc(p, authResponse.length);
            p.writeBytes(authResponse);
        } else {
            p.write(authResponse.length);
            p.writeBytes(authResponse);
        }
        if ((capabilities & CLIENT_CONNECT_WITH_DB) != 0) {
            writeNul(p, options.database());
        }
        if ((capabilities & CLIENT_PLUGIN_AUTH) != 0) {
            writeNul(p, firstPlugin);
        }
        io.write(p.toByteArray());

        Payload reply = new Payload(io.read());
        if (reply.peek() == AUTH_SWITCH) {
            reply.u8();
            String plugin = reply.nulString();
            if (!NATIVE_PASSWORD.equals(plugin)) {
                throw new MysqlProtocolException("server requires unsupported authentication plugin " + plugin);
            }
            byte[] data = reply.bytes(Math.min(SCRAMBLE_LENGTH, reply.remaining()));
            io.write(nativePassword(options.password(), data));
            reply = new Payload(io.read());
        }
        switch (reply.peek()) {
            case OK -> { }
            case ERR -> throw readError(reply);
            default -> throw new MysqlProtocolException("unexpected authentication reply 0x"
                    + Integer.toHexString(reply.peek()));
        }
    }

    /** SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for an empty password. */
    static byte[] nativePassword(String password, byte[] scramble) {
        if (password.isEmpty()) {
            return new byte[0];
        }
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] stage1 = sha1.digest(password.getBytes(StandardCharsets.UTF_8));
            byte[] stage2 = sha1.digest(stage1);
            sha1.update(scramble, 0, Math.min(SCRAMBLE_LENGTH, scramble.length));
            sha1.update(stage2);
            byte[] mask = sha1.digest();
            for (int i = 0; i < stage1.length; i++) {
                stage1[i] ^= mask[i];
            }
            return stage1;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is a mandatory JDK algorithm", e);
        }
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
        Payload first = new Payload(io.read());
        switch (first.peek()) {
            case OK -> {
                first.u8();
                QueryResult.Ok ok = readOk(first);
                return new Result(ok, null, (ok.statusFlags() & SERVER_MORE_RESULTS_EXISTS) != 0);
            }
            case ERR -> {
                return new Result(null, readError(first), false);
            }
            case LOCAL_INFILE -> {
                // We never send files: an empty packet ends the transfer, then the server answers OK or ERR.
                io.write(new byte[0]);
                Result after = readResult();
                throw after.error() != null ? after.error()
                        : new MysqlProtocolException("LOAD DATA LOCAL INFILE is not supported");
            }
            default -> {
                return readRows((int) first.lenenc());
            }
        }
    }

    private Result readRows(int columnCount) throws IOException {
        List<String> columns = new ArrayList<>(columnCount);
        for (int i = 0; i < columnCount; i++) {
            Payload def = new Payload(io.read());
            for (int skip = 0; skip < 4; skip++) { // catalog, schema, table, org_table
                def.lenencStringOrNull();
            }
            columns.add(def.lenencStringOrNull());
        }
        expectEof(io.read());
        List<List<String>> rows = new ArrayList<>();
        while (true) {
            byte[] packet = io.read();
            Payload row = new Payload(packet);
            int head = packet.length == 0 ? -1 : row.peek();
            if (head == EOF && packet.length < EOF_MAX_LENGTH) {
                row.u8();
                row.u16(); // warnings
                int status = row.u16();
                return new Result(new QueryResult.Rows(columns, rows), null,
                        (status & SERVER_MORE_RESULTS_EXISTS) != 0);
            }
            if (head == ERR) {
                return new Result(null, readError(row), false);
            }
            List<String> cells = new ArrayList<>(columnCount);
            for (int c = 0; c < columnCount; c++) {
                cells.add(row.lenencStringOrNull());
            }
            rows.add(cells);
        }
    }

    private static void expectEof(byte[] packet) throws IOException {
        Payload p = new Payload(packet);
        if (packet.length == 0 || p.peek() != EOF || packet.length >= EOF_MAX_LENGTH) {
            if (packet.length > 0 && p.peek() == ERR) {
                throw readError(p);
            }
            throw new MysqlProtocolException("expected EOF after column definitions");
        }
    }

    private static QueryResult.Ok readOk(Payload p) throws MysqlProtocolException {
        long affected = p.lenenc();
        long insertId = p.lenenc();
        int status = p.remaining() >= 2 ? p.u16() : 0;
        int warnings = p.remaining() >= 2 ? p.u16() : 0;
        return new QueryResult.Ok(affected, insertId, status, warnings, p.restAsString());
    }

    private static MysqlErrorException readError(Payload p) throws MysqlProtocolException {
        p.u8();
        int code = p.u16();
        String state = "HY000";
        if (p.remaining() > 0 && p.peek() == '#') {
            p.u8();
            state = p.fixedString(5);
        }
        return new MysqlErrorException(code, state, p.restAsString());
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
        if (n < 0xFB) {
            p.write(n);
        } else {
            p.write(0xFC);
            p.write(n);
            p.write(n >>> 8);
        }
    }
}
