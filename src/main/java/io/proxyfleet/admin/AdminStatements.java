package io.proxyfleet.admin;

import io.proxyfleet.admin.AdminDatabase.Table;
import io.proxyfleet.admin.AdminResponse.Error;
import io.proxyfleet.admin.AdminResponse.Ok;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.checksum.Checksums;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers one admin statement the way ProxySQL's {@code admin_session_handler} does (reference §1.5-§1.9):
 * cluster queries, {@code LOAD}/{@code SAVE}, {@code PROXYSQL ...} commands, the housekeeping queries of MySQL
 * clients, and finally plain SQL on SQLite.
 *
 * <p>Thread ownership: the engine's admin thread only.
 */
final class AdminStatements {
    private static final Logger LOG = LoggerFactory.getLogger(AdminStatements.class);

    private static final Pattern LOAD_SAVE =
            Pattern.compile("^(LOAD|SAVE) (.+) (TO|FROM) (RUNTIME|RUN|MEMORY|MEM|DISK|CONFIG)$");
    private static final Pattern KILL = Pattern.compile("^KILL (CONNECTION |QUERY )?(\\d+)$");
    private static final Pattern SET_VARIABLE =
            Pattern.compile("^SET\\s+([A-Za-z0-9_]+-[A-Za-z0-9_-]+)\\s*:?=\\s*(.*)$", Pattern.DOTALL);
    private static final Pattern CHECKSUM = Pattern.compile("^CHECKSUM (?:(DISK|MEMORY|MEM) )?(MYSQL .+)$");
    private static final Pattern PROXY_SELECT = Pattern.compile("(?is)^PROXY_SELECT .* FROM ([A-Za-z0-9_]+).*$");
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
    private static final Pattern SHOW_VARIABLES = Pattern.compile(
            "(?i)^SHOW (?:(?:GLOBAL|SESSION|ALL|LOCAL) )?VARIABLES(?: (LIKE|WHERE) (.+))?$", Pattern.DOTALL);
    private static final Pattern CLUSTER_NODE_UUID = Pattern.compile("(?i)^PROXYSQL CLUSTER_NODE_UUID (\\S+) (.*)$");
    private static final Pattern CONFIG_TO_FILE =
            Pattern.compile("(?i)^(?:SAVE CONFIG TO FILE|SELECT CONFIG INTO OUTFILE) (.+)$");

