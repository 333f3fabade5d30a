package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Session state follows each client exactly when one pooled backend connection goes from client to client: the
 * character set negotiated in the handshake or set later, sql_mode and the other tracked variables, and the
 * status flags (NO_BACKSLASH_ESCAPES) a client's escaping depends on. The server runs with a stock MariaDB's
 * latin1 defaults, so that a connection reset to the server's default differs from what a utf8mb4 client asked
 * for. The proxy has one event loop and multiplexing on (the default), so that sessions of one user share one
 * pool; each test has its own user, hence its own pool.
 */
class SessionStateTest {
    private static final String PASSWORD = "state-pw";
    private static final String DB = "state_db";
    private static final String LATIN1_DB = "state_latin1";
    private static final String POO = "\uD83D\uDCA9";
    private static final String POO_UTF8_HEX = "F09F92A9";
    private static final int SERVER_STATUS_NO_BACKSLASH_ESCAPES = 0x200;
    private static final int COM_PING = 0x0e;
    private static final int CLIENT_SESSION_TRACK = 1 << 23;
    private static final int SERVER_SESSION_STATE_CHANGED = 0x4000;
    /** Keeps MariaDB Connector/J from sending a SET at connect that the proxy cannot track. */
    private static final String UNPINNED = "jdbcCompliantTruncation=false";
    private static final List<String> USERS = List.of("st_emoji", "st_emoji_cli", "st_client", "st_flags",
            "st_escape", "st_matrix", "st_refused", "st_track", "st_reset");
    private static final String VARIABLES = "SELECT @@character_set_client, @@character_set_connection,"
            + " @@character_set_results, @@collation_connection, @@time_zone, @@sql_mode, @@tx_isolation,"
            + " @@group_concat_max_len, @@lc_time_names";
    private static MariaDb db;
    private static TrafficProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        db = MariaDb.start(MariaDb.Options.defaults().withExtraArgs("--character-set-server=latin1",
                "--collation-server=latin1_swedish_ci"));
        List<MysqlUser> users = new ArrayList<>();
        for (String user : USERS) {
            db.createUser(user, PASSWORD);
            users.add(MysqlUser.of(user, PASSWORD, 0));
        }
        db.execute("CREATE DATABASE " + DB + " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
                "CREATE DATABASE " + LATIN1_DB + " CHARACTER SET latin1",
                "CREATE TABLE " + DB + ".texts (id INT PRIMARY KEY, v VARCHAR(40)) CHARSET utf8mb4");
        proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())), users,
                Map.of("server_version", "5.5.30"), 1);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (db != null) {
            db.close();
        }
    }

    private static RawClient login(String user) throws IOException {
        return RawClient.login(proxy.port(), user, PASSWORD);
    }

    private static String value(RawClient client, String sql) throws IOException {
        return client.query(sql).getFirst().getFirst();
    }

    /**
     * A client changes its character set inside a transaction, on the connection it then returns to the pool;
     * returns that connection's id.
     */
    private static String latin1ClientUsesTheConnection(RawClient client, String set) throws IOException {
        client.query("BEGIN");
        client.query(set);
        String connectionId = value(client, "SELECT CONNECTION_ID()");
        client.query("COMMIT");
        return connectionId;
    }

    @Test
    void utf8mb4ClientReadsAndWritesEmojiOnAConnectionALatin1ClientUsed() throws Exception {
        try (RawClient latin1 = login("st_emoji"); RawClient utf8 = login("st_emoji")) {
            String used = latin1ClientUsesTheConnection(latin1, "SET NAMES latin1");

            assertThat(value(utf8, "SELECT CONNECTION_ID()")).as("the pooled connection changed hands").isEqualTo(used);
            utf8.query("INSERT INTO " + DB + ".texts VALUES (1, 'raw " + POO + "')");
            assertThat(value(utf8, "SELECT v FROM " + DB + ".texts WHERE id = 1")).isEqualTo("raw " + POO);
            assertThat(db.queryValue("SELECT HEX(v) FROM " + DB + ".texts WHERE id = 1"))
                    .isEqualTo("72617720" + POO_UTF8_HEX);

            assertThat(latin1.query("SELECT @@character_set_client, @@character_set_connection,"
                    + " @@character_set_results")).containsExactly(List.of("latin1", "latin1", "latin1"));
        }
    }

    @Test
    void emojiRoundTripWithTheCliOnAConnectionALatin1ClientUsed() {
        var latin1 = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", proxy.port(), "st_emoji_cli", PASSWORD,
                "--default-character-set=utf8mb4", "-N", "-e",
                "BEGIN; SET NAMES latin1; SELECT CONNECTION_ID(); COMMIT"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(latin1.exitCode()).as(latin1.toString()).isZero();

        var utf8 = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", proxy.port(), "st_emoji_cli", PASSWORD,
                "--default-character-set=utf8mb4", "-N", "-e", "SELECT CONNECTION_ID(); INSERT INTO " + DB
                        + ".texts VALUES (2, 'cli " + POO + "'); SELECT v FROM " + DB + ".texts WHERE id = 2"),
                "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(utf8.exitCode()).as(utf8.toString()).isZero();
        assertThat(utf8.stdout().lines().toList()).containsExactly(latin1.stdout().strip(), "cli " + POO);
        assertThat(db.queryValue("SELECT HEX(v) FROM " + DB + ".texts WHERE id = 2"))
                .isEqualTo("636C6920" + POO_UTF8_HEX);
    }

    @Test
    void settingOnlyTheResultsCharsetLeavesTheClientCharsetAsNegotiated() throws Exception {
        try (RawClient a = login("st_client"); RawClient b = login("st_client")) {
            String used = latin1ClientUsesTheConnection(a, "SET character_set_client = latin1");

            b.query("SET character_set_results = latin1");
            assertThat(b.query("SELECT CONNECTION_ID(), @@character_set_client, @@character_set_connection,"
                    + " @@collation_connection, @@character_set_results"))
                    .containsExactly(List.of(used, "utf8mb4", "utf8mb4", "utf8mb4_general_ci", "latin1"));
            assertThat(a.query("SELECT CONNECTION_ID(), @@character_set_client, @@character_set_connection,"
                    + " @@character_set_results"))
                    .containsExactly(List.of(used, "latin1", "utf8mb4", "utf8mb4"));
        }
    }

    /** The status flags of the OK, or of the EOF that ends a result set. */
    private static int statusAfter(RawClient client, String sql) throws IOException {
        client.command(RawClient.COM_QUERY, sql);
        RawClient.Packet first = client.read();
        assertThat(first.isErr()).as("%s: %s", sql, first.isErr() ? first.errorMessage() : "").isFalse();
        if (first.isOk()) {
            return okStatus(first);
        }
        int columns = first.payload()[0] & 0xFF;
        for (int i = 0; i < columns + 1; i++) {
            client.read(); // column definitions and their EOF
        }
        while (true) {
            RawClient.Packet row = client.read();
            if (row.first() == 0xFE && row.payload().length < 9) {
                return (row.payload()[3] & 0xFF) | (row.payload()[4] & 0xFF) << 8;
            }
        }
    }

    private static int okStatus(RawClient.Packet ok) {
        byte[] p = ok.payload();
        int pos = 1;
        for (int i = 0; i < 2; i++) { // affected rows, last insert id: one-byte length-encoded here
            assertThat(p[pos] & 0xFF).isLessThan(0xFB);
            pos++;
        }
        return (p[pos] & 0xFF) | (p[pos + 1] & 0xFF) << 8;
    }

    private static int pingStatus(RawClient client) throws IOException {
        client.write(0, new byte[] {COM_PING});
        RawClient.Packet ok = client.read();
        assertThat(ok.isOk()).isTrue();
        return okStatus(ok);
    }

    @Test
    void noBackslashEscapesIsReportedInTheStatusFlags() throws Exception {
        try (RawClient a = login("st_flags"); RawClient b = login("st_flags")) {
            assertThat(statusAfter(a, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'") & SERVER_STATUS_NO_BACKSLASH_ESCAPES)
                    .as("OK of the SET answered by the proxy").isNotZero();
            assertThat(pingStatus(a) & SERVER_STATUS_NO_BACKSLASH_ESCAPES).as("OK of a PING").isNotZero();
            assertThat(statusAfter(a, "SELECT 1") & SERVER_STATUS_NO_BACKSLASH_ESCAPES).as("relayed EOF").isNotZero();
            assertThat(value(a, "SELECT 'a\\b'")).isEqualTo("a\\b");

            // The other client, on the same pooled connection, keeps the server's sql_mode.
            assertThat(statusAfter(b, "SELECT 1") & SERVER_STATUS_NO_BACKSLASH_ESCAPES).isZero();
            assertThat(pingStatus(b) & SERVER_STATUS_NO_BACKSLASH_ESCAPES).isZero();
            assertThat(value(b, "SELECT 'a\\\\b'")).isEqualTo("a\\b");

            assertThat(statusAfter(a, "SET sql_mode = DEFAULT") & SERVER_STATUS_NO_BACKSLASH_ESCAPES).isZero();
            assertThat(statusAfter(a, "SELECT 1") & SERVER_STATUS_NO_BACKSLASH_ESCAPES).isZero();
        }
    }

    /**
     * MariaDB Connector/J escapes the strings of client-side prepared statements as the server's status flags
     * say. (MySQL Connector/J reads sql_mode once at connect, so it gets this wrong directly against the server.)
     * Without jdbcCompliantTruncation=false the driver's own {@code SET sql_mode=CONCAT(…)} at connect would pin
     * each session to a backend connection, whose OKs the proxy relays, flags and all. (The driver asks for
     * CLIENT_SESSION_TRACK, so its SETs run on a backend; the flags of OKs the proxy answers itself are
     * {@link #noBackslashEscapesIsReportedInTheStatusFlags}.)
     */
    @Test
    void driverEscapesForTheSessionsSqlMode() throws Exception {
        String text = "back\\slash 'quote'";
        try (Connection noEscapes = JdbcDriver.MARIADB.connect(proxy.port(), DB, "st_escape", PASSWORD, UNPINNED);
             Connection normal = JdbcDriver.MARIADB.connect(proxy.port(), DB, "st_escape", PASSWORD, UNPINNED)) {
            try (Statement st = noEscapes.createStatement()) {
                st.execute("SET sql_mode = 'NO_BACKSLASH_ESCAPES'");
            }
            insert(noEscapes, 11, text);
            insert(normal, 12, text);
            insert(noEscapes, 13, text);
        }
        for (int id = 11; id <= 13; id++) {
            assertThat(db.queryValue("SELECT v FROM " + DB + ".texts WHERE id = " + id)).as("row %d", id)
                    .isEqualTo(text);
        }
    }

    /** A client-side prepared statement: the driver escapes the string into the query text itself. */
    private static void insert(Connection c, int id, String text) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO texts VALUES (?, ?)")) {
            ps.setInt(1, id);
            ps.setString(2, text);
            ps.executeUpdate();
        }
    }

    /**
     * Two clients set different things in every form the parser knows, interleaved on one pooled connection; each
     * must see exactly what the same statements give on a connection of its own, straight to the server.
     */
    @Test
    void everyTrackedVariableFollowsItsClient() throws Exception {
        List<String> forA = List.of(
                "SET SESSION time_zone = '+05:00', @@session.sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES',"
                        + " LOCAL group_concat_max_len = 4096",
                "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                "SET NAMES latin1 COLLATE latin1_bin",
                "SET @@character_set_results = utf8mb4",
                "SET lc_time_names = \"de_DE\", @@SESSION.time_zone = '+01:00'",
                "SET @@local.group_concat_max_len := 2048");
        List<String> forB = List.of(
                "USE " + DB,
                "SET CHARACTER SET latin1",
                "USE " + LATIN1_DB,
                "SET time_zone = '-03:00', sql_mode = 'TRADITIONAL'",
                "SET sql_mode = DEFAULT, tx_isolation = 'READ-COMMITTED'",
                "SET collation_connection = latin1_german1_ci, character_set_connection = utf8mb4");
        try (RawClient a = login("st_matrix"); RawClient b = login("st_matrix");
             RawClient directA = RawClient.login(db.port(), "st_matrix", PASSWORD);
             RawClient directB = RawClient.login(db.port(), "st_matrix", PASSWORD)) {
            String shared = value(a, "SELECT CONNECTION_ID()");
            for (int i = 0; i < Math.max(forA.size(), forB.size()); i++) {
                if (i < forA.size()) {
                    runOnBoth(forA.get(i), a, directA);
                }
                if (i < forB.size()) {
                    runOnBoth(forB.get(i), b, directB);
                }
                assertThat(a.query(VARIABLES)).as("A after step %d", i).isEqualTo(directA.query(VARIABLES));
                assertThat(b.query(VARIABLES)).as("B after step %d", i).isEqualTo(directB.query(VARIABLES));
                assertThat(value(b, "SELECT CONNECTION_ID()")).isEqualTo(shared);
            }
        }
    }

    /**
     * The proxy answers a tracked SET itself, so a value the server refuses shows at the next query; after that,
     * the session must be as the server leaves it after refusing the SET, not stuck with the bad value.
     */
    @Test
    void aValueTheServerRefusesLeavesTheSessionAsItWas() throws Exception {
        try (RawClient proxied = login("st_refused");
             RawClient direct = RawClient.login(db.port(), "st_refused", PASSWORD)) {
            runOnBoth("SET time_zone = '+02:00'", proxied, direct);
            runOnBoth("SELECT 1", proxied, direct);
            String invalid = "SET time_zone = 'No/Such_Zone'";
            Integer refused = errorOf(direct, invalid);
            assertThat(refused).isNotNull();
            Integer proxiedError = errorOf(proxied, invalid);
            if (proxiedError == null) {
                proxiedError = errorOf(proxied, "SELECT 1");
            }
            assertThat(proxiedError).isEqualTo(refused);
            assertThat(proxied.query("SELECT @@time_zone")).isEqualTo(direct.query("SELECT @@time_zone"))
                    .containsExactly(List.of("+02:00"));
        }
    }

    /** Logs in asking for CLIENT_SESSION_TRACK. */
    private static RawClient trackingLogin(int port) throws IOException {
        RawClient client = RawClient.connect(port);
        client.write(1, client.handshakeResponse(RawClient.BASIC_CAPABILITIES | CLIENT_SESSION_TRACK, "st_track",
                PASSWORD, null));
        assertThat(client.read().isOk()).isTrue();
        return client;
    }

    private static RawClient.Packet okOf(RawClient client, String sql) throws IOException {
        client.command(RawClient.COM_QUERY, sql);
        RawClient.Packet ok = client.read();
        assertThat(ok.isOk()).as("%s: %s", sql, ok.isErr() ? ok.errorMessage() : "").isTrue();
        return ok;
    }

    /**
     * A client with CLIENT_SESSION_TRACK gets the OK the server sends, state changes included, for the SETs it
     * runs; the SETs that align a pooled connection for the next client are never reported to that client.
     */
    @Test
    @org.junit.jupiter.api.Disabled("CLIENT_SESSION_TRACK is implemented but not offered yet: MariaDB Connector/J"
            + " answers it with a SET ... CONCAT(...) the proxy cannot track (ClientSession.OFFERED_CAPABILITIES)")
    void clientsThatTrackSessionStateSeeTheChangesTheyMakeAndNoOthers() throws Exception {
        String set = "SET time_zone = '+05:00', character_set_results = latin1";
        try (RawClient a = trackingLogin(proxy.port()); RawClient b = trackingLogin(proxy.port());
             RawClient direct = trackingLogin(db.port())) {
            RawClient.Packet proxied = okOf(a, set);
            RawClient.Packet expected = okOf(direct, set);
            assertThat(okStatus(expected) & SERVER_SESSION_STATE_CHANGED).isNotZero();
            assertThat(proxied.payload()).isEqualTo(expected.payload());
            String used = value(a, "SELECT CONNECTION_ID()");

            assertThat(value(b, "SELECT CONNECTION_ID()")).isEqualTo(used);
            assertThat(okStatus(okOf(b, "DO 1")) & SERVER_SESSION_STATE_CHANGED).isZero();
            assertThat(b.query("SELECT @@time_zone, @@character_set_results")).containsExactly(
                    List.of("SYSTEM", "utf8mb4"));
            assertThat(okStatus(okOf(a, "DO 1")) & SERVER_SESSION_STATE_CHANGED).isZero();
            assertThat(a.query("SELECT @@time_zone, @@character_set_results")).containsExactly(
                    List.of("+05:00", "latin1"));
        }
    }

    /** COM_RESET_CONNECTION puts the session back as the server does: to the handshake's character set. */
    @Test
    void resetConnectionRestoresWhatTheServerRestores() throws Exception {
        try (RawClient proxied = login("st_reset"); RawClient other = login("st_reset");
             RawClient direct = RawClient.login(db.port(), "st_reset", PASSWORD)) {
            for (RawClient client : List.of(proxied, direct)) {
                client.query("SET NAMES latin1, time_zone = '+03:00', sql_mode = 'ANSI'");
                client.query("SELECT 1");
                client.command(RawClient.COM_RESET_CONNECTION, "");
                assertThat(client.read().isOk()).isTrue();
            }
            String used = latin1ClientUsesTheConnection(other, "SET character_set_client = cp1251");
            assertThat(value(proxied, "SELECT CONNECTION_ID()")).isEqualTo(used);
            assertThat(proxied.query(VARIABLES)).isEqualTo(direct.query(VARIABLES));
        }
    }

    private static Integer errorOf(RawClient client, String sql) throws IOException {
        try {
            client.query(sql);
            return null;
        } catch (RawClient.ServerError e) {
            return e.code;
        }
    }

    private static void runOnBoth(String sql, RawClient proxied, RawClient direct) throws IOException {
        direct.query(sql);
        proxied.query(sql);
    }
}
