package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Clients that misbehave at the byte level: garbage, truncated and out-of-order packets, unknown commands, a
 * client that vanishes in the middle of a large result, and a client that starts TLS without waiting. Each test
 * also checks that the proxy keeps serving a well-behaved client afterwards.
 */
class RawProtocolTest {
    private static final String USER = "raw_user";
    private static final String PASSWORD = "raw-pw";
    private static final String DB = "raw_db";
    private static final int ER_BAD_HANDSHAKE = 1043;
    private static final int ER_NET_PACKETS_OUT_OF_ORDER = 1156;
    private static final int ER_UNKNOWN_COM_ERROR = 1047;
    /** Shorter than ProxySQL's 10 s default so that the stalled-client test is quick, long enough for TLS logins. */
    private static final int CONNECT_TIMEOUT_CLIENT_MS = 3_000;
    /** The proxy's mysql-max_allowed_packet here: 4 MiB, below the backend's. */
    private static final int MAX_ALLOWED_PACKET = 4 * 1024 * 1024;
    private static final int ER_NET_PACKET_TOO_LARGE = 1153;
    /** How long the proxy may take to act on an SSLRequest. */
    private static final Duration TLS_UPGRADE_BOUND = Duration.ofSeconds(5);
    private static MariaDb db;
    private static TrafficProxy proxy;

