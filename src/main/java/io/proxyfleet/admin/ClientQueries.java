package io.proxyfleet.admin;

import io.proxyfleet.admin.AdminDatabase.Table;
import io.proxyfleet.admin.AdminResponse.Error;
import io.proxyfleet.admin.AdminResponse.Ok;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.RuntimeConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The queries MySQL clients and connectors send on their own ({@code select @@version_comment limit 1},
 * {@code SET NAMES}, {@code SHOW DATABASES}, {@code SELECT @@max_allowed_packet}, ...), answered the way ProxySQL's
 * admin does (reference §1.7) without touching the configuration.
 *
 * <p>Thread ownership: the engine's admin thread only.
 */
final class ClientQueries {
    private static final Pattern VARIABLE_LIST = Pattern.compile(
            "(?i)^SELECT\\s+(@@[A-Za-z0-9_.$-]+(?:\\s+AS\\s+\\S+)?(?:\\s*,\\s*@@[A-Za-z0-9_.$-]+(?:\\s+AS\\s+\\S+)?)*)"
                    + "(?:\\s+LIMIT\\s+\\d+)?$");

    private static final Pattern SHOW_TABLES = Pattern.compile(
            "(?i)^SHOW (?:FULL )?TABLES(?: (?:FROM|IN) `?([A-Za-z0-9_]+)`?)?(?: LIKE ['\"`]?([^'\"`]*)['\"`]?)?$");

    private static final Pattern SHOW_CREATE = Pattern.compile(
            "(?i)^SHOW CREATE TABLE `?(?:([A-Za-z0-9_]+)`?\\.`?)?([A-Za-z0-9_]+)`?$");

    private static final Pattern SHOW_FIELDS = Pattern.compile(
            "(?i)^(?:SHOW (?:FULL )?(?:FIELDS|COLUMNS) (?:FROM|IN)|DESCRIBE|DESC) `?(?:([A-Za-z0-9_]+)`?\\.`?)?"
                    + "([A-Za-z0-9_]+)`?$");

    private static final Pattern SHOW_TABLE_STATUS = Pattern.compile(
            "(?i)^SHOW TABLE STATUS(?: (?:FROM|IN) `?[A-Za-z0-9_]+`?)? LIKE ['\"`]([A-Za-z0-9_%]+)['\"`]$");

    private static final Pattern SHOW_VARIABLES = Pattern.compile(
            "(?i)^SHOW (?:(?:GLOBAL|SESSION|ALL|LOCAL) )?VARIABLES(?: (LIKE|WHERE) (.+))?$", Pattern.DOTALL);

    /**
     * Prefixes of statements ProxySQL acknowledges without doing anything (§1.7). Savepoints are among them
     * because every session shares one SQLite connection: a transaction left open by one would hold the others.
     */
    private static final List<String> NO_OP_PREFIXES = List.of("BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK",
            "SAVEPOINT ", "RELEASE ",
            "SET NAMES", "SET AUTOCOMMIT", "SET CHARACTER_SET_RESULTS", "SET CHARACTER SET", "SET SQL_AUTO_IS_NULL",
            "SET SQL_SAFE_UPDATES", "SET SQL_QUOTE_SHOW_CREATE", "SET SESSION ", "SET @@", "SET SQL_MODE",
            "SET TIME_ZONE", "SET TRANSACTION", "SET WAIT_TIMEOUT", "SET NET_WRITE_TIMEOUT", "LOCK TABLES",
            "UNLOCK TABLES", "USE ", "/*!");

    /** Values MySQL clients ask for with {@code SELECT @@name} that are not ProxySQL variables. */
    private static final Map<String, String> CLIENT_VARIABLES = clientVariables();

