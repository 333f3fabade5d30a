package io.proxyfleet.admin;

import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlVariables;
import io.proxyfleet.config.QueryRule;
import io.proxyfleet.config.QueryRuleProgram;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.checksum.Checksums;
import io.proxyfleet.protocol.client.QueryResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ProxySQL's admin SQL engine: the {@code main}/{@code disk}/{@code stats}/{@code monitor} SQLite schemas, every
 * {@code LOAD}/{@code SAVE} command, the housekeeping queries MySQL clients send, and the server side of the
 * cluster protocol (reference §1-§4, §6).
 *
 * <h2>Threading</h2>
 * All SQLite work runs on one dedicated platform thread, {@code proxyfleet-admin}, owned by this object. Every
 * public method may be called from any thread (Netty event loops included): statements are queued to the admin
 * thread and answered through a {@link CompletableFuture}, so callers never block on SQLite. Statements run one
 * at a time in arrival order, like ProxySQL's global admin mutex. {@link #moduleVersions()},
 * {@link #globalChecksum()}, {@link #account(String)} and {@link #nodeUuid()} read published snapshots and do not
 * queue.
 *
 * <h2>API for the admin listener</h2>
 * {@link #execute(AdminPrincipal, String)} runs one statement for a logged-in user and never completes
 * exceptionally: failures become {@link AdminResponse.Error} with a {@code ProxySQL Admin Error:} message, and
 * leave the configuration unchanged. {@link #account(String)} resolves logins from the runtime admin variables.
 * The answer of {@code SELECT GLOBAL_CHECKSUM()} has the single column {@code CHECKSUM}; ProxySQL sends it as
 * {@code MYSQL_TYPE_LONGLONG}.
 *
 * <h2>API for the cluster layer</h2>
 * <ul>
 *   <li>{@link #moduleVersions()}: {@code (version, epoch, checksum)} of each checksum module, keyed
 *       {@code admin_variables}, {@code mysql_query_rules}, {@code mysql_servers}, {@code mysql_servers_v2},
 *       {@code mysql_users}, {@code mysql_variables}, {@code proxysql_servers} (what
 *       {@code runtime_checksums_values} shows). Version 1 means "loaded at boot, never since".</li>
 *   <li>{@link #globalChecksum()}: what {@code SELECT GLOBAL_CHECKSUM()} answers (§4.3.5).</li>
 *   <li>{@link #runSql(String)}: run one statement on the admin thread with full admin rights, exactly as an
 *       admin session would (also useful to read {@code runtime_*} tables locally).</li>
 *   <li>{@link #runInTransaction(List)}: run several plain SQL statements atomically (the monitor's log writer).
 *       On any error nothing is changed and the future fails with an {@link IllegalStateException} carrying
 *       SQLite's message. Never for rows from a peer: those go through {@link #applyPulled}.</li>
 *   <li>{@link #applyPulled}: the whole apply step of a pull as one admin-thread step that no user statement can
 *       interleave with (ProxySQL holds its admin mutex across it): the module's {@code main} tables rewritten
 *       from the fetched rows (only columns of the local schema, values bound as parameters), the module loaded
 *       to runtime, and saved to disk if asked. The checksum is always computed here; the peer's epoch is adopted
 *       only when it equals the advertised one, and otherwise the pull is refused (variables: ProxySQL's rule,
 *       loaded with a new epoch). A wait that times out withdraws the work ({@link QueuedWork}).</li>
 *   <li>{@link #applyPulledDelta}: the same for a delta of {@code mysql_users} from a ProxyFleet peer (only the
 *       rows changed since what runs here, as this engine answers {@code PROXYFLEET CLUSTER DELTA mysql_users FROM
 *       <checksum>} to its own peers); refused unless the checksum computed here over all the rows is the
 *       advertised one.</li>
 *   <li>{@link #clusterView(ClusterView)}: the cluster layer's view of its peers, for concurrent-edit detection
 *       and for telling peers about local loads only.</li>
 *   <li>{@link #saveToDisk(AdminModule)}: {@code SAVE <module> TO DISK}, one SQLite transaction.</li>
 *   <li>{@link #loadRuntimeServers(List, List, boolean)}: the runtime-only servers pull (sync algorithm 1).</li>
 *   <li>{@link #runtimeServersChanged()}: for the root wiring, when the monitor changed runtime servers.</li>
 *   <li>{@link #registerTableSource(String, Supplier)}: supply the rows of a {@code stats} table (such as
 *       {@code stats_proxysql_servers_checksums} or {@code stats_proxysql_servers_metrics}) or {@code monitor}
 *       table ({@code mysql_server_ping_log}, ...); the engine copies them into the table whenever a query
 *       mentions it. Suppliers are called on the admin thread.</li>
 * </ul>
 * The {@code PROXY_SELECT} queries a remote peer sends are answered by {@link #execute} from the result sets
 * saved at the last load to runtime, so what a peer fetches is exactly what was hashed.
 */
public final class AdminEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminEngine.class);

    /** File name of the disk schema inside the data directory, as ProxySQL names it. */
    public static final String DB_FILE = "proxysql.db";
    private static final long CLOSE_WAIT_SECONDS = 10;
    /** {@code mysql_users} tables smaller than this are not served as deltas: a whole pull of them is cheap. */
    public static final int DELTA_MIN_ROWS = ClusterDelta.MIN_DELTA_ROWS;

    private final ExecutorService thread;
    private final AdminDatabase db;
    private final ConfigHolder holder;
    private final RuntimeModules modules;
    private final AdminStatements statements;
    private final String nodeUuid;
    private final ClusterWaitStatements clusterWaits;

    private AdminEngine(ExecutorService thread, AdminDatabase db, ConfigHolder holder, RuntimeModules modules,
                        AdminStatements statements, String nodeUuid) {
        this.thread = thread;
        this.db = db;
        this.holder = holder;
        this.modules = modules;
        this.statements = statements;
        this.nodeUuid = nodeUuid;
        this.clusterWaits = new ClusterWaitStatements(holder);
    }

    /**
     * Lets {@code PROXYFLEET WAIT CLUSTER} and {@code admin-proxyfleet_cluster_load_wait} wait on {@code waits};
     * set once by the node wiring when the cluster starts.
     */
    public void clusterWaits(ClusterWaits waits) {
        clusterWaits.waits(waits);
    }

    /**
     * Opens (or creates) {@code <dataDir>/proxysql.db}, applies the config file when §6.5 says so, and loads every
     * module to runtime (each module at version 1), publishing through {@code holder}.
     *
     * @param configFileOrNull the ProxySQL config file, or null for embedded defaults. It is parsed at every start,
     *                         so a syntax error stops the node (the exception names the line); its sections are
     *                         only used when the database did not exist, with {@code initial} (which first moves
     *                         the database aside to {@code proxysql.db.bak}), or with {@code reload} (merge)
     * @param ruleCompiler     builds the routing program of the active query rules; may throw
     *                         {@link IllegalArgumentException} to refuse them
     * @throws IOException  the data directory or config file cannot be read
     * @throws AdminStartupException the config file or database is unusable
     */
    public static AdminEngine open(Path dataDir, Path configFileOrNull, boolean initial, boolean reload,
                                   ConfigHolder holder, Function<List<QueryRule>, QueryRuleProgram> ruleCompiler,
                                   RuntimeStatsSource stats, NodeControl control)
            throws IOException, AdminStartupException {
        return open(dataDir, configFileOrNull, initial, reload, holder, ruleCompiler, stats, control, null);
    }

    /**
     * As {@link #open(Path, Path, boolean, boolean, ConfigHolder, Function, RuntimeStatsSource, NodeControl)},
     * with the command line's {@code -U}: the node UUID when the config file sets none (then kept on disk).
     */
    public static AdminEngine open(Path dataDir, Path configFileOrNull, boolean initial, boolean reload,
                                   ConfigHolder holder, Function<List<QueryRule>, QueryRuleProgram> ruleCompiler,
                                   RuntimeStatsSource stats, NodeControl control, String uuidOrNull)
            throws IOException, AdminStartupException {
        Files.createDirectories(dataDir);
        LibConfig.Group config = null;
        if (configFileOrNull != null) {
            try {
                config = ConfigFile.read(configFileOrNull);
            } catch (LibConfig.SyntaxException e) {
                throw new AdminStartupException("Error parsing config file " + configFileOrNull + " at "
                        + e.getMessage(), e);
            }
        }
        Path dbFile = dataDir.resolve(DB_FILE);
        if (initial && Files.exists(dbFile)) {
            Files.move(dbFile, dataDir.resolve(DB_FILE + ".bak"), StandardCopyOption.REPLACE_EXISTING);
        }
        boolean fresh = !Files.exists(dbFile);
        ExecutorService thread = Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("proxyfleet-admin").daemon(true).unstarted(r));
        LibConfig.Group cfg = config;
        try {
            return thread.submit(() -> boot(thread, dbFile, configFileOrNull, cfg, fresh || reload, holder,
                    ruleCompiler, stats, control, uuidOrNull)).get();
        } catch (ExecutionException e) {
            thread.shutdownNow();
            Throwable cause = e.getCause();
            if (cause instanceof AdminStartupException ase) {
                throw ase;
            }
            throw new AdminStartupException("admin database failed to start: " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
            throw new AdminStartupException("interrupted while starting the admin database", e);
        }
    }

    /**
     * The top-level {@code datadir} of a ProxySQL config file, which ProxySQL uses when {@code -D} is absent; empty
     * when the file sets none or cannot be read (opening the engine then reports why).
     */
    public static Optional<Path> configuredDataDir(Path configFile) {
        try {
            return ConfigFile.read(configFile).settings().get("datadir") instanceof LibConfig.Str s
                    && !s.value().isBlank() ? Optional.of(Path.of(s.value())) : Optional.empty();
        } catch (IOException | LibConfig.SyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** What ProxySQL's config file may hold that ProxyFleet does not take over, and why. */
    private static final Map<String, String> NOT_TAKEN_OVER = Map.of(
            "errorlog", "ProxyFleet logs to proxysql.log in the data directory",
            "pidfile", "ProxyFleet writes proxysql.pid in the data directory",
            "restart_on_missing_heartbeats", "ProxyFleet has no watchdog process; let systemd restart it",
            "execute_on_exit_failure", "ProxyFleet has no watchdog process; use systemd's OnFailure=",
            "sqlite3_plugin", "plugins are ProxySQL shared objects",
            "web_interface_plugin", "plugins are ProxySQL shared objects",
            "ldap_auth_plugin", "LDAP authentication (a ProxySQL plugin) is not supported",
            "ldap_variables", "LDAP authentication (a ProxySQL plugin) is not supported");

    /** One clear line for each setting of the file that is read but not taken over. */
    private static void reportNotTakenOver(LibConfig.Group config, Path file) {
        if (config == null) {
            return;
        }
        for (String key : config.settings().keySet()) {
            String why = NOT_TAKEN_OVER.get(key);
            if (why != null) {
                LOG.warn("Config file {}: '{}' is not taken over: {}", file, key, why);
            }
        }
    }

    /** Runs on the admin thread: §6.5 start-up. */
    private static AdminEngine boot(ExecutorService thread, Path dbFile, Path configFile, LibConfig.Group config,
                                    boolean applyConfig, ConfigHolder holder,
                                    Function<List<QueryRule>, QueryRuleProgram> ruleCompiler,
                                    RuntimeStatsSource stats, NodeControl control, String uuidFlag)
            throws Exception {
        AdminDatabase db;
        try {
            db = AdminDatabase.open(dbFile);
        } catch (SQLException e) {
            throw new AdminStartupException("cannot open " + dbFile + ": " + AdminDatabase.sqliteMessage(e), e);
        }
        try {
            reportNotTakenOver(config, configFile);
            LibConfig.Value sync = config == null ? null : config.settings().get("cluster_sync_interfaces");
            boolean syncInterfaces = sync instanceof LibConfig.Bool b && b.value()
                    || sync instanceof LibConfig.Int i && i.value() != 0;
            var modules = new RuntimeModules(db, holder, ruleCompiler, control, syncInterfaces);
            modules.liveStatus(stats);
            String uuid = db.inTransaction(() -> {
                writeDefaults(db);
                modules.openHistory();
                for (AdminModule module : AdminModule.values()) {
                    modules.copy(module, "disk", "main");
                }
                if (applyConfig && config != null) {
                    long rows = ConfigFile.apply(config, db, EnumSet.allOf(AdminModule.class));
                    LOG.info("Read {} rows from config file {}", rows, configFile);
                }
                if (applyConfig) {
                    for (AdminModule module : AdminModule.values()) {
                        modules.copy(module, "main", "disk");
                    }
                }
                topLevelReportedVersion(db, config);
                long ldapRows = ((Number) db.query("SELECT COUNT(*) FROM disk.mysql_ldap_mapping").rows()
                        .getFirst().getFirst()).longValue();
                if (ldapRows > 0) {
                    LOG.warn("proxysql.db has {} rows in mysql_ldap_mapping: LDAP authentication (a ProxySQL"
                            + " plugin) is not supported; they stay on disk unused", ldapRows);
                }
                String configured = config != null && config.settings().get("uuid") instanceof LibConfig.Str u
                        && !u.value().isBlank() ? u.value() : uuidFlag;
                return nodeUuid(db, configured);
            });
            for (AdminModule module : AdminModule.values()) {
                modules.loadToRuntime(module, LoadOrigin.BOOT);
            }
            var statements = new AdminStatements(db, modules, holder, stats, control, configFile, config != null);
            return new AdminEngine(thread, db, holder, modules, statements, uuid);
        } catch (SQLException e) {
            db.close();
            throw new AdminStartupException("cannot initialise the admin database: "
                    + AdminDatabase.sqliteMessage(e), e);
        } catch (Exception e) {
            db.close();
            throw e;
        }
    }

    /**
     * The config file's top-level {@code reported_version}, read at every start like ProxySQL's other top-level
     * settings, sets the node-local {@code admin-reported_version} in memory and on disk. Without it the saved
     * value stays, so a node restarted without {@code -c} keeps reporting what it reported before.
     */
    private static void topLevelReportedVersion(AdminDatabase db, LibConfig.Group config) throws SQLException {
        if (config != null && config.settings().get("reported_version") instanceof LibConfig.Str v) {
            for (String schema : List.of("main", "disk")) {
                db.update("INSERT OR REPLACE INTO " + schema + ".global_variables VALUES (?, ?)",
                        AdminVariables.PREFIX + "reported_version", v.value().strip());
            }
        }
    }

    /** Built-in defaults go to both layers; what disk already has wins (§6.5). */
    private static void writeDefaults(AdminDatabase db) throws SQLException {
        for (var e : AdminVariables.DEFAULTS.entrySet()) {
            db.update("INSERT OR REPLACE INTO main.global_variables VALUES (?, ?)", AdminVariables.PREFIX + e.getKey(),
                    e.getValue());
            db.update("INSERT OR IGNORE INTO disk.global_variables VALUES (?, ?)", AdminVariables.PREFIX + e.getKey(),
                    e.getValue());
        }
        for (var e : MysqlVariables.DEFAULTS.entrySet()) {
            db.update("INSERT OR REPLACE INTO main.global_variables VALUES (?, ?)", MysqlVariables.PREFIX + e.getKey(),
                    e.getValue());
            db.update("INSERT OR IGNORE INTO disk.global_variables VALUES (?, ?)", MysqlVariables.PREFIX + e.getKey(),
                    e.getValue());
        }
        // admin-version describes this binary, not the saved configuration (admin-reported_version does that).
        db.update("UPDATE disk.global_variables SET variable_value = ? WHERE variable_name = 'admin-version'",
                AdminVariables.DEFAULTS.get("version"));
        db.update("INSERT OR IGNORE INTO main.mysql_collations VALUES (33, 'utf8_general_ci', 'utf8', 'Yes'),"
                + " (8, 'latin1_swedish_ci', 'latin1', 'Yes'), (45, 'utf8mb4_general_ci', 'utf8mb4', 'Yes'),"
                + " (63, 'binary', 'binary', 'Yes'), (83, 'utf8_bin', 'utf8', ''),"
                + " (255, 'utf8mb4_0900_ai_ci', 'utf8mb4', '')");
    }

    /**
     * The node UUID: the config file's top-level {@code uuid} when set, else the one kept in
     * {@code disk.global_settings}, created on first start.
     */
    private static String nodeUuid(AdminDatabase db, String configured) throws SQLException {
        if (configured != null && !configured.isBlank()) {
            db.update("INSERT OR REPLACE INTO disk.global_settings VALUES ('uuid', ?)", configured);
            return configured;
        }
        var rows = db.query("SELECT variable_value FROM disk.global_settings WHERE variable_name = 'uuid'").rows();
        if (!rows.isEmpty()) {
            return String.valueOf(rows.getFirst().getFirst());
        }
        String uuid = UUID.randomUUID().toString();
        db.update("INSERT INTO disk.global_settings VALUES ('uuid', ?)", uuid);
        return uuid;
    }

    // ---------------------------------------------------------------- listener API

    /**
     * Runs one statement for {@code who}. Never completes exceptionally; an engine that is closed answers with an
     * error.
     */
    public CompletableFuture<AdminResponse> execute(AdminPrincipal who, String sql) {
        AdminResponse checksums = ClusterChecksumAnswers.answer(who, sql, modules.versions());
        if (checksums != null) {
            return CompletableFuture.completedFuture(checksums);
        }
        CompletableFuture<AdminResponse> waiting = clusterWaits.intercept(who, sql == null ? "" : sql);
        if (waiting != null) {
            return waiting;
        }
        try {
            return clusterWaits.afterStatement(sql == null ? "" : sql,
                    () -> CompletableFuture.supplyAsync(() -> statements.handle(who, sql), thread));
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(AdminResponse.Error.admin("admin module is shutting down"));
        }
    }

    /**
     * The admin-port login named {@code username}, from the runtime admin variables: {@code admin_credentials}
     * (ADMIN), then {@code stats_credentials} (STATS). As in ProxySQL, {@code cluster_username} and
     * {@code cluster_password} are only what this node presents to its peers: the pair logs in here only when it
     * is listed in {@code admin_credentials}, and then as an ordinary admin user.
     */
    public Optional<AdminAccount> account(String username) {
        RuntimeConfig.Variables admin = holder.current().adminVariables();
        Optional<AdminAccount> found = findCredential(admin.values().get("admin_credentials"), username,
                AdminRole.ADMIN);
        if (found.isEmpty()) {
            found = findCredential(admin.values().get("stats_credentials"), username, AdminRole.STATS);
        }
        return found;
    }

    private static Optional<AdminAccount> findCredential(String list, String username, AdminRole role) {
        if (list == null) {
            return Optional.empty();
        }
        for (String pair : list.split(";")) {
            int colon = pair.indexOf(':');
            String user = colon < 0 ? pair : pair.substring(0, colon);
            if (!user.isEmpty() && user.equals(username)) {
                return Optional.of(new AdminAccount(user, colon < 0 ? "" : pair.substring(colon + 1), role));
            }
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------- cluster API

    /** This node's UUID (kept in {@code disk.global_settings}), for {@code PROXYSQL CLUSTER_NODE_UUID}. */
    /** Whether the config file set cluster_sync_interfaces, so that interface variables travel too. */
    public boolean syncInterfaces() {
        return modules.syncInterfaces();
    }

    public String nodeUuid() {
        return nodeUuid;
    }

    /** The current {@code (version, epoch, checksum)} of each checksum module; see the class doc. */
    public Map<String, ModuleVersion> moduleVersions() {
        return modules.versions();
    }

    /** The value of {@code SELECT GLOBAL_CHECKSUM()} (§4.3.5). */
    public long globalChecksum() {
        return Checksums.globalChecksum(modules.versions());
    }

    /** Runs one statement as an internal admin session; see {@link #execute}. */
    public CompletableFuture<AdminResponse> runSql(String sql) {
        return execute(new AdminPrincipal("cluster", AdminRole.ADMIN, "127.0.0.1"), sql);
    }

    /**
     * Reads rows as text with {@code params} bound to the {@code ?} of {@code sql}, on the admin thread, after
     * regenerating the {@code runtime_*} tables {@code sql} names, as for any admin query. For callers that put
     * outside values in a query. Fails with {@link IllegalStateException} carrying SQLite's message.
     */
    public CompletableFuture<List<List<String>>> queryRows(String sql, Object... params) {
        Object[] copy = params.clone();
        return onAdminThread(() -> {
            modules.refreshRuntimeTables(sql.toLowerCase(Locale.ROOT));
            return db.queryText(sql, copy).textRows();
        });
    }

    /**
     * Runs plain SQL statements on {@code main} in one transaction: all apply or none. Fails with
     * {@link IllegalStateException} carrying SQLite's message.
     */
    public CompletableFuture<Void> runInTransaction(List<String> sqlStatements) {
        List<String> copy = List.copyOf(sqlStatements);
        return onAdminThread(() -> {
            db.inTransaction(() -> {
                for (String sql : copy) {
                    db.update(sql);
                }
                return null;
            });
            return null;
        });
    }

    /**
     * Applies rows pulled from {@code peer} (see the class doc): on the admin thread, in one step. The returned
     * work completes with the versions map after the apply; it fails with {@link AdminException} or
     * {@link IllegalStateException} when the rows are refused (nothing changed then).
     *
     * @param tables     the fetched result sets, keyed as {@code PulledModule} documents them
     * @param advertised the peer's checksum and epoch of each checksum module the rows make up
     */
    public QueuedWork<Map<String, ModuleVersion>> applyPulled(AdminModule module, Map<String, QueryResult.Rows> tables,
                                                            String peer, List<PeerChecksum> advertised,
                                                            boolean saveToDisk) {
        Map<String, QueryResult.Rows> copy = Map.copyOf(tables);
        return onAdminThreadWithin(origin -> modules.applyPulled(module, copy, origin, saveToDisk),
                new LoadOrigin.Pulled(peer, advertised));
    }

    /**
     * As {@link #applyPulled}, with the rows of {@code module} that changed since the checksum this node runs
     * ({@code change} column first, as {@code PROXYFLEET CLUSTER DELTA} answers): applied to {@code main}, loaded,
     * and refused unless the checksum computed here from all the rows is the advertised one.
     */
    public QueuedWork<Map<String, ModuleVersion>> applyPulledDelta(AdminModule module, QueryResult.Rows changes,
                                                                 String peer, List<PeerChecksum> advertised,
                                                                 boolean saveToDisk) {
        return onAdminThreadWithin(origin -> modules.applyPulledDelta(module, changes, origin, saveToDisk),
                new LoadOrigin.Pulled(peer, advertised));
    }

    /** One pull's apply on the admin thread. */
    private interface PulledApply {
        void run(LoadOrigin.Pulled origin) throws SQLException, AdminException;
    }

    private QueuedWork<Map<String, ModuleVersion>> onAdminThreadWithin(PulledApply apply, LoadOrigin.Pulled origin) {
        QueuedWork<Map<String, ModuleVersion>> work = new QueuedWork<>();
        Runnable task = () -> {
            if (!work.start()) {
                return;
            }
            try {
                apply.run(origin);
                work.complete(modules.versions());
            } catch (SQLException e) {
                work.fail(new IllegalStateException(AdminDatabase.sqliteMessage(e), e));
            } catch (AdminException | RuntimeException e) {
                work.fail(e);
            }
        };
        try {
            thread.execute(task);
        } catch (RejectedExecutionException e) {
            work.fail(new IllegalStateException("admin module is shutting down", e));
        }
        return work;
    }

    /** Registers the cluster layer's view of its peers; see {@link ClusterView}. */
    public void clusterView(ClusterView view) {
        modules.clusterView(view);
    }

    /** Pulls of {@code module} (a checksum module name) whose rows did not hash here to the advertised checksum. */
    public long checksumMismatches(String module) {
        return modules.checksumMismatches(module);
    }

    /**
     * A runtime-only servers pull (ProxySQL's {@code pull_runtime_mysql_servers_from_peer}): {@code rows} are the
     * peer's answer to {@code PROXY_SELECT ... FROM runtime_mysql_servers} (12 text columns, hostgroup_id ..
     * comment) and become the runtime servers; {@code main} and the {@code mysql_servers_v2} module are untouched,
     * the {@code mysql_servers} version is bumped and the peer's epoch adopted when {@code advertised} matches.
     * With {@code saveToDisk} the runtime servers are then written into {@code main} and saved to disk
     * ({@code SAVE MYSQL SERVERS TO MEMORY} + {@code TO DISK}).
     */
    public CompletableFuture<Map<String, ModuleVersion>> loadRuntimeServers(List<? extends List<String>> rows,
                                                                           List<PeerChecksum> advertised,
                                                                           boolean saveToDisk) {
        List<List<String>> copy = new ArrayList<>();
        for (List<String> row : rows) {
            copy.add(Collections.unmodifiableList(new ArrayList<>(row)));
        }
        List<PeerChecksum> adopt = List.copyOf(advertised);
        return onAdminThread(() -> {
            modules.loadRuntimeServers(copy, adopt);
            if (saveToDisk) {
                modules.saveToMemory(AdminModule.MYSQL_SERVERS);
                modules.saveToDisk(AdminModule.MYSQL_SERVERS);
            }
            return modules.versions();
        });
    }

    /**
     * Tells the engine the runtime server list in the {@link ConfigHolder} was changed by something other than a
     * LOAD (the monitor): the {@code mysql_servers} checksum and epoch are recomputed without a version bump.
     */
    public CompletableFuture<Map<String, ModuleVersion>> runtimeServersChanged() {
        return onAdminThread(() -> {
            modules.runtimeServersChanged();
            return modules.versions();
        });
    }

    /** {@code SAVE <module> TO DISK}, atomically. */
    public CompletableFuture<Void> saveToDisk(AdminModule module) {
        return onAdminThread(() -> {
            modules.saveToDisk(module);
            return null;
        });
    }

    /** Supplies the text of {@code SHOW PROMETHEUS METRICS}; called on the admin thread, so it must not wait on it. */
    public void registerPrometheus(Supplier<String> text) {
        try {
            thread.execute(() -> statements.registerPrometheus(text));
        } catch (RejectedExecutionException e) {
            LOG.debug("engine closed; Prometheus source ignored");
        }
    }

    /**
     * Makes {@code table} (a {@code stats} or {@code monitor} schema table, named without its schema) show
     * {@code rows} whenever a query mentions it. Each row lists the table's columns in DDL order. The latest
     * registration for a table wins.
     */
    public void registerTableSource(String table, Supplier<List<List<Object>>> rows) {
        try {
            thread.execute(() -> statements.registerTableSource(table, rows));
        } catch (RejectedExecutionException e) {
            LOG.debug("engine closed; table source for {} ignored", table);
        }
    }

    /** Work for the admin thread that may fail with SQLite or admin errors. */
    private interface AdminWork<T> {
        T run() throws SQLException, AdminException;
    }

    private <T> CompletableFuture<T> onAdminThread(AdminWork<T> work) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return work.run();
            } catch (SQLException e) {
                throw new CompletionException(new IllegalStateException(AdminDatabase.sqliteMessage(e), e));
            } catch (AdminException e) {
                throw new CompletionException(new IllegalStateException(e.getMessage(), e));
            }
        }, thread);
    }

    /** Closes the database after the statements already queued have run. */
    @Override
    public void close() {
        if (thread.isShutdown()) {
            return;
        }
        thread.execute(db::close);
        thread.shutdown();
        try {
            if (!thread.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn("admin thread did not stop within {} s", CLOSE_WAIT_SECONDS);
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
