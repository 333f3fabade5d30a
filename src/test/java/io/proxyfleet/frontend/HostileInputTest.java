package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile bytes on the traffic and admin ports of a whole node: lengths that overflow when read as signed
 * numbers (issue 10, problem 8), and headers announcing more than the phase allows. Each must get one ERR and a
 * closed connection, from the header alone where a header is at fault, and the node must keep serving others.
 */
class HostileInputTest {
    private static final String USER = "hostile_user";
    private static final String PASSWORD = "hostile-pw";
    private static final int ER_BAD_HANDSHAKE = 1043;
    private static final int ER_NET_PACKET_TOO_LARGE = 1153;
    private static final String SQLSTATE_COMMUNICATION = "08S01";
    /** mysql-max_allowed_packet on this node: 1 MiB, so that a header can exceed it without sending 64 MiB. */
    private static final int MAX_ALLOWED_PACKET = 1024 * 1024;
    /** The size of the packet of problem 8: a whole HandshakeResponse41 of 60 bytes, header included. */
    private static final int PROBLEM_8_PACKET_SIZE = 60;
    /** An 8-byte length-encoded integer that is negative as an int64 (problem 8) ... */
    private static final String NEGATIVE_LENGTH = "fe0000ff7fffffffff";
    /** ... and 2^64-1, which the old code turned into a negative array size. */
    private static final String ALL_ONES_LENGTH = "feffffffffffffffff";
    private static final int CLIENT_CONNECT_ATTRS = 1 << 20;
    private static final int CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21;
    /** A full 16 MiB packet header: the start of a payload of 16 MiB or more. */
    private static final int FULL_PACKET = 0xFFFFFF;

    @TempDir
    static Path dir;
    private static ProxyFleetNode node;

