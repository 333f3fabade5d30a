package io.proxyfleet.cluster;

import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link LocalNode} with fixed identity, settings and peers, whose own modules are all unloaded (version 0), and
 * that only records the pulls handed to it. Thread-safe.
 */
final class RecordingNode implements LocalNode {
    final List<PulledModule> applied = new CopyOnWriteArrayList<>();
    private final String version;
    private volatile List<ProxySqlServer> peers;
    private final ClusterSettings settings;

    RecordingNode(String version, List<ProxySqlServer> peers, ClusterSettings settings) {
        this.version = version;
        this.peers = List.copyOf(peers);
        this.settings = settings;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public String uuid() {
        return "00000000-0000-0000-0000-000000000001";
    }

    @Override
    public String adminInterfaces() {
        return "127.0.0.1:0";
    }

    @Override
    public boolean syncInterfaces() {
        return false;
    }

    @Override
    public ClusterSettings settings() {
        return settings;
    }

    @Override
    public Map<String, ModuleVersion> checksums() {
        return Map.of();
    }

    @Override
    public List<ProxySqlServer> peers() {
        return peers;
    }

    /** Replaces the runtime peer list, as a LOAD PROXYSQL SERVERS TO RUNTIME would. */
    void setPeers(List<ProxySqlServer> next) {
        peers = List.copyOf(next);
    }

    @Override
    public void apply(PulledModule pulled) {
        applied.add(pulled);
    }
}
