package io.proxyfleet.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * The SQLite side of the admin: an in-memory {@code main} schema with {@code disk} ({@code proxysql.db}),
 * {@code stats} and {@code monitor} attached, plus a second, read-only connection whose {@code main} is the
 * {@code stats} schema, for stats sessions (as ProxySQL gives stats users the stats DB with
 * {@code PRAGMA query_only}).
 *
 * <p>Thread ownership: confined to the engine's admin thread. sqlite-jdbc calls are JNI calls behind a
 * per-connection monitor; keeping them on one platform thread keeps them off Netty event loops and virtual
 * threads, and serialises admin statements the way ProxySQL's global admin mutex does.
 */
final class AdminDatabase implements AutoCloseable {

    /** The {@code stats} and {@code monitor} schemas are shared-cache memory DBs so that both connections see them. */
    private static final String SHARED_MEMORY_URI = "file:%s?mode=memory&cache=shared";

    private final Connection admin;
    private final Connection stats;
    private final Path diskFile;

    private AdminDatabase(Connection admin, Connection stats, Path diskFile) {
        this.admin = admin;
        this.stats = stats;
        this.diskFile = diskFile;
    }

    /** The file behind the {@code disk} schema ({@code proxysql.db}), for messages about it. */
    Path diskFile() {
        return diskFile;
    }

    /** Opens the schemas and creates every table that does not exist yet. */
    static AdminDatabase open(Path diskFile) throws SQLException {
        Path dataDir = diskFile.toAbsolutePath().getParent();
        if (dataDir != null) {
            SqliteNativeLibrary.useKeptCopy(dataDir);
        }
        String instance = UUID.randomUUID().toString().replace("-", "");
        String statsUri = SHARED_MEMORY_URI.formatted("pf_stats_" + instance);
        String monitorUri = SHARED_MEMORY_URI.formatted("pf_monitor_" + instance);
        Connection admin = DriverManager.getConnection("jdbc:sqlite::memory:");
        Connection stats = null;
        try {
            try (Statement st = admin.createStatement()) {
                st.execute("ATTACH DATABASE '" + diskFile.toString().replace("'", "''") + "' AS disk");
                st.execute("ATTACH DATABASE '" + statsUri + "' AS stats");
                st.execute("ATTACH DATABASE '" + monitorUri + "' AS monitor");
                for (String ddl : ddl("config")) {
                    st.execute(ddl);
                    st.execute(inSchema(ddl, "disk"));
                    DiskSchemaUpgrade.upgrade(admin, tableName(ddl), ddl);
                }
                for (String ddl : ddl("main")) {
                    st.execute(ddl);
                }
                for (String ddl : ddl("disk")) {
                    st.execute(inSchema(ddl, "disk"));
                }
                for (String ddl : ddl("stats")) {
                    st.execute(inSchema(ddl, "stats"));
                }
                for (String ddl : ddl("monitor")) {
                    st.execute(inSchema(ddl, "monitor"));
                }
            }
            stats = DriverManager.getConnection("jdbc:sqlite:" + statsUri);
            try (Statement st = stats.createStatement()) {
                st.execute("ATTACH DATABASE '" + monitorUri + "' AS monitor");
                st.execute("PRAGMA query_only = ON");
            }
            return new AdminDatabase(admin, stats, diskFile);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(stats);
            closeQuietly(admin);
            throw e;
        }
    }

    /**
     * The one-line DDL strings of a group ({@code config}, {@code main}, {@code disk}, {@code stats},
     * {@code monitor}) exactly as ProxySQL 2.7 writes them, so {@code sqlite_master.sql} matches.
     */
    static List<String> ddl(String group) {
        String resource = "ddl/" + group + ".sql";
        try (InputStream in = AdminDatabase.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            var result = new ArrayList<String>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("CREATE TABLE ")) {
                    result.add(line.strip());
                }
            }
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The table a {@code CREATE TABLE t (...)} creates. */
    private static String tableName(String ddl) {
        String rest = ddl.substring("CREATE TABLE ".length());
        return rest.substring(0, rest.indexOf(' '));
    }

    /** {@code CREATE TABLE t (...)} becomes {@code CREATE TABLE IF NOT EXISTS schema.t (...)}. */
    private static String inSchema(String ddl, String schema) {
        return "CREATE TABLE IF NOT EXISTS " + schema + "." + ddl.substring("CREATE TABLE ".length());
    }

    /** The admin connection, for statements a session sends. */
    Connection adminConnection() {
        return admin;
    }

    /** The read-only connection whose {@code main} is the stats schema. */
    Connection statsConnection() {
        return stats;
    }

