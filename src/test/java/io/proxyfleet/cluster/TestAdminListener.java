package io.proxyfleet.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.proxyfleet.admin.AdminAccount;
import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.admin.AdminPrincipal;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.protocol.AuthPlugins;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.EofPacket;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.HandshakeResponse41;
import io.proxyfleet.protocol.HandshakeV10;
import io.proxyfleet.protocol.Lenenc;
import io.proxyfleet.protocol.OkPacket;
import io.proxyfleet.protocol.Packets;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * A minimal blocking admin listener for tests: MySQL handshake with {@code mysql_native_password} against the
 * engine's accounts, then {@code COM_QUERY} answered by {@link AdminEngine#execute}. It also answers
 * {@code PROXYSQL CLUSTER_NOTIFY} by running {@code onNotify}, the hook this helper proposes for the real listener.
 * Stands in for the node's Netty admin listener so that two engines can cluster over real sockets.
 *
 * <p>Threads: one platform accept thread, one virtual thread per connection.
 */
final class TestAdminListener implements AutoCloseable {
    private static final int COM_QUIT = 0x01;
    private static final int COM_QUERY = 0x03;
    private static final int COM_PING = 0x0E;
    private static final int COLLATION = 33;
    private static final int VAR_STRING = 0xFD;
    private static final int COLUMN_DEFINITION_FIXED_LENGTH = 0x0C;
    private static final int ACCESS_DENIED = 1045;
    /** A classic EOF packet: 4 header bytes and 5 payload bytes. */
    private static final int EOF_PACKET_BYTES = 9;

    private final AdminEngine engine;
    private final String version;
    private final Runnable onNotify;
    private final BiFunction<String, AdminResponse, AdminResponse> tamper;
    private final ServerSocket server;
    private final AtomicLong connectionIds = new AtomicLong();
    private final Thread acceptor;
    /** Queries answered with an endless result set (a 1 GiB flood), to play a peer that sends too much. */
    volatile Predicate<String> flood = sql -> false;
    /** Queries whose result set stops after its first row, the connection closed, to play a peer that drops. */
    volatile Predicate<String> dropMidResult = sql -> false;
    private static final long FLOOD_BYTES = 1L << 30;
    private static final int FLOOD_CELL = 64 * 1024;

    TestAdminListener(AdminEngine engine, String version, Runnable onNotify) throws IOException {
        this(engine, version, onNotify, (sql, response) -> response);
    }

    /**
     * @param tamper rewrites the engine's answer to a query before it is sent, to play a peer whose answers
     *               disagree with each other
     */
    TestAdminListener(AdminEngine engine, String version, Runnable onNotify,
                      BiFunction<String, AdminResponse, AdminResponse> tamper) throws IOException {
        this(engine, version, onNotify, tamper, 0);
    }

    /** @param port the port to listen on, 0 for any free one (a restarted node keeps its port) */
    TestAdminListener(AdminEngine engine, String version, Runnable onNotify,
                      BiFunction<String, AdminResponse, AdminResponse> tamper, int port) throws IOException {
        this.engine = engine;
        this.version = version;
        this.onNotify = onNotify;
        this.tamper = tamper;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        this.acceptor = Thread.ofPlatform().daemon().name("test-admin-accept-" + port()).start(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
            byte[] scramble = AuthPlugins.newScramble();
            int caps = Capabilities.LONG_PASSWORD | Capabilities.PROTOCOL_41 | Capabilities.SECURE_CONNECTION
                    | Capabilities.PLUGIN_AUTH | Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA
                    | Capabilities.TRANSACTIONS | Capabilities.MULTI_RESULTS | Capabilities.CONNECT_WITH_DB;
            ByteBuf buf = Unpooled.buffer();
            new HandshakeV10(version, connectionIds.incrementAndGet(), scramble, caps, COLLATION, 2,
                    AuthPlugins.NATIVE_PASSWORD).writeTo(buf, 0);
            send(out, buf);
            HandshakeResponse41 response = HandshakeResponse41.decode(Unpooled.wrappedBuffer(readPacket(in)));
            Optional<AdminAccount> account = engine.account(response.username());
            if (account.isEmpty() || !passwordMatches(account.get().password(), scramble, response.authResponse())) {
                new ErrPacket(ACCESS_DENIED, "28000", "ProxySQL Error: Access denied for user '"
                        + response.username() + "'").writeTo(buf, 2);
                send(out, buf);
                return;
            }
            new OkPacket(0, 0, 2, 0, "").writeTo(buf, 2);
            send(out, buf);
            AdminPrincipal who = new AdminPrincipal(response.username(), account.get().role(),
                    socket.getInetAddress().getHostAddress() + ":" + socket.getPort());
            while (true) {
                byte[] packet = readPacket(in);
                int command = packet.length == 0 ? -1 : packet[0] & 0xFF;
                if (command == COM_QUIT) {
                    return;
                }
                if (command == COM_PING) {
                    new OkPacket(0, 0, 2, 0, "").writeTo(buf, 1);
                } else if (command == COM_QUERY) {
                    String sql = new String(packet, 1, packet.length - 1, StandardCharsets.UTF_8);
                    if (flood.test(sql) || dropMidResult.test(sql)) {
                        misbehave(out, buf, sql, flood.test(sql));
                        return;
                    }
                    writeResponse(buf, answer(who, sql));
                } else {
                    new ErrPacket(1047, "08S01", "Unknown command").writeTo(buf, 1);
                }
                send(out, buf);
            }
        } catch (Exception e) {
            // the client went away or the test is closing the listener
        }
    }

