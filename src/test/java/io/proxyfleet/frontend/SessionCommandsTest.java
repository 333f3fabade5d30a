package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.mysql.cj.NativeSession;
import com.mysql.cj.jdbc.JdbcConnection;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Commands that change a session as a whole: LOAD DATA LOCAL INFILE, COM_CHANGE_USER, COM_RESET_CONNECTION. */
class SessionCommandsTest {
    private static final String USER = "sess_user";
    private static final String PASSWORD = "sess-pw";
    private static final String OTHER_USER = "sess_other";
    private static final String OTHER_PASSWORD = "other-pw";
    private static final String DB = "sess_db";
    private static final int INFILE_ROWS = 200_000;
    private static MariaDb db;
    private static TrafficProxy proxy;
    @TempDir
    static Path files;
    private static Path csv;
    private static long csvIdSum;

    @BeforeAll
    static void startProxy() throws Exception {
        db = MariaDb.shared();
        for (String user : List.of(USER, OTHER_USER)) {
            db.execute("DROP USER IF EXISTS " + user);
        }
        db.createUser(USER, PASSWORD);
        db.createUser(OTHER_USER, OTHER_PASSWORD);
        db.execute("DROP DATABASE IF EXISTS " + DB, "CREATE DATABASE " + DB);
        if (!"1".equals(db.queryValue("SELECT @@global.local_infile"))) {
            db.execute("SET GLOBAL local_infile = ON");
        }
        csv = files.resolve("rows.csv");
        try (BufferedWriter out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            for (int i = 1; i <= INFILE_ROWS; i++) {
                out.write(i + ",label " + i + " ✓\n");
                csvIdSum += i;
            }
        }
        proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())),
                List.of(MysqlUser.of(USER, PASSWORD, 0), MysqlUser.of(OTHER_USER, OTHER_PASSWORD, 0)),
                Map.of("server_version", "5.5.30"));
    }

    @AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static String freshTable(String name) {
        db.execute("DROP TABLE IF EXISTS " + DB + "." + name,
                "CREATE TABLE " + DB + "." + name + " (id INT PRIMARY KEY, label VARCHAR(40)) CHARSET utf8mb4");
        return name;
    }

    private static String loadDataSql(String table) {
        return "LOAD DATA LOCAL INFILE '" + csv.toAbsolutePath() + "' INTO TABLE " + table
                + " CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' (id, label)";
    }

    private static void assertLoaded(String table) {
        assertThat(db.queryValue("SELECT COUNT(*) FROM " + DB + "." + table)).isEqualTo(String.valueOf(INFILE_ROWS));
        assertThat(db.queryValue("SELECT SUM(id) FROM " + DB + "." + table)).isEqualTo(String.valueOf(csvIdSum));
        assertThat(db.queryValue("SELECT label FROM " + DB + "." + table + " WHERE id = 4321"))
                .isEqualTo("label 4321 ✓");
    }

    private static Object scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getObject(1);
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void loadDataLocalInfile(JdbcDriver driver) throws Exception {
        String table = freshTable("infile_" + driver.name().toLowerCase());
        String options = driver == JdbcDriver.CONNECTOR_J ? "allowLoadLocalInfile=true" : "allowLocalInfile=true";
        try (Connection c = driver.connect(proxy.port(), DB, USER, PASSWORD, options); Statement st = c.createStatement()) {
            assertThat(st.executeUpdate(loadDataSql(table))).isEqualTo(INFILE_ROWS);
            // The session goes on normally after the file transfer.
            assertThat(((Number) scalar(c, "SELECT COUNT(*) FROM " + table)).intValue()).isEqualTo(INFILE_ROWS);
        }
        assertLoaded(table);
    }

    @Test
    void loadDataLocalInfileWithTheCli() {
        String table = freshTable("infile_cli");
        var result = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", proxy.port(), USER, PASSWORD, "--local-infile=1",
                "-D", DB, "-N", "-e", loadDataSql(table) + "; SELECT ROW_COUNT()"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertLoaded(table);
    }

    @Test
    void loadDataLocalInfileOfAMissingFileFailsAndTheSessionGoesOn() throws Exception {
        String table = freshTable("infile_missing");
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "allowLoadLocalInfile=true");
             Statement st = c.createStatement()) {
            String sql = "LOAD DATA LOCAL INFILE '" + files.resolve("no-such.csv").toAbsolutePath() + "' INTO TABLE "
                    + table + " FIELDS TERMINATED BY ','";
            SQLException e = catchThrowableOfType(SQLException.class, () -> st.executeUpdate(sql));
            assertThat((Throwable) e).isNotNull();
            assertThat(((Number) scalar(c, "SELECT COUNT(*) FROM " + table)).intValue()).isZero();
            assertThat(scalar(c, "SELECT 'alive'")).isEqualTo("alive");
        }
    }

    @Test
    void changeUserSwitchesTheIdentityAndClearsSessionState() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "")) {
            JdbcConnection jc = c.unwrap(JdbcConnection.class);
            try (Statement st = c.createStatement()) {
                st.execute("SET @before_change = 'set'");
            }
            assertThat(scalar(c, "SELECT CURRENT_USER()")).isEqualTo(USER + "@%");
            jc.changeUser(OTHER_USER, OTHER_PASSWORD);
            assertThat(scalar(c, "SELECT CURRENT_USER()")).isEqualTo(OTHER_USER + "@%");
            assertThat(scalar(c, "SELECT @before_change")).isNull();
            jc.changeUser(USER, PASSWORD);
            assertThat(scalar(c, "SELECT CURRENT_USER()")).isEqualTo(USER + "@%");
        }
    }

    @Test
    void changeUserWithAWrongPasswordIsRefusedWith1045() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "")) {
            JdbcConnection jc = c.unwrap(JdbcConnection.class);
            SQLException e = catchThrowableOfType(SQLException.class, () -> jc.changeUser(OTHER_USER, "wrong"));
            assertThat((Throwable) e).isNotNull();
            assertThat(e.getErrorCode()).isEqualTo(1045);
            assertThat(e.getMessage()).startsWith("ProxySQL Error: Access denied for user '" + OTHER_USER + "'");
        }
    }

    @Test
    void resetConnectionClearsUserVariablesAndTemporaryTables() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "")) {
            try (Statement st = c.createStatement()) {
                st.execute("SET @kept = 42");
                st.execute("CREATE TEMPORARY TABLE tmp_reset (x INT)");
            }
            assertThat(((Number) scalar(c, "SELECT @kept")).intValue()).isEqualTo(42);
            // COM_RESET_CONNECTION, as the driver sends it for a pooled connection being recycled.
            ((NativeSession) c.unwrap(JdbcConnection.class).getSession()).resetSessionState();
            assertThat(scalar(c, "SELECT @kept")).isNull();
            assertThat(((Number) scalar(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'tmp_reset'"
                    + " AND TABLE_SCHEMA = '" + DB + "'")).intValue()).isZero();
            assertThat(scalar(c, "SELECT DATABASE()")).isEqualTo(DB);
        }
    }

    @Test
    void connectorJResetServerStateClearsUserVariables() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "")) {
            try (Statement st = c.createStatement()) {
                st.execute("SET @kept = 7");
            }
            c.unwrap(JdbcConnection.class).resetServerState();
            assertThat(scalar(c, "SELECT @kept")).isNull();
            assertThat(scalar(c, "SELECT CURRENT_USER()")).isEqualTo(USER + "@%");
        }
    }
    // ---- KILL on the traffic port: ids are the proxy's session ids (the handshake's connection id) ----------

    private static long proxySessionId(Connection c) throws SQLException {
        return c.unwrap(JdbcConnection.class).getId();
    }

    private static java.util.concurrent.CompletableFuture<Object> sleepInBackground(Connection c, String sql) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return scalar(c, sql);
            } catch (SQLException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    private static void awaitRunning(String sql) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !"0".equals(
                db.queryValue("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = '" + sql + "'")));
    }

    @Test
    void killQueryInterruptsTheQueryAndKeepsTheSession() throws Exception {
        String sql = "SELECT SLEEP(20) AS kill_query_target";
        try (Connection victim = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "");
             Connection killer = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "")) {
            var sleeping = sleepInBackground(victim, sql);
            awaitRunning(sql);
            long start = System.nanoTime();
            try (Statement st = killer.createStatement()) {
                st.execute("KILL QUERY " + proxySessionId(victim));
            }
            // MariaDB answers the interrupted query with 1317 (MySQL makes SLEEP() return 1 instead).
            java.util.concurrent.ExecutionException interrupted = catchThrowableOfType(
                    java.util.concurrent.ExecutionException.class,
                    () -> sleeping.get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertThat((Throwable) interrupted).isNotNull();
            assertThat(interrupted.getCause()).isInstanceOf(SQLException.class);
            assertThat(((SQLException) interrupted.getCause()).getErrorCode()).isEqualTo(1317);
            assertThat(java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(10);
            assertThat(scalar(victim, "SELECT 'session kept'")).isEqualTo("session kept");
        }
    }

    @Test
    void connectorJQueryTimeoutCancelsTheQueryAndKeepsTheConnection() throws Exception {
        // The driver enforces setQueryTimeout by sending KILL QUERY <its connection id> on a second connection.
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "");
             Statement st = c.createStatement()) {
            st.setQueryTimeout(1);
            long start = System.nanoTime();
            SQLException e = catchThrowableOfType(SQLException.class, () -> st.executeQuery("SELECT SLEEP(20)").close());
            assertThat((Throwable) e).isInstanceOf(java.sql.SQLTimeoutException.class);
            assertThat(java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(10);
            st.setQueryTimeout(0);
            assertThat(scalar(c, "SELECT 'after timeout'")).isEqualTo("after timeout");
        }
    }

    @Test
    void killConnectionEndsTheVictimsSession() throws Exception {
        try (Connection victim = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "");
             Connection killer = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "")) {
            assertThat(scalar(victim, "SELECT 1").toString()).isEqualTo("1");
            try (Statement st = killer.createStatement()) {
                st.execute("KILL CONNECTION " + proxySessionId(victim));
            }
            SQLException e = catchThrowableOfType(SQLException.class, () -> scalar(victim, "SELECT 2"));
            assertThat((Throwable) e).isNotNull();
            // the connection is gone (class 08), not a statement refused on a session that lives on
            assertThat(e.getSQLState()).as(String.valueOf(e)).startsWith("08");
            assertThat(victim.isValid(1)).isFalse();
            assertThat(scalar(killer, "SELECT 'killer fine'")).isEqualTo("killer fine");
        }
    }

    @Test
    void killOfAnUnknownSessionIdIsRefused() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), DB, USER, PASSWORD, "");
             Statement st = c.createStatement()) {
            SQLException e = catchThrowableOfType(SQLException.class, () -> st.execute("KILL 987654321"));
            assertThat((Throwable) e).isNotNull();
            assertThat(e.getErrorCode()).isEqualTo(1094);
            assertThat(e.getMessage()).contains("Unknown thread id: 987654321");
            assertThat(scalar(c, "SELECT 'alive'")).isEqualTo("alive");
        }
    }
}
