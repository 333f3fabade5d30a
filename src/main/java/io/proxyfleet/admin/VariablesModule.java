package io.proxyfleet.admin;

import io.proxyfleet.admin.AdminDatabase.Table;
import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlVariables;
import io.proxyfleet.config.ProxySqlVariables;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.checksum.Checksums;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two variables modules ({@code mysql_variables}, {@code admin_variables}) between the MEMORY and RUNTIME
 * layers: checks {@code main.global_variables} rows against the known variables, publishes them, hashes the rows
 * ProxySQL hashes (reference §4.2) and keeps the table peers fetch them from, and regenerates
 * {@code runtime_global_variables} and {@code runtime_proxyfleet_variables}. {@link RuntimeModules} delegates to it.
 *
 * <p>Thread ownership: the engine's admin thread only.
 */
final class VariablesModule {
    private static final Logger LOG = LoggerFactory.getLogger(VariablesModule.class);

    /**
     * Where peers' variable fetches are answered from (§4.9 runs plain SQL on {@code runtime_global_variables}):
     * a connection-private table holding ProxySQL's variables only, so a peer fetches exactly what was hashed.
     */
    static final String SYNCED_VARIABLES = "temp.synced_global_variables";
    /** ProxyFleet's table of every variable: ProxySQL's or not, implemented or not, synced or node-local. */
    private static final String VARIABLE_SCOPES = "runtime_proxyfleet_variables";
    private static final String VERSION = "version";
    private static final String REPORTED_VERSION = "reported_version";
    /** The modules of ProxySQL's deprecated {@code admin-checksum_*} switches. */
    private static final List<String> DEPRECATED_CHECKSUM_MODULES = List.of("mysql_query_rules", "mysql_servers",
            "mysql_users", "mysql_variables", "admin_variables", "ldap_variables");
    /** mysql variables that only a restart may change (§1.1); a LOAD keeps their running value. */
    private static final Set<String> MYSQL_RESTART_ONLY = Set.of("interfaces", "threads");
    private static final List<String> VARIABLE_COLUMNS = List.of("variable_name", "variable_value");

    private final AdminDatabase db;
    private final ConfigHolder holder;
    private final NodeControl control;
    private final ModuleVersions versions;
    /** The config file's {@code cluster_sync_interfaces}: when true, interface variables are hashed and synced. */
    private final boolean syncInterfaces;
    /** The hashed rows of each variables module at its last load, for history. */
    private final Map<String, Table> hashedRows = new HashMap<>();

    VariablesModule(AdminDatabase db, ConfigHolder holder, NodeControl control, ModuleVersions versions,
                    boolean syncInterfaces) {
        this.db = db;
        this.holder = holder;
        this.control = control;
        this.versions = versions;
        this.syncInterfaces = syncInterfaces;
    }

    /** The rows {@code module} hashed at its last load, as history records them. */
    Table hashedRows(AdminModule module) {
        return hashedRows.get(module.moduleName());
    }

    /** {@code LOAD MYSQL|ADMIN VARIABLES TO RUNTIME}. */
    void load(AdminModule module, LoadOrigin origin) throws SQLException, AdminException {
        boolean admin = module == AdminModule.ADMIN_VARIABLES;
        String prefix = module.variablePrefix().orElseThrow();
        Map<String, String> defaults = admin ? AdminVariables.DEFAULTS : MysqlVariables.DEFAULTS;
        RuntimeConfig current = holder.current();
        RuntimeConfig.Variables running = admin ? current.adminVariables() : current.mysqlVariables();
        boolean booting = running.version().version() == 0;
        boolean pulled = origin instanceof LoadOrigin.Pulled;
        var values = new LinkedHashMap<String, String>(running.values());
        String askedVersion = null;
        Table rows = db.query("SELECT variable_name, variable_value FROM main.global_variables"
                + " WHERE variable_name LIKE ?", prefix + "%");
        for (List<Object> r : rows.rows()) {
            String fullName = Table.text(r.get(0));
            String name = fullName.substring(prefix.length());
            String value = Table.text(r.get(1));
            if (!defaults.containsKey(name)) {
                LOG.warn("Impossible to set not existing variable {} with value \"{}\". Deleting.", fullName, value);
                db.update("DELETE FROM main.global_variables WHERE variable_name = ?", fullName);
                continue;
            }
            if (admin && name.equals(VERSION)) {
                askedVersion = value;
                continue;
            }
            if (pulled && !ProxySqlVariables.isProxySql(fullName)) {
                // A node-local variable: a peer's value never replaces this node's.
                continue;
            }
            String accepted = VariableRules.accept(fullName, value, defaults.get(name));
            boolean restartOnly = !admin && !booting && MYSQL_RESTART_ONLY.contains(name);
            if (accepted == null || restartOnly && !value.equals(running.values().get(name))) {
                String keep = running.values().get(name);
                LOG.warn("Impossible to set variable {} with value \"{}\". Resetting to current \"{}\".", fullName,
                        value, keep);
                values.put(name, keep);
            } else {
                values.put(name, accepted);
            }
        }
        if (admin) {
            disableDeprecatedChecksums(values);
            String reported = reportedVersion(values);
            if (askedVersion != null && !askedVersion.equals(reported)
                    && !askedVersion.equals(running.values().get(VERSION))
                    && !askedVersion.equals(AdminVariables.DEFAULTS.get(VERSION))) {
                LOG.warn("Impossible to set variable {}{} with value \"{}\". Resetting to current \"{}\".", prefix,
                        VERSION, askedVersion, reported);
            }
            values.put(VERSION, reported);
        }
        // Runtime values are dumped back so that main shows what actually runs (and rows deleted by hand return).
        writeToMain(prefix, values);
        dumpRuntimeVariables(prefix, values);
        String moduleName = module.moduleName();
        List<List<String>> hashed = checksummedRows(prefix, values);
        ModuleVersion version = versions.next(moduleName, Checksums.format(Checksums.rawChecksum(hashed)), origin);
        versions.commit(moduleName, version);
        hashedRows.put(moduleName, new Table(VARIABLE_COLUMNS, hashed.stream().map(List::<Object>copyOf).toList()));
        String oldIfaces = running.values().get("mysql_ifaces");
        if (admin) {
            holder.update(c -> c.withAdminVariables(new RuntimeConfig.Variables(values, version)));
            if (!booting && !Objects.equals(oldIfaces, values.get("mysql_ifaces"))) {
                control.adminInterfacesChanged(values.get("mysql_ifaces"));
            }
        } else {
            holder.update(c -> c.withMysqlVariables(new RuntimeConfig.Variables(values, version)));
        }
        RuntimeModules.logChecksum("LOAD " + (admin ? "ADMIN" : "MYSQL") + " VARIABLES TO RUNTIME", version);
    }