    /**
     * The start of a genuine-looking result set for {@code sql}'s columns, then either rows of 64 KiB until 1 GiB
     * is sent or the client hangs up ({@code flood}), or one row and a closed connection.
     */
    private static void misbehave(OutputStream out, ByteBuf buf, String sql, boolean flood) throws IOException {
        String list = sql.substring(sql.indexOf(' ') + 1, sql.toUpperCase(java.util.Locale.ROOT).indexOf(" FROM "));
        List<String> columns = List.of(list.split(",\\s*"));
        List<String> row = new java.util.ArrayList<>(java.util.Collections.nCopies(columns.size(), "1"));
        row.set(0, "x".repeat(FLOOD_CELL));
        writeRows(buf, columns, List.of(row));
        // drop the closing EOF: the rows go on, or the connection ends here
        buf.writerIndex(buf.writerIndex() - EOF_PACKET_BYTES);
        send(out, buf);
        if (!flood) {
            return;
        }
        ByteBuf one = Unpooled.buffer();
        int start = Packets.begin(one, 0);
        for (String cell : row) {
            Lenenc.writeNullableString(one, cell);
        }
        Packets.finish(one, start);
        byte[] packet = new byte[one.readableBytes()];
        one.readBytes(packet);
        for (long sent = 0; sent < FLOOD_BYTES; sent += packet.length) {
            // sequence ids are not checked by the reader's size bound; what matters is the volume
            out.write(packet);
        }
        out.flush();
    }

    private AdminResponse answer(AdminPrincipal who, String sql) throws Exception {
        if (sql.strip().equalsIgnoreCase(ClusterQueries.NOTIFY)) {
            onNotify.run();
            return tamper.apply(sql, new AdminResponse.Ok(0, ""));
        }
        return tamper.apply(sql, engine.execute(who, sql).get(30, TimeUnit.SECONDS));
    }

    private static boolean passwordMatches(String password, byte[] scramble, byte[] response) {
        if (password.isEmpty()) {
            return response.length == 0;
        }
        byte[] stage2 = AuthPlugins.nativeStage2(AuthPlugins.nativeStage1(password));
        return AuthPlugins.nativeVerify(stage2, scramble, response) != null;
    }

    private static void writeResponse(ByteBuf buf, AdminResponse r) {
        switch (r) {
            case AdminResponse.Ok ok -> new OkPacket(ok.affectedRows(), 0, 2, 0, "").writeTo(buf, 1);
            case AdminResponse.Error err -> new ErrPacket(err.code(), err.sqlState(), err.message()).writeTo(buf, 1);
            case AdminResponse.ResultSet rs -> writeRows(buf, rs.columns(), rs.rows());
        }
    }

    private static void writeRows(ByteBuf buf, List<String> columns, List<List<String>> rows) {
        int seq = 1;
        int start = Packets.begin(buf, seq++);
        Lenenc.writeInt(buf, columns.size());
        Packets.finish(buf, start);
        for (String name : columns) {
            start = Packets.begin(buf, seq++);
            Lenenc.writeString(buf, "def");
            Lenenc.writeString(buf, "");
            Lenenc.writeString(buf, "");
            Lenenc.writeString(buf, "");
            Lenenc.writeString(buf, name);
            Lenenc.writeString(buf, name);
            buf.writeByte(COLUMN_DEFINITION_FIXED_LENGTH);
            buf.writeShortLE(COLLATION);
            buf.writeIntLE(255);
            buf.writeByte(VAR_STRING);
            buf.writeShortLE(0);
            buf.writeByte(0);
            buf.writeShortLE(0);
            Packets.finish(buf, start);
        }
        new EofPacket(0, 2).writeTo(buf, seq++);
        for (List<String> row : rows) {
            start = Packets.begin(buf, seq++ & 0xFF);
            for (String cell : row) {
                Lenenc.writeNullableString(buf, cell);
            }
            seq = Packets.finish(buf, start) + 1;
        }
        new EofPacket(0, 2).writeTo(buf, seq & 0xFF);
    }

    private static void send(OutputStream out, ByteBuf buf) throws IOException {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        buf.clear();
        out.write(bytes);
        out.flush();
    }

    private static byte[] readPacket(InputStream in) throws IOException {
        byte[] header = in.readNBytes(4);
        if (header.length < 4) {
            throw new EOFException();
        }
        int length = (header[0] & 0xFF) | (header[1] & 0xFF) << 8 | (header[2] & 0xFF) << 16;
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
            throw new EOFException();
        }
        return payload;
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
