package io.proxyfleet.admin;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the configuration tables of a {@code proxysql.db} written by an older ProxySQL (2.5, 2.6) or ProxyFleet to
 * 2.7's definitions, as ProxySQL's {@code disk_upgrade_*()} does: a table whose columns differ is renamed aside
 * ({@code <table>_pre_upgrade}, kept like ProxySQL keeps its {@code _v...} copies), created anew, and the columns
 * both have are copied; new columns take their defaults. Runs once at open, on the admin thread.
 */
final class DiskSchemaUpgrade {
    private static final Logger LOG = LoggerFactory.getLogger(DiskSchemaUpgrade.class);
    private static final String ASIDE_SUFFIX = "_pre_upgrade";

    private DiskSchemaUpgrade() {
    }

    /**
     * Upgrades {@code disk.<table>} to {@code ddl} (a {@code CREATE TABLE} whose {@code main} copy already exists
     * with the current columns) when their columns differ.
     *
     * @throws SQLException when the old rows do not fit the new definition; the message names the table
     */
    static void upgrade(Connection c, String table, String ddl) throws SQLException {
        List<String> current = columns(c, "main", table);
        List<String> found = columns(c, "disk", table);
        if (found.isEmpty() || lower(found).equals(lower(current))) {
            return;
        }
        var common = new ArrayList<String>();
        for (String column : current) {
            if (lower(found).contains(column.toLowerCase(Locale.ROOT))) {
                common.add(column);
            }
        }
        LOG.warn("Upgrading table {} of proxysql.db to ProxySQL 2.7's columns (had {}, now {}); the old table is"
                + " kept as {}{}", table, found, current, table, ASIDE_SUFFIX);
        String list = String.join(", ", common);
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS disk." + table + ASIDE_SUFFIX);
            st.execute("ALTER TABLE disk." + table + " RENAME TO " + table + ASIDE_SUFFIX);
            st.execute("CREATE TABLE disk." + ddl.substring("CREATE TABLE ".length()));
            st.execute("INSERT INTO disk." + table + " (" + list + ") SELECT " + list + " FROM disk." + table
                    + ASIDE_SUFFIX);
        } catch (SQLException e) {
            throw new SQLException("cannot upgrade table " + table + " of proxysql.db: "
                    + AdminDatabase.sqliteMessage(e), e);
        }
    }

    private static List<String> columns(Connection c, String schema, String table) throws SQLException {
        var names = new ArrayList<String>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA " + schema + ".table_info(" + table + ")")) {
            while (rs.next()) {
                names.add(rs.getString("name"));
            }
        }
        return names;
    }

    private static List<String> lower(List<String> names) {
        return names.stream().map(n -> n.toLowerCase(Locale.ROOT)).toList();
    }
}