    /** {@code SAVE MYSQL|ADMIN VARIABLES TO MEMORY}: the running values overwrite {@code main}'s rows. */
    void saveToMemory(AdminModule module, RuntimeConfig current) throws SQLException {
        writeToMain(module.variablePrefix().orElseThrow(), module == AdminModule.ADMIN_VARIABLES
                ? current.adminVariables().values() : current.mysqlVariables().values());
    }

    /** Copies the variables of {@code prefix} between schemas, merging: variables missing in {@code from} stay. */
    void copy(String prefix, String from, String to) throws SQLException {
        db.update("INSERT OR REPLACE INTO " + to + ".global_variables SELECT * FROM " + from
                + ".global_variables WHERE variable_name LIKE ?", prefix + "%");
    }

    /** Regenerates the variables' runtime tables that {@code lowerSql} names, from what runs now. */
    void refreshRuntimeTables(String lowerSql, RuntimeConfig current) throws SQLException {
        if (lowerSql.contains("global_variables")) {
            dumpRuntimeVariables("admin-", current.adminVariables().values());
            dumpRuntimeVariables("mysql-", current.mysqlVariables().values());
        }
        if (lowerSql.contains(VARIABLE_SCOPES)) {
            db.update("DELETE FROM main." + VARIABLE_SCOPES);
            db.insertAll("main." + VARIABLE_SCOPES, VariableScopes.rows(current, syncInterfaces));
        }
    }

    private void writeToMain(String prefix, Map<String, String> values) throws SQLException {
        for (var e : values.entrySet()) {
            db.update("INSERT OR REPLACE INTO main.global_variables VALUES (?, ?)", prefix + e.getKey(),
                    e.getValue());
        }
    }

    /**
     * ProxySQL's deprecated {@code admin-checksum_<module>} (reference §3.2): while one is false, the module's
     * {@code cluster_<module>_diffs_before_sync} is held at 0, so the module never syncs.
     */
    private static void disableDeprecatedChecksums(Map<String, String> adminValues) {
        for (String module : DEPRECATED_CHECKSUM_MODULES) {
            String diffs = "cluster_" + module + "_diffs_before_sync";
            if ("false".equals(adminValues.get("checksum_" + module)) && !"0".equals(adminValues.get(diffs))) {
                LOG.warn("Disabling deprecated 'admin-checksum_{}', setting 'admin-{}=0'", module, diffs);
                adminValues.put(diffs, "0");
            }
        }
    }

    /** admin-version shows admin-reported_version when set (to join ProxySQL peers), else ProxyFleet's own. */
    private static String reportedVersion(Map<String, String> adminValues) {
        String reported = adminValues.get(REPORTED_VERSION);
        return reported == null || reported.isBlank() ? AdminVariables.DEFAULTS.get(VERSION) : reported.strip();
    }

    /**
     * The rows ProxySQL hashes for a variables module (§4.2): its own variables only, by name, minus those each
     * node keeps for itself. ProxyFleet's variables are never among them, so identical configurations hash alike.
     * The same rows go to {@link #SYNCED_VARIABLES}, which answers peers' fetches.
     */
    private List<List<String>> checksummedRows(String prefix, Map<String, String> values) throws SQLException {
        var synced = new TreeMap<String, String>();
        values.forEach((name, value) -> {
            if (ProxySqlVariables.isProxySql(prefix + name)) {
                synced.put(prefix + name, value);
            }
        });
        db.update("CREATE TEMP TABLE IF NOT EXISTS " + SYNCED_VARIABLES
                + " (variable_name VARCHAR NOT NULL PRIMARY KEY, variable_value VARCHAR NOT NULL)");
        db.update("DELETE FROM " + SYNCED_VARIABLES + " WHERE variable_name LIKE ?", prefix + "%");
        var rows = new ArrayList<List<String>>();
        synced.forEach((name, value) -> rows.add(List.of(name, value)));
        db.insertAll(SYNCED_VARIABLES, rows);
        rows.removeIf(r -> !VariableScopes.travels(r.getFirst(), syncInterfaces));
        return rows;
    }

    private void dumpRuntimeVariables(String prefix, Map<String, String> values) throws SQLException {
        db.update("DELETE FROM main.runtime_global_variables WHERE variable_name LIKE ?", prefix + "%");
        var rows = new ArrayList<List<Object>>();
        values.forEach((k, v) -> rows.add(List.of(prefix + k, v)));
        db.insertAll("main.runtime_global_variables", rows);
    }
}