    private static Map<String, String> clientVariables() {
        var m = new HashMap<String, String>();
        for (String name : List.of("character_set_client", "character_set_connection", "character_set_server",
                "character_set_database", "character_set_results", "character_set_system")) {
            m.put(name, "utf8");
        }
        for (String name : List.of("collation_connection", "collation_server", "collation_database")) {
            m.put(name, "utf8_general_ci");
        }
        m.put("sql_mode", "");
        m.put("license", "");
        m.put("init_connect", "");
        m.put("auto_increment_increment", "1");
        m.put("autocommit", "1");
        m.put("lower_case_table_names", "0");
        m.put("time_zone", "SYSTEM");
        m.put("system_time_zone", "UTC");
        m.put("tx_isolation", "REPEATABLE-READ");
        m.put("transaction_isolation", "REPEATABLE-READ");
        m.put("tx_read_only", "0");
        m.put("transaction_read_only", "0");
        m.put("wait_timeout", "28800");
        m.put("interactive_timeout", "28800");
        m.put("net_write_timeout", "60");
        m.put("net_buffer_length", "16384");
        m.put("performance_schema", "0");
        m.put("query_cache_size", "0");
        m.put("query_cache_type", "OFF");
        m.put("have_query_cache", "NO");
        m.put("version_comment", "(ProxySQL Admin Module)");
        return Collections.unmodifiableMap(m);
    }

    private final AdminDatabase db;
    private final ConfigHolder holder;
    private final StatsTables stats;

    ClientQueries(AdminDatabase db, ConfigHolder holder, StatsTables stats) {
        this.db = db;
        this.holder = holder;
        this.stats = stats;
    }

    private boolean adminReadOnly() {
        return holder.current().adminVariables().getBoolean("read_only");
    }

    // ---------------------------------------------------------------- housekeeping (§1.7)

    /** Answers a housekeeping query, or returns null when {@code bare} is none. */
    AdminResponse housekeeping(AdminPrincipal who, String bare, String upper) throws SQLException {
        for (String prefix : NO_OP_PREFIXES) {
            if (upper.startsWith(prefix) || upper.equals(prefix.strip())) {
                return Ok.empty();
            }
        }
        String lower = bare.toLowerCase(Locale.ROOT);
        String version = holder.current().adminVariables().values().getOrDefault("version", "");
        switch (lower) {
            case "select @@version_comment limit 1" -> {
                return AdminResponse.ResultSet.single("(ProxySQL Admin Module)", "(ProxySQL Admin Module)");
            }
            case "select version()" -> {
                return AdminResponse.ResultSet.single("version()", version);
            }
            case "select concat(@@version, ' ', @@version_comment)" -> {
                return AdminResponse.ResultSet.single(bare.substring("select ".length()), version + " Admin Module");
            }
            case "select database(), user() limit 1" -> {
                return new AdminResponse.ResultSet(List.of("DATABASE()", "USER()"),
                        List.of(List.of(schemaOf(who), who.username())));
            }
            case "select database()", "select schema()" -> {
                return AdminResponse.ResultSet.single(bare.substring("select ".length()), schemaOf(who));
            }
            case "select database() as name" -> {
                return AdminResponse.ResultSet.single("name", schemaOf(who));
            }
            case "select current_user()", "select user()", "select session_user()", "select system_user()" -> {
                return AdminResponse.ResultSet.single(bare.substring("select ".length()),
                        who.username() + "@" + who.clientHost());
            }
            case "select connection_id()" -> {
                return AdminResponse.ResultSet.single("CONNECTION_ID()", "0");
            }
            case "select timediff(now(), utc_timestamp())" -> {
                int seconds = ZonedDateTime.now(ZoneId.systemDefault()).getOffset().getTotalSeconds();
                String sign = seconds < 0 ? "-" : "";
                int abs = Math.abs(seconds);
                return AdminResponse.ResultSet.single("TIMEDIFF(NOW(), UTC_TIMESTAMP())",
                        String.format(Locale.ROOT, "%s%02d:%02d:00", sign, abs / 3600, (abs % 3600) / 60));
            }
            default -> {
                // not a fixed query
            }
        }
        Matcher vars = VARIABLE_LIST.matcher(bare);
        if (vars.matches()) {
            return selectVariables(vars.group(1));
        }
        // mysqldump probes for MySQL features the admin does not have (§1.7).
        if (upper.startsWith("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES")) {
            return AdminResponse.ResultSet.single("COUNT(*)", "0");
        }
        if (upper.contains("FROM INFORMATION_SCHEMA.COLUMN_STATISTICS")) {
            return new AdminResponse.ResultSet(List.of("COLUMN_NAME", "HISTOGRAM"), List.of());
        }
        return null;
    }

