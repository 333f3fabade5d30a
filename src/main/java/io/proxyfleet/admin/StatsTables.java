package io.proxyfleet.admin;

import java.sql.SQLException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code stats} and {@code monitor} tables that show live data: each has a supplier of rows, and its content
 * is replaced right before a query that mentions the table runs, the way ProxySQL refreshes them by substring
 * (reference §1.4).
 *
 * <p>Thread ownership: the engine's admin thread only; suppliers are called on it.
 */
final class StatsTables {
    private static final Logger LOG = LoggerFactory.getLogger(StatsTables.class);

    /** Tables of the monitor schema; every other table a source feeds lives in stats. */
    private static final Set<String> MONITOR_TABLES = monitorTables();

    private static Set<String> monitorTables() {
        var names = new HashSet<String>();
        for (String ddl : AdminDatabase.ddl("monitor")) {
            names.add(ddl.substring("CREATE TABLE ".length(), ddl.indexOf(' ', "CREATE TABLE ".length())));
        }
        return Set.copyOf(names);
    }

    private final AdminDatabase db;
    /** Table name to the supplier of its rows. */
    private final Map<String, Supplier<List<List<Object>>>> tableSources = new LinkedHashMap<>();

    StatsTables(AdminDatabase db, RuntimeStatsSource source) {
        this.db = db;
        tableSources.put("stats_mysql_connection_pool_reset", source::connectionPool);
        tableSources.put("stats_mysql_connection_pool", source::connectionPool);
        tableSources.put("stats_mysql_processlist", source::processlist);
        tableSources.put("stats_mysql_commands_counters", source::commandsCounters);
        tableSources.put("stats_mysql_global", source::global);
        tableSources.put("stats_mysql_users", source::users);
        tableSources.put("stats_mysql_errors_reset", source::errors);
        tableSources.put("stats_mysql_errors", source::errors);
        tableSources.put("stats_mysql_free_connections", source::freeConnections);
    }

    /** Makes {@code table} show the rows of {@code rows}; the latest registration for a table wins. */
    void register(String table, Supplier<List<List<Object>>> rows) {
        tableSources.put(table.toLowerCase(Locale.ROOT), rows);
    }

    /** Copies live rows into every stats table whose name occurs in {@code lowerSql}. */
    void refresh(String lowerSql) throws SQLException {
        if (!lowerSql.contains("stats_") && !lowerSql.contains("mysql_server_")) {
            return;
        }
        for (var e : tableSources.entrySet()) {
            if (!lowerSql.contains(e.getKey())) {
                continue;
            }
            List<List<Object>> rows;
            try {
                rows = e.getValue().get();
            } catch (RuntimeException failure) {
                LOG.warn("stats source for {} failed: {}", e.getKey(), failure.toString());
                continue;
            }
            String table = (MONITOR_TABLES.contains(e.getKey()) ? "monitor." : "stats.") + e.getKey();
            db.update("DELETE FROM " + table);
            db.insertAll(table, rows);
        }
    }
}
