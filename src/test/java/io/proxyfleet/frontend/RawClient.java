package io.proxyfleet.frontend;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A deliberately minimal MySQL client over a plain socket, written independently of the proxy's codec, so that
 * tests can send exactly the bytes they want (malformed packets, wrong sequence ids, raw commands) and read
 * exactly what comes back. Classic EOF protocol only (it never asks for CLIENT_DEPRECATE_EOF). Owned by one
 * test thread.
 */
final class RawClient implements AutoCloseable {
    static final int CLIENT_LONG_PASSWORD = 1;
    static final int CLIENT_CONNECT_WITH_DB = 1 << 3;
    static final int CLIENT_LOCAL_FILES = 1 << 7;
    static final int CLIENT_PROTOCOL_41 = 1 << 9;
    static final int CLIENT_SSL = 1 << 11;
    static final int CLIENT_TRANSACTIONS = 1 << 13;
    static final int CLIENT_SECURE_CONNECTION = 1 << 15;
    static final int CLIENT_MULTI_RESULTS = 1 << 17;
    static final int CLIENT_PLUGIN_AUTH = 1 << 19;
    static final int BASIC_CAPABILITIES = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH;
    static final int COM_QUERY = 0x03;
    static final int COM_RESET_CONNECTION = 0x1f;
    private static final int UTF8MB4_GENERAL_CI = 45;
    private static final int MAX_PACKET = 1 << 24;

    /** One packet as received. */
    record Packet(int sequenceId, byte[] payload) {
        int first() {
            return payload.length == 0 ? -1 : payload[0] & 0xFF;
        }

        boolean isErr() {
            return first() == 0xFF;
        }

        boolean isOk() {
            return first() == 0x00;
        }

        /** Error code of an ERR packet. */
        int errorCode() {
            return (payload[1] & 0xFF) | (payload[2] & 0xFF) << 8;
        }

        /** Message of an ERR packet (after the SQLSTATE). */
        String errorMessage() {
            int start = payload.length > 3 && payload[3] == '#' ? 9 : 3;
            return new String(payload, start, payload.length - start, StandardCharsets.UTF_8);
        }
    }

    /** A server error answered to a command. */
    static final class ServerError extends IOException {
        final int code;

        ServerError(int code, String message) {
            super(code + ": " + message);
            this.code = code;
        }
    }

