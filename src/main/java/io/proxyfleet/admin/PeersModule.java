package io.proxyfleet.admin;

import io.proxyfleet.admin.AdminDatabase.Table;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.checksum.Checksums;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code proxysql_servers} module (the cluster's peers) between the MEMORY and RUNTIME layers, and its
 * {@code runtime_proxysql_servers} table. {@link RuntimeModules} delegates to it.
 *
 * <p>Thread ownership: the engine's admin thread only.
 */
final class PeersModule {
    private static final String MODULE = "proxysql_servers";

    private final AdminDatabase db;
    private final ConfigHolder holder;
    private final ModuleVersions versions;
    /** The rows hashed at the last load, for history; null before the first. */
    private Table hashedRows;

    PeersModule(AdminDatabase db, ConfigHolder holder, ModuleVersions versions) {
        this.db = db;
        this.holder = holder;
        this.versions = versions;
    }

    Table hashedRows() {
        return hashedRows;
    }

    /** {@code LOAD PROXYSQL SERVERS TO RUNTIME}. */
    void load(LoadOrigin origin) throws SQLException, AdminException {
        Table rows = db.queryText("SELECT hostname, port, weight, comment FROM main.proxysql_servers"
                + " ORDER BY hostname, port");
        var peers = new ArrayList<ProxySqlServer>();
        for (List<String> r : rows.textRows()) {
            peers.add(new ProxySqlServer(r.get(0), Integer.parseInt(r.get(1)), Integer.parseInt(r.get(2)), r.get(3)));
        }
        ModuleVersion version = versions.next(MODULE, Checksums.format(Checksums.rawChecksum(rows.textRows())),
                origin);
        versions.commit(MODULE, version);
        hashedRows = rows;
        holder.update(c -> c.withPeers(new RuntimeConfig.Peers(peers, version)));
        RuntimeModules.logChecksum("LOAD PROXYSQL SERVERS TO RUNTIME", version);
    }

    /** {@code SAVE PROXYSQL SERVERS TO MEMORY}: the running peers replace {@code main}'s. */
    void saveToMemory(RuntimeConfig current) throws SQLException {
        db.update("DELETE FROM main.proxysql_servers");
        for (ProxySqlServer p : current.peers().rows()) {
            db.update("INSERT INTO main.proxysql_servers VALUES (?,?,?,?)", p.hostname(), p.port(), p.weight(),
                    p.comment());
        }
    }

    /** Regenerates {@code runtime_proxysql_servers} when {@code lowerSql} names it. */
    void refreshRuntimeTable(String lowerSql, RuntimeConfig current) throws SQLException {
        if (lowerSql.contains("runtime_proxysql_servers")) {
            var rows = new ArrayList<List<Object>>();
            for (ProxySqlServer p : current.peers().rows()) {
                rows.add(List.of(p.hostname(), p.port(), p.weight(), p.comment()));
            }
            db.update("DELETE FROM main.runtime_proxysql_servers");
            db.insertAll("main.runtime_proxysql_servers", rows);
        }
    }
}
