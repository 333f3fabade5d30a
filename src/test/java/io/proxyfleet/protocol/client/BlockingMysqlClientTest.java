package io.proxyfleet.protocol.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.testkit.MariaDb;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BlockingMysqlClientTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static MariaDb db;
    private static String user;
    private static final String PASSWORD = "p@ss-wörd";

    @BeforeAll
    static void server() {
        db = MariaDb.shared();
        user = "client_" + UUID.randomUUID().toString().substring(0, 8);
        db.createUser(user, PASSWORD);
    }

    private static BlockingMysqlClient.Options options(String password) {
        return BlockingMysqlClient.Options.of(db.host(), db.port(), user, password, TIMEOUT, TIMEOUT);
    }

    @Test
    void connectsAndReadsTextResultSetsWithNulls() throws IOException {
        try (BlockingMysqlClient c = BlockingMysqlClient.connect(options(PASSWORD))) {
            assertThat(c.serverVersion()).containsIgnoringCase("MariaDB");
            QueryResult.Rows rows = c.select("SELECT 1 AS one, NULL AS nothing, 'héllo' AS greeting, '' AS empty "
                    + "UNION ALL SELECT 2, 'x', REPEAT('a', 300), NULL");
            assertThat(rows.columns()).containsExactly("one", "nothing", "greeting", "empty");
            assertThat(rows.rows()).hasSize(2);
            assertThat(rows.rows().get(0)).containsExactly("1", null, "héllo", "");
            assertThat(rows.rows().get(1)).containsExactly("2", "x", "a".repeat(300), null);
            assertThat(rows.columnIndex("GREETING")).isEqualTo(2);
        }
    }

    @Test
    void returnsOkForStatementsAndUsesADefaultSchema() throws IOException {
        String schema = "cl_" + UUID.randomUUID().toString().substring(0, 8);
        db.execute("CREATE DATABASE " + schema);
        var opts = new BlockingMysqlClient.Options(db.host(), db.port(), user, PASSWORD, schema, TIMEOUT, TIMEOUT);
        try (BlockingMysqlClient c = BlockingMysqlClient.connect(opts)) {
            c.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)");
            QueryResult r = c.query("INSERT INTO t (v) VALUES ('a'), ('b')");
            assertThat(r).isInstanceOfSatisfying(QueryResult.Ok.class, ok -> {
                assertThat(ok.affectedRows()).isEqualTo(2);
                assertThat(ok.lastInsertId()).isEqualTo(1);
            });
            assertThat(c.select("SELECT DATABASE()").rows().getFirst().getFirst()).isEqualTo(schema);
            assertThat(c.select("SELECT v FROM t ORDER BY id").rows()).containsExactly(List.of("a"), List.of("b"));
        }
    }

    @Test
    void serverErrorsAreTypedAndLeaveTheConnectionUsable() throws IOException {
        try (BlockingMysqlClient c = BlockingMysqlClient.connect(options(PASSWORD))) {
            assertThatThrownBy(() -> c.query("SELECT * FROM no_such_db.no_such_table"))
                    .isInstanceOfSatisfying(MysqlErrorException.class, e -> {
                        assertThat(e.code()).isEqualTo(1146);
                        assertThat(e.sqlState()).isEqualTo("42S02");
                        assertThat(e.serverMessage()).contains("no_such_table");
                    });
            assertThat(c.select("SELECT 42").rows()).containsExactly(List.of("42"));
        }
    }

    @Test
    void errorInTheMiddleOfRowsIsReported() throws IOException {
        try (BlockingMysqlClient c = BlockingMysqlClient.connect(options(PASSWORD))) {
            // the second row fails the cast with strict mode: the server sends rows then ERR
            assertThatThrownBy(() -> c.query("SELECT IF(seq = 2, (SELECT 1 UNION SELECT 2), seq) FROM seq_1_to_3"))
                    .isInstanceOf(MysqlErrorException.class);
            assertThat(c.select("SELECT 'still alive'").rows()).containsExactly(List.of("still alive"));
        }
    }

    @Test
    void multipleResultsReturnTheFirstAndDrainTheRest() throws IOException {
        try (BlockingMysqlClient c = BlockingMysqlClient.connect(options(PASSWORD))) {
            String schema = "cp_" + UUID.randomUUID().toString().substring(0, 8);
            c.execute("CREATE DATABASE " + schema);
            c.execute("CREATE PROCEDURE " + schema + ".p() BEGIN SELECT 'first'; SELECT 'second'; END");
            assertThat(c.select("CALL " + schema + ".p()").rows()).containsExactly(List.of("first"));
            assertThat(c.select("SELECT 'next'").rows()).containsExactly(List.of("next"));
        }
    }

    @Test
    void wrongPasswordIsAccessDenied() {
        assertThatThrownBy(() -> BlockingMysqlClient.connect(options("wrong")))
                .isInstanceOfSatisfying(MysqlErrorException.class, e -> {
                    assertThat(e.code()).isEqualTo(1045);
                    assertThat(e.sqlState()).isEqualTo("28000");
                });
    }

    @Test
    void authSwitchToNativePasswordWorks() throws IOException {
        try (BlockingMysqlClient c = BlockingMysqlClient.connect(options(PASSWORD), "client_ed25519")) {
            assertThat(c.select("SELECT CURRENT_USER()").rows().getFirst().getFirst()).startsWith(user + "@");
        }
        assertThatThrownBy(() -> BlockingMysqlClient.connect(options("bad"), "client_ed25519"))
                .isInstanceOfSatisfying(MysqlErrorException.class, e -> assertThat(e.code()).isEqualTo(1045));
    }

    @Test
    void largeValuesCrossThePacketSizeLimit() throws IOException {
        // only raises the shared server's limit, which no other test depends on; new sessions see it
        db.execute("SET GLOBAL max_allowed_packet = 67108864");
        try (BlockingMysqlClient c = BlockingMysqlClient.connect(options(PASSWORD))) {
            int size = 17 * 1024 * 1024;
            String v = c.select("SELECT REPEAT('z', " + size + ")").rows().getFirst().getFirst();
            assertThat(v).hasSize(size);
            String sent = "y".repeat(size);
            assertThat(c.select("SELECT LENGTH('" + sent + "')").rows().getFirst().getFirst())
                    .isEqualTo(Integer.toString(size));
        }
    }

    @Test
    void nativePasswordScrambleMatchesKnownVector() {
        // SHA1("secret") XOR SHA1(scramble + SHA1(SHA1("secret"))), computed independently with Python hashlib
        byte[] scramble = new byte[20];
        Arrays.fill(scramble, (byte) 0x41);
        byte[] response = BlockingMysqlClient.nativePassword("secret", scramble);
        assertThat(response).hasSize(20);
        assertThat(BlockingMysqlClient.nativePassword("", scramble)).isEmpty();
        assertThat(HexFormat.of().formatHex(response)).isEqualTo(EXPECTED_SECRET_A20);
    }

    static final String EXPECTED_SECRET_A20 = "c11a9201c00eb25c21e5ec5236e71d5433e86b6b";

    @Test
    void silentServerHitsTheReadTimeout() throws IOException {
        try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            var opts = BlockingMysqlClient.Options.of("127.0.0.1", silent.getLocalPort(), "u", "p",
                    Duration.ofSeconds(1), Duration.ofMillis(300));
            long start = System.nanoTime();
            assertThatThrownBy(() -> BlockingMysqlClient.connect(opts)).isInstanceOf(SocketTimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void refusedConnectionFailsFast() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        var opts = BlockingMysqlClient.Options.of("127.0.0.1", port, "u", "p", Duration.ofSeconds(1), TIMEOUT);
        assertThatThrownBy(() -> BlockingMysqlClient.connect(opts)).isInstanceOf(IOException.class);
    }

    @Test
    void closedClientRefusesQueries() throws IOException {
        BlockingMysqlClient c = BlockingMysqlClient.connect(options(PASSWORD));
        c.close();
        c.close();
        assertThatThrownBy(() -> c.query("SELECT 1")).isInstanceOf(IOException.class);
    }
}