    private static String schemaOf(AdminPrincipal who) {
        return who.role() == AdminRole.STATS ? "stats" : "admin";
    }

    /** {@code SELECT @@a [AS x], @@b ...}: ProxySQL variables, live status values, or what clients expect. */
    private AdminResponse selectVariables(String list) throws SQLException {
        var columns = new ArrayList<String>();
        var row = new ArrayList<String>();
        boolean anyFound = false;
        for (String item : list.split(",")) {
            String[] parts = item.strip().split("\\s+(?i:AS)\\s+");
            String expression = parts[0].strip();
            columns.add(parts.length > 1 ? unquote(parts[1].strip().replace("`", "")) : expression);
            String name = expression.substring(2);
            String lowerName = name.toLowerCase(Locale.ROOT);
            for (String scope : List.of("global.", "session.", "local.")) {
                if (lowerName.startsWith(scope)) {
                    name = name.substring(scope.length());
                    lowerName = lowerName.substring(scope.length());
                }
            }
            String value = variableValue(name, lowerName);
            anyFound |= value != null;
            row.add(value);
        }
        if (!anyFound && columns.size() == 1) {
            return new AdminResponse.ResultSet(columns, List.of());
        }
        return new AdminResponse.ResultSet(columns, List.of(row));
    }

    private String variableValue(String name, String lowerName) throws SQLException {
        RuntimeConfig current = holder.current();
        switch (lowerName) {
            case "version" -> {
                return current.adminVariables().values().getOrDefault("version", "");
            }
            case "read_only" -> {
                return adminReadOnly() ? "1" : "0";
            }
            case "max_allowed_packet" -> {
                return current.mysqlVariables().values().getOrDefault("max_allowed_packet", "67108864");
            }
            default -> {
                // look further
            }
        }
        if (CLIENT_VARIABLES.containsKey(lowerName)) {
            return CLIENT_VARIABLES.get(lowerName);
        }
        List<List<Object>> found = db.queryText("SELECT variable_value FROM main.global_variables"
                + " WHERE variable_name = ? COLLATE NOCASE UNION ALL SELECT Variable_Value FROM"
                + " stats.stats_mysql_global WHERE Variable_Name = ? COLLATE NOCASE", name, name).rows();
        if (found.isEmpty() && lowerName.indexOf('-') < 0) {
            stats.refresh("stats_mysql_global");
            found = db.queryText("SELECT Variable_Value FROM stats.stats_mysql_global"
                    + " WHERE Variable_Name = ? COLLATE NOCASE", name).rows();
        }
        return found.isEmpty() ? null : Table.text(found.getFirst().getFirst());
    }

    // ---------------------------------------------------------------- SHOW (§1.7)

