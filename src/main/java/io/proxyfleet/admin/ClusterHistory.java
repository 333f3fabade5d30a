package io.proxyfleet.admin;

import io.proxyfleet.admin.AdminDatabase.Table;
import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.protocol.client.QueryResult;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * ProxyFleet's cluster bookkeeping beyond ProxySQL, kept in tables ProxySQL peers never query:
 * <ul>
 *   <li>{@code disk.proxyfleet_cluster_versions}: each module's {@code (version, epoch, checksum)} as of its last
 *       {@code SAVE ... TO DISK}, so that a node restarting on that very configuration reports its real version
 *       and epoch instead of version 1 (restart-safe versions);</li>
 *   <li>{@code disk.proxyfleet_cluster_history}: the last {@code admin-proxyfleet_cluster_history_size} versions of
 *       each module with where they came from and their rows (as peers fetch them), for diffs and rollbacks;</li>
 *   <li>{@code stats.stats_proxyfleet_cluster_conflicts}: every local load that went over a newer peer
 *       version.</li>
 * </ul>
 * The ProxyFleet-only settings live in {@code global_variables} under the {@code proxyfleet-} prefix, which no
 * cluster fetch selects; they take effect with {@code LOAD ADMIN VARIABLES TO RUNTIME} and are saved with
 * {@code SAVE ADMIN VARIABLES TO DISK}.
 *
 * <p>Thread ownership: the engine's admin thread only.
 */
final class ClusterHistory {
    static final String PREFIX = AdminVariables.PREFIX + AdminVariables.LOCAL_PREFIX + "cluster_";
    static final String STRICT = PREFIX + "conflict_strict";
    static final String HISTORY_SIZE = PREFIX + "history_size";
    static final Map<String, String> DEFAULTS = Map.of(STRICT, "false", HISTORY_SIZE, "10");
    private static final int MAX_HISTORY_SIZE = 1000;
    private static final String NULL_CELL = "\\N";

    private static final List<String> DDL = List.of(
            "CREATE TABLE IF NOT EXISTS disk.proxyfleet_cluster_versions (name VARCHAR NOT NULL PRIMARY KEY,"
                    + " version INT NOT NULL, epoch INT NOT NULL, checksum VARCHAR NOT NULL)",
            "CREATE TABLE IF NOT EXISTS disk.proxyfleet_cluster_history (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                    + " name VARCHAR NOT NULL, version INT NOT NULL, epoch INT NOT NULL, checksum VARCHAR NOT NULL,"
                    + " source VARCHAR NOT NULL, admin_user VARCHAR NOT NULL DEFAULT '', loaded_at INT NOT NULL,"
                    + " row_count INT NOT NULL, rows TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS stats.stats_proxyfleet_cluster_conflicts (detected_at INT NOT NULL,"
                    + " name VARCHAR NOT NULL, outcome VARCHAR NOT NULL, admin_user VARCHAR NOT NULL,"
                    + " base_version INT NOT NULL, base_epoch INT NOT NULL, base_checksum VARCHAR NOT NULL,"
                    + " loaded_checksum VARCHAR NOT NULL, peer VARCHAR NOT NULL, peer_version INT NOT NULL,"
                    + " peer_epoch INT NOT NULL, peer_checksum VARCHAR NOT NULL)");

    private final AdminDatabase db;
    /** What the disk said at start-up; consulted by the boot loads only. */
    private final Map<String, ModuleVersion> persisted = new HashMap<>();
    private boolean strict;
    private int historySize = Integer.parseInt(DEFAULTS.get(HISTORY_SIZE));

    ClusterHistory(AdminDatabase db) {
        this.db = db;
    }

    /** Creates the tables and the settings' default rows (disk values win), and reads the persisted versions. */
    void open() throws SQLException {
        for (String ddl : DDL) {
            db.update(ddl);
        }
        for (var e : DEFAULTS.entrySet()) {
            db.update("INSERT OR IGNORE INTO disk.global_variables VALUES (?, ?)", e.getKey(), e.getValue());
            db.update("INSERT OR REPLACE INTO main.global_variables SELECT * FROM disk.global_variables"
                    + " WHERE variable_name = ?", e.getKey());
        }
        for (List<Object> r : db.query("SELECT name, version, epoch, checksum FROM disk.proxyfleet_cluster_versions")
                .rows()) {
            persisted.put(Table.text(r.get(0)), new ModuleVersion(((Number) r.get(1)).longValue(),
                    ((Number) r.get(2)).longValue(), Table.text(r.get(3))));
        }
        applySettings();
    }

