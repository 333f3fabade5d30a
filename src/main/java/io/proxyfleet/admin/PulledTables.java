package io.proxyfleet.admin;

import io.proxyfleet.config.ProxySqlVariables;
import io.proxyfleet.protocol.client.QueryResult;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Makes a module's {@code main} tables hold rows that came from elsewhere — a cluster peer's fetch (reference
 * §4.10) or a history entry being rolled back to — without ever putting their text into SQL: every column must be a
 * column of the local table (named as the local schema names it), and every value is bound as a parameter. The
 * caller runs this inside the transaction that also loads the module, so a refusal changes nothing.
 *
 * <p>Keys of the row map, per module, as the cluster fetches them: {@code global_variables} (variables modules),
 * {@code mysql_query_rules} and {@code mysql_query_rules_fast_routing}, {@code mysql_users}, the seven servers
 * tables, {@code proxysql_servers}. Other keys (such as the peer's {@code runtime_mysql_servers}) are not
 * written. Rows of users and query rules carry no {@code active} column; they are written active.
 *
 * <p>Thread ownership: the engine's admin thread only.
 */
final class PulledTables {
    /** Variables that each node keeps for itself unless the config file sets cluster_sync_interfaces. */
    private static final Set<String> ADMIN_INTERFACES = Set.of("admin-mysql_ifaces", "admin-restapi_port",
            "admin-telnet_admin_ifaces", "admin-telnet_stats_ifaces", "admin-web_port");
    private static final Set<String> MYSQL_INTERFACES = Set.of("mysql-interfaces");
    private static final String MYSQL_NEVER_SYNCED = "mysql-threads";

    private final AdminDatabase db;
    private final boolean syncInterfaces;

    PulledTables(AdminDatabase db, boolean syncInterfaces) {
        this.db = db;
        this.syncInterfaces = syncInterfaces;
    }

    /**
     * Replaces {@code module}'s rows of {@code main} with {@code tables}.
     *
     * @throws AdminException a column the local table does not have, or a variable outside the module's scope;
     *                        nothing is written then
     */
    void rewrite(AdminModule module, Map<String, QueryResult.Rows> tables) throws SQLException, AdminException {
        Map<String, QueryResult.Rows> wanted = new LinkedHashMap<>();
        switch (module) {
            case ADMIN_VARIABLES, MYSQL_VARIABLES -> wanted.put("global_variables", tables.get("global_variables"));
            case MYSQL_QUERY_RULES, MYSQL_USERS, MYSQL_SERVERS, PROXYSQL_SERVERS -> {
                for (String table : module.tables()) {
                    wanted.put(table, tables.get(table));
                }
            }
            default -> throw new AdminException("module " + module.moduleName() + " is not synchronised");
        }
        Map<String, List<String>> columns = new LinkedHashMap<>();
        for (var e : wanted.entrySet()) {
            columns.put(e.getKey(), localColumns(e.getKey(), e.getValue()));
        }
        if (module.variablePrefix().isPresent()) {
            rewriteVariables(module, wanted.get("global_variables"), columns.get("global_variables"));
            return;
        }
        for (var e : wanted.entrySet()) {
            String table = e.getKey();
            db.update("DELETE FROM main." + table);
            insert(table, columns.get(table), e.getValue(), writtenActive(table));
        }
    }

    /**
     * Applies a delta of {@code mysql_users} (see {@link ClusterDelta}): each row's first cell says whether it is
     * removed ({@code -}) or added ({@code +}), the other cells are the row as peers fetch it. A removed row must
     * be an active row of {@code main} (matched by username, backend and frontend), an added one must not clash
     * with a row kept; anything else means this node's {@code main} is not the base of the delta.
     *
     * @throws AdminException an unknown column, an unknown change, or rows that do not fit {@code main}; the
     *                        caller's transaction then changes nothing
     */
    void applyDelta(AdminModule module, QueryResult.Rows delta) throws SQLException, AdminException {
        if (module != AdminModule.MYSQL_USERS) {
            throw new AdminException("no delta sync for module " + module.moduleName());
        }
        String table = "mysql_users";
        if (delta == null || delta.columns().isEmpty()
                || !ClusterDelta.CHANGE_COLUMN.equalsIgnoreCase(delta.columns().getFirst())) {
            throw new AdminException("a delta of " + table + " must start with the column "
                    + ClusterDelta.CHANGE_COLUMN);
        }
        List<List<String>> removed = new ArrayList<>();
        List<List<String>> added = new ArrayList<>();
        for (List<String> row : delta.rows()) {
            String change = row.isEmpty() ? null : row.getFirst();
            if (ClusterDelta.REMOVED.equals(change)) {
                removed.add(row.subList(1, row.size()));
            } else if (ClusterDelta.ADDED.equals(change)) {
                added.add(row.subList(1, row.size()));
            } else {
                throw new AdminException("a delta of " + table + " has the change '" + change + "'");
            }
        }
        QueryResult.Rows cells = new QueryResult.Rows(delta.columns().subList(1, delta.columns().size()), List.of());
        List<String> columns = localColumns(table, cells);
        int user = columns.indexOf("username");
        int backend = columns.indexOf("backend");
        int frontend = columns.indexOf("frontend");
        if (user < 0 || backend < 0 || frontend < 0) {
            throw new AdminException("a delta of " + table + " needs the columns username, backend and frontend");
        }
        for (List<String> row : delta.rows()) {
            if (row.size() != columns.size() + 1) {
                throw new AdminException("a row of the delta of " + table + " has " + row.size() + " cells for "
                        + (columns.size() + 1) + " columns");
            }
        }
        for (List<String> row : removed) {
            long n = db.update("DELETE FROM main.mysql_users WHERE active = 1 AND username = ? AND backend = ?"
                    + " AND frontend = ?", row.get(user), row.get(backend), row.get(frontend));
            if (n != 1) {
                throw new AdminException("the delta removes a row of " + table + " this node does not have ("
                        + row.get(user) + ")");
            }
        }
        insert(table, columns, new QueryResult.Rows(cells.columns(), added), true);
    }

    private static boolean writtenActive(String table) {
        return table.equals("mysql_users") || table.equals("mysql_query_rules");
    }

    /**
     * The local spelling of each column {@code rows} names, in order; refuses a name the local table lacks, a
     * name given twice, and an {@code active} column where rows are written active anyway.
     */
    private List<String> localColumns(String table, QueryResult.Rows rows) throws SQLException, AdminException {
        if (rows == null) {
            return List.of();
        }
        Map<String, String> local = new LinkedHashMap<>();
        for (List<Object> r : db.query("SELECT name FROM pragma_table_info(?, 'main')", table).rows()) {
            String name = AdminDatabase.Table.text(r.getFirst());
            local.put(name.toLowerCase(Locale.ROOT), name);
        }
        List<String> out = new ArrayList<>(rows.columns().size());
        Set<String> seen = new HashSet<>();
        for (String column : rows.columns()) {
            String key = column == null ? "" : column.toLowerCase(Locale.ROOT);
            String name = local.get(key);
            if (name == null || !seen.add(key) || writtenActive(table) && key.equals("active")) {
                throw new AdminException("rows for unknown column '" + column + "' of table " + table);
            }
            out.add(name);
        }
        for (List<String> row : rows.rows()) {
            if (row.size() != out.size()) {
                throw new AdminException("a row of " + table + " has " + row.size() + " cells for " + out.size()
                        + " columns");
            }
        }
        return out;
    }

    private void insert(String table, List<String> columns, QueryResult.Rows rows, boolean active)
            throws SQLException {
        if (rows == null || rows.rows().isEmpty()) {
            return;
        }
        int status = table.equals("mysql_servers") ? columns.indexOf("status") : -1;
        List<String> names = new ArrayList<>(columns);
        if (active) {
            names.addFirst("active");
        }
        List<List<Object>> values = new ArrayList<>(rows.rows().size());
        for (List<String> row : rows.rows()) {
            List<Object> v = new ArrayList<>(names.size());
            if (active) {
                v.add(1);
            }
            for (int i = 0; i < row.size(); i++) {
                String cell = row.get(i);
                // Peers export SHUNNED as ONLINE already; a ProxySQL peer may still send it, and it must not stick.
                v.add(i == status && "SHUNNED".equalsIgnoreCase(cell) ? "ONLINE" : cell);
            }
            values.add(v);
        }
        db.insertAll("main." + table, names, values, false);
    }

    /**
     * Variables: the module's own rows (prefix, minus what never travels) are replaced; a fetched variable outside
     * that scope is refused, so a peer cannot set another module's or a node-local variable.
     */
    private void rewriteVariables(AdminModule module, QueryResult.Rows rows, List<String> columns)
            throws SQLException, AdminException {
        String prefix = module.variablePrefix().orElseThrow();
        Set<String> local = localOnly(module);
        int name = columns.indexOf("variable_name");
        int value = columns.indexOf("variable_value");
        if (rows == null || name < 0 || value < 0 || columns.size() != 2) {
            throw new AdminException("variables need exactly the columns variable_name and variable_value");
        }
        List<List<Object>> values = new ArrayList<>();
        for (List<String> row : rows.rows()) {
            String n = row.get(name);
            if (n == null || !n.startsWith(prefix) || local.contains(n)) {
                throw new AdminException("variable '" + n + "' does not belong to " + module.moduleName());
            }
            values.add(List.of(n, row.get(value) == null ? "" : row.get(value)));
        }
        // Only ProxySQL's variables travel: ProxyFleet's own (admin-proxyfleet_*, admin-reported_version) keep
        // whatever this node's operator set in memory, loaded or not.
        for (List<Object> row : db.query("SELECT variable_name FROM main.global_variables WHERE variable_name LIKE ?",
                prefix + "%").rows()) {
            String n = String.valueOf(row.getFirst());
            if (ProxySqlVariables.isProxySql(n) && !local.contains(n)) {
                db.update("DELETE FROM main.global_variables WHERE variable_name = ?", n);
            }
        }
        db.insertAll("main.global_variables", List.of("variable_name", "variable_value"), values, true);
    }

    private Set<String> localOnly(AdminModule module) {
        Set<String> out = new HashSet<>();
        if (module == AdminModule.MYSQL_VARIABLES) {
            out.add(MYSQL_NEVER_SYNCED);
        }
        if (!syncInterfaces) {
            out.addAll(module == AdminModule.ADMIN_VARIABLES ? ADMIN_INTERFACES : MYSQL_INTERFACES);
        }
        // an empty NOT IN () is not SQL; a name no variable has keeps the statement valid
        if (out.isEmpty()) {
            out.add("");
        }
        return out;
    }
}
