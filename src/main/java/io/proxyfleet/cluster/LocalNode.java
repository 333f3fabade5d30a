package io.proxyfleet.cluster;

import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;

import java.util.List;
import java.util.Map;

/**
 * What the cluster needs from its own node: its identity, its runtime cluster settings and checksums, its peer
 * list, and a way to apply a verified pull. Implemented over the admin engine by the node wiring.
 *
 * <p>Every method may be called concurrently from several peer-monitor virtual threads; the reads must be cheap
 * (runtime snapshots, not SQL), and {@link #apply} must serialise itself against other loads.
 */
public interface LocalNode {

    /** This node's version string; peers whose {@code @@version} differs are not clustered with (§4.6). */
    String version();

    /** This node's UUID, announced to peers with {@code PROXYSQL CLUSTER_NODE_UUID}. */
    String uuid();

    /** This node's {@code admin-mysql_ifaces}, announced with the UUID. */
    String adminInterfaces();

    /** Whether the config file set {@code cluster_sync_interfaces=true} (§3.3). */
    boolean syncInterfaces();

    /** The runtime {@code admin-cluster_*} settings. */
    ClusterSettings settings();

    /** This node's {@code runtime_checksums_values}, keyed by module name. */
    Map<String, ModuleVersion> checksums();

    /** This node's {@code runtime_proxysql_servers}. */
    List<ProxySqlServer> peers();

    /**
     * Rewrites the module's {@code main} tables, loads it to runtime (adopting the peer's epoch when the checksum
     * computed locally is the advertised one) and saves it to disk if asked, as one step that no admin statement
     * interleaves with; see {@link PulledModule} for the table contents. Blocking; on failure nothing changed.
     *
     * @throws Exception when the rows cannot be applied; the caller logs it and retries on a later check
     */
    void apply(PulledModule pulled) throws Exception;

    /**
     * Whether {@link #apply} accepts a runtime-only {@code mysql_servers} pull (sync algorithm 1 when only the
     * runtime server list differs). Nodes that cannot load a runtime server list apart from the configured one
     * answer false, and such differences are then resolved only by the next configured-servers pull.
     */
    default boolean supportsRuntimeServersPull() {
        return false;
    }

    /**
     * Whether {@code module} is first asked of ProxyFleet peers as a delta since the checksum this node runs, to
     * apply with {@link #applyDelta} (beyond ProxySQL; ProxySQL peers are never asked): only where deltas work and
     * the module is large enough for a delta to pay off.
     */
    default boolean deltaWorthwhile(ClusterModule module) {
        return false;
    }

    /**
     * As {@link #apply}, with {@code pulled.tables()} holding one table: the rows that changed since what runs here,
     * a {@code change} column ({@code -} or {@code +}) first. Refused, with nothing changed, unless the checksum
     * computed here over all the module's rows afterwards is the advertised one.
     */
    default void applyDelta(PulledModule pulled) throws Exception {
        throw new UnsupportedOperationException("delta sync");
    }

    /** Pulls of {@code module} whose rows did not hash here to the checksum the peer advertised. */
    default long checksumMismatches(ClusterModule module) {
        return 0;
    }
}