    @BeforeAll
    static void startNode() throws Exception {
        MariaDb db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        node = NodeFixture.start(dir, NodeFixture.writeConfig(dir, adminPort, trafficPort, ""));
        MysqlCli.Result setup = NodeFixture.admin(adminPort,
                "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', " + db.port() + ")",
                "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('" + USER + "', '"
                        + PASSWORD + "', 0)",
                "UPDATE global_variables SET variable_value='" + MAX_ALLOWED_PACKET
                        + "' WHERE variable_name='mysql-max_allowed_packet'",
                "LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL USERS TO RUNTIME", "LOAD MYSQL VARIABLES TO RUNTIME");
        assertThat(setup.exitCode()).as(setup.toString()).isZero();
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    /** After every test: a well-behaved client logs in and gets answers on both ports. */
    @AfterEach
    void othersKeepWorking() throws Exception {
        try (RawClient client = RawClient.login(node.trafficPort(), USER, PASSWORD)) {
            assertThat(client.query("SELECT 'still serving'")).containsExactly(List.of("still serving"));
        }
        try (RawClient admin = RawClient.login(node.adminPort(), "admin", "admin")) {
            assertThat(admin.query("SELECT COUNT(*) FROM mysql_users")).containsExactly(List.of("1"));
        }
    }

    private static int port(String which) {
        return "admin".equals(which) ? node.adminPort() : node.trafficPort();
    }

    /** Reads until the server closes; asserts that it sent exactly one ERR with {@code code} and 08S01. */
    private static RawClient.Packet assertOneErrThenClosed(RawClient client, int code) throws IOException {
        List<RawClient.Packet> packets = client.readUntilClosed();
        assertThat(packets).as("exactly one packet before the close").hasSize(1);
        RawClient.Packet err = packets.getFirst();
        assertThat(err.isErr()).as("an ERR packet").isTrue();
        assertThat(err.errorCode()).isEqualTo(code);
        assertThat(new String(err.payload(), 4, 5, StandardCharsets.US_ASCII)).isEqualTo(SQLSTATE_COMMUNICATION);
        return err;
    }

    /**
     * Problem 8's HandshakeResponse41: protocol 4.1 with length-encoded auth data whose length is {@code lenenc},
     * padded with a plugin name to 60 bytes in all.
     */
    private static byte[] problem8Payload(String lenenc) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeInt4(b, RawClient.BASIC_CAPABILITIES | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA);
        writeInt4(b, FULL_PACKET);
        b.write(45);
        b.writeBytes(new byte[23]);
        b.writeBytes("root\0".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(HexFormat.of().parseHex(lenenc));
        int padding = PROBLEM_8_PACKET_SIZE - 4 - b.size();
        b.writeBytes("x".repeat(padding - 1).getBytes(StandardCharsets.US_ASCII));
        b.write(0);
        return b.toByteArray();
    }

    private static void writeInt4(ByteArrayOutputStream b, int value) {
        for (int shift = 0; shift < Integer.SIZE; shift += Byte.SIZE) {
            b.write(value >>> shift);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"traffic:" + NEGATIVE_LENGTH, "traffic:" + ALL_ONES_LENGTH,
            "admin:" + NEGATIVE_LENGTH, "admin:" + ALL_ONES_LENGTH})
    void authResponseLengthBeyondThePacketIsABadHandshake(String portAndLength) throws Exception {
        String[] parts = portAndLength.split(":");
        try (RawClient client = RawClient.connect(port(parts[0]))) {
            byte[] packet = RawClient.frame(1, problem8Payload(parts[1]));
            assertThat(packet).hasSize(PROBLEM_8_PACKET_SIZE);
            client.writeRaw(packet);
            assertOneErrThenClosed(client, ER_BAD_HANDSHAKE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"traffic:block", "traffic:key", "admin:block", "admin:key"})
    void connectAttributeLengthBeyondThePacketIsABadHandshake(String portAndField) throws Exception {
        String[] parts = portAndField.split(":");
        try (RawClient client = RawClient.connect(port(parts[0]))) {
            ByteArrayOutputStream payload = new ByteArrayOutputStream();
            payload.writeBytes(client.handshakeResponse(RawClient.BASIC_CAPABILITIES | CLIENT_CONNECT_ATTRS,
                    "admin".equals(parts[0]) ? "admin" : USER, "admin".equals(parts[0]) ? "admin" : PASSWORD,
                    null));
            if ("block".equals(parts[1])) {
                payload.writeBytes(HexFormat.of().parseHex(NEGATIVE_LENGTH));
            } else {
                // A block of 10 bytes whose first key claims 2^64-1 bytes.
                payload.write(10);
                payload.writeBytes(HexFormat.of().parseHex(ALL_ONES_LENGTH));
                payload.write(0);
            }
            client.write(1, payload.toByteArray());
            assertOneErrThenClosed(client, ER_BAD_HANDSHAKE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"traffic", "admin"})
    void loginPacketAnnouncing16MiBIsRefusedFromItsHeader(String which) throws Exception {
        try (RawClient client = RawClient.connect(port(which))) {
            // Only the header and a few bytes: an answer that waited for the body would never come.
            byte[] start = new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1, 0x05, (byte) 0xA2, 0x3E, 0};
            client.writeRaw(start);
            RawClient.Packet err = assertOneErrThenClosed(client, ER_BAD_HANDSHAKE);
            assertThat(err.sequenceId()).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"traffic", "admin"})
    void largestLegalLoginPacketStillLogsIn(String which) throws Exception {
        boolean admin = "admin".equals(which);
        try (RawClient client = RawClient.connect(port(which))) {
            ByteArrayOutputStream payload = new ByteArrayOutputStream();
            payload.writeBytes(client.handshakeResponse(RawClient.BASIC_CAPABILITIES | CLIENT_CONNECT_ATTRS,
                    admin ? "admin" : USER, admin ? "admin" : PASSWORD, null));
            // 64 KiB of connection attributes: one key with a value that fills the block.
            int valueLength = 64 * 1024 - 1 - 5; // the block less the key, its length and the value's length
            payload.write(0xFC);
            payload.write((64 * 1024 - 1) & 0xFF);
            payload.write((64 * 1024 - 1) >>> 8);
            payload.write(1);
            payload.write('k');
            payload.write(0xFC);
            payload.write(valueLength & 0xFF);
            payload.write(valueLength >>> 8);
            payload.writeBytes("v".repeat(valueLength).getBytes(StandardCharsets.US_ASCII));
            client.write(1, payload.toByteArray());
            assertThat(client.read().isOk()).as("login with 64 KiB of attributes").isTrue();
        }
    }

    @org.junit.jupiter.api.Test
    void commandAnnouncingMoreThanMaxAllowedPacketIsRefusedFromItsHeader() throws Exception {
        try (RawClient client = RawClient.login(node.trafficPort(), USER, PASSWORD)) {
            int announced = 2 * MAX_ALLOWED_PACKET;
            client.writeRaw(new byte[] {(byte) announced, (byte) (announced >>> 8), (byte) (announced >>> 16), 0,
                    RawClient.COM_QUERY, 'S', 'E', 'L'});
            RawClient.Packet err = assertOneErrThenClosed(client, ER_NET_PACKET_TOO_LARGE);
            assertThat(err.errorMessage()).contains("max_allowed_packet");
            assertThat(err.sequenceId()).isEqualTo(1);
        }
    }

    @org.junit.jupiter.api.Test
    void adminQueryOf16MiBOrMoreIsRefusedFromItsFirstHeader() throws Exception {
        try (RawClient admin = RawClient.login(node.adminPort(), "admin", "admin")) {
            // The first packet of a 64 MiB query, as the one that crashed ProxySQL's admin.
            admin.writeRaw(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0, RawClient.COM_QUERY, 'S', 'E', 'L'});
            assertOneErrThenClosed(admin, ER_NET_PACKET_TOO_LARGE);
        } catch (SocketException e) {
            throw new AssertionError("expected an ERR before the close, got " + e, e);
        }
    }
}