    /** Answers a SHOW/DESCRIBE command, or returns null when {@code bare} is none. */
    AdminResponse show(AdminPrincipal who, String bare, String upper) throws SQLException {
        if (!upper.startsWith("SHOW ") && !upper.startsWith("DESC")) {
            if (who.role() == AdminRole.STATS && (upper.startsWith("PRAGMA") || upper.startsWith("ATTACH"))) {
                return Error.admin("Command not allowed");
            }
            return null;
        }
        Connection session = who.role() == AdminRole.STATS ? db.statsConnection() : db.adminConnection();
        switch (upper) {
            case "SHOW DATABASES", "SHOW SCHEMAS" -> {
                // temp holds what peers' variable fetches read (VariablesModule.SYNCED_VARIABLES); ProxySQL has none.
                return AdminDatabase.run(session, "SELECT seq, name, file FROM pragma_database_list"
                        + " WHERE name <> 'temp'");
            }
            case "SHOW MYSQL STATUS" -> {
                stats.refresh("stats_mysql_global");
                return AdminDatabase.run(db.adminConnection(), "SELECT Variable_Name AS Variable_name, Variable_Value AS Value"
                        + " FROM stats.stats_mysql_global ORDER BY Variable_Name");
            }
            case "SHOW PROCESSLIST" -> {
                stats.refresh("stats_mysql_processlist");
                return AdminDatabase.run(db.adminConnection(), "SELECT SessionID, user, db, hostgroup, command, time_ms,"
                        + " SUBSTR(info,0,100) info FROM stats.stats_mysql_processlist");
            }
            case "SHOW FULL PROCESSLIST" -> {
                stats.refresh("stats_mysql_processlist");
                return AdminDatabase.run(db.adminConnection(), "SELECT * FROM stats.stats_mysql_processlist");
            }
            case "SHOW MYSQL USERS", "SHOW MYSQL SERVERS" -> {
                if (who.role() == AdminRole.STATS) {
                    return Error.admin("only SELECT statements are allowed for stats users");
                }
                return AdminDatabase.run(db.adminConnection(), upper.endsWith("USERS")
                        ? "SELECT * FROM main.mysql_users ORDER BY username, active DESC, username ASC"
                        : "SELECT * FROM main.mysql_servers ORDER BY hostgroup_id, hostname, port");
            }
            case "SHOW CHARSET", "SHOW CHARACTER SET" -> {
                return AdminDatabase.run(db.adminConnection(), "SELECT Charset, Collation AS 'Default collation'"
                        + " FROM main.mysql_collations WHERE `Default` = 'Yes' ORDER BY Charset");
            }
            case "SHOW COLLATION" -> {
                return AdminDatabase.run(db.adminConnection(), "SELECT Collation, Charset, Id FROM main.mysql_collations"
                        + " ORDER BY Id");
            }
            case "SHOW ADMIN VARIABLES", "SHOW MYSQL VARIABLES" -> {
                String prefix = upper.startsWith("SHOW ADMIN") ? "admin-%" : "mysql-%";
                return AdminDatabase.run(db.adminConnection(), "SELECT variable_name AS Variable_name, variable_value AS Value"
                        + " FROM main.global_variables WHERE variable_name LIKE '" + prefix + "'"
                        + " ORDER BY variable_name");
            }
            case "SHOW WARNINGS", "SHOW ERRORS" -> {
                return new AdminResponse.ResultSet(List.of("Level", "Code", "Message"), List.of());
            }
            default -> {
                // patterns below
            }
        }
        Matcher tableStatus = SHOW_TABLE_STATUS.matcher(bare);
        if (tableStatus.matches()) {
            return tableStatus(session, tableStatus.group(1));
        }
        if (upper.startsWith("SHOW TRIGGERS")) {
            return new AdminResponse.ResultSet(List.of("Trigger", "Event", "Table", "Statement", "Timing", "Created",
                    "sql_mode", "Definer", "character_set_client", "collation_connection", "Database Collation"),
                    List.of());
        }
        if (upper.startsWith("SHOW STATUS") || upper.startsWith("SHOW GLOBAL STATUS")
                || upper.startsWith("SHOW SESSION STATUS")) {
            return new AdminResponse.ResultSet(List.of("Variable_name", "Value"), List.of());
        }
        Matcher vars = SHOW_VARIABLES.matcher(bare);
        if (vars.matches()) {
            return showVariables(vars.group(1), vars.group(2));
        }
        Matcher tables = SHOW_TABLES.matcher(bare);
        if (tables.matches()) {
            String schema = tables.group(1) == null ? "main" : identifier(tables.group(1));
            String like = tables.group(2) == null ? "" : " AND name LIKE '" + tables.group(2).replace("'", "''") + "'";
            return AdminDatabase.run(session, "SELECT name AS tables FROM " + schema + ".sqlite_master WHERE type='table'"
                    + " AND name NOT IN ('sqlite_sequence')" + like + " ORDER BY name");
        }
        Matcher create = SHOW_CREATE.matcher(bare);
        if (create.matches()) {
            String schema = create.group(1) == null ? "main" : identifier(create.group(1));
            String table = create.group(2);
            String opening = "CREATE TABLE " + table + " (";
            return AdminDatabase.run(session, "SELECT name AS 'table', REPLACE(REPLACE(sql,' , ', X'2C0A20202020'), '"
                    + opening.replace("'", "''") + "', '" + opening.replace("'", "''") + "'||X'0A20202020')"
                    + " AS 'Create Table' FROM " + schema + ".sqlite_master WHERE type='table' AND name='"
                    + table.replace("'", "''") + "'");
        }
        Matcher fields = SHOW_FIELDS.matcher(bare);
        if (fields.matches()) {
            String schema = fields.group(1) == null ? "main" : identifier(fields.group(1));
            return AdminDatabase.run(session, "SELECT name AS Field, 'varchar(255)' AS Type,"
                    + " CASE WHEN \"notnull\" = 0 THEN 'YES' ELSE 'NO' END AS 'Null',"
                    + " CASE WHEN pk > 0 THEN 'PRI' ELSE '' END AS 'Key', '' AS 'Default', '' AS Extra"
                    + " FROM pragma_table_info('" + fields.group(2).replace("'", "''") + "', '" + schema + "')");
        }
        return null;
    }