    private final Socket socket;
    private InputStream in;
    private OutputStream out;
    private byte[] scramble;
    private int capabilities;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects and reads the server greeting, keeping its scramble and capabilities. */
    static RawClient connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        return attach(socket);
    }

    /** Reads the server greeting on an already connected socket. */
    static RawClient attach(Socket connected) throws IOException {
        RawClient client = new RawClient(connected);
        client.readGreeting(client.read());
        return client;
    }

    /** Connects and logs in with mysql_native_password; fails if the server does not answer OK. */
    static RawClient login(int port, String user, String password) throws IOException {
        RawClient client = connect(port);
        client.write(1, client.handshakeResponse(BASIC_CAPABILITIES, user, password, null));
        Packet reply = client.read();
        if (!reply.isOk()) {
            client.close();
            throw reply.isErr() ? new ServerError(reply.errorCode(), reply.errorMessage())
                    : new IOException("unexpected login reply 0x" + Integer.toHexString(reply.first()));
        }
        return client;
    }

    private void readGreeting(Packet greeting) throws IOException {
        if (greeting.isErr()) {
            // A server that refuses the connection (too many connections) says so instead of greeting.
            throw new ServerError(greeting.errorCode(), greeting.errorMessage());
        }
        byte[] p = greeting.payload();
        if (p.length == 0 || p[0] != 10) {
            throw new IOException("not a protocol 10 greeting: " + Arrays.toString(Arrays.copyOf(p, 8)));
        }
        int pos = 1;
        while (p[pos] != 0) {
            pos++;
        }
        pos += 1 + 4; // NUL, connection id
        byte[] part1 = Arrays.copyOfRange(p, pos, pos + 8);
        pos += 8 + 1;
        int capsLow = (p[pos] & 0xFF) | (p[pos + 1] & 0xFF) << 8;
        pos += 2 + 1 + 2; // capabilities low, collation, status
        int capsHigh = (p[pos] & 0xFF) | (p[pos + 1] & 0xFF) << 8;
        pos += 2;
        int authLength = p[pos] & 0xFF;
        pos += 1 + 10;
        int part2Length = Math.max(13, authLength - 8) - 1;
        byte[] part2 = Arrays.copyOfRange(p, pos, pos + part2Length);
        scramble = new byte[20];
        System.arraycopy(part1, 0, scramble, 0, 8);
        System.arraycopy(part2, 0, scramble, 8, 12);
        capabilities = capsLow | capsHigh << 16;
    }

    int serverCapabilities() {
        return capabilities;
    }

    /** A HandshakeResponse41 payload for mysql_native_password. */
    byte[] handshakeResponse(int caps, String user, String password, String database) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int flags = caps | (database != null ? CLIENT_CONNECT_WITH_DB : 0);
        writeInt4(b, flags);
        writeInt4(b, MAX_PACKET);
        b.write(UTF8MB4_GENERAL_CI);
        b.writeBytes(new byte[23]);
        b.writeBytes(user.getBytes(StandardCharsets.UTF_8));
        b.write(0);
        byte[] auth = nativeScramble(password, scramble);
        b.write(auth.length);
        b.writeBytes(auth);
        if (database != null) {
            b.writeBytes(database.getBytes(StandardCharsets.UTF_8));
            b.write(0);
        }
        b.writeBytes("mysql_native_password".getBytes(StandardCharsets.US_ASCII));
        b.write(0);
        return b.toByteArray();
    }

    /** An SSLRequest payload: the first 32 bytes of a handshake response with CLIENT_SSL. */
    static byte[] sslRequest(int caps) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeInt4(b, caps | CLIENT_SSL);
        writeInt4(b, MAX_PACKET);
        b.write(UTF8MB4_GENERAL_CI);
        b.writeBytes(new byte[23]);
        return b.toByteArray();
    }

    static byte[] nativeScramble(String password, byte[] scramble) {
        if (password.isEmpty()) {
            return new byte[0];
        }
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] stage1 = sha1.digest(password.getBytes(StandardCharsets.UTF_8));
            byte[] stage2 = sha1.digest(stage1);
            sha1.update(scramble);
            byte[] mix = sha1.digest(stage2);
            for (int i = 0; i < stage1.length; i++) {
                stage1[i] ^= mix[i];
            }
            return stage1;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeInt4(ByteArrayOutputStream b, int value) {
        b.write(value);
        b.write(value >>> 8);
        b.write(value >>> 16);
        b.write(value >>> 24);
    }

    /** Frames and sends one packet. */
    void write(int sequenceId, byte[] payload) throws IOException {
        out.write(frame(sequenceId, payload));
        out.flush();
    }

    static byte[] frame(int sequenceId, byte[] payload) {
        byte[] packet = new byte[4 + payload.length];
        packet[0] = (byte) payload.length;
        packet[1] = (byte) (payload.length >>> 8);
        packet[2] = (byte) (payload.length >>> 16);
        packet[3] = (byte) sequenceId;
        System.arraycopy(payload, 0, packet, 4, payload.length);
        return packet;
    }

    /** Sends bytes as they are, framed or not. */
    void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads one packet; {@link EOFException} when the server closed the connection. */
    Packet read() throws IOException {
        byte[] header = in.readNBytes(4);
        if (header.length < 4) {
            throw new EOFException("connection closed by the server");
        }
        int length = (header[0] & 0xFF) | (header[1] & 0xFF) << 8 | (header[2] & 0xFF) << 16;
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
            throw new EOFException("connection closed inside a packet");
        }
        return new Packet(header[3] & 0xFF, payload);
    }

    /**
     * Reads what the server sends until it closes the connection, within the socket timeout: the packets before
     * the close. Throws {@link SocketTimeoutException} when the server neither answers nor closes.
     */
    List<Packet> readUntilClosed() throws IOException {
        List<Packet> packets = new ArrayList<>();
        while (true) {
            try {
                packets.add(read());
            } catch (EOFException e) {
                return packets;
            } catch (java.net.SocketException e) {
                // A reset after the server's last packet counts as closed too.
                return packets;
            }
        }
    }

    /** Sends a command packet (sequence id 0) with {@code command} and {@code argument}. */
    void command(int command, String argument) throws IOException {
        byte[] arg = argument.getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[1 + arg.length];
        payload[0] = (byte) command;
        System.arraycopy(arg, 0, payload, 1, arg.length);
        write(0, payload);
    }

    /**
     * Runs a text query and returns its rows (each cell a string, NULL as {@code null}); an OK gives no rows.
     * Throws {@link ServerError} on ERR.
     */
    List<List<String>> query(String sql) throws IOException {
        command(COM_QUERY, sql);
        return readResult();
    }

    List<List<String>> readResult() throws IOException {
        Packet first = read();
        if (first.isErr()) {
            throw new ServerError(first.errorCode(), first.errorMessage());
        }
        if (first.isOk()) {
            return List.of();
        }
        int columns = first.payload()[0] & 0xFF;
        for (int i = 0; i < columns; i++) {
            read();
        }
        Packet eof = read();
        if (eof.first() != 0xFE) {
            throw new IOException("expected EOF after column definitions, got 0x" + Integer.toHexString(eof.first()));
        }
        List<List<String>> rows = new ArrayList<>();
        while (true) {
            Packet row = read();
            if (row.first() == 0xFE && row.payload().length < 9) {
                return rows;
            }
            if (row.isErr()) {
                throw new ServerError(row.errorCode(), row.errorMessage());
            }
            rows.add(cells(row.payload(), columns));
        }
    }

    private static List<String> cells(byte[] p, int columns) {
        List<String> cells = new ArrayList<>(columns);
        int pos = 0;
        for (int i = 0; i < columns; i++) {
            int first = p[pos] & 0xFF;
            if (first == 0xFB) {
                cells.add(null);
                pos++;
                continue;
            }
            long length;
            if (first < 0xFB) {
                length = first;
                pos += 1;
            } else if (first == 0xFC) {
                length = (p[pos + 1] & 0xFF) | (p[pos + 2] & 0xFF) << 8;
                pos += 3;
            } else if (first == 0xFD) {
                length = (p[pos + 1] & 0xFF) | (p[pos + 2] & 0xFF) << 8 | (p[pos + 3] & 0xFF) << 16;
                pos += 4;
            } else {
                throw new IllegalStateException("cells over 16 MiB are not supported here");
            }
            cells.add(new String(p, pos, (int) length, StandardCharsets.UTF_8));
            pos += (int) length;
        }
        return cells;
    }

    InputStream input() {
        return in;
    }

    Socket socket() {
        return socket;
    }

    /** Replaces the streams, after layering TLS over the socket. */
    void useStreams(InputStream newIn, OutputStream newOut) {
        this.in = newIn;
        this.out = newOut;
    }

    byte[] scramble() {
        return scramble.clone();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
