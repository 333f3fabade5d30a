package io.proxyfleet.monitor;

import java.util.ArrayList;
import java.util.List;

/**
 * One row of a {@code monitor.mysql_server_*_log} table. All four tables share one shape: server, start time,
 * success time, an optional value ({@code read_only} or {@code repl_lag}) and the error text (null on success).
 * Immutable.
 *
 * @param timeStartUs   wall-clock start of the check, microseconds since the epoch (part of the primary key)
 * @param successTimeUs how long the check took when it succeeded; 0 on error, as ProxySQL writes it
 * @param value         {@code read_only} or {@code repl_lag}; null for connect and ping rows, and on error
 */
public record LogRow(Table table, HostPort server, long timeStartUs, long successTimeUs, Long value, String error) {

    /** The four log tables, with the columns each row fills in DDL order (reference §2.4). */
    public enum Table {
        CONNECT("monitor.mysql_server_connect_log", false),
        PING("monitor.mysql_server_ping_log", false),
        READ_ONLY("monitor.mysql_server_read_only_log", true),
        REPLICATION_LAG("monitor.mysql_server_replication_lag_log", true);

        private final String name;
        private final boolean hasValue;

        Table(String name, boolean hasValue) {
            this.name = name;
            this.hasValue = hasValue;
        }

        /** Schema-qualified table name. */
        public String tableName() {
            return name;
        }
    }

    /** The row's cells in the table's column order. */
    public List<Object> cells() {
        var cells = new ArrayList<Object>(6);
        cells.add(server.host());
        cells.add(server.port());
        cells.add(timeStartUs);
        cells.add(successTimeUs);
        if (table.hasValue) {
            cells.add(value);
        }
        cells.add(error);
        return cells;
    }

    /** {@code INSERT OR REPLACE} of this row as plain SQL; text is quoted, so any error message is safe. */
    public String insertSql() {
        var sql = new StringBuilder("INSERT OR REPLACE INTO ").append(table.name).append(" VALUES (");
        List<Object> cells = cells();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                sql.append(", ");
            }
            sql.append(literal(cells.get(i)));
        }
        return sql.append(')').toString();
    }

    private static String literal(Object cell) {
        return switch (cell) {
            case null -> "NULL";
            case Number n -> n.toString();
            default -> "'" + cell.toString().replace("'", "''") + "'";
        };
    }
}