    /** {@code SHOW TABLE STATUS LIKE 't'}: MySQL's 18 columns, with SQLite as engine and the row count. */
    private AdminResponse tableStatus(Connection session, String pattern) throws SQLException {
        var names = new ArrayList<String>();
        try (var st = session.createStatement(); var rs = st.executeQuery("SELECT name FROM sqlite_master"
                + " WHERE type='table' AND name LIKE '" + pattern + "' ORDER BY name")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        var rows = new ArrayList<List<String>>();
        for (String name : names) {
            String count;
            try (var st = session.createStatement(); var rs = st.executeQuery("SELECT COUNT(*) FROM " + name)) {
                count = rs.next() ? rs.getString(1) : "0";
            }
            rows.add(Arrays.asList(name, "SQLite", "10", "Dynamic", count, "0", "0", "0", "0", "0", null, null, null,
                    null, "utf8_bin", null, "", ""));
        }
        return new AdminResponse.ResultSet(List.of("Name", "Engine", "Version", "Row_format", "Rows",
                "Avg_row_length", "Data_length", "Max_data_length", "Index_length", "Data_free", "Auto_increment",
                "Create_time", "Update_time", "Check_time", "Collation", "Checksum", "Create_options", "Comment"),
                rows);
    }

    /** {@code SHOW VARIABLES [LIKE ... | WHERE ...]}: ProxySQL variables plus the values MySQL clients probe. */
    private AdminResponse showVariables(String kind, String condition) throws SQLException {
        String base = "SELECT variable_name AS Variable_name, variable_value AS Value FROM main.global_variables";
        if (kind == null) {
            return AdminDatabase.run(db.adminConnection(), base + " ORDER BY variable_name");
        }
        var union = new StringBuilder(base);
        var extra = new TreeMap<>(CLIENT_VARIABLES);
        extra.put("max_allowed_packet", holder.current().mysqlVariables().values()
                .getOrDefault("max_allowed_packet", "67108864"));
        extra.put("version", holder.current().adminVariables().values().getOrDefault("version", ""));
        extra.put("read_only", adminReadOnly() ? "ON" : "OFF");
        extra.forEach((k, v) -> union.append(" UNION ALL SELECT '").append(k).append("', '")
                .append(v.replace("'", "''")).append('\''));
        String where = kind.equalsIgnoreCase("LIKE") ? "Variable_name LIKE " + condition : condition;
        return AdminDatabase.run(db.adminConnection(), "SELECT * FROM (" + union + ") WHERE " + where + " ORDER BY Variable_name");
    }

    private static String identifier(String name) {
        return name.replace("`", "").replace("'", "").replace("\"", "");
    }

    /** {@code 'x'} or {@code "x"} becomes {@code x} (doubled quotes undone); anything else is kept as typed. */
    static String unquote(String value) {
        if (value.length() >= 2) {
            char q = value.charAt(0);
            if ((q == '\'' || q == '"') && value.charAt(value.length() - 1) == q) {
                String inner = value.substring(1, value.length() - 1);
                return inner.replace(String.valueOf(q) + q, String.valueOf(q)).replace("\\" + q, String.valueOf(q));
            }
        }
        return value;
    }

}
