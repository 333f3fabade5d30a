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
import java.sql.SQLException;
import java.sql.Statement;
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
    /** ProxyFleet's own: {@code PROXYFLEET CLUSTER DIFF <id> <id>}, {@code PROXYFLEET CLUSTER ROLLBACK TO <id>}. */
    private static final Pattern CLUSTER_HISTORY = Pattern.compile(
            "^PROXYFLEET CLUSTER (?:DIFF (\\d{1,18}) (\\d{1,18})|ROLLBACK TO (\\d{1,18}))$");
    /** ProxyFleet's own, sent by ProxyFleet peers only: {@code PROXYFLEET CLUSTER DELTA <module> FROM <checksum>}. */
    private static final Pattern CLUSTER_DELTA =
            Pattern.compile("^PROXYFLEET CLUSTER DELTA (\\w+) FROM (0X[0-9A-F]+)$");
    private static final Pattern LOAD_ONE_USER = Pattern.compile("(?i)^LOAD MYSQL USER (\\S+) TO RUNTIME$");
    private static final Pattern VALID_USER_NAME = Pattern.compile("[A-Za-z0-9+_-]+");
    private static final Pattern KILL = Pattern.compile("^KILL (CONNECTION |QUERY )?(\\d+)$");
    private static final Pattern SET_VARIABLE =
            Pattern.compile("^SET\\s+([A-Za-z0-9_]+-[A-Za-z0-9_-]+)\\s*:?=\\s*(.*)$", Pattern.DOTALL);
    private static final Pattern CHECKSUM = Pattern.compile("^CHECKSUM (?:(DISK|MEMORY|MEM) )?(MYSQL .+)$");
    private static final Pattern PROXY_SELECT = Pattern.compile("(?is)^PROXY_SELECT .* FROM ([A-Za-z0-9_]+).*$");
    /** How every peer's variables fetch starts (§4.9), ProxySQL's and ProxyFleet's alike. */
    private static final String PEER_VARIABLES_FETCH =
            "SELECT * FROM RUNTIME_GLOBAL_VARIABLES WHERE VARIABLE_NAME LIKE '";
    private static final Pattern RUNTIME_GLOBAL_VARIABLES = Pattern.compile("(?i)runtime_global_variables");
    private static final Pattern CLUSTER_NODE_UUID = Pattern.compile("(?i)^PROXYSQL CLUSTER_NODE_UUID (\\S+) (.*)$");
    private static final Pattern CONFIG_TO_FILE =
            Pattern.compile("(?i)^(?:SAVE CONFIG TO FILE|SELECT CONFIG INTO OUTFILE) (.+)$");

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
    private final StatsTables stats;
    private final ClientQueries clientQueries;
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

    private boolean paused;
    /** The node's Prometheus text for SHOW PROMETHEUS METRICS; null until the metrics layer registers it. */
    private Supplier<String> prometheus;

    AdminStatements(AdminDatabase db, RuntimeModules modules, ConfigHolder holder, RuntimeStatsSource stats,
                    NodeControl control, Path configFile, boolean configReadable) {
        this.db = db;
        this.modules = modules;
        this.holder = holder;
        this.control = control;
        this.configFile = configReadable ? configFile : null;
        this.stats = new StatsTables(db, stats);
        this.clientQueries = new ClientQueries(db, holder, this.stats);
    }

    void registerTableSource(String table, Supplier<List<List<Object>>> rows) {
        stats.register(table, rows);
    }

    void registerPrometheus(Supplier<String> text) {
        prometheus = text;
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
            AdminResponse answer = proxySelect(bare);
            if (answer != null) {
                return answer;
            }
        }
        if (admin && bareUpper.startsWith(PEER_VARIABLES_FETCH)) {
            // A peer's variables pull (§4.9): ProxySQL's variables only, exactly the rows that were hashed.
            return AdminDatabase.run(db.adminConnection(),
                    RUNTIME_GLOBAL_VARIABLES.matcher(bare).replaceFirst(VariablesModule.SYNCED_VARIABLES));
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
        AdminResponse answer = clientQueries.housekeeping(who, bare, bareUpper);
        if (answer != null) {
            return answer;
        }
        // Matched on the uncollapsed text so that a quoted value keeps its spaces.
        Matcher set = SET_VARIABLE.matcher(stripLeadingComment(text));
        if (set.matches()) {
            if (!admin) {
                return Error.admin("only SELECT statements are allowed for stats users");
            }
            return setVariable(set.group(1), ClientQueries.unquote(set.group(2).strip()));
        }
        if (bareUpper.startsWith("SET ")) {
            return Ok.empty();
        }
        if (bareUpper.equals("SHOW PROMETHEUS METRICS")) {
            return prometheus == null ? Error.admin("Prometheus metrics are not available on this node")
                    : AdminResponse.ResultSet.single("Data", prometheus.get());
        }
        answer = clientQueries.show(who, bare, bareUpper);
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
        if (upper.startsWith("PROXYSQL ") || upper.equals("PROXYFLEET DRAIN") || upper.equals("PROXYFLEET UNDRAIN")) {
            return proxysqlCommand(who, bare, upper);
        }
        Matcher history = CLUSTER_HISTORY.matcher(upper);
        if (history.matches()) {
            if (history.group(1) != null) {
                return modules.history().diff(Long.parseLong(history.group(1)), Long.parseLong(history.group(2)));
            }
            modules.rollback(Long.parseLong(history.group(3)), who.username());
            return Ok.empty();
        }
        Matcher delta = CLUSTER_DELTA.matcher(upper);
        if (delta.matches()) {
            return modules.delta(delta.group(1).toLowerCase(Locale.ROOT), "0x" + delta.group(2).substring(2));
        }
        Matcher loadSave = LOAD_SAVE.matcher(upper);
        if (loadSave.matches()) {
            AdminResponse answer = loadSave(who, loadSave.group(1), loadSave.group(2), loadSave.group(3),
                    loadSave.group(4));
            if (answer != null) {
                return answer;
            }
        }
        Matcher oneUser = LOAD_ONE_USER.matcher(bare);
        if (oneUser.matches()) {
            String name = oneUser.group(1);
            if (!VALID_USER_NAME.matcher(name).matches()) {
                throw new AdminException("Invalid name " + name);
            }
            modules.loadUser(name, who.username());
            return Ok.empty();
        }
        if (upper.equals("LOAD COREDUMP TO RUNTIME") || upper.equals("LOAD COREDUMP TO RUN")
                || upper.equals("LOAD COREDUMP FROM MEMORY") || upper.equals("LOAD COREDUMP FROM MEM")) {
            return Ok.empty();
        }
        Matcher kill = KILL.matcher(upper);
        if (kill.matches()) {
            long id;
            try {
                id = Long.parseLong(kill.group(2));
            } catch (NumberFormatException tooLong) {
                // More digits than a long holds: no session has that id (found by the admin SQL fuzzer).
                return new Error(1094, "HY000", "Unknown thread id: " + kill.group(2));
            }
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
            String path = ClientQueries.unquote(toFile.group(1).strip());
            try {
                Files.writeString(Path.of(path), ConfigFile.render(db), StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                LOG.error("Writing the config file {} failed: {}", path, e.toString());
                throw new AdminException("Unable to write config file " + path + ": " + e.getMessage(), e);
            }
            return new Ok(0, "File " + path + " is saved.");
        }
        return null;
    }

    private AdminResponse proxysqlCommand(AdminPrincipal who, String bare, String upper)
            throws SQLException, AdminException {
        switch (upper) {
            case "PROXYSQL START" -> {
                if (!control.start()) {
                    throw new AdminException("ProxySQL already started");
                }
                return Ok.empty();
            }
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
            case "PROXYFLEET DRAIN" -> {
                control.drain();
                return Ok.empty();
            }
            case "PROXYFLEET UNDRAIN" -> {
                control.undrain();
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
            case "PROXYSQL FLUSH QUERY CACHE" -> {
                control.flushQueryCache();
                return Ok.empty();
            }
            case "PROXYSQL FLUSH MYSQL CLIENT HOSTS", "PROXYSQL FLUSH CONFIGDB" -> {
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
        if (bare.equalsIgnoreCase("PROXYSQL CLUSTER_NOTIFY")) {
            String[] announced = announcedPeers.get(who.clientAddress());
            control.clusterNotified(announced == null ? null : announced[1]);
            return Ok.empty();
        }
        Matcher uuid = CLUSTER_NODE_UUID.matcher(bare);
        if (uuid.matches()) {
            LOG.info("Received PROXYSQL CLUSTER_NODE_UUID from {} : {}", who.clientAddress(), uuid.group(1));
            String[] before = announcedPeers.put(who.clientAddress(), new String[] {uuid.group(1), uuid.group(2)});
            if (before == null || !before[0].equals(uuid.group(1))) {
                LOG.info("Created new link with Cluster node {} : {} at interface {}", who.clientAddress(),
                        uuid.group(1), uuid.group(2));
            }
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

    private AdminResponse loadSave(AdminPrincipal who, String verb, String words, String preposition, String layer)
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
                modules.loadToRuntime(module, new LoadOrigin.Local(who.username()));
                return Ok.empty();
            }
            case "SAVE TO MEMORY", "SAVE FROM RUNTIME" -> {
                modules.saveToMemory(module);
                return Ok.empty();
            }
            case "SAVE TO DISK", "SAVE FROM MEMORY" -> {
                try {
                    modules.saveToDisk(module);
                } catch (SQLException e) {
                    // A full disk or a read-only datadir must reach the operator's log, not only this client.
                    LOG.error("SAVE {} TO DISK failed, {} keeps its previous contents: {}", module.words(),
                            db.diskFile(), AdminDatabase.sqliteMessage(e));
                    throw e;
                }
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

    // ---------------------------------------------------------------- SET (§1.6)

    private AdminResponse setVariable(String name, String value) throws SQLException, AdminException {
        long changed = db.update("UPDATE main.global_variables SET variable_value = ? WHERE variable_name = ?",
                value, name.toLowerCase(Locale.ROOT));
        if (changed == 0) {
            throw new AdminException("Unknown global variable: '" + name + "'.");
        }
        return new Ok(changed, "");
    }

    // ---------------------------------------------------------------- plain SQL

    private AdminResponse executeAdminSql(String text) throws SQLException {
        String lower = text.toLowerCase(Locale.ROOT);
        stats.refresh(lower);
        modules.refreshRuntimeTables(lower);
        Connection c = db.adminConnection();
        boolean readOnly = adminReadOnly();
        if (readOnly) {
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA query_only = ON");
            }
        }
        try {
            return AdminDatabase.run(c, text);
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
        stats.refresh(lower);
        if (lower.contains("global_variables")) {
            db.update("DELETE FROM stats.global_variables");
            db.update("INSERT INTO stats.global_variables SELECT * FROM main.global_variables");
        }
        return AdminDatabase.run(db.statsConnection(), text);
    }

}