    /** Re-reads the {@code admin-proxyfleet_cluster_} settings from {@code main}, with {@code LOAD ADMIN VARIABLES}. */
    void applySettings() throws SQLException {
        Map<String, String> values = new HashMap<>(DEFAULTS);
        for (List<Object> r : db.query("SELECT variable_name, variable_value FROM main.global_variables"
                + " WHERE variable_name LIKE ?", PREFIX + "%").rows()) {
            values.put(Table.text(r.get(0)), Table.text(r.get(1)));
        }
        strict = "true".equals(VariableRules.accept(STRICT, values.get(STRICT), "false"));
        try {
            historySize = Math.clamp(Long.parseLong(values.get(HISTORY_SIZE).trim()), 1, MAX_HISTORY_SIZE);
        } catch (NumberFormatException e) {
            historySize = Integer.parseInt(DEFAULTS.get(HISTORY_SIZE));
        }
    }

    boolean strict() {
        return strict;
    }

    /** The version saved with the configuration now on disk, if {@code checksum} is the one saved then. */
    ModuleVersion restored(String module, String checksum) {
        ModuleVersion saved = persisted.get(module);
        return saved != null && saved.version() > 1 && saved.checksum().equals(checksum) ? saved : null;
    }

    /** Remembers what runs now for the modules just saved to disk; part of the save's transaction. */
    void persist(Map<String, ModuleVersion> versions) throws SQLException {
        for (var e : versions.entrySet()) {
            db.update("INSERT OR REPLACE INTO disk.proxyfleet_cluster_versions VALUES (?, ?, ?, ?)", e.getKey(),
                    e.getValue().version(), e.getValue().epoch(), e.getValue().checksum());
        }
    }

    /**
     * Adds a version of {@code module} to its history and forgets the oldest beyond the history size. The same
     * version again (a second pull of one change), or at boot the configuration the history ends with, is not
     * added: restarts must not push real changes out of the history.
     */
    void record(String module, ModuleVersion version, String source, String adminUser,
                Map<String, Table> rows, boolean boot) throws SQLException {
        long count = 0;
        for (Table t : rows.values()) {
            count += t.rows().size();
        }
        record(module, version, source, adminUser, count, () -> encodeTables(rows), boot);
    }

    /** As {@link #record(String, ModuleVersion, String, String, Map, boolean)}, with the rows already encoded. */
    void record(String module, ModuleVersion version, String source, String adminUser, long rowCount,
                Supplier<String> encodedRows, boolean boot) throws SQLException {
        List<List<Object>> newest = db.query("SELECT checksum, epoch FROM disk.proxyfleet_cluster_history"
                + " WHERE name = ? ORDER BY id DESC LIMIT 1", module).rows();
        if (!newest.isEmpty() && version.checksum().equals(Table.text(newest.getFirst().get(0)))
                && (boot || version.epoch() == ((Number) newest.getFirst().get(1)).longValue())) {
            return;
        }
        db.update("INSERT INTO disk.proxyfleet_cluster_history (name, version, epoch, checksum, source, admin_user,"
                        + " loaded_at, row_count, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", module, version.version(),
                version.epoch(), version.checksum(), source, adminUser, System.currentTimeMillis() / 1000, rowCount,
                encodedRows.get());
        db.update("DELETE FROM disk.proxyfleet_cluster_history WHERE name = ? AND id NOT IN (SELECT id FROM"
                + " disk.proxyfleet_cluster_history WHERE name = ? ORDER BY id DESC LIMIT ?)", module, module,
                historySize);
    }

    /** One history entry: its module and rows. */
    record Entry(long id, String module, Map<String, QueryResult.Rows> rows) {
    }

    Entry entry(long id) throws SQLException, AdminException {
        List<List<Object>> found = db.query("SELECT name, rows FROM disk.proxyfleet_cluster_history WHERE id = ?",
                id).rows();
        if (found.isEmpty()) {
            throw new AdminException("no cluster history entry " + id);
        }
        return new Entry(id, Table.text(found.getFirst().get(0)), decode(Table.text(found.getFirst().get(1))));
    }

    /** The rows of the newest history entry of {@code module} whose checksum is {@code checksum}, or null. */
    Map<String, QueryResult.Rows> rowsOf(String module, String checksum) throws SQLException {
        List<List<Object>> found = db.query("SELECT rows FROM disk.proxyfleet_cluster_history WHERE name = ?"
                + " AND checksum = ? ORDER BY id DESC LIMIT 1", module, checksum).rows();
        return found.isEmpty() ? null : decode(Table.text(found.getFirst().getFirst()));
    }

    /** Rows of {@code to} that {@code from} lacks ('+') and the other way round ('-'), per table. */
    AdminResponse.ResultSet diff(long from, long to) throws SQLException, AdminException {
        Entry a = entry(from);
        Entry b = entry(to);
        if (!a.module().equals(b.module())) {
            throw new AdminException("history entries " + from + " and " + to + " are of different modules");
        }
        List<List<String>> out = new ArrayList<>();
        for (String table : union(a.rows(), b.rows())) {
            List<String> before = lines(a.rows().get(table));
            List<String> after = lines(b.rows().get(table));
            for (String row : minus(before, after)) {
                out.add(List.of(table, "-", row));
            }
            for (String row : minus(after, before)) {
                out.add(List.of(table, "+", row));
            }
        }
        return new AdminResponse.ResultSet(List.of("table_name", "change", "row"), out);
    }

