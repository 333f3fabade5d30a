package io.proxyfleet.admin;

import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlVariables;
import io.proxyfleet.config.QueryRule;
import io.proxyfleet.config.QueryRuleProgram;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.checksum.Checksums;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
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
 *   <li>{@link #runInTransaction(List)}: run several plain SQL statements on {@code main} atomically; use it to
 *       replace a module's tables with rows fetched from a peer ({@code DELETE} + {@code INSERT}s). On any error
 *       nothing is changed and the future fails with an {@link IllegalStateException} carrying SQLite's
 *       message.</li>
 *   <li>{@link #loadToRuntime(AdminModule, List)}: {@code LOAD <module> TO RUNTIME}, passing what the peer
 *       advertised; when the loaded rows hash to the advertised checksum the node adopts the peer's epoch
 *       (§4.4), and for users/query rules the advertised checksum is kept verbatim. Completes with the new
 *       versions map. Servers need two entries ({@code mysql_servers_v2} and {@code mysql_servers}).</li>
 *   <li>{@link #applyPulled(AdminModule, List, List, boolean)}: the whole apply step of a pull (rewrite the
 *       module's tables, load to runtime adopting the peer's checksum/epoch, optionally save to disk) as one
 *       admin-thread step that no user statement can interleave with; preferred over the two calls above.</li>
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
                    ruleCompiler, stats, control)).get();
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

    /** Runs on the admin thread: §6.5 start-up. */
    private static AdminEngine boot(ExecutorService thread, Path dbFile, Path configFile, LibConfig.Group config,
                                    boolean applyConfig, ConfigHolder holder,
                                    Function<List<QueryRule>, QueryRuleProgram> ruleCompiler,
                                    RuntimeStatsSource stats, NodeControl control) throws Exception {
        AdminDatabase db;
        try {
            db = AdminDatabase.open(dbFile);
        } catch (SQLException e) {
            throw new AdminStartupException("cannot open " + dbFile + ": " + AdminDatabase.sqliteMessage(e), e);
        }
        try {
            LibConfig.Value sync = config == null ? null : config.settings().get("cluster_sync_interfaces");
            boolean syncInterfaces = sync instanceof LibConfig.Bool b && b.value()
                    || sync instanceof LibConfig.Int i && i.value() != 0;
            var modules = new RuntimeModules(db, holder, ruleCompiler, control, syncInterfaces);
            modules.liveStatus(stats);
            modules.reportedVersion(reportedVersion(config));
            String uuid = db.inTransaction(() -> {
                writeDefaults(db, reportedVersion(config));
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
                String configured = config != null && config.settings().get("uuid") instanceof LibConfig.Str u
                        ? u.value() : null;
                return nodeUuid(db, configured);
            });
            for (AdminModule module : AdminModule.values()) {
                modules.loadToRuntime(module, List.of());
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

    /** Built-in defaults go to both layers; what disk already has wins (§6.5). */
    /**
     * The version string the admin reports (admin-version, {@code SELECT @@version}), normally ProxyFleet's own.
     * The config file's top-level {@code reported_version} overrides it: ProxySQL peers only sync with nodes that
     * report exactly their version string, so a ProxyFleet node joining a cluster of real ProxySQL nodes must
     * report theirs.
     */
    private static String reportedVersion(LibConfig.Group config) {
        return config != null && config.settings().get("reported_version") instanceof LibConfig.Str v
                && !v.value().isBlank() ? v.value() : AdminVariables.DEFAULTS.get("version");
    }

    private static void writeDefaults(AdminDatabase db, String version) throws SQLException {
        for (var e : AdminVariables.DEFAULTS.entrySet()) {
            db.update("INSERT OR REPLACE INTO main.global_variables VALUES (?, ?)", AdminVariables.PREFIX + e.getKey(),
                    e.getKey().equals("version") ? version : e.getValue());
            db.update("INSERT OR IGNORE INTO disk.global_variables VALUES (?, ?)", AdminVariables.PREFIX + e.getKey(),
                    e.getValue());
        }
        for (var e : MysqlVariables.DEFAULTS.entrySet()) {
            db.update("INSERT OR REPLACE INTO main.global_variables VALUES (?, ?)", MysqlVariables.PREFIX + e.getKey(),
                    e.getValue());
            db.update("INSERT OR IGNORE INTO disk.global_variables VALUES (?, ?)", MysqlVariables.PREFIX + e.getKey(),
                    e.getValue());
        }
        // admin-version describes this binary, not the saved configuration.
        db.update("UPDATE disk.global_variables SET variable_value = ? WHERE variable_name = 'admin-version'",
                version);
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
        CompletableFuture<AdminResponse> waiting = clusterWaits.intercept(who, sql == null ? "" : sql);
        if (waiting != null) {
            return waiting;
        }
        try {
            return clusterWaits.afterStatement(sql == null ? "" : sql,
                    CompletableFuture.supplyAsync(() -> statements.handle(who, sql), thread));
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
     * {@code LOAD <module> TO RUNTIME}, adopting the peer's epoch for each entry of {@code advertised} whose
     * checksum matches. Fails with {@link IllegalStateException} when the rows are refused (nothing changes).
     *
     * @return the versions map after the load
     */
    public CompletableFuture<Map<String, ModuleVersion>> loadToRuntime(AdminModule module,
                                                                      List<PeerChecksum> advertised) {
        List<PeerChecksum> copy = List.copyOf(advertised);
        return onAdminThread(() -> {
            modules.loadToRuntime(module, copy);
            return modules.versions();
        });
    }

    /**
     * Applies rows pulled from a peer the way ProxySQL does under its admin mutex: runs {@code sqlStatements}
     * (typically {@code DELETE} + {@code INSERT}s of the module's tables) and {@code LOAD <module> TO RUNTIME}
     * (adopting the advertised checksums and epochs) as one step on the admin thread, so no admin statement can
     * interleave. If a statement or the load fails, {@code main} is rolled back, runtime is unchanged, and the
     * future fails with {@link IllegalStateException}. With {@code saveToDisk} the module is then saved to disk.
     *
     * @return the versions map after the load
     */
    public CompletableFuture<Map<String, ModuleVersion>> applyPulled(AdminModule module, List<String> sqlStatements,
                                                                    List<PeerChecksum> advertised,
                                                                    boolean saveToDisk) {
        List<String> statements = List.copyOf(sqlStatements);
        List<PeerChecksum> copy = List.copyOf(advertised);
        return onAdminThread(() -> {
            db.inTransaction(() -> {
                for (String sql : statements) {
                    db.update(sql);
                }
                try {
                    modules.loadToRuntime(module, copy);
                } catch (AdminException e) {
                    throw new SQLException(e.getMessage(), e);
                }
                return null;
            });
            if (saveToDisk) {
                modules.saveToDisk(module);
            }
            return modules.versions();
        });
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