    /** Prefixes of statements ProxySQL acknowledges without doing anything (§1.7). */
    private static final List<String> NO_OP_PREFIXES = List.of("BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK",
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

    /** The tables the CHECKSUM command knows, by command words, with their ordering key. */
    private static final Map<String, String[]> CHECKSUM_TABLES = Map.of(
            "MYSQL SERVERS", new String[] {"mysql_servers", "hostgroup_id, hostname, port"},
            "MYSQL USERS", new String[] {"mysql_users", "username"},
            "MYSQL QUERY RULES", new String[] {"mysql_query_rules", "rule_id"},
            "MYSQL VARIABLES", new String[] {"global_variables", "variable_name"},
            "MYSQL REPLICATION HOSTGROUPS", new String[] {"mysql_replication_hostgroups", "writer_hostgroup"},
            "MYSQL GROUP REPLICATION HOSTGROUPS", new String[] {"mysql_group_replication_hostgroups", "writer_hostgroup"},
            "MYSQL GALERA HOSTGROUPS", new String[] {"mysql_galera_hostgroups", "writer_hostgroup"},
            "MYSQL AURORA HOSTGROUPS", new String[] {"mysql_aws_aurora_hostgroups", "writer_hostgroup"},
            "MYSQL HOSTGROUP ATTRIBUTES", new String[] {"mysql_hostgroup_attributes", "hostgroup_id"},
            "MYSQL SERVERS SSL PARAMS", new String[] {"mysql_servers_ssl_params", "hostname, port, username"});

    private final AdminDatabase db;
    private final RuntimeModules modules;
    private final ConfigHolder holder;
    private final NodeControl control;
    private final Path configFile;
    /** stats table name to the supplier of its rows, refreshed when a query mentions the table. */
    private final Map<String, Supplier<List<List<Object>>>> tableSources = new LinkedHashMap<>();
    /**
     * Cluster peers that announced themselves, by client address: {uuid, admin interfaces}. Each reconnect comes
     * from a new ephemeral port, so the oldest entries are dropped beyond a bound.
     */
    private final Map<String, String[]> announcedPeers = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String[]> eldest) {
            return size() > MAX_ANNOUNCED_PEERS;
        }
    };
    private static final int MAX_ANNOUNCED_PEERS = 1024;
    /** Tables of the monitor schema; every other table a source feeds lives in stats. */
    private static final Set<String> MONITOR_TABLES = monitorTables();

    private static Set<String> monitorTables() {
        var names = new java.util.HashSet<String>();
        for (String ddl : AdminDatabase.ddl("monitor")) {
            names.add(ddl.substring("CREATE TABLE ".length(), ddl.indexOf(' ', "CREATE TABLE ".length())));
        }
        return Set.copyOf(names);
    }
    private boolean paused;

    AdminStatements(AdminDatabase db, RuntimeModules modules, ConfigHolder holder, RuntimeStatsSource stats,
                    NodeControl control, Path configFile, boolean configReadable) {
        this.db = db;
        this.modules = modules;
        this.holder = holder;
        this.control = control;
        this.configFile = configReadable ? configFile : null;
        tableSources.put("stats_mysql_connection_pool_reset", stats::connectionPool);
        tableSources.put("stats_mysql_connection_pool", stats::connectionPool);
        tableSources.put("stats_mysql_processlist", stats::processlist);
        tableSources.put("stats_mysql_commands_counters", stats::commandsCounters);
        tableSources.put("stats_mysql_global", stats::global);
        tableSources.put("stats_mysql_users", stats::users);
        tableSources.put("stats_mysql_errors_reset", stats::errors);
        tableSources.put("stats_mysql_errors", stats::errors);
        tableSources.put("stats_mysql_free_connections", stats::freeConnections);
    }

    void registerTableSource(String table, Supplier<List<List<Object>>> rows) {
        tableSources.put(table.toLowerCase(Locale.ROOT), rows);
    }

    /** Answers one statement; every failure becomes an error response. */
    AdminResponse handle(AdminPrincipal who, String sql) {
        try {
            AdminResponse response = dispatch(who, sql == null ? "" : sql);
            touchAnnouncedPeer(who);
            return response;
        } catch (AdminException e) {
            return Error.admin(e.getMessage());
        } catch (SQLException e) {
            return sqlError(e);
        } catch (RuntimeException e) {
            LOG.error("admin statement failed unexpectedly: {}", sql, e);
            return Error.admin("internal error: " + e);
        }
    }

    private static AdminResponse sqlError(SQLException e) {
        String message = AdminDatabase.sqliteMessage(e);
        if (message.contains("database is locked")) {
            return new Error(1205, "HY000", AdminResponse.ERROR_PREFIX + message);
        }
        return Error.admin(message);
    }

    // ---------------------------------------------------------------- dispatch (§1.8 order)

    private AdminResponse dispatch(AdminPrincipal who, String sql) throws SQLException, AdminException {
        String text = stripTrailing(sql);
        String norm = text.replaceAll("\\s+", " ");
        if (norm.isEmpty()) {
            return Ok.empty();
        }
        String upper = norm.toUpperCase(Locale.ROOT);
        boolean admin = who.role() == AdminRole.ADMIN;
        if (upper.startsWith("/*!")) {
            return Ok.empty();
        }
        // Connectors prefix statements with an identifying comment; matching ignores it.
        String bare = stripLeadingComment(norm);
        String bareUpper = bare.toUpperCase(Locale.ROOT);

        if (admin && bareUpper.startsWith("LOGENTRY ")) {
            LOG.info("Received command LOGENTRY: {}", bare.substring("LOGENTRY ".length()));
            return Ok.empty();
        }
        if (admin && bareUpper.startsWith("PROXY_SELECT ")) {
            AdminResponse answer = proxySelect(text);
            if (answer != null) {
                return answer;
            }
        }
        if (admin && bareUpper.matches("^TRUNCATE (TABLE )?(STATS\\.)?STATS_MYSQL_QUERY_DIGEST(_RESET)?$")) {
            db.update("DELETE FROM stats.stats_mysql_query_digest");
            db.update("DELETE FROM stats.stats_mysql_query_digest_reset");
            return Ok.empty();
        }
        if (bareUpper.equals("SHOW GLOBAL VARIABLES LIKE 'READ_ONLY'")) {
            return new AdminResponse.ResultSet(List.of("Variable_name", "Value"),
                    List.of(List.of("read_only", adminReadOnly() ? "ON" : "OFF")));
        }
        if (admin) {
            AdminResponse answer = adminCommand(who, bare, bareUpper);
            if (answer != null) {
                return answer;
            }
        }
        AdminResponse answer = housekeeping(who, bare, bareUpper);
        if (answer != null) {
            return answer;
        }
        Matcher set = SET_VARIABLE.matcher(bare);
        if (set.matches()) {
            if (!admin) {
                return Error.admin("only SELECT statements are allowed for stats users");
            }
            return setVariable(set.group(1), unquote(set.group(2).strip()));
        }
        if (bareUpper.startsWith("SET ")) {
            return Ok.empty();
        }
        answer = show(who, bare, bareUpper);
        if (answer != null) {
            return answer;
        }
        return admin ? executeAdminSql(text) : executeStatsSql(text, bareUpper);
    }

    private static String stripTrailing(String sql) {
        int end = sql.length();
        while (end > 0 && (sql.charAt(end - 1) == ';' || Character.isWhitespace(sql.charAt(end - 1)))) {
            end--;
        }
        return sql.substring(0, end).strip();
    }

    private static String stripLeadingComment(String norm) {
        String s = norm;
        while (s.startsWith("/*") && !s.startsWith("/*!")) {
            int close = s.indexOf("*/");
            if (close < 0) {
                return s;
            }
            s = s.substring(close + 2).strip();
        }
        return s;
    }

    // ---------------------------------------------------------------- admin-only commands

    private AdminResponse adminCommand(AdminPrincipal who, String bare, String upper)
            throws SQLException, AdminException {
        if (upper.equals("SELECT GLOBAL_CHECKSUM()")) {
            return AdminResponse.ResultSet.single("CHECKSUM",
                    Long.toString(Checksums.globalChecksum(modules.versions())));
        }
        if (upper.startsWith("PROXYSQL ")) {
            return proxysqlCommand(who, bare, upper);
        }
        Matcher loadSave = LOAD_SAVE.matcher(upper);
        if (loadSave.matches()) {
            AdminResponse answer = loadSave(loadSave.group(1), loadSave.group(2), loadSave.group(3),
                    loadSave.group(4));
            if (answer != null) {
                return answer;
            }
        }
        if (upper.equals("LOAD COREDUMP TO RUNTIME") || upper.equals("LOAD COREDUMP TO RUN")
                || upper.equals("LOAD COREDUMP FROM MEMORY") || upper.equals("LOAD COREDUMP FROM MEM")) {
            return Ok.empty();
        }
        Matcher kill = KILL.matcher(upper);
        if (kill.matches()) {
            long id = Long.parseLong(kill.group(2));
            boolean query = "QUERY ".equals(kill.group(1));
            boolean found = query ? control.killQuery(id) : control.killConnection(id);
            return found ? Ok.empty() : new Error(1094, "HY000", "Unknown thread id: " + id);
        }
        if (upper.equals("SIGNAL MYSQL THREADS")) {
            return Ok.empty();
        }
        Matcher checksum = CHECKSUM.matcher(upper);
        if (checksum.matches() && CHECKSUM_TABLES.containsKey(checksum.group(2))) {
            return checksumCommand(checksum.group(1), checksum.group(2));
        }
        if (upper.equals("SELECT CONFIG FILE")) {
            return AdminResponse.ResultSet.single("Data", ConfigFile.render(db));
        }
        Matcher toFile = CONFIG_TO_FILE.matcher(bare);
        if (toFile.matches()) {
            String path = unquote(toFile.group(1).strip());
            try {
                Files.writeString(Path.of(path), ConfigFile.render(db), StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                throw new AdminException("Unable to write config file " + path + ": " + e.getMessage(), e);
            }
            return new Ok(0, "File " + path + " is saved.");
        }
        return null;
    }

    private AdminResponse proxysqlCommand(AdminPrincipal who, String bare, String upper)
            throws SQLException, AdminException {
        switch (upper) {
            case "PROXYSQL START" -> throw new AdminException("ProxySQL already started");
            case "PROXYSQL PAUSE" -> {
                if (paused) {
                    throw new AdminException("ProxySQL is already paused");
                }
                control.pause();
                paused = true;
                return Ok.empty();
            }
            case "PROXYSQL RESUME" -> {
                if (!paused) {
                    throw new AdminException("ProxySQL is not paused");
                }
                control.resume();
                paused = false;
                return Ok.empty();
            }
            case "PROXYSQL SHUTDOWN", "PROXYSQL KILL" -> {
                control.shutdown(false);
                return Ok.empty();
            }
            case "PROXYSQL SHUTDOWN SLOW" -> {
                control.shutdown(true);
                return Ok.empty();
            }
            case "PROXYSQL FLUSH LOGS" -> {
                control.flushLogs();
                return Ok.empty();
            }
            case "PROXYSQL RELOAD TLS" -> {
                control.reloadTls();
                return Ok.empty();
            }
            case "PROXYSQL FLUSH QUERY CACHE", "PROXYSQL FLUSH MYSQL CLIENT HOSTS", "PROXYSQL FLUSH CONFIGDB" -> {
                return Ok.empty();
            }
            case "PROXYSQL READONLY" -> {
                setAdminReadOnly(true);
                return Ok.empty();
            }
            case "PROXYSQL READWRITE" -> {
                setAdminReadOnly(false);
                return Ok.empty();
            }
            default -> {
                // handled below
            }
        }
        Matcher uuid = CLUSTER_NODE_UUID.matcher(bare);
        if (uuid.matches()) {
            announcedPeers.put(who.clientAddress(), new String[] {uuid.group(1), uuid.group(2)});
            touchAnnouncedPeer(who);
            return Ok.empty();
        }
        throw new AdminException("unsupported command: " + bare);
    }

    /** Records the peer's visit in {@code stats_proxysql_servers_clients_status} (§4.6, receiving side). */
    private void touchAnnouncedPeer(AdminPrincipal who) {
        String[] peer = announcedPeers.get(who.clientAddress());
        if (peer == null) {
            return;
        }
        try {
            db.update("INSERT OR REPLACE INTO stats.stats_proxysql_servers_clients_status VALUES (?, ?, ?, ?, ?)",
                    peer[0], who.clientHost(), who.clientPort(), peer[1], System.currentTimeMillis() / 1000);
        } catch (SQLException e) {
            LOG.warn("cannot record cluster peer {}: {}", who.clientAddress(), AdminDatabase.sqliteMessage(e));
        }
    }

    private boolean adminReadOnly() {
        return holder.current().adminVariables().getBoolean("read_only");
    }

    private void setAdminReadOnly(boolean readOnly) throws SQLException {
        String value = readOnly ? "true" : "false";
        holder.update(c -> {
            var values = new LinkedHashMap<>(c.adminVariables().values());
            values.put("read_only", value);
            return c.withAdminVariables(new RuntimeConfig.Variables(values, c.adminVariables().version()));
        });
        db.update("UPDATE main.global_variables SET variable_value = ? WHERE variable_name = 'admin-read_only'",
                value);
    }

    // ---------------------------------------------------------------- LOAD / SAVE (§1.5)

    private AdminResponse loadSave(String verb, String words, String preposition, String layer)
            throws SQLException, AdminException {
        var found = AdminModule.byWords(words);
        if (found.isEmpty()) {
            return null;
        }
        AdminModule module = found.get();
        String direction = verb + " " + preposition + " " + switch (layer) {
            case "RUN" -> "RUNTIME";
            case "MEM" -> "MEMORY";
            default -> layer;
        };
        switch (direction) {
            case "LOAD TO RUNTIME", "LOAD FROM MEMORY" -> {
                modules.loadToRuntime(module, List.of());
                return Ok.empty();
            }
            case "SAVE TO MEMORY", "SAVE FROM RUNTIME" -> {
                modules.saveToMemory(module);
                return Ok.empty();
            }
            case "SAVE TO DISK", "SAVE FROM MEMORY" -> {
                modules.saveToDisk(module);
                return Ok.empty();
            }
            case "LOAD TO MEMORY", "LOAD FROM DISK" -> {
                modules.loadFromDisk(module);
                return Ok.empty();
            }
            case "LOAD FROM CONFIG" -> {
                return loadFromConfig(module);
            }
            default -> {
                return null;
            }
        }
    }

    private AdminResponse loadFromConfig(AdminModule module) throws SQLException, AdminException {
        if (configFile == null) {
            throw new AdminException("Config file unknown");
        }
        LibConfig.Group config;
        try {
            config = ConfigFile.read(configFile);
        } catch (IOException | LibConfig.SyntaxException e) {
            throw new AdminException("Unable to open or parse config file " + configFile + ": " + e.getMessage(), e);
        }
        long rows = db.inTransaction(() -> ConfigFile.apply(config, db, Set.of(module)));
        return new Ok(rows, "");
    }

    private AdminResponse checksumCommand(String layer, String words) throws SQLException {
        String[] table = CHECKSUM_TABLES.get(words);
        String schema = "DISK".equals(layer) ? "disk" : "main";
        String where = table[0].equals("global_variables") ? " WHERE variable_name LIKE 'mysql-%'" : "";
        Table rows = db.queryText("SELECT * FROM " + schema + "." + table[0] + where + " ORDER BY " + table[1]);
        long hash = Checksums.rawChecksum(rows.textRows());
        String text = "0x" + Integer.toHexString((int) hash).toUpperCase(Locale.ROOT)
                + Integer.toHexString((int) (hash >>> 32)).toUpperCase(Locale.ROOT);
        return new AdminResponse.ResultSet(List.of("table", "checksum"), List.of(List.of(table[0], text)));
    }

    // ---------------------------------------------------------------- cluster queries (§4.12)

    private AdminResponse proxySelect(String text) {
        Matcher m = PROXY_SELECT.matcher(text);
        if (!m.matches()) {
            return null;
        }
        Table result = modules.clusterResult(m.group(1).toLowerCase(Locale.ROOT));
        return result == null ? null : result.toResponse();
    }

    // ---------------------------------------------------------------- housekeeping (§1.7)

    private AdminResponse housekeeping(AdminPrincipal who, String bare, String upper) throws SQLException {
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
            refreshStats("stats_mysql_global");
            found = db.queryText("SELECT Variable_Value FROM stats.stats_mysql_global"
                    + " WHERE Variable_Name = ? COLLATE NOCASE", name).rows();
        }
        return found.isEmpty() ? null : Table.text(found.getFirst().getFirst());
    }

    // ---------------------------------------------------------------- SET (§1.6)

    private AdminResponse setVariable(String name, String value) throws SQLException, AdminException {
        long changed = db.update("UPDATE main.global_variables SET variable_value = ? WHERE variable_name = ?",
                value, name.toLowerCase(Locale.ROOT));
        if (changed == 0) {
            throw new AdminException("Unknown global variable: '" + name + "'.");
        }
        return new Ok(changed, "");
    }

    // ---------------------------------------------------------------- SHOW (§1.7)

    private AdminResponse show(AdminPrincipal who, String bare, String upper) throws SQLException {
        if (!upper.startsWith("SHOW ") && !upper.startsWith("DESC")) {
            if (who.role() == AdminRole.STATS && (upper.startsWith("PRAGMA") || upper.startsWith("ATTACH"))) {
                return Error.admin("Command not allowed");
            }
            return null;
        }
        Connection session = who.role() == AdminRole.STATS ? db.statsConnection() : db.adminConnection();
        switch (upper) {
            case "SHOW DATABASES", "SHOW SCHEMAS" -> {
                return run(session, "PRAGMA DATABASE_LIST");
            }
            case "SHOW MYSQL STATUS" -> {
                refreshStats("stats_mysql_global");
                return run(db.adminConnection(), "SELECT Variable_Name AS Variable_name, Variable_Value AS Value"
                        + " FROM stats.stats_mysql_global ORDER BY Variable_Name");
            }
            case "SHOW PROCESSLIST" -> {
                refreshStats("stats_mysql_processlist");
                return run(db.adminConnection(), "SELECT SessionID, user, db, hostgroup, command, time_ms,"
                        + " SUBSTR(info,0,100) info FROM stats.stats_mysql_processlist");
            }
            case "SHOW FULL PROCESSLIST" -> {
                refreshStats("stats_mysql_processlist");
                return run(db.adminConnection(), "SELECT * FROM stats.stats_mysql_processlist");
            }
            case "SHOW MYSQL USERS", "SHOW MYSQL SERVERS" -> {
                if (who.role() == AdminRole.STATS) {
                    return Error.admin("only SELECT statements are allowed for stats users");
                }
                return run(db.adminConnection(), upper.endsWith("USERS")
                        ? "SELECT * FROM main.mysql_users ORDER BY username, active DESC, username ASC"
                        : "SELECT * FROM main.mysql_servers ORDER BY hostgroup_id, hostname, port");
            }
            case "SHOW CHARSET", "SHOW CHARACTER SET" -> {
                return run(db.adminConnection(), "SELECT Charset, Collation AS 'Default collation'"
                        + " FROM main.mysql_collations WHERE `Default` = 'Yes' ORDER BY Charset");
            }
            case "SHOW COLLATION" -> {
                return run(db.adminConnection(), "SELECT Collation, Charset, Id FROM main.mysql_collations"
                        + " ORDER BY Id");
            }
            case "SHOW ADMIN VARIABLES", "SHOW MYSQL VARIABLES" -> {
                String prefix = upper.startsWith("SHOW ADMIN") ? "admin-%" : "mysql-%";
                return run(db.adminConnection(), "SELECT variable_name AS Variable_name, variable_value AS Value"
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
            return run(session, "SELECT name AS tables FROM " + schema + ".sqlite_master WHERE type='table'"
                    + " AND name NOT IN ('sqlite_sequence')" + like + " ORDER BY name");
        }
        Matcher create = SHOW_CREATE.matcher(bare);
        if (create.matches()) {
            String schema = create.group(1) == null ? "main" : identifier(create.group(1));
            String table = create.group(2);
            String opening = "CREATE TABLE " + table + " (";
            return run(session, "SELECT name AS 'table', REPLACE(REPLACE(sql,' , ', X'2C0A20202020'), '"
                    + opening.replace("'", "''") + "', '" + opening.replace("'", "''") + "'||X'0A20202020')"
                    + " AS 'Create Table' FROM " + schema + ".sqlite_master WHERE type='table' AND name='"
                    + table.replace("'", "''") + "'");
        }
        Matcher fields = SHOW_FIELDS.matcher(bare);
        if (fields.matches()) {
            String schema = fields.group(1) == null ? "main" : identifier(fields.group(1));
            return run(session, "SELECT name AS Field, 'varchar(255)' AS Type,"
                    + " CASE WHEN \"notnull\" = 0 THEN 'YES' ELSE 'NO' END AS 'Null',"
                    + " CASE WHEN pk > 0 THEN 'PRI' ELSE '' END AS 'Key', '' AS 'Default', '' AS Extra"
                    + " FROM pragma_table_info('" + fields.group(2).replace("'", "''") + "', '" + schema + "')");
        }
        return null;
    }

    /** {@code SHOW VARIABLES [LIKE ... | WHERE ...]}: ProxySQL variables plus the values MySQL clients probe. */
    private AdminResponse showVariables(String kind, String condition) throws SQLException {
        String base = "SELECT variable_name AS Variable_name, variable_value AS Value FROM main.global_variables";
        if (kind == null) {
            return run(db.adminConnection(), base + " ORDER BY variable_name");
        }
        var union = new StringBuilder(base);
        var extra = new java.util.TreeMap<>(CLIENT_VARIABLES);
        extra.put("max_allowed_packet", holder.current().mysqlVariables().values()
                .getOrDefault("max_allowed_packet", "67108864"));
        extra.put("version", holder.current().adminVariables().values().getOrDefault("version", ""));
        extra.put("read_only", adminReadOnly() ? "ON" : "OFF");
        extra.forEach((k, v) -> union.append(" UNION ALL SELECT '").append(k).append("', '")
                .append(v.replace("'", "''")).append('\''));
        String where = kind.equalsIgnoreCase("LIKE") ? "Variable_name LIKE " + condition : condition;
        return run(db.adminConnection(), "SELECT * FROM (" + union + ") WHERE " + where + " ORDER BY Variable_name");
    }

    private static String identifier(String name) {
        return name.replace("`", "").replace("'", "").replace("\"", "");
    }

    // ---------------------------------------------------------------- plain SQL

    private AdminResponse executeAdminSql(String text) throws SQLException {
        String lower = text.toLowerCase(Locale.ROOT);
        refreshStats(lower);
        modules.refreshRuntimeTables(lower);
        Connection c = db.adminConnection();
        boolean readOnly = adminReadOnly();
        if (readOnly) {
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA query_only = ON");
            }
        }
        try {
            return run(c, text);
        } finally {
            if (readOnly) {
                try (Statement st = c.createStatement()) {
                    st.execute("PRAGMA query_only = OFF");
                }
            }
        }
    }

    private AdminResponse executeStatsSql(String text, String bareUpper) throws SQLException {
        if (bareUpper.startsWith("PRAGMA") || bareUpper.startsWith("ATTACH")) {
            return Error.admin("Command not allowed");
        }
        if (!bareUpper.startsWith("SELECT ")) {
            return Error.admin("only SELECT statements are allowed for stats users");
        }
        String lower = text.toLowerCase(Locale.ROOT);
        refreshStats(lower);
        if (lower.contains("global_variables")) {
            db.update("DELETE FROM stats.global_variables");
            db.update("INSERT INTO stats.global_variables SELECT * FROM main.global_variables");
        }
        return run(db.statsConnection(), text);
    }

    /** Copies live rows into every stats table whose name occurs in {@code lowerSql}. */
    private void refreshStats(String lowerSql) throws SQLException {
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

    private static AdminResponse run(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            if (st.execute(sql)) {
                try (ResultSet rs = st.getResultSet()) {
                    return AdminDatabase.read(rs, true).toResponse();
                }
            }
            return new Ok(Math.max(0, st.getUpdateCount()), "");
        }
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