    /**
     * A conflict row for {@code stats_proxyfleet_cluster_conflicts}; {@code outcome} is {@code loaded} or
     * {@code refused} (a local load over a newer peer version) or {@code overwritten} (a same-second edit of this
     * node replaced by a pull).
     */
    void conflict(String module, String outcome, String adminUser, ModuleVersion base, String loadedChecksum,
                  ClusterView.PeerVersion peer) throws SQLException {
        db.update("INSERT INTO stats.stats_proxyfleet_cluster_conflicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                System.currentTimeMillis() / 1000, module, outcome, adminUser, base.version(),
                base.epoch(), base.checksum(), loadedChecksum, peer.node(), peer.version(), peer.epoch(),
                peer.checksum());
    }

    private static List<String> union(Map<String, QueryResult.Rows> a, Map<String, QueryResult.Rows> b) {
        List<String> tables = new ArrayList<>(a.keySet());
        for (String t : b.keySet()) {
            if (!tables.contains(t)) {
                tables.add(t);
            }
        }
        return tables;
    }

    private static List<String> lines(QueryResult.Rows rows) {
        List<String> out = new ArrayList<>();
        if (rows != null) {
            for (List<String> r : rows.rows()) {
                out.add(line(r));
            }
        }
        return out;
    }

    /** {@code a} minus {@code b} as multisets, in {@code a}'s order. */
    private static List<String> minus(List<String> a, List<String> b) {
        Map<String, Integer> left = new HashMap<>();
        for (String s : b) {
            left.merge(s, 1, Integer::sum);
        }
        List<String> out = new ArrayList<>();
        for (String s : a) {
            Integer n = left.get(s);
            if (n == null || n == 0) {
                out.add(s);
            } else {
                left.put(s, n - 1);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- row encoding

    /** Tables as text: per table a {@code #name} line, a line of columns, one line per row; cells tab-separated. */
    static String encode(Map<String, QueryResult.Rows> tables) {
        StringBuilder s = new StringBuilder();
        for (var e : tables.entrySet()) {
            append(s, e.getKey(), e.getValue().columns(), e.getValue().rows());
        }
        return s.toString();
    }

    /** As {@link #encode}, straight from the loaded tables: no copy of 100,000 rows as text first. */
    static String encodeTables(Map<String, Table> tables) {
        StringBuilder s = new StringBuilder();
        for (var e : tables.entrySet()) {
            append(s, e.getKey(), e.getValue().columns(), e.getValue().rows());
        }
        return s.toString();
    }

    private static void append(StringBuilder s, String table, List<String> columns, List<? extends List<?>> rows) {
        s.append(header(table, columns));
        for (List<?> row : rows) {
            appendLine(s, row);
            s.append('\n');
        }
    }

    static Map<String, QueryResult.Rows> decode(String text) {
        Map<String, QueryResult.Rows> out = new LinkedHashMap<>();
        String table = null;
        List<String> columns = null;
        List<List<String>> rows = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (line.startsWith("#") || line.isEmpty() && columns != null) {
                if (table != null) {
                    out.put(table, new QueryResult.Rows(columns, rows));
                }
                table = line.isEmpty() ? null : unescape(line.substring(1));
                columns = null;
                rows = new ArrayList<>();
            } else if (table != null && columns == null) {
                columns = cells(line);
            } else if (table != null) {
                rows.add(cells(line));
            }
        }
        return out;
    }

    /** The lines that start a table in {@link #encode}: its name, then its columns. */
    static String header(String table, List<String> columns) {
        StringBuilder s = new StringBuilder();
        s.append('#').append(escape(table)).append('\n');
        appendLine(s, columns);
        return s.append('\n').toString();
    }

    /** One row as {@link #encode} writes it, without its line end. */
    static String line(List<?> cells) {
        StringBuilder s = new StringBuilder();
        appendLine(s, cells);
        return s.toString();
    }

    /** One line of cells into {@code s}, without the intermediate strings of a join (100,000 users per load). */
    private static void appendLine(StringBuilder s, List<?> cells) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                s.append('\t');
            }
            String c = Table.text(cells.get(i));
            if (c == null) {
                s.append(NULL_CELL);
            } else if (needsEscape(c)) {
                s.append(escape(c));
            } else {
                s.append(c);
            }
        }
    }

    private static boolean needsEscape(String c) {
        for (int i = 0; i < c.length(); i++) {
            char ch = c.charAt(i);
            if (ch == '\\' || ch == '\t' || ch == '\n') {
                return true;
            }
        }
        return false;
    }

    private static List<String> cells(String line) {
        List<String> out = new ArrayList<>();
        for (String c : line.split("\t", -1)) {
            out.add(c.equals(NULL_CELL) ? null : unescape(c));
        }
        return out;
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n");
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                out.append(n == 't' ? '\t' : n == 'n' ? '\n' : n);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
