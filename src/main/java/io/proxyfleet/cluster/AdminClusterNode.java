package io.proxyfleet.cluster;

import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.admin.AdminModule;
import io.proxyfleet.admin.PeerChecksum;
import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@link LocalNode} over this node's {@link AdminEngine} and runtime {@link ConfigHolder}: reads come from the
 * published runtime snapshots, and a verified pull is applied the way ProxySQL applies it under its admin mutex
 * (§4.10): the module's {@code main} tables are replaced, the module is loaded to runtime (adopting the peer's epoch
 * only when the checksum computed here is the advertised one) and saved to disk if asked, all as one admin step.
 *
 * <p>Threading: called from peer-monitor virtual threads; the engine serialises all SQLite work on its own thread,
 * and this class only waits for it (bounded by {@link #ADMIN_TIMEOUT}).
 */
public final class AdminClusterNode implements LocalNode {
    /** A pull's apply never waits longer than this for the admin thread. */
    static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private final AdminEngine engine;
    private final ConfigHolder holder;
    private final boolean syncInterfaces;
    private final boolean backendMonitorEnabled;
    private final Duration adminTimeout;

    /**
     * @param syncInterfaces        the config file's top-level {@code cluster_sync_interfaces}
     * @param backendMonitorEnabled false when started with {@code -M}; resolves servers sync algorithm 3
     */
    public AdminClusterNode(AdminEngine engine, ConfigHolder holder, boolean syncInterfaces,
                            boolean backendMonitorEnabled) {
        this(engine, holder, syncInterfaces, backendMonitorEnabled, ADMIN_TIMEOUT);
    }

    AdminClusterNode(AdminEngine engine, ConfigHolder holder, boolean syncInterfaces, boolean backendMonitorEnabled,
                     Duration adminTimeout) {
        this.adminTimeout = adminTimeout;
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
     * Applies a pull as one step of the admin thread ({@link AdminEngine#applyPulled}): two monitors pulling the
     * same change are serialised there, and the second, which would only repeat what is loaded, is skipped. A
     * wait longer than {@link #ADMIN_TIMEOUT} withdraws the work, so it never runs late.
     */
    @Override
    public void apply(PulledModule pulled) throws Exception {
        if (pulled.module() == ClusterModule.MYSQL_SERVERS) {
            throw new UnsupportedOperationException("runtime-only server pulls need a runtime server API");
        }
        engine.applyPulled(adminModule(pulled.module()), pulled.tables(), pulled.source().toString(),
                adopted(pulled), pulled.saveToDisk()).await(adminTimeout);
    }

    @Override
    public boolean deltaWorthwhile(ClusterModule module) {
        // a node with a small table asks for the whole one: deltas are refused below this size anyway
        return module == ClusterModule.MYSQL_USERS
                && holder.current().users().rows().size() >= AdminEngine.DELTA_MIN_ROWS;
    }

    /** A delta pull's apply ({@link AdminEngine#applyPulledDelta}), bounded like {@link #apply}. */
    @Override
    public void applyDelta(PulledModule pulled) throws Exception {
        engine.applyPulledDelta(adminModule(pulled.module()), pulled.tables().values().iterator().next(),
                pulled.source().toString(), adopted(pulled), pulled.saveToDisk()).await(adminTimeout);
    }

    private static List<PeerChecksum> adopted(PulledModule pulled) {
        List<PeerChecksum> adopt = new ArrayList<>();
        for (PulledModule.Adopted a : pulled.adopt()) {
            adopt.add(new PeerChecksum(a.checksumName(), a.epoch(), a.checksum()));
        }
        return adopt;
    }

    @Override
    public long checksumMismatches(ClusterModule module) {
        return engine.checksumMismatches(module.checksumName());
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
}
