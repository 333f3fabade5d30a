package io.proxyfleet.cluster;

/**
 * What one peer last reported for one module, and for how many consecutive checks it differed from ours (§4.7).
 * Mutable; guarded by the {@link ClusterManager}'s state lock (tests use it single-threaded).
 */
final class ModuleState {
    long version;
    long epoch;
    String checksum = "";
    /** Unix seconds when a different checksum was last received. */
    long changedAt;
    /** Unix seconds when this state was last evaluated. */
    long updatedAt;
    long diffCheck;

    ModuleState() {
    }

    ModuleState(long version, long epoch, String checksum, long diffCheck) {
        this.version = version;
        this.epoch = epoch;
        this.checksum = checksum;
        this.diffCheck = diffCheck;
    }
}
