package io.proxyfleet.admin;

import io.proxyfleet.admin.AdminDatabase.Table;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.QueryRule;
import io.proxyfleet.config.QueryRuleProgram;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.config.checksum.Checksums;
import io.proxyfleet.protocol.client.QueryResult;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves each {@link AdminModule} between the MEMORY ({@code main}), DISK and RUNTIME layers: builds the immutable
 * runtime module from {@code main}, publishes it through {@link ConfigHolder}, computes the module checksum and
 * version (reference §4.2-§4.4), keeps the result sets peers fetch with {@code PROXY_SELECT}, and regenerates the
 * {@code runtime_*} tables on demand. The variables and {@code proxysql_servers} modules are in
 * {@link VariablesModule} and {@link PeersModule}; the users are loaded incrementally by {@link UsersModule}.
 *
 * <p>Thread ownership: the engine's admin thread only, except {@link #versions()} and
 * {@link #checksumMismatches(String)}, which any thread may read.
 */
final class RuntimeModules {
    private static final Logger LOG = LoggerFactory.getLogger(RuntimeModules.class);

    /** The checksum modules, in {@code runtime_checksums_values} order. */
    static final List<String> CHECKSUM_MODULES = List.of("admin_variables", "mysql_query_rules", "mysql_servers",
            "mysql_servers_v2", "mysql_users", "mysql_variables", "proxysql_servers");

    /** Columns of the query rules result set peers fetch and the checksum hashes (no {@code active}). */
    static final String RULE_COLUMNS = "rule_id, username, schemaname, flagIN, client_addr, proxy_addr, proxy_port,"
            + " digest, match_digest, match_pattern, negate_match_pattern, re_modifiers, flagOUT, replace_pattern,"
            + " destination_hostgroup, cache_ttl, cache_empty_result, cache_timeout, reconnect, timeout, retries,"
            + " delay, next_query_flagIN, mirror_flagOUT, mirror_hostgroup, error_msg, ok_msg, sticky_conn,"
            + " multiplex, gtid_from_hostgroup, log, apply, attributes, comment";
    static final String FAST_ROUTING_COLUMNS = "username, schemaname, flagIN, destination_hostgroup, comment";
    static final String SERVER_COLUMNS = "hostgroup_id, hostname, port, gtid_port, status, weight, compression,"
            + " max_connections, max_replication_lag, use_ssl, max_latency_ms, comment";
    private static final int SERVER_COLUMN_COUNT = 12;
    static final String USER_COLUMNS = "username, password, use_ssl, default_hostgroup, default_schema,"
            + " schema_locked, transaction_persistent, fast_forward, backend, frontend, max_connections,"
            + " attributes, comment";

    /** The servers-module tables other than mysql_servers, with the key their rows are ordered by. */
    private static final Map<String, String> HOSTGROUP_TABLES = orderedMap(
            "mysql_replication_hostgroups", "writer_hostgroup",
            "mysql_group_replication_hostgroups", "writer_hostgroup",
            "mysql_galera_hostgroups", "writer_hostgroup",
            "mysql_aws_aurora_hostgroups", "writer_hostgroup",
            "mysql_hostgroup_attributes", "hostgroup_id",
            "mysql_servers_ssl_params", "hostname, port, username");

    private final AdminDatabase db;
    private final ConfigHolder holder;
    private final Function<List<QueryRule>, QueryRuleProgram> ruleCompiler;
    private final NodeControl control;
    /** The config file's {@code cluster_sync_interfaces}: when true, interface variables are hashed and synced. */
    private final boolean syncInterfaces;

    private final ModuleVersions versions;
    /**
     * Rows as they were loaded to runtime, for modules the {@link RuntimeConfig} does not carry (hostgroup tables,
     * fast routing, scheduler, firewall, REST API), keyed by {@code main} table name.
     */
    private final Map<String, Table> loadedTables = new HashMap<>();
    /** Result sets served to {@code PROXY_SELECT}, keyed by the table the peer names. */
    private final Map<String, Table> clusterResults = new HashMap<>();
    private final ClusterHistory history;
    private final PulledTables pulledTables;
    private final VariablesModule variables;
    private final PeersModule peers;
    private final ClusterDelta delta;
    private final UsersModule users;
    private RuntimeStatsSource liveStatus = RuntimeStatsSource.NONE;

    RuntimeModules(AdminDatabase db, ConfigHolder holder, Function<List<QueryRule>, QueryRuleProgram> ruleCompiler,
                   NodeControl control, boolean syncInterfaces) {
        this.db = db;
        this.syncInterfaces = syncInterfaces;
        this.holder = holder;
        this.ruleCompiler = ruleCompiler;
        this.control = control;
        this.history = new ClusterHistory(db);
        this.pulledTables = new PulledTables(db, syncInterfaces);
        this.delta = new ClusterDelta(history);
        this.users = new UsersModule(db);
        this.versions = new ModuleVersions(CHECKSUM_MODULES, history);
        this.variables = new VariablesModule(db, holder, control, versions, syncInterfaces);
        this.peers = new PeersModule(db, holder, versions);
    }

    /** The config file's cluster_sync_interfaces: whether interface variables travel with the cluster. */
    boolean syncInterfaces() {
        return syncInterfaces;
    }

    /** Creates the cluster bookkeeping tables and reads what the disk remembers; before the boot loads. */
    void openHistory() throws SQLException {
        history.open();
        users.track();
    }

    ClusterHistory history() {
        return history;
    }

    /** Where local loads look for newer peer versions and announce themselves; safe from any thread. */
    void clusterView(ClusterView clusterView) {
        versions.view(clusterView);
    }

    /** How many pulls of {@code module} were refused (or, for variables, not adopted) for a checksum mismatch. */
    long checksumMismatches(String module) {
        return versions.checksumMismatches(module);
    }

    /** The current version of every checksum module; safe from any thread. */
    Map<String, ModuleVersion> versions() {
        return versions.published();
    }

    /** The result set a peer's {@code PROXY_SELECT ... FROM <table>} gets, or null for a table peers never fetch. */
    Table clusterResult(String table) {
        return clusterResults.get(table);
    }

    // ---------------------------------------------------------------- MEMORY -> RUNTIME

    /**
     * Validates {@code main}'s rows of {@code module}, publishes them to runtime and bumps the module version.
     * Nothing is published when validation fails.
     *
     * @param origin who asked: decides the epoch, the conflict check, what history records and whether peers are
     *               told
     */
    void loadToRuntime(AdminModule module, LoadOrigin origin) throws SQLException, AdminException {
        switch (module) {
            case MYSQL_USERS -> loadUsers(origin);
            case MYSQL_SERVERS -> loadServers(origin);
            case MYSQL_QUERY_RULES -> loadQueryRules(origin);
            case MYSQL_VARIABLES, ADMIN_VARIABLES -> variables.load(module, origin);
            case PROXYSQL_SERVERS -> peers.load(origin);
            case SCHEDULER, MYSQL_FIREWALL, RESTAPI -> captureTables(module);
        }
        loaded(module, origin);
    }

    /** After a load was published: history, the ProxyFleet settings, and who gets told. */
    private void loaded(AdminModule module, LoadOrigin origin) throws SQLException {
        if (module == AdminModule.ADMIN_VARIABLES) {
            history.applySettings();
        }
        Map<String, Table> rows = historyRows(module);
        if (rows != null) {
            ModuleVersion v = versions.get(primaryChecksum(module));
            String source = switch (origin) {
                case LoadOrigin.Boot b -> "boot";
                case LoadOrigin.Local l -> "local";
                case LoadOrigin.Pulled p -> p.peer();
            };
            String adminUser = origin instanceof LoadOrigin.Local l ? l.adminUser() : "";
            if (module == AdminModule.MYSQL_USERS) {
                // the rows are kept encoded with the runtime users: no pass over 100,000 rows to write them
                history.record(module.moduleName(), v, source, adminUser, users.rowCount(), users::historyText,
                        origin instanceof LoadOrigin.Boot);
            } else {
                history.record(module.moduleName(), v, source, adminUser, rows, origin instanceof LoadOrigin.Boot);
            }
        }
        control.moduleLoaded(module.moduleName());
        if (origin instanceof LoadOrigin.Local) {
            // Only an operator's load is news to the peers; a pulled one is already theirs (no O(N^2) notifies).
            versions.view().localLoad(module.moduleName());
        }
    }

    /** The checksum module that identifies {@code module}'s configuration ({@code mysql_servers_v2} for servers). */
    static String primaryChecksum(AdminModule module) {
        return module == AdminModule.MYSQL_SERVERS ? "mysql_servers_v2" : module.moduleName();
    }

    /** The rows of a synchronised module as peers fetch them, keyed as a pull delivers them; null otherwise. */
    private Map<String, Table> historyRows(AdminModule module) {
        Map<String, Table> out = new LinkedHashMap<>();
        switch (module) {
            case MYSQL_USERS -> out.put("mysql_users", clusterResults.get("runtime_mysql_users"));
            case MYSQL_QUERY_RULES -> {
                out.put("mysql_query_rules", clusterResults.get("runtime_mysql_query_rules"));
                out.put("mysql_query_rules_fast_routing",
                        clusterResults.get("runtime_mysql_query_rules_fast_routing"));
            }
            case MYSQL_SERVERS -> {
                out.put("mysql_servers", clusterResults.get("mysql_servers_v2"));
                for (String table : HOSTGROUP_TABLES.keySet()) {
                    out.put(table, clusterResults.get("runtime_" + table));
                }
            }
            case MYSQL_VARIABLES, ADMIN_VARIABLES -> out.put("global_variables", variables.hashedRows(module));
            case PROXYSQL_SERVERS -> out.put("proxysql_servers", peers.hashedRows());
            case SCHEDULER, MYSQL_FIREWALL, RESTAPI -> {
                return null;
            }
        }
        return out;
    }

    /**
     * A pull's whole apply as one step of the admin thread (ProxySQL holds its admin mutex across it): the
     * module's {@code main} tables are rewritten from {@code tables} and the module loaded to runtime in one
     * transaction, then saved to disk if asked. A pull that would only repeat what runs (same checksums and
     * epochs, as when two monitors pulled one change) is skipped. On any refusal {@code main} is rolled back and
     * runtime is unchanged.
     */
    void applyPulled(AdminModule module, Map<String, QueryResult.Rows> tables, LoadOrigin.Pulled origin,
                     boolean saveToDisk) throws SQLException, AdminException {
        if (versions.alreadyLoaded(origin.advertised())) {
            return;
        }
        rewriteAndLoad(module, whole(module, () -> pulledTables.rewrite(module, tables)), origin);
        if (saveToDisk) {
            saveToDisk(module);
        }
    }

    /**
     * As {@link #applyPulled}, with only the rows that changed since what runs here ({@link ClusterDelta}): they
     * are applied to {@code main}, the module is loaded to runtime and its checksum computed here from all its
     * rows, which must be the advertised one; otherwise nothing changes.
     */
    void applyPulledDelta(AdminModule module, QueryResult.Rows changes, LoadOrigin.Pulled origin,
                          boolean saveToDisk) throws SQLException, AdminException {
        if (versions.alreadyLoaded(origin.advertised())) {
            return;
        }
        rewriteAndLoad(module, () -> pulledTables.applyDelta(module, changes), origin);
        if (saveToDisk) {
            saveToDisk(module);
        }
    }

    /** {@code PROXYFLEET CLUSTER DELTA <module> FROM <checksum>}: what a ProxyFleet peer at that checksum lacks. */
    AdminResponse.ResultSet delta(String module, String baseChecksum) throws SQLException, AdminException {
        Table current = clusterResults.get("runtime_mysql_users");
        if (current == null) {
            throw new AdminException("no " + module + " loaded yet");
        }
        return delta.delta(module, baseChecksum, current);
    }

    /**
     * {@code PROXYFLEET CLUSTER ROLLBACK TO <id>}: history entry {@code id}'s rows become the module's
     * configuration again, loaded as a new local change (new version and epoch), which peers then pull like any
     * other load.
     */
    void rollback(long id, String adminUser) throws SQLException, AdminException {
        ClusterHistory.Entry entry = history.entry(id);
        AdminModule module = null;
        for (AdminModule m : AdminModule.values()) {
            if (m.moduleName().equals(entry.module())) {
                module = m;
            }
        }
        if (module == null) {
            throw new AdminException("history entry " + id + " is of unknown module " + entry.module());
        }
        Map<String, QueryResult.Rows> rows = entry.rows();
        AdminModule target = module;
        rewriteAndLoad(module, whole(module, () -> pulledTables.rewrite(target, rows)), new LoadOrigin.Local(adminUser));
        LOG.info("Cluster: {} rolled back to history entry {} by {}", module.moduleName(), id, adminUser);
    }

    /** Changes {@code main}'s rows of a module, inside the transaction that then loads it. */
    interface Rewrite {
        void run() throws SQLException, AdminException;
    }

    /** A rewrite of all of a module's rows; the users' one skips the per-row change records ({@link UsersModule}). */
    private Rewrite whole(AdminModule module, Rewrite rewrite) {
        return module == AdminModule.MYSQL_USERS ? () -> users.untracked(true, rewrite) : rewrite;
    }

    private void rewriteAndLoad(AdminModule module, Rewrite rewrite, LoadOrigin origin)
            throws SQLException, AdminException {
        try {
            db.inTransaction(() -> {
                try {
                    rewrite.run();
                    loadToRuntime(module, origin);
                } catch (AdminException e) {
                    throw new SQLException(e.getMessage(), e);
                }
                return null;
            });
        } catch (SQLException e) {
            if (e.getCause() instanceof AdminException refused) {
                throw refused;
            }
            throw e;
        }
    }

    private void loadUsers(LoadOrigin origin) throws SQLException, AdminException {
        publishUsers(users.load(null, holder.current().users().rows()), origin);
    }

    /**
     * {@code LOAD MYSQL USER <name> TO RUNTIME}: replaces only that user's runtime accounts with its active rows
     * of {@code main}; every other runtime user stays as it is.
     */
    void loadUser(String username, String adminUser) throws SQLException, AdminException {
        LoadOrigin origin = new LoadOrigin.Local(adminUser);
        publishUsers(users.load(username, holder.current().users().rows()), origin);
        loaded(AdminModule.MYSQL_USERS, origin);
    }

    private void publishUsers(UsersModule.Loaded loaded, LoadOrigin origin) throws SQLException, AdminException {
        String checksum = Checksums.format(loaded.checksum());
        ModuleVersion version = versions.next("mysql_users", checksum, origin);
        versions.commit("mysql_users", version);
        holder.update(c -> c.withUsers(RuntimeConfig.Users.of(loaded.users(), version)));
        clusterResults.put("runtime_mysql_users", loaded.served());
        delta.served(checksum, loaded.served(), loaded.removedRows(), loaded.addedRows());
        users.published(loaded);
        logChecksum("LOAD MYSQL USERS TO RUNTIME", version);
    }

    private void loadServers(LoadOrigin origin) throws SQLException, AdminException {
        Table rows = db.query("SELECT " + SERVER_COLUMNS + " FROM main.mysql_servers"
                + " ORDER BY hostgroup_id, hostname, port");
        var servers = new ArrayList<MysqlServer>();
        for (List<Object> r : rows.rows()) {
            try {
                servers.add(new MysqlServer(integer(r.get(0)), str(r.get(1)), integer(r.get(2)), integer(r.get(3)),
                        ServerStatus.parse(str(r.get(4))), integer(r.get(5)), integer(r.get(6)), integer(r.get(7)),
                        integer(r.get(8)), bool(r.get(9)), integer(r.get(10)), str(r.get(11))));
            } catch (IllegalArgumentException e) {
                throw new AdminException("invalid row in mysql_servers: " + e.getMessage(), e);
            }
        }
        Table v2 = db.queryText("SELECT hostgroup_id, hostname, port, gtid_port,"
                + " CASE WHEN UPPER(status) = 'SHUNNED' THEN 'ONLINE' ELSE UPPER(status) END AS status, weight,"
                + " compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment"
                + " FROM main.mysql_servers WHERE UPPER(status) <> 'OFFLINE_HARD'"
                + " ORDER BY hostgroup_id, hostname, port");
        long[] hashes = new long[1 + HOSTGROUP_TABLES.size()];
        hashes[0] = Checksums.rawChecksum(v2.textRows());
        int i = 1;
        var incoming = new HashMap<String, Table>();
        for (var e : HOSTGROUP_TABLES.entrySet()) {
            Table t = db.queryText("SELECT * FROM main." + e.getKey() + " ORDER BY " + e.getValue());
            hashes[i++] = Checksums.rawChecksum(t.textRows());
            incoming.put(e.getKey(), t);
        }
        Table runtime = runtimeServerRows(servers);
        ModuleVersion v2Version = versions.next("mysql_servers_v2", Checksums.format(Checksums.mysqlServersV2(hashes)),
                origin);
        ModuleVersion runtimeVersion = versions.next("mysql_servers",
                Checksums.format(Checksums.rawChecksum(runtime.textRows())), origin);
        versions.commit("mysql_servers_v2", v2Version);
        versions.commit("mysql_servers", runtimeVersion);
        holder.update(c -> c.withServers(RuntimeConfig.Servers.of(servers, v2Version)));
        for (String table : HOSTGROUP_TABLES.keySet()) {
            loadedTables.put(table, db.query("SELECT * FROM main." + table));
            clusterResults.put("runtime_" + table, incoming.get(table));
        }
        clusterResults.put("mysql_servers_v2", v2);
        clusterResults.put("runtime_mysql_servers", runtime);
        LOG.info("Checksum for table mysql_servers_v2 is {}; runtime mysql_servers is {}", v2Version.checksum(),
                runtimeVersion.checksum());
    }

    /** Runtime servers as peers fetch them: no OFFLINE_HARD, SHUNNED shown as ONLINE (§4.2). */
    private static Table runtimeServerRows(List<MysqlServer> servers) {
        var rows = new ArrayList<List<Object>>();
        for (MysqlServer s : servers) {
            if (s.status() == ServerStatus.OFFLINE_HARD) {
                continue;
            }
            ServerStatus shown = s.status() == ServerStatus.SHUNNED ? ServerStatus.ONLINE : s.status();
            rows.add(serverRow(s, shown));
        }
        return new Table(List.of(SERVER_COLUMNS.split(", ")), rows);
    }

    private static List<Object> serverRow(MysqlServer s, ServerStatus status) {
        return List.of(Integer.toString(s.hostgroupId()), s.hostname(), Integer.toString(s.port()),
                Integer.toString(s.gtidPort()), status.name(), Integer.toString(s.weight()),
                Integer.toString(s.compression()), Integer.toString(s.maxConnections()),
                Integer.toString(s.maxReplicationLag()), s.useSsl() ? "1" : "0", Integer.toString(s.maxLatencyMs()),
                s.comment());
    }

    private void loadQueryRules(LoadOrigin origin) throws SQLException, AdminException {
        Table rows = db.query("SELECT * FROM main.mysql_query_rules WHERE active = 1 ORDER BY rule_id");
        var rules = new ArrayList<QueryRule>();
        for (List<Object> r : rows.rows()) {
            rules.add(new QueryRule(integer(r.get(0)), true, str(r.get(2)), str(r.get(3)), integer(r.get(4)),
                    str(r.get(5)), str(r.get(6)), boxed(r.get(7)), str(r.get(8)), str(r.get(9)), str(r.get(10)),
                    bool(r.get(11)), str(r.get(12)), boxed(r.get(13)), str(r.get(14)), boxed(r.get(15)),
                    boxed(r.get(16)), boxed(r.get(17)), boxed(r.get(18)), boxed(r.get(19)), boxed(r.get(20)),
                    boxed(r.get(21)), boxed(r.get(22)), boxed(r.get(23)), boxed(r.get(24)), boxed(r.get(25)),
                    str(r.get(26)), str(r.get(27)), boxed(r.get(28)), boxed(r.get(29)), boxed(r.get(30)),
                    boxed(r.get(31)), bool(r.get(32)), str(r.get(33)), str(r.get(34))));
        }
        var fastRouting = new ArrayList<io.proxyfleet.routing.FastRoutingRule>();
        for (List<Object> r : db.query("SELECT username, schemaname, flagIN, destination_hostgroup, comment"
                + " FROM main.mysql_query_rules_fast_routing ORDER BY username, schemaname, flagIN").rows()) {
            fastRouting.add(new io.proxyfleet.routing.FastRoutingRule(str(r.get(0)), str(r.get(1)),
                    integer(r.get(2)), integer(r.get(3)), str(r.get(4))));
        }
        QueryRuleProgram program;
        try {
            // The injected compiler covers the common case; fast routing needs the routing layer's own overload.
            program = fastRouting.isEmpty() ? ruleCompiler.apply(List.copyOf(rules))
                    : io.proxyfleet.routing.RuleCompiler.compile(List.copyOf(rules), fastRouting);
        } catch (RuntimeException e) {
            throw new AdminException("invalid query rules: " + e.getMessage(), e);
        }
        Table fetchedRules = db.queryText("SELECT " + RULE_COLUMNS
                + " FROM main.mysql_query_rules WHERE active = 1 ORDER BY rule_id");
        Table fetchedFast = db.queryText("SELECT " + FAST_ROUTING_COLUMNS
                + " FROM main.mysql_query_rules_fast_routing ORDER BY username, schemaname, flagIN");
        long hash = Checksums.queryRules(Checksums.rawChecksum(fetchedRules.textRows()),
                Checksums.rawChecksum(fetchedFast.textRows()));
        ModuleVersion version = versions.next("mysql_query_rules", Checksums.format(hash), origin);
        versions.commit("mysql_query_rules", version);
        holder.update(c -> c.withQueryRules(new RuntimeConfig.QueryRules(rules, program, version)));
        loadedTables.put("mysql_query_rules_fast_routing", db.query("SELECT * FROM main.mysql_query_rules_fast_routing"));
        clusterResults.put("runtime_mysql_query_rules", fetchedRules);
        clusterResults.put("runtime_mysql_query_rules_fast_routing", fetchedFast);
        logChecksum("LOAD MYSQL QUERY RULES TO RUNTIME", version);
    }

    private void captureTables(AdminModule module) throws SQLException {
        for (String table : module.tables()) {
            Table rows = db.query("SELECT * FROM main." + table);
            loadedTables.put(table, rows);
            if (!rows.rows().isEmpty() && module != AdminModule.RESTAPI) {
                // Taken over as configuration (runtime_ and cluster-free), but no ProxyFleet module runs it yet
                // (restapi_routes are served by the REST API, docs/observability.md).
                LOG.warn("{} has {} rows: ProxyFleet keeps them (runtime_{} shows them) but does not act on them",
                        table, rows.rows().size(), table);
            }
        }
    }

    // ---------------------------------------------------------------- versions

    /**
     * A runtime-only servers pull (§4.10, algorithm 1): the peer's runtime server rows (the 12 columns of
     * {@code PROXY_SELECT ... FROM runtime_mysql_servers}) become this node's runtime servers without touching
     * {@code main} or the {@code mysql_servers_v2} module; the {@code mysql_servers} version is bumped and the
     * peer's epoch adopted when the checksums match.
     */
    void loadRuntimeServers(List<? extends List<String>> rows, List<PeerChecksum> adopt)
            throws SQLException, AdminException {
        var servers = new ArrayList<MysqlServer>();
        for (List<String> r : rows) {
            if (r.size() != SERVER_COLUMN_COUNT) {
                throw new AdminException("a runtime server row needs " + SERVER_COLUMN_COUNT + " columns, got "
                        + r.size());
            }
            try {
                servers.add(new MysqlServer(Integer.parseInt(r.get(0)), r.get(1), Integer.parseInt(r.get(2)),
                        Integer.parseInt(r.get(3)), ServerStatus.parse(r.get(4)), Integer.parseInt(r.get(5)),
                        Integer.parseInt(r.get(6)), Integer.parseInt(r.get(7)), Integer.parseInt(r.get(8)),
                        !"0".equals(r.get(9)), Integer.parseInt(r.get(10)), r.get(11)));
            } catch (RuntimeException e) {
                throw new AdminException("invalid runtime server row " + r + ": " + e.getMessage(), e);
            }
        }
        Table runtime = runtimeServerRows(servers);
        ModuleVersion version = versions.next("mysql_servers", Checksums.format(Checksums.rawChecksum(runtime.textRows())),
                new LoadOrigin.Pulled("", adopt));
        versions.commit("mysql_servers", version);
        holder.update(c -> c.withServers(RuntimeConfig.Servers.of(servers, c.servers().version())));
        clusterResults.put("runtime_mysql_servers", runtime);
        LOG.info("Loaded {} runtime servers from a peer; mysql_servers checksum {}", servers.size(),
                version.checksum());
        control.moduleLoaded(AdminModule.MYSQL_SERVERS.moduleName());
    }

    /**
     * Re-hashes the runtime server list after something other than a LOAD changed it (Monitor moving servers
     * between hostgroups, shunning): the {@code mysql_servers} checksum and epoch change, the version does not
     * (§4.4), and peers fetching runtime servers get the new list.
     *
     * @return true when the checksum changed
     */
    boolean runtimeServersChanged() {
        Table runtime = runtimeServerRows(holder.current().servers().rows());
        String checksum = Checksums.format(Checksums.rawChecksum(runtime.textRows()));
        ModuleVersion old = versions.get("mysql_servers");
        clusterResults.put("runtime_mysql_servers", runtime);
        if (old.checksum().equals(checksum)) {
            return false;
        }
        versions.commit("mysql_servers", new ModuleVersion(old.version(), System.currentTimeMillis() / 1000,
                checksum));
        LOG.info("Checksum for runtime mysql_servers changed to {} without a load", checksum);
        return true;
    }

    static void logChecksum(String command, ModuleVersion version) {
        LOG.info("Computed checksum for '{}' was '{}', with epoch '{}'", command, version.checksum(),
                version.epoch());
    }

    // ---------------------------------------------------------------- RUNTIME -> MEMORY

    /** {@code SAVE <module> TO MEMORY}: writes what runs into {@code main}. */
    void saveToMemory(AdminModule module) throws SQLException {
        RuntimeConfig current = holder.current();
        db.inTransaction(() -> {
            switch (module) {
                case MYSQL_USERS -> {
                    db.update("UPDATE main.mysql_users SET active = 0");
                    for (MysqlUser u : current.users().rows()) {
                        db.update("INSERT OR REPLACE INTO main.mysql_users VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                userRow(u, u.backend(), u.frontend()).toArray());
                    }
                }
                case MYSQL_SERVERS -> {
                    db.update("DELETE FROM main.mysql_servers");
                    for (MysqlServer s : current.servers().rows()) {
                        ServerStatus status = s.status() == ServerStatus.SHUNNED ? ServerStatus.ONLINE : s.status();
                        db.update("INSERT INTO main.mysql_servers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                                serverRow(s, status).toArray());
                    }
                    restoreLoaded(HOSTGROUP_TABLES.keySet());
                }
                case MYSQL_QUERY_RULES -> {
                    db.update("DELETE FROM main.mysql_query_rules");
                    db.insertAll("main.mysql_query_rules", ruleRows(current.queryRules().rows()));
                    restoreLoaded(List.of("mysql_query_rules_fast_routing"));
                }
                case MYSQL_VARIABLES, ADMIN_VARIABLES -> variables.saveToMemory(module, current);
                case PROXYSQL_SERVERS -> peers.saveToMemory(current);
                case SCHEDULER, MYSQL_FIREWALL, RESTAPI -> restoreLoaded(module.tables());
            }
            return null;
        });
    }

    private void restoreLoaded(Collection<String> tables) throws SQLException {
        for (String table : tables) {
            db.update("DELETE FROM main." + table);
            Table loaded = loadedTables.get(table);
            if (loaded != null) {
                db.insertAll("main." + table, loaded.rows());
            }
        }
    }

    private static List<Object> userRow(MysqlUser u, boolean backend, boolean frontend) {
        var row = new ArrayList<Object>();
        Collections.addAll(row, u.username(), u.password(), u.active() ? 1 : 0, u.useSsl() ? 1 : 0,
                u.defaultHostgroup(), u.defaultSchema(), u.schemaLocked() ? 1 : 0, u.transactionPersistent() ? 1 : 0,
                u.fastForward() ? 1 : 0, backend ? 1 : 0, frontend ? 1 : 0, u.maxConnections(), u.attributes(),
                u.comment());
        return row;
    }

    private static List<List<Object>> ruleRows(List<QueryRule> rules) {
        var rows = new ArrayList<List<Object>>();
        for (QueryRule r : rules) {
            var row = new ArrayList<Object>();
            Collections.addAll(row, r.ruleId(), r.active() ? 1 : 0, r.username(), r.schemaname(), r.flagIn(),
                    r.clientAddr(), r.proxyAddr(), r.proxyPort(), r.digest(), r.matchDigest(), r.matchPattern(),
                    r.negateMatchPattern() ? 1 : 0, r.reModifiers(), r.flagOut(), r.replacePattern(),
                    r.destinationHostgroup(), r.cacheTtl(), r.cacheEmptyResult(), r.cacheTimeout(), r.reconnect(),
                    r.timeout(), r.retries(), r.delay(), r.nextQueryFlagIn(), r.mirrorFlagOut(),
                    r.mirrorHostgroup(), r.errorMsg(), r.okMsg(), r.stickyConn(), r.multiplex(),
                    r.gtidFromHostgroup(), r.log(), r.apply() ? 1 : 0, r.attributes(), r.comment());
            rows.add(row);
        }
        return rows;
    }

    // ---------------------------------------------------------------- MEMORY <-> DISK

    /** {@code SAVE <module> TO DISK}: one transaction, so a failure leaves {@code disk} as it was. */
    void saveToDisk(AdminModule module) throws SQLException {
        db.inTransaction(() -> {
            copy(module, "main", "disk");
            Map<String, ModuleVersion> saved = new LinkedHashMap<>();
            for (String name : CHECKSUM_MODULES) {
                boolean ofModule = module == AdminModule.MYSQL_SERVERS ? name.startsWith("mysql_servers")
                        : name.equals(module.moduleName());
                if (ofModule) {
                    saved.put(name, versions.get(name));
                }
            }
            history.persist(saved);
            return null;
        });
    }

    /** {@code LOAD <module> FROM DISK}: one transaction, so a failure leaves {@code main} as it was. */
    void loadFromDisk(AdminModule module) throws SQLException {
        db.inTransaction(() -> {
            copy(module, "disk", "main");
            return null;
        });
    }

    /** Copies a module's tables between schemas; variables are merged, other tables replaced. */
    void copy(AdminModule module, String from, String to) throws SQLException {
        var prefix = module.variablePrefix();
        if (prefix.isPresent()) {
            variables.copy(prefix.get(), from, to);
            return;
        }
        if (module == AdminModule.MYSQL_USERS && Set.of(from, to).equals(Set.of("main", "disk"))) {
            users.copy(from, to);
            return;
        }
        for (String table : module.tables()) {
            db.update("DELETE FROM " + to + "." + table);
            db.update("INSERT INTO " + to + "." + table + " SELECT * FROM " + from + "." + table);
        }
    }

    // ---------------------------------------------------------------- runtime_* tables

    /** Where runtime_mysql_servers reads the servers' live status from. */
    void liveStatus(RuntimeStatsSource source) {
        this.liveStatus = source;
    }

    /**
     * Regenerates the {@code runtime_*} tables whose names occur in {@code sql} from what runs right now, the way
     * ProxySQL refreshes them by substring just before executing an admin query (§1.4).
     */
    void refreshRuntimeTables(String lowerSql) throws SQLException {
        if (!lowerSql.contains("runtime_") && !lowerSql.contains("global_variables")) {
            return;
        }
        RuntimeConfig current = holder.current();
        if (lowerSql.contains("runtime_mysql_servers")) {
            var rows = new ArrayList<List<Object>>();
            for (MysqlServer s : current.servers().rows()) {
                ServerStatus live = liveStatus.liveStatus(s);
                // SHUNNED_REPLICATION_LAG is internal; operators see SHUNNED, as in ProxySQL.
                rows.add(serverRow(s, live == ServerStatus.SHUNNED_REPLICATION_LAG ? ServerStatus.SHUNNED : live));
            }
            replace("main.runtime_mysql_servers", rows);
        }
        if (lowerSql.contains("runtime_mysql_users")) {
            var rows = new ArrayList<List<Object>>();
            for (MysqlUser u : current.users().rows()) {
                // Runtime keeps frontend and backend accounts in separate maps, so each shows as its own row.
                if (u.backend()) {
                    rows.add(userRow(u, true, false));
                }
                if (u.frontend()) {
                    rows.add(userRow(u, false, true));
                }
            }
            replace("main.runtime_mysql_users", rows);
        }
        if (lowerSql.contains("runtime_mysql_query_rules")) {
            replace("main.runtime_mysql_query_rules", ruleRows(current.queryRules().rows()));
        }
        peers.refreshRuntimeTable(lowerSql, current);
        variables.refreshRuntimeTables(lowerSql, current);
        if (lowerSql.contains("runtime_checksums_values")) {
            var rows = new ArrayList<List<Object>>();
            versions.inOrder().forEach((name, v) -> rows.add(List.of(name, v.version(), v.epoch(),
                    v.checksum())));
            replace("main.runtime_checksums_values", rows);
        }
        for (var e : loadedTables.entrySet()) {
            String runtimeTable = "runtime_" + e.getKey();
            if (lowerSql.contains(runtimeTable)) {
                replace("main." + runtimeTable, e.getValue().rows());
            }
        }
    }

    private void replace(String table, List<? extends List<?>> rows) throws SQLException {
        db.update("DELETE FROM " + table);
        db.insertAll(table, rows);
    }

    // ---------------------------------------------------------------- cell conversion

    private static String str(Object cell) {
        return Table.text(cell);
    }

    private static int integer(Object cell) {
        return switch (cell) {
            case null -> 0;
            case Number n -> n.intValue();
            default -> Integer.parseInt(cell.toString().trim());
        };
    }

    private static Integer boxed(Object cell) {
        return cell == null ? null : integer(cell);
    }

    private static boolean bool(Object cell) {
        return integer(cell) != 0;
    }

    private static Map<String, String> orderedMap(String... pairs) {
        var map = new LinkedHashMap<String, String>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return Collections.unmodifiableMap(map);
    }
}
