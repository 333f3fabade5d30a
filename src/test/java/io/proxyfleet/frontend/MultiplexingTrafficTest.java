package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two clients interleaving queries while the proxy shares backend connections between them: each must keep seeing
 * its own session (variables, schema, transaction, temporary tables, statements, last insert id), as if it had a
 * connection of its own.
 */
class MultiplexingTrafficTest {
    private static final String USER = "mux_user";
    private static final String PASSWORD = "mux-pw";
    private static final String DB_A = "mux_a";
    private static final String DB_B = "mux_b";
    private static final int ROUNDS = 20;
    private static MariaDb db;
    private static TrafficProxy proxy;

    @BeforeAll
    static void startProxy() throws Exception {
        db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
        for (String schema : List.of(DB_A, DB_B)) {
            db.execute("DROP DATABASE IF EXISTS " + schema, "CREATE DATABASE " + schema,
                    "CREATE TABLE " + schema + ".t (id INT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(10))");
        }
        // One event loop, so both clients draw on one pool and take turns on the same backend connections; with
        // two, each could stay on a pool of its own and never meet the other's state.
        proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())),
                List.of(MysqlUser.of(USER, PASSWORD, 0)), Map.of("server_version", "5.5.30"), 1);
    }

    @AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Connection a() throws SQLException {
        return JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB_A, USER, PASSWORD, "");
    }

    /**
     * The same driver as {@link #a()}: drivers that ask for other capability flags get backend connections of their
     * own (see {@code PoolKey}), and the two clients would never share one.
     */
    private static Connection b() throws SQLException {
        return JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB_B, USER, PASSWORD, "");
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Test
    void sessionVariablesFollowEachClient() throws Exception {
        try (Connection a = a(); Connection b = b()) {
            exec(a, "SET time_zone = '+05:00'");
            exec(b, "SET time_zone = '-03:00'");
            exec(a, "SET SESSION sql_mode = 'ANSI_QUOTES'");
            Set<String> backendsOfA = new HashSet<>();
            Set<String> backendsOfB = new HashSet<>();
            for (int i = 0; i < ROUNDS; i++) {
                assertThat(scalar(a, "SELECT @@time_zone")).isEqualTo("+05:00");
                assertThat(scalar(b, "SELECT @@time_zone")).isEqualTo("-03:00");
                assertThat(scalar(a, "SELECT @@sql_mode")).isEqualTo("ANSI_QUOTES");
                assertThat(scalar(b, "SELECT @@sql_mode")).doesNotContain("ANSI_QUOTES");
                backendsOfA.add(scalar(a, "SELECT CONNECTION_ID()"));
                backendsOfB.add(scalar(b, "SELECT CONNECTION_ID()"));
            }
            // the variables did not pin: the same backend connection served both clients, each with its own values
            assertThat(backendsOfA).as("backend connections of a, shared with b").containsAnyElementsOf(backendsOfB);
        }
    }

    @Test
    void schemaFollowsEachClient() throws Exception {
        try (Connection a = a(); Connection b = b()) {
            for (int i = 0; i < ROUNDS; i++) {
                assertThat(scalar(a, "SELECT DATABASE()")).isEqualTo(DB_A);
                assertThat(scalar(b, "SELECT DATABASE()")).isEqualTo(DB_B);
            }
            exec(a, "USE " + DB_B);
            for (int i = 0; i < ROUNDS; i++) {
                assertThat(scalar(a, "SELECT DATABASE()")).isEqualTo(DB_B);
                assertThat(scalar(b, "SELECT DATABASE()")).isEqualTo(DB_B);
            }
            b.setCatalog(DB_A);
            for (int i = 0; i < ROUNDS; i++) {
                assertThat(scalar(a, "SELECT DATABASE()")).isEqualTo(DB_B);
                assertThat(scalar(b, "SELECT DATABASE()")).isEqualTo(DB_A);
            }
        }
    }

    @Test
    void userVariablesSurviveInterleaving() throws Exception {
        try (Connection a = a(); Connection b = b()) {
            exec(a, "SET @mine = 'from a'");
            for (int i = 0; i < ROUNDS; i++) {
                assertThat(scalar(b, "SELECT IFNULL(@mine, 'unset')")).isEqualTo("unset");
                assertThat(scalar(a, "SELECT @mine")).isEqualTo("from a");
            }
        }
    }

    @Test
    void transactionStaysOnOneBackendUntilItEnds() throws Exception {
        try (Connection a = a(); Connection b = b()) {
            exec(a, "DELETE FROM t WHERE owner = 'tx'");
            a.setAutoCommit(false);
            exec(a, "INSERT INTO t (owner) VALUES ('tx')");
            for (int i = 0; i < ROUNDS; i++) {
                assertThat(scalar(a, "SELECT COUNT(*) FROM " + DB_A + ".t WHERE owner = 'tx'")).isEqualTo("1");
                assertThat(scalar(b, "SELECT COUNT(*) FROM " + DB_A + ".t WHERE owner = 'tx'")).isEqualTo("0");
            }
            a.rollback();
            a.setAutoCommit(true);
            assertThat(scalar(a, "SELECT COUNT(*) FROM " + DB_A + ".t WHERE owner = 'tx'")).isEqualTo("0");
        }
    }

    @Test
    void explicitBeginAndCommitWithTheDriverInAutocommit() throws Exception {
        try (Connection a = a(); Connection b = b()) {
            exec(a, "DELETE FROM t WHERE owner = 'begin'");
            exec(a, "BEGIN");
            exec(a, "INSERT INTO t (owner) VALUES ('begin')");
            assertThat(scalar(b, "SELECT COUNT(*) FROM " + DB_A + ".t WHERE owner = 'begin'")).isEqualTo("0");
            assertThat(scalar(a, "SELECT COUNT(*) FROM t WHERE owner = 'begin'")).isEqualTo("1");
            exec(a, "COMMIT");
            assertThat(scalar(b, "SELECT COUNT(*) FROM " + DB_A + ".t WHERE owner = 'begin'")).isEqualTo("1");
        }
    }

    @Test
    void temporaryTablesSurviveInterleaving() throws Exception {
        try (Connection a = a(); Connection b = b()) {
            exec(a, "CREATE TEMPORARY TABLE scratch (v INT)");
            exec(a, "INSERT INTO scratch VALUES (1), (2), (3)");
            for (int i = 0; i < ROUNDS; i++) {
                assertThat(scalar(b, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'scratch'"))
                        .isEqualTo("0");
                assertThat(scalar(a, "SELECT SUM(v) FROM scratch")).isEqualTo("6");
            }
        }
    }

    @Test
    void lastInsertIdBelongsToTheClientThatInserted() throws Exception {
        try (Connection a = a(); Connection b = b()) {
            for (int i = 0; i < ROUNDS; i++) {
                long idA;
                try (Statement st = a.createStatement()) {
                    st.executeUpdate("INSERT INTO t (owner) VALUES ('a')", Statement.RETURN_GENERATED_KEYS);
                    try (ResultSet keys = st.getGeneratedKeys()) {
                        keys.next();
                        idA = keys.getLong(1);
                    }
                }
                exec(b, "INSERT INTO " + DB_A + ".t (owner) VALUES ('b')");
                assertThat(scalar(a, "SELECT LAST_INSERT_ID()")).isEqualTo(String.valueOf(idA));
                assertThat(scalar(a, "SELECT owner FROM t WHERE id = " + idA)).isEqualTo("a");
            }
        }
    }

    @Test
    void preparedStatementsSurviveInterleaving() throws Exception {
        try (Connection a = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB_A, USER, PASSWORD, "useServerPrepStmts=true");
             Connection b = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB_B, USER, PASSWORD, "useServerPrepStmts=true");
             PreparedStatement psA = a.prepareStatement("SELECT ? * 2, DATABASE()");
             PreparedStatement psB = b.prepareStatement("SELECT ? * 3, DATABASE()")) {
            for (int i = 0; i < ROUNDS; i++) {
                psA.setInt(1, i);
                try (ResultSet rs = psA.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(2 * i);
                    assertThat(rs.getString(2)).isEqualTo(DB_A);
                }
                psB.setInt(1, i);
                try (ResultSet rs = psB.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(3 * i);
                    assertThat(rs.getString(2)).isEqualTo(DB_B);
                }
            }
        }
    }

    @Test
    void manyShortClientsShareFewBackendConnections() throws Exception {
        Set<String> backendIds = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            try (Connection c = a()) {
                backendIds.add(scalar(c, "SELECT CONNECTION_ID()"));
            }
        }
        // Pooled connections are reused rather than one opened per client.
        assertThat(backendIds.size()).isLessThan(10);
    }

    @Test
    void pinnedSessionsDoNotLeakBackendConnections() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Connection c = a()) {
                exec(c, "SET @pin = " + i);
                assertThat(scalar(c, "SELECT @pin")).isEqualTo(String.valueOf(i));
            }
        }
        try (Connection c = a()) {
            assertThat(scalar(c, "SELECT IFNULL(@pin, 'clean')")).isEqualTo("clean");
        }
        // A backend whose state a client changed is reset or closed, never left open and forgotten.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Integer.parseInt(db.queryValue("SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                        + " WHERE USER = '" + USER + "'"))).isLessThanOrEqualTo(6));
    }
}