    @BeforeAll
    static void startProxy() throws Exception {
        db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
        db.execute("DROP DATABASE IF EXISTS " + DB, "CREATE DATABASE " + DB);
        proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())),
                List.of(MysqlUser.of(USER, PASSWORD, 0)),
                Map.of("server_version", "5.5.30", "connect_timeout_client", String.valueOf(CONNECT_TIMEOUT_CLIENT_MS),
                        "max_allowed_packet", String.valueOf(MAX_ALLOWED_PACKET)));
    }

    @AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** After every test: a well-behaved client still gets answers. */
    @AfterEach
    void othersKeepWorking() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "");
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 6 * 7")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(42);
        }
        try (RawClient raw = RawClient.login(proxy.port(), USER, PASSWORD)) {
            assertThat(raw.query("SELECT 'still serving'")).containsExactly(List.of("still serving"));
        }
    }

    /** Asserts the server answered at most one ERR packet (with {@code code} when given) and closed. */
    private static void assertErrThenClosed(RawClient client, Integer code) throws IOException {
        List<RawClient.Packet> packets = client.readUntilClosed();
        assertThat(packets).hasSizeLessThanOrEqualTo(1);
        if (!packets.isEmpty()) {
            assertThat(packets.getFirst().isErr()).as("the only packet is an ERR").isTrue();
            if (code != null) {
                assertThat(packets.getFirst().errorCode()).isEqualTo(code);
            }
        }
    }

    @Test
    void garbageInsteadOfAHandshakeResponse() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            byte[] garbage = new byte[40];
            new Random(7).nextBytes(garbage);
            client.write(1, garbage);
            assertErrThenClosed(client, null);
        }
    }

    @Test
    void handshakeResponseOfAllOnes() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            byte[] ones = new byte[48];
            java.util.Arrays.fill(ones, (byte) 0xFF);
            client.write(1, ones);
            assertErrThenClosed(client, null);
        }
    }

    @Test
    void handshakeResponseShorterThanItsFixedPart() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.write(1, new byte[] {0x05, (byte) 0xA2, 0, 0, 0, 0, 0, 1});
            List<RawClient.Packet> packets = client.readUntilClosed();
            assertThat(packets).hasSize(1);
            assertThat(packets.getFirst().errorCode()).isEqualTo(ER_BAD_HANDSHAKE);
        }
    }

    @Test
    void truncatedHandshakeResponse() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            byte[] full = client.handshakeResponse(RawClient.BASIC_CAPABILITIES, USER, PASSWORD, null);
            // Cut inside the auth response: its length byte promises 20 bytes that never come.
            int cut = 32 + USER.length() + 1 + 1 + 5;
            client.write(1, java.util.Arrays.copyOf(full, cut));
            List<RawClient.Packet> packets = client.readUntilClosed();
            assertThat(packets).hasSize(1);
            assertThat(packets.getFirst().isErr()).isTrue();
            assertThat(packets.getFirst().errorCode()).isIn(ER_BAD_HANDSHAKE, 1045);
        }
    }

    @Test
    void handshakeResponseWithoutProtocol41() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.write(1, client.handshakeResponse(RawClient.CLIENT_LONG_PASSWORD, USER, PASSWORD, null));
            assertErrThenClosed(client, null);
        }
    }

    @Test
    void clientThatClosesHalfwayThroughAPacketHeader() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.writeRaw(new byte[] {0x30, 0x00});
        }
    }

    @Test
    void clientThatStallsInsideTheHandshakeIsDisconnected() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            long start = System.nanoTime();
            client.writeRaw(new byte[] {0x40, 0x00, 0x00, 0x01, 0x0d, (byte) 0xa2});
            client.socket().setSoTimeout(CONNECT_TIMEOUT_CLIENT_MS + 10_000);
            assertErrThenClosed(client, null);
            long waited = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(waited).as("closed after mysql-connect_timeout_client, not before")
                    .isGreaterThanOrEqualTo(CONNECT_TIMEOUT_CLIENT_MS - 200);
        }
    }

    @Test
    void commandWithAWrongSequenceIdIsRefusedAndTheConnectionClosed() throws Exception {
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            assertThat(client.query("SELECT 1")).containsExactly(List.of("1"));
            client.write(5, "\u0003SELECT 2".getBytes(StandardCharsets.UTF_8));
            List<RawClient.Packet> packets = client.readUntilClosed();
            assertThat(packets).hasSize(1);
            assertThat(packets.getFirst().errorCode()).isEqualTo(ER_NET_PACKETS_OUT_OF_ORDER);
            assertThat(packets.getFirst().errorMessage()).contains("out of order");
        }
    }

    @Test
    void unknownCommandIsAnsweredWithAnErrorAndTheSessionGoesOn() throws Exception {
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            client.write(0, new byte[] {0x7A, 1, 2, 3});
            RawClient.Packet reply = client.read();
            assertThat(reply.isErr()).isTrue();
            assertThat(reply.errorCode()).isEqualTo(ER_UNKNOWN_COM_ERROR);
            assertThat(client.query("SELECT 'after unknown'")).containsExactly(List.of("after unknown"));
        }
    }

    @Test
    void emptyCommandPacketIsAnsweredWithAnErrorAndTheSessionGoesOn() throws Exception {
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            client.write(0, new byte[0]);
            RawClient.Packet reply = client.read();
            assertThat(reply.isErr()).isTrue();
            assertThat(client.query("SELECT 'after empty'")).containsExactly(List.of("after empty"));
        }
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() throws Exception {
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            // Three queries in one write, before reading any answer.
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            for (String sql : List.of("SELECT 'a'", "SELECT 'b'", "SELECT 'c'")) {
                all.writeBytes(RawClient.frame(0, ("\u0003" + sql).getBytes(StandardCharsets.UTF_8)));
            }
            client.writeRaw(all.toByteArray());
            assertThat(client.readResult()).containsExactly(List.of("a"));
            assertThat(client.readResult()).containsExactly(List.of("b"));
            assertThat(client.readResult()).containsExactly(List.of("c"));
        }
    }

    @Test
    void resetConnectionClearsUserVariables() throws Exception {
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            client.query("SET @kept = 42");
            assertThat(client.query("SELECT @kept")).containsExactly(List.of("42"));
            client.command(RawClient.COM_RESET_CONNECTION, "");
            RawClient.Packet reply = client.read();
            assertThat(reply.isOk()).as("COM_RESET_CONNECTION answers OK").isTrue();
            assertThat(client.query("SELECT @kept")).containsExactly(java.util.Collections.singletonList(null));
            assertThat(client.query("SELECT 'usable'")).containsExactly(List.of("usable"));
        }
    }

    @Test
    void clientThatVanishesInTheMiddleOfALargeResult() throws Exception {
        String marker = "vanish_" + System.nanoTime();
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            client.command(RawClient.COM_QUERY,
                    "SELECT seq, REPEAT('x', 200) AS '" + marker + "' FROM " + DB + ".seq_1_to_2000000");
            // Read a little of the ~400 MB, then drop the connection with a reset.
            byte[] some = client.input().readNBytes(256 * 1024);
            assertThat(some).hasSize(256 * 1024);
            client.socket().setSoLinger(true, 0);
        }
        // The proxy stops the backend's work instead of draining 400 MB nobody reads.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                assertThat(db.queryValue("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%"
                        + marker + "%' AND INFO NOT LIKE '%PROCESSLIST%'")).isEqualTo("0"));
    }

    @Test
    void jdbcClientAbortedWhileStreaming() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "");
             Statement st = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            st.setFetchSize(Integer.MIN_VALUE);
            ResultSet rs = st.executeQuery("SELECT seq, REPEAT('y', 100) FROM seq_1_to_2000000");
            for (int i = 0; i < 1000; i++) {
                assertThat(rs.next()).isTrue();
            }
            c.abort(Runnable::run);
            assertThat(c.isClosed()).isTrue();
        }
    }

    private static String selectLengthOf(int bytes) {
        return "SELECT LENGTH('" + "x".repeat(bytes) + "')";
    }

    @Test
    void commandBelowMaxAllowedPacketPasses() throws Exception {
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            int size = MAX_ALLOWED_PACKET - 1024;
            assertThat(client.query(selectLengthOf(size))).containsExactly(List.of(String.valueOf(size)));
        }
    }

    @Test
    void commandAboveMaxAllowedPacketIsRefusedWith1153() throws Exception {
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            client.command(RawClient.COM_QUERY, selectLengthOf(MAX_ALLOWED_PACKET + 1024));
            List<RawClient.Packet> packets = client.readUntilClosed();
            assertThat(packets).hasSize(1);
            assertThat(packets.getFirst().errorCode()).isEqualTo(ER_NET_PACKET_TOO_LARGE);
            assertThat(packets.getFirst().errorMessage()).contains("max_allowed_packet");
        }
    }

    @Test
    void commandAboveMaxAllowedPacketSplitOver16MiBPacketsIsRefused() throws Exception {
        try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
            // 17 MiB: a full 16 MiB packet and a continuation; the proxy must not buffer the whole command first.
            client.command(RawClient.COM_QUERY, selectLengthOf(17 * 1024 * 1024));
            List<RawClient.Packet> packets = client.readUntilClosed();
            assertThat(packets).hasSizeLessThanOrEqualTo(1);
            if (!packets.isEmpty()) {
                assertThat(packets.getFirst().errorCode()).isEqualTo(ER_NET_PACKET_TOO_LARGE);
            }
        } catch (java.net.SocketException e) {
            // The proxy may close while the client is still writing: a reset is an acceptable refusal too.
            assertThat(e.getMessage()).containsAnyOf("reset", "Broken pipe", "closed");
        }
    }

    @Test
    void jdbcQueryAboveMaxAllowedPacketFailsWith1153() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "");
             Statement st = c.createStatement()) {
            java.sql.SQLException e = org.assertj.core.api.Assertions.catchThrowableOfType(java.sql.SQLException.class,
                    () -> st.executeQuery(selectLengthOf(MAX_ALLOWED_PACKET + 1024)).close());
            assertThat((Throwable) e).isNotNull();
            assertThat(e.getErrorCode()).isEqualTo(ER_NET_PACKET_TOO_LARGE);
        }
    }

    // ---- TLS started without waiting ------------------------------------------------------------------------

    /** Sends a pending prefix together with the next write, as one TCP segment. */
    private static final class CoalescingOutput extends OutputStream {
        private final OutputStream target;
        private byte[] pending = new byte[0];

        CoalescingOutput(OutputStream target) {
            this.target = target;
        }

        void prepend(byte[] bytes) {
            pending = bytes;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            byte[] all = new byte[pending.length + len];
            System.arraycopy(pending, 0, all, 0, pending.length);
            System.arraycopy(b, off, all, pending.length, len);
            pending = new byte[0];
            target.write(all);
        }

        @Override
        public void flush() throws IOException {
            target.flush();
        }
    }

    private static SSLContext trustAll() throws Exception {
        TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {trustAll}, null);
        return context;
    }

    @Test
    void tlsClientHelloSentTogetherWithTheSslRequest() throws Exception {
        CoalescingOutput[] output = new CoalescingOutput[1];
        Socket plain = new Socket() {
            @Override
            public synchronized OutputStream getOutputStream() throws IOException {
                if (output[0] == null) {
                    output[0] = new CoalescingOutput(super.getOutputStream());
                }
                return output[0];
            }
        };
        plain.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5_000);
        plain.setSoTimeout(5_000);
        plain.setTcpNoDelay(true);
        try (RawClient client = RawClient.attach(plain)) {
            assertThat(client.serverCapabilities() & RawClient.CLIENT_SSL).as("proxy offers TLS").isNotZero();
            // Like Connector/J and libmariadb: the SSLRequest, then the ClientHello at once, without waiting.
            output[0].prepend(RawClient.frame(1, RawClient.sslRequest(RawClient.BASIC_CAPABILITIES)));
            SSLSocket tls = (SSLSocket) trustAll().getSocketFactory().createSocket(plain, "127.0.0.1", proxy.port(), true);
            tls.setUseClientMode(true);
            tls.startHandshake();
            client.useStreams(tls.getInputStream(), tls.getOutputStream());
            client.write(2, client.handshakeResponse(RawClient.BASIC_CAPABILITIES | RawClient.CLIENT_SSL, USER,
                    PASSWORD, null));
            assertThat(client.read().isOk()).isTrue();
            assertThat(client.query("SELECT 'tls'")).containsExactly(List.of("tls"));
        }
    }

    @Test
    void tlsClientThatWaitsBetweenSslRequestAndClientHello() throws Exception {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5_000);
        plain.setSoTimeout(10_000);
        try (RawClient client = RawClient.attach(plain)) {
            int upgrades = proxy.tlsUpgrades();
            client.write(1, RawClient.sslRequest(RawClient.BASIC_CAPABILITIES));
            awaitTlsInstalled(upgrades); // the ClientHello then arrives on its own, behind the TLS layer
            SSLSocket tls = (SSLSocket) trustAll().getSocketFactory().createSocket(plain, "127.0.0.1", proxy.port(), true);
            tls.setUseClientMode(true);
            tls.startHandshake();
            client.useStreams(tls.getInputStream(), tls.getOutputStream());
            client.write(2, client.handshakeResponse(RawClient.BASIC_CAPABILITIES | RawClient.CLIENT_SSL, USER,
                    PASSWORD, null));
            assertThat(client.read().isOk()).isTrue();
            assertThat(client.query("SELECT 'tls'")).containsExactly(List.of("tls"));
        }
    }

    @Test
    void plainBytesAfterTheSslRequestAreNotAcceptedAsALogin() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            int upgrades = proxy.tlsUpgrades();
            client.write(1, RawClient.sslRequest(RawClient.BASIC_CAPABILITIES));
            awaitTlsInstalled(upgrades);
            // Not a TLS record: the proxy must not treat it as a handshake response in clear text.
            client.write(2, client.handshakeResponse(RawClient.BASIC_CAPABILITIES, USER, PASSWORD, null));
            assertThatThrownBy(() -> {
                RawClient.Packet reply = client.read();
                assertThat(reply.isOk()).as("logged in without TLS after asking for it").isFalse();
                throw new IOException("answered 0x" + Integer.toHexString(reply.first()));
            }).isInstanceOf(IOException.class);
        }
    }

    /** Waits until the proxy has put TLS in front of one more client channel than {@code before}. */
    private static void awaitTlsInstalled(int before) {
        await().atMost(TLS_UPGRADE_BOUND).until(() -> proxy.tlsUpgrades() > before);
    }
}
