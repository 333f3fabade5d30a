package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What an application using MySQL Connector/J or MariaDB Connector/J sees through the proxy: text and binary
 * protocol results, server-side prepared statements, cursors, batches, transactions, large values and large
 * results.
 */
class JdbcTrafficTest {
    private static final String USER = "jdbc_user";
    private static final String PASSWORD = "jdbc-pw";
    private static final String DB = "jdbc_db";
    private static final int BLOB_BYTES = 20 * 1024 * 1024;
    private static final long MAX_ALLOWED_PACKET = 64L * 1024 * 1024;
    private static final int STREAMED_ROWS = 1_000_000;
    private static MariaDb db;
    private static TrafficProxy proxy;

    @BeforeAll
    static void startProxy() throws Exception {
        db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
        db.execute("DROP DATABASE IF EXISTS " + DB, "CREATE DATABASE " + DB,
                "CREATE TABLE " + DB + ".numbers (n INT PRIMARY KEY, label VARCHAR(20) NOT NULL)");
        StringBuilder insert = new StringBuilder("INSERT INTO " + DB + ".numbers VALUES ");
        for (int i = 1; i <= 1000; i++) {
            insert.append(i == 1 ? "" : ",").append("(").append(i).append(",'n").append(i).append("')");
        }
        db.execute(insert.toString());
        // A 20 MiB value needs more than MariaDB's 16 MiB default; only new backend connections see the change.
        if (Long.parseLong(db.queryValue("SELECT @@global.max_allowed_packet")) < MAX_ALLOWED_PACKET) {
            db.execute("SET GLOBAL max_allowed_packet = " + MAX_ALLOWED_PACKET);
        }
        proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())),
                List.of(MysqlUser.of(USER, PASSWORD, 0)), Map.of("server_version", "5.5.30"));
    }

    @AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Connection connect(JdbcDriver driver, String options) throws SQLException {
        return driver.connect(proxy.port(), DB, USER, PASSWORD, options);
    }

    /** A fresh table named after the test and driver, so that runs with both drivers never see each other. */
    private static String table(Connection c, String name, String columns) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + name);
            st.execute("CREATE TABLE " + name + " (" + columns + ")");
        }
        return name;
    }

    private static long sessionStatus(Connection c, String name) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW SESSION STATUS LIKE '" + name + "'")) {
            assertThat(rs.next()).as(name).isTrue();
            return rs.getLong(2);
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void textProtocolReturnsTypedValues(JdbcDriver driver) throws Exception {
        try (Connection c = connect(driver, ""); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 42, 'héllo wörld ✓', NULL, CAST(12.50 AS DECIMAL(5,2)), "
                     + "TIMESTAMP '2024-02-29 13:14:15', -9223372036854775808, 1.5e300")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(42);
            assertThat(rs.getString(2)).isEqualTo("héllo wörld ✓");
            assertThat(rs.getString(3)).isNull();
            assertThat(rs.wasNull()).isTrue();
            assertThat(rs.getBigDecimal(4)).isEqualTo(new BigDecimal("12.50"));
            assertThat(rs.getObject(5, LocalDateTime.class)).isEqualTo(LocalDateTime.of(2024, 2, 29, 13, 14, 15));
            assertThat(rs.getLong(6)).isEqualTo(Long.MIN_VALUE);
            assertThat(rs.getDouble(7)).isEqualTo(1.5e300);
            assertThat(rs.next()).isFalse();
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void textProtocolResultWithManyRowsAndUpdateCounts(JdbcDriver driver) throws Exception {
        try (Connection c = connect(driver, ""); Statement st = c.createStatement()) {
            String t = table(c, "text_" + driver.name().toLowerCase(), "id INT AUTO_INCREMENT PRIMARY KEY, v INT");
            assertThat(st.executeUpdate("INSERT INTO " + t + " (v) SELECT n FROM numbers WHERE n <= 300")).isEqualTo(300);
            assertThat(st.executeUpdate("UPDATE " + t + " SET v = v * 2 WHERE v > 100")).isEqualTo(200);
            assertThat(st.executeUpdate("INSERT INTO " + t + " (v) VALUES (7)", Statement.RETURN_GENERATED_KEYS))
                    .isEqualTo(1);
            try (ResultSet keys = st.getGeneratedKeys()) {
                assertThat(keys.next()).isTrue();
                assertThat(keys.getLong(1)).isEqualTo(
                        Long.parseLong(db.queryValue("SELECT MAX(id) FROM " + DB + "." + t)));
            }
            long sum = 0;
            int rows = 0;
            try (ResultSet rs = st.executeQuery("SELECT v FROM " + t + " ORDER BY id")) {
                while (rs.next()) {
                    sum += rs.getLong(1);
                    rows++;
                }
            }
            assertThat(rows).isEqualTo(301);
            assertThat(sum).isEqualTo(5050 + 2L * (45150 - 5050) + 7);
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void serverSidePreparedStatementsWithParameters(JdbcDriver driver) throws Exception {
        try (Connection c = connect(driver, "useServerPrepStmts=true")) {
            String t = table(c, "ps_" + driver.name().toLowerCase(),
                    "id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(10,2), at DATETIME, note TEXT");
            long executesBefore = sessionStatus(c, "Com_stmt_execute");
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 5; i++) {
                    insert.setInt(1, i);
                    insert.setString(2, "name ✓ " + i);
                    insert.setBigDecimal(3, new BigDecimal(i + ".25"));
                    insert.setObject(4, LocalDateTime.of(2025, 1, i, 10, 0, 0));
                    if (i == 3) {
                        insert.setNull(5, java.sql.Types.VARCHAR);
                    } else {
                        insert.setString(5, "note " + i);
                    }
                    assertThat(insert.executeUpdate()).isEqualTo(1);
                }
            }
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT name, amount, at, note, ? + 1 FROM " + t + " WHERE id = ?")) {
                for (int i = 1; i <= 5; i++) {
                    select.setLong(1, 1000L * i);
                    select.setInt(2, i);
                    try (ResultSet rs = select.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("name ✓ " + i);
                        assertThat(rs.getBigDecimal(2)).isEqualTo(new BigDecimal(i + ".25"));
                        assertThat(rs.getObject(3, LocalDateTime.class)).isEqualTo(LocalDateTime.of(2025, 1, i, 10, 0));
                        assertThat(rs.getString(4)).isEqualTo(i == 3 ? null : "note " + i);
                        assertThat(rs.getLong(5)).isEqualTo(1000L * i + 1);
                        assertThat(rs.next()).isFalse();
                    }
                }
            }
            // The backend executed them as prepared statements, not as text the driver interpolated.
            assertThat(sessionStatus(c, "Com_stmt_execute") - executesBefore).isGreaterThanOrEqualTo(10);
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void preparedStatementErrorIsReportedAndTheConnectionGoesOn(JdbcDriver driver) throws Exception {
        try (Connection c = connect(driver, "useServerPrepStmts=true")) {
            SQLException missing = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT * FROM no_such_table WHERE id = ?")) {
                    ps.setInt(1, 1);
                    ps.executeQuery().close();
                }
            });
            assertThat(missing.getErrorCode()).isEqualTo(1146);
            try (PreparedStatement ps = c.prepareStatement("SELECT label FROM numbers WHERE n = ?")) {
                ps.setInt(1, 77);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("n77");
                }
            }
        }
    }

    @Test
    void connectorJCursorFetchReadsEveryRow() throws Exception {
        try (Connection c = connect(JdbcDriver.CONNECTOR_J, "useCursorFetch=true&defaultFetchSize=100")) {
            long fetchesBefore = sessionStatus(c, "Com_stmt_fetch");
            try (PreparedStatement ps = c.prepareStatement("SELECT n, label FROM numbers WHERE n >= ? ORDER BY n")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    int expected = 1;
                    while (rs.next()) {
                        assertThat(rs.getInt(1)).isEqualTo(expected);
                        assertThat(rs.getString(2)).isEqualTo("n" + expected);
                        expected++;
                    }
                    assertThat(expected - 1).isEqualTo(1000);
                }
            }
            // 1000 rows at 100 per fetch: the rows really came through COM_STMT_FETCH.
            assertThat(sessionStatus(c, "Com_stmt_fetch") - fetchesBefore).isGreaterThanOrEqualTo(10);
            // And the connection is usable after the cursor is done.
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM numbers")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1000);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void batchInsertWithoutRewriting(JdbcDriver driver) throws Exception {
        String options = driver == JdbcDriver.CONNECTOR_J ? "rewriteBatchedStatements=false"
                : "rewriteBatchedStatements=false&useBulkStmts=false";
        try (Connection c = connect(driver, options)) {
            String t = table(c, "batch_" + driver.name().toLowerCase(), "id INT PRIMARY KEY, v VARCHAR(10)");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?)")) {
                for (int i = 0; i < 100; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "v" + i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                assertThat(counts).hasSize(100);
                assertThat(Arrays.stream(counts)).allMatch(n -> n == 1 || n == Statement.SUCCESS_NO_INFO);
            }
            c.commit();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT COUNT(*), SUM(id) FROM " + t)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(100);
                assertThat(rs.getInt(2)).isEqualTo(4950);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void rolledBackTransactionLeavesNoRow(JdbcDriver driver) throws Exception {
        try (Connection c = connect(driver, "")) {
            String t = table(c, "tx_" + driver.name().toLowerCase(), "id INT PRIMARY KEY") ;
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO " + t + " VALUES (1)");
                try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + t)) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("own uncommitted row visible").isEqualTo(1);
                }
                try (Connection other = connect(driver, ""); Statement os = other.createStatement();
                     ResultSet rs = os.executeQuery("SELECT COUNT(*) FROM " + t)) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("other session does not see it").isZero();
                }
                c.rollback();
                try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + t)) {
                    rs.next();
                    assertThat(rs.getInt(1)).isZero();
                }
                st.executeUpdate("INSERT INTO " + t + " VALUES (2)");
                c.commit();
            }
            c.setAutoCommit(true);
            assertThat(db.queryValue("SELECT GROUP_CONCAT(id) FROM " + DB + "." + t)).isEqualTo("2");
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void twentyMebibyteBlobRoundTrip(JdbcDriver driver) throws Exception {
        byte[] blob = new byte[BLOB_BYTES];
        new Random(driver.ordinal()).nextBytes(blob);
        try (Connection c = connect(driver, "")) {
            String t = table(c, "blob_" + driver.name().toLowerCase(), "id INT PRIMARY KEY, data LONGBLOB");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (1, ?)")) {
                ps.setBytes(1, blob);
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT LENGTH(data), data FROM " + t + " WHERE id = 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(BLOB_BYTES);
                byte[] back = rs.getBytes(2);
                assertThat(Arrays.equals(back, blob)).as("20 MiB read back identical").isTrue();
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT data FROM " + t + " WHERE id = ?")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(Arrays.equals(rs.getBytes(1), blob)).as("via a prepared statement").isTrue();
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("DROP TABLE " + t);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void streamingAMillionRows(JdbcDriver driver) throws Exception {
        try (Connection c = connect(driver, "");
             Statement st = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            // Connector/J streams row by row with MIN_VALUE; MariaDB Connector/J streams with any positive size.
            st.setFetchSize(driver == JdbcDriver.CONNECTOR_J ? Integer.MIN_VALUE : 1000);
            long sum = 0;
            long rows = 0;
            try (ResultSet rs = st.executeQuery("SELECT seq FROM seq_1_to_" + STREAMED_ROWS)) {
                while (rs.next()) {
                    sum += rs.getLong(1);
                    rows++;
                }
            }
            assertThat(rows).isEqualTo(STREAMED_ROWS);
            assertThat(sum).isEqualTo((long) STREAMED_ROWS * (STREAMED_ROWS + 1) / 2);
            try (ResultSet rs = st.executeQuery("SELECT 'after'")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("after");
            }
        }
    }
    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void multiStatementQueryReturnsEveryResult(JdbcDriver driver) throws Exception {
        try (Connection c = connect(driver, "allowMultiQueries=true"); Statement st = c.createStatement()) {
            String t = table(c, "multi_" + driver.name().toLowerCase(), "id INT PRIMARY KEY");
            assertThat(st.execute("SELECT 'first'; INSERT INTO " + t + " VALUES (1), (2); SELECT COUNT(*) FROM " + t
                    + "; SELECT 'last'")).isTrue();
            try (ResultSet rs = st.getResultSet()) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("first");
            }
            assertThat(st.getMoreResults()).isFalse();
            assertThat(st.getUpdateCount()).isEqualTo(2);
            assertThat(st.getMoreResults()).isTrue();
            try (ResultSet rs = st.getResultSet()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
            assertThat(st.getMoreResults()).isTrue();
            try (ResultSet rs = st.getResultSet()) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("last");
            }
            assertThat(st.getMoreResults()).isFalse();
            assertThat(st.getUpdateCount()).isEqualTo(-1);
            try (ResultSet rs = st.executeQuery("SELECT 'next command'")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("next command");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void storedProcedureWithTwoResultSets(JdbcDriver driver) throws Exception {
        String procedure = "two_results_" + driver.name().toLowerCase();
        db.execute("DROP PROCEDURE IF EXISTS " + DB + "." + procedure,
                "CREATE PROCEDURE " + DB + "." + procedure + "(IN k INT) BEGIN "
                        + "SELECT n FROM " + DB + ".numbers WHERE n <= k ORDER BY n; "
                        + "SELECT k * 2 AS doubled; END");
        try (Connection c = connect(driver, "useServerPrepStmts=true");
             java.sql.CallableStatement call = c.prepareCall("{CALL " + procedure + "(?)}")) {
            call.setInt(1, 3);
            assertThat(call.execute()).isTrue();
            try (ResultSet rs = call.getResultSet()) {
                List<Integer> values = new java.util.ArrayList<>();
                while (rs.next()) {
                    values.add(rs.getInt(1));
                }
                assertThat(values).containsExactly(1, 2, 3);
            }
            assertThat(call.getMoreResults()).isTrue();
            try (ResultSet rs = call.getResultSet()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(6);
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 'after call'")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("after call");
            }
        }
    }

    @Test
    void connectorJSendsLongDataForStreamsOfServerPreparedStatements() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024];
        new Random(11).nextBytes(data);
        try (Connection c = connect(JdbcDriver.CONNECTOR_J, "useServerPrepStmts=true")) {
            String t = table(c, "longdata", "id INT PRIMARY KEY, data LONGBLOB");
            // A stream parameter of a server-side statement travels as COM_STMT_SEND_LONG_DATA chunks.
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?)")) {
                ps.setInt(1, 1);
                ps.setBinaryStream(2, new java.io.ByteArrayInputStream(data), data.length);
                assertThat(ps.executeUpdate()).isEqualTo(1);
                ps.setInt(1, 2);
                ps.setBinaryStream(2, new java.io.ByteArrayInputStream(data, 0, 1000), 1000);
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT data FROM " + t + " ORDER BY id")) {
                assertThat(rs.next()).isTrue();
                assertThat(Arrays.equals(rs.getBytes(1), data)).as("3 MiB sent as long data").isTrue();
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBytes(1)).isEqualTo(Arrays.copyOf(data, 1000));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void pingAndManyStatementsOnOneConnection(JdbcDriver driver) throws Exception {
        // Without the drivers' statement caches, closing a statement sends COM_STMT_CLOSE.
        try (Connection c = connect(driver, "useServerPrepStmts=true&cachePrepStmts=false")) {
            assertThat(c.isValid(5)).isTrue();
            // Prepare, execute and close many statements: the backend's statement count stays bounded.
            for (int i = 0; i < 200; i++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT ? + " + i)) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(2 * i);
                    }
                }
            }
            assertThat(c.isValid(5)).isTrue();
            assertThat(Long.parseLong(db.queryValue("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                    + " WHERE VARIABLE_NAME = 'PREPARED_STMT_COUNT'"))).isLessThan(100);
        }
    }
}