    /** Rows with SQLite's own types ({@code Long}, {@code Double}, {@code String}, {@code byte[]}, null). */
    Table query(String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(admin, sql, params); ResultSet rs = ps.executeQuery()) {
            return read(rs, false);
        }
    }

    /** Rows with every cell in SQLite's text rendering, as ProxySQL sends them and hashes them. */
    Table queryText(String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(admin, sql, params); ResultSet rs = ps.executeQuery()) {
            return read(rs, true);
        }
    }

    /** Runs one data-changing statement; returns the number of rows changed. */
    long update(String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(admin, sql, params)) {
            return ps.executeUpdate();
        }
    }

    /** Inserts {@code rows} into {@code table} (all columns, in order). */
    void insertAll(String table, List<? extends List<?>> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        int width = rows.getFirst().size();
        String marks = String.join(",", Collections.nCopies(width, "?"));
        try (PreparedStatement ps = admin.prepareStatement("INSERT INTO " + table + " VALUES (" + marks + ")")) {
            for (List<?> row : rows) {
                for (int i = 0; i < width; i++) {
                    ps.setObject(i + 1, row.get(i));
                }
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * Inserts {@code rows} into the named {@code columns} of {@code table}, values bound as parameters. The column
     * names must be the table's own (callers check them against the schema); they are quoted, never interpreted.
     */
    void insertAll(String table, List<String> columns, List<? extends List<?>> rows, boolean orReplace)
            throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        var quoted = new ArrayList<String>(columns.size());
        for (String c : columns) {
            quoted.add('"' + c.replace("\"", "\"\"") + '"');
        }
        String marks = String.join(",", Collections.nCopies(columns.size(), "?"));
        String sql = (orReplace ? "INSERT OR REPLACE INTO " : "INSERT INTO ") + table + " ("
                + String.join(", ", quoted) + ") VALUES (" + marks + ")";
        try (PreparedStatement ps = admin.prepareStatement(sql)) {
            for (List<?> row : rows) {
                for (int i = 0; i < columns.size(); i++) {
                    ps.setObject(i + 1, row.get(i));
                }
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Work that runs inside one SQLite transaction. */
    interface Work<T> {
        T run() throws SQLException;
    }

    /** Runs {@code work} in one transaction on the admin connection: all of it happens, or none. */
    <T> T inTransaction(Work<T> work) throws SQLException {
        try (Statement st = admin.createStatement()) {
            st.execute("BEGIN IMMEDIATE");
        }
        boolean committed = false;
        try {
            T result = work.run();
            try (Statement st = admin.createStatement()) {
                st.execute("COMMIT");
            }
            committed = true;
            return result;
        } finally {
            if (!committed) {
                try (Statement st = admin.createStatement()) {
                    st.execute("ROLLBACK");
                } catch (SQLException rollbackFailure) {
                    // SQLite already rolled back (e.g. after a constraint abort); nothing more to undo.
                }
            }
        }
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            ps.setObject(i + 1, params[i]);
        }
        return ps;
    }

    /** Runs one statement a session sent and turns its outcome into a response (all cells as text). */
    static AdminResponse run(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            if (st.execute(sql)) {
                try (ResultSet rs = st.getResultSet()) {
                    return read(rs, true).toResponse();
                }
            }
            return new AdminResponse.Ok(Math.max(0, st.getUpdateCount()), "");
        }
    }

    /** Reads a whole result set into memory. */
    static Table read(ResultSet rs, boolean asText) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        var columns = new ArrayList<String>(n);
        for (int i = 1; i <= n; i++) {
            columns.add(md.getColumnLabel(i));
        }
        var rows = new ArrayList<List<Object>>();
        while (rs.next()) {
            var row = new ArrayList<Object>(n);
            for (int i = 1; i <= n; i++) {
                row.add(asText ? rs.getString(i) : rs.getObject(i));
            }
            rows.add(row);
        }
        return new Table(columns, rows);
    }

    /**
     * The message SQLite itself produced, without sqlite-jdbc's {@code [SQLITE_...] description (...)} wrapping,
     * so that clients see what ProxySQL shows.
     */
    static String sqliteMessage(SQLException e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        if (message.startsWith("[")) {
            int open = message.indexOf(" (");
            if (open > 0 && message.endsWith(")")) {
                return message.substring(open + 2, message.length() - 1);
            }
        }
        return message;
    }

    @Override
    public void close() {
        closeQuietly(stats);
        closeQuietly(admin);
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            // Closing at shutdown; there is nobody left to tell.
        }
    }

    /** An in-memory result: column labels and rows of cells. */
    record Table(List<String> columns, List<List<Object>> rows) {

        /** The rows with every cell as text (null stays null). */
        List<List<String>> textRows() {
            var result = new ArrayList<List<String>>(rows.size());
            for (List<Object> row : rows) {
                var text = new ArrayList<String>(row.size());
                for (Object cell : row) {
                    text.add(text(cell));
                }
                result.add(text);
            }
            return result;
        }

        AdminResponse.ResultSet toResponse() {
            return new AdminResponse.ResultSet(columns, textRows());
        }

        static String text(Object cell) {
            return switch (cell) {
                case null -> null;
                case byte[] bytes -> new String(bytes, StandardCharsets.UTF_8);
                default -> cell.toString();
            };
        }
    }
}
