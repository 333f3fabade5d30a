package io.proxyfleet.cluster;

import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.admin.AdminModule;
import io.proxyfleet.admin.PeerChecksum;
import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;
import io.proxyfleet.protocol.client.QueryResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link LocalNode} over this node's {@link AdminEngine} and runtime {@link ConfigHolder}: reads come from the
 * published runtime snapshots, and a verified pull is applied the way ProxySQL applies it (§4.10): the module's
 * {@code main} tables are replaced in one transaction, the module is loaded to runtime adopting the peer's
 * checksums and epochs, then saved to disk if asked.
 *
 * <p>Threading: called from peer-monitor virtual threads; the engine serialises all SQLite work on its own thread,
 * and this class only waits for it (bounded by {@link #ADMIN_TIMEOUT}).
 */
public final class AdminClusterNode implements LocalNode {
    /** A pull's apply never waits longer than this for the admin thread. */
    static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);
    private static final String ADMIN_INTERFACE_VARIABLES = "('admin-mysql_ifaces','admin-restapi_port',"
            + "'admin-telnet_admin_ifaces','admin-telnet_stats_ifaces','admin-web_port')";

    private final AdminEngine engine;
    private final ConfigHolder holder;
    private final boolean syncInterfaces;
    private final boolean backendMonitorEnabled;

    /**
     * @param syncInterfaces        the config file's top-level {@code cluster_sync_interfaces}
     * @param backendMonitorEnabled false when started with {@code -M}; resolves servers sync algorithm 3
     */
    public AdminClusterNode(AdminEngine engine, ConfigHolder holder, boolean syncInterfaces,
                            boolean backendMonitorEnabled) {
        this.engine = engine;
        this.holder = holder;
        this.syncInterfaces = syncInterfaces;
        this.backendMonitorEnabled = backendMonitorEnabled;
    }

    @Override
    public String version() {
        return holder.current().adminVariables().values().getOrDefault("version", "");
    }

    @Override
    public String uuid() {
        return engine.nodeUuid();
    }

    @Override
    public String adminInterfaces() {
        return holder.current().adminVariables().values().getOrDefault("mysql_ifaces", "");
    }

    @Override
    public boolean syncInterfaces() {
        return syncInterfaces;
    }

    @Override
    public ClusterSettings settings() {
        return ClusterSettings.from(holder.current().adminVariables(), backendMonitorEnabled);
    }

    @Override
    public Map<String, ModuleVersion> checksums() {
        return engine.moduleVersions();
    }

    @Override
    public List<ProxySqlServer> peers() {
        return holder.current().peers().rows();
    }

    /**
     * Applies a pull. Peer monitors run concurrently, so two of them may decide to pull the same change from two
     * peers; applies are serialised, and one that would only repeat what is already loaded (same checksums and
     * epochs) is skipped, so that the module's version is not bumped twice for one change.
     */
    @Override
    public synchronized void apply(PulledModule pulled) throws Exception {
        if (alreadyLoaded(pulled)) {
            return;
        }
        AdminModule module = adminModule(pulled.module());
        if (pulled.module() == ClusterModule.MYSQL_SERVERS) {
            throw new UnsupportedOperationException("runtime-only server pulls need a runtime server API");
        }
        await(engine.runInTransaction(rewriteStatements(pulled)));
        List<PeerChecksum> adopt = new ArrayList<>();
        for (PulledModule.Adopted a : pulled.adopt()) {
            adopt.add(new PeerChecksum(a.checksumName(), a.epoch(), a.checksum()));
        }
        await(engine.loadToRuntime(module, adopt));
        if (pulled.saveToDisk()) {
            await(engine.saveToDisk(module));
        }
    }

    private boolean alreadyLoaded(PulledModule pulled) {
        if (pulled.adopt().isEmpty()) {
            return false;
        }
        Map<String, ModuleVersion> mine = engine.moduleVersions();
        for (PulledModule.Adopted a : pulled.adopt()) {
            ModuleVersion current = mine.get(a.checksumName());
            if (current == null || !current.checksum().equals(a.checksum()) || current.epoch() != a.epoch()) {
                return false;
            }
        }
        return true;
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        try {
            return f.get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (TimeoutException e) {
            throw new IllegalStateException("the admin thread did not answer within " + ADMIN_TIMEOUT, e);
        }
    }

    static AdminModule adminModule(ClusterModule m) {
        return switch (m) {
            case ADMIN_VARIABLES -> AdminModule.ADMIN_VARIABLES;
            case MYSQL_VARIABLES -> AdminModule.MYSQL_VARIABLES;
            case MYSQL_QUERY_RULES -> AdminModule.MYSQL_QUERY_RULES;
            case MYSQL_USERS -> AdminModule.MYSQL_USERS;
            case MYSQL_SERVERS_V2, MYSQL_SERVERS -> AdminModule.MYSQL_SERVERS;
            case PROXYSQL_SERVERS -> AdminModule.PROXYSQL_SERVERS;
        };
    }

    /** The DELETE and INSERT statements that make {@code main} hold the pulled rows (§4.10). */
    List<String> rewriteStatements(PulledModule pulled) {
        List<String> sql = new ArrayList<>();
        switch (pulled.module()) {
            case ADMIN_VARIABLES, MYSQL_VARIABLES -> {
                sql.add("DELETE FROM main.global_variables WHERE " + variablesScope(pulled.module()));
                insertAll(sql, "INSERT OR REPLACE INTO main.global_variables",
                        pulled.tables().get("global_variables"), null);
            }
            case MYSQL_QUERY_RULES -> {
                sql.add("DELETE FROM main.mysql_query_rules");
                sql.add("DELETE FROM main.mysql_query_rules_fast_routing");
                insertAll(sql, "INSERT INTO main.mysql_query_rules", pulled.tables().get("mysql_query_rules"),
                        "active");
                insertAll(sql, "INSERT INTO main.mysql_query_rules_fast_routing",
                        pulled.tables().get("mysql_query_rules_fast_routing"), null);
            }
            case MYSQL_USERS -> {
                sql.add("DELETE FROM main.mysql_users");
                insertAll(sql, "INSERT INTO main.mysql_users", pulled.tables().get("mysql_users"), "active");
            }
            case MYSQL_SERVERS_V2 -> {
                for (String table : AdminModule.MYSQL_SERVERS.tables()) {
                    sql.add("DELETE FROM main." + table);
                    insertAll(sql, "INSERT INTO main." + table, pulled.tables().get(table), null);
                }
            }
            case PROXYSQL_SERVERS -> {
                sql.add("DELETE FROM main.proxysql_servers");
                insertAll(sql, "INSERT INTO main.proxysql_servers", pulled.tables().get("proxysql_servers"), null);
            }
            case MYSQL_SERVERS -> throw new IllegalArgumentException("runtime-only servers do not touch main");
        }
        return sql;
    }

    /** The rows of {@code global_variables} a variables pull replaces: the prefix minus what is never synced. */
    private String variablesScope(ClusterModule m) {
        if (m == ClusterModule.ADMIN_VARIABLES) {
            return "variable_name LIKE 'admin-%' AND variable_name NOT LIKE '" + AdminVariables.PREFIX
                    + AdminVariables.LOCAL_PREFIX + "%'"
                    + (syncInterfaces ? "" : " AND variable_name NOT IN " + ADMIN_INTERFACE_VARIABLES);
        }
        return "variable_name LIKE 'mysql-%' AND variable_name NOT IN ('mysql-threads')"
                + (syncInterfaces ? "" : " AND variable_name NOT IN ('mysql-interfaces')");
    }

    /**
     * One INSERT per fetched row, columns named as the peer named them; {@code activeColumn}, when given, is added
     * with value 1 (peers only send active rows and do not send the column).
     */
    private static void insertAll(List<String> sql, String into, QueryResult.Rows rows, String activeColumn) {
        if (rows == null || rows.rows().isEmpty()) {
            return;
        }
        StringBuilder head = new StringBuilder(into).append(" (");
        if (activeColumn != null) {
            head.append(activeColumn).append(", ");
        }
        head.append(String.join(", ", rows.columns())).append(") VALUES (");
        int status = "INSERT INTO main.mysql_servers".equals(into) ? rows.columnIndex("status") : -1;
        for (List<String> row : rows.rows()) {
            StringBuilder s = new StringBuilder(head);
            if (activeColumn != null) {
                s.append("1, ");
            }
            for (int i = 0; i < row.size(); i++) {
                if (i > 0) {
                    s.append(", ");
                }
                String cell = row.get(i);
                // Peers export SHUNNED as ONLINE already; a ProxySQL peer may still send it, and it must not stick.
                if (i == status && "SHUNNED".equalsIgnoreCase(cell)) {
                    cell = "ONLINE";
                }
                s.append(literal(cell));
            }
            sql.add(s.append(')').toString());
        }
    }

    private static String literal(String cell) {
        return cell == null ? "NULL" : "'" + cell.replace("'", "''") + "'";
    }
}
