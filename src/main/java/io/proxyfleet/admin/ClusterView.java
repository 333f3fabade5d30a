package io.proxyfleet.admin;

import io.proxyfleet.config.ModuleVersion;
import java.util.Optional;

/**
 * What the admin needs to know from, and tell, the cluster layer above it, which registers itself with
 * {@link AdminEngine#clusterView(ClusterView)}: the newest version of a module any peer reported, to recognise a
 * local {@code LOAD} made over a stale base (a concurrent edit), and that a local load happened, so that peers are
 * told at once. Called on the engine's admin thread; implementations must answer from memory, without I/O.
 */
public interface ClusterView {

    /**
     * The newest version of {@code module} (a checksum module name) that a peer reported and that this node, at
     * {@code base}, would pull by the sync rules (a newer epoch, the winner of equal epochs, or any loaded version
     * while {@code base} is the boot load), if any: a configuration this node has not taken yet.
     */
    Optional<PeerVersion> newerThan(String module, ModuleVersion base);

    /** A local load of {@code module} went over a newer peer version; it is counted by the cluster layer. */
    void concurrentEdit(String module);

    /** An operator's load of {@code module} (not a pull, not the boot load) was published to runtime. */
    void localLoad(String module);

    /** The view of a node without a cluster: no peers. */
    ClusterView NONE = new ClusterView() {
        @Override
        public Optional<PeerVersion> newerThan(String module, ModuleVersion base) {
            return Optional.empty();
        }

        @Override
        public void concurrentEdit(String module) {
        }

        @Override
        public void localLoad(String module) {
        }
    };

    /** One peer's reported version of a module; {@code node} is {@code host:port}. Immutable. */
    record PeerVersion(String node, long version, long epoch, String checksum) {
    }
}
