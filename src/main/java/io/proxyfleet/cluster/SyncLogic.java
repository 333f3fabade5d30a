package io.proxyfleet.cluster;

import io.proxyfleet.config.ModuleVersion;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pure decision rules of ProxySQL's cluster (§4.7, §4.8): how a peer's reported checksums update its
 * {@code diff_check} counters, when a module must be pulled, and which peer to pull it from. No I/O, no clock, no
 * locks: callers pass the time and hold the state lock. Log texts are returned, worded as ProxySQL words them.
 */
final class SyncLogic {
    /** Conflict and version-1 messages repeat every {@code diffs_before_sync * this} checks. */
    static final int REPEAT_FACTOR = 10;

    private SyncLogic() {
    }

    /** One row of a peer's {@code runtime_checksums_values}. */
    record ReportedChecksum(String name, long version, long epoch, String checksum) {
    }

    private static ModuleVersion own(Map<String, ModuleVersion> own, ClusterModule m) {
        return own.getOrDefault(m.checksumName(), ModuleVersion.NONE);
    }

    /**
     * §4.7 A: the peer's rows were downloaded (its global checksum changed). Rows of modules we do not sync are
     * ignored. Returns the INFO lines to log.
     */
    static List<String> evaluateReported(PeerAddress peer, Map<ClusterModule, ModuleState> states,
                                         List<ReportedChecksum> rows, Map<String, ModuleVersion> own,
                                         ClusterSettings settings, long now) {
        List<String> logs = new ArrayList<>();
        for (ReportedChecksum row : rows) {
            ClusterModule m = ClusterModule.byChecksumName(row.name()).orElse(null);
            if (m == null) {
                continue;
            }
            ModuleState s = states.computeIfAbsent(m, k -> new ModuleState());
            ModuleVersion mine = own(own, m);
            s.version = row.version();
            s.epoch = row.epoch();
            s.updatedAt = now;
            if (!row.checksum().equals(s.checksum)) {
                s.checksum = row.checksum();
                s.changedAt = now;
                s.diffCheck = 1;
                String tail = settings.diffs(m) == 0
                        ? " . Not syncing due to 'admin-cluster_" + m.variableStem() + "_diffs_before_sync=0'."
                        : " . Not syncing yet ...";
                logs.add("Cluster: detected a new checksum for " + m.checksumName() + " from peer " + peer
                        + ", version " + row.version() + ", epoch " + row.epoch() + ", checksum " + row.checksum()
                        + tail);
                if (row.checksum().equals(mine.checksum())) {
                    logs.add("Cluster: checksum for " + m.checksumName() + " from peer " + peer
                            + " matches with local checksum " + mine.checksum() + " , we won't sync.");
                }
            } else {
                s.diffCheck++;
            }
            if (row.checksum().equals(mine.checksum())) {
                s.diffCheck = 0;
            }
        }
        return logs;
    }

    /**
     * §4.7 B: the peer's global checksum did not change, so nothing was downloaded; a difference that persists
     * keeps counting once per check.
     */
    static void evaluateUnchanged(Map<ClusterModule, ModuleState> states, Map<String, ModuleVersion> own, long now) {
        for (ClusterModule m : ClusterModule.values()) {
            ModuleState s = states.computeIfAbsent(m, k -> new ModuleState());
            s.updatedAt = now;
            if (s.checksum.equals(own(own, m).checksum())) {
                s.diffCheck = 0;
            }
            if (s.diffCheck > 0) {
                s.diffCheck++;
            }
        }
    }

    /** What §4.7 C concludes for one module of one peer. */
    sealed interface Decision {
        /**
         * Pull the module (from the peer {@link #choosePeer} picks); {@code equalEpochs} when the peer's load has
         * this node's epoch and wins the tie-break.
         */
        record Sync(String log, boolean equalEpochs) implements Decision {
        }

        /** Same epoch, different checksums: nobody can tell which is newer (logged at ERROR). */
        record EqualEpochConflict(String log) implements Decision {
        }

        /** The peer only has its boot-time configuration, which is never a source (logged at WARNING). */
        record VersionOne(String log) implements Decision {
        }

        /** Nothing to do or say. */
        record None() implements Decision {
        }
    }

    private static final Decision NONE = new Decision.None();

    /**
     * Beyond ProxySQL, which never resolves two loads of one second: of two configurations with equal epochs the
     * one with the higher checksum string wins. Every node compares the same two strings, so every node picks the
     * same winner, and the losers pull it like any newer configuration.
     */
    static boolean winsTie(String peerChecksum, String ownChecksum) {
        return peerChecksum.compareTo(ownChecksum) > 0;
    }

    /** §4.7 C for one module; {@code d} is its {@code diffs_before_sync}, which must be non-zero. */
    static Decision decide(PeerAddress peer, ClusterModule m, ModuleState p, ModuleVersion own, int d) {
        String head = "Cluster: detected a peer " + peer + " with " + m.checksumName() + " version " + p.version
                + ", epoch " + p.epoch + ", diff_check " + p.diffCheck;
        boolean repeatDue = p.diffCheck > 0 && p.diffCheck % ((long) d * REPEAT_FACTOR) == 0;
        String repeat = " This message will be repeated every " + (d * REPEAT_FACTOR) + " checks until "
                + m.loadCommand() + " is executed on candidate master.";
        if (p.version > 1) {
            if ((own.version() == 1 || p.epoch > own.epoch()) && p.diffCheck >= d) {
                return new Decision.Sync(head + ". Own version: " + own.version() + ", epoch: " + own.epoch()
                        + ". Proceeding with remote sync", false);
            }
            if (p.epoch == own.epoch() && winsTie(p.checksum, own.checksum()) && p.diffCheck >= d) {
                return new Decision.Sync(head + ", checksum " + p.checksum + ". Own version: " + own.version()
                        + ", epoch: " + own.epoch() + ", checksum " + own.checksum() + ". Epoch times are EQUAL;"
                        + " the higher checksum wins on every node. Proceeding with remote sync", true);
            }
            if (p.epoch == own.epoch() && repeatDue) {
                return new Decision.EqualEpochConflict(head + ", checksum " + p.checksum + ". Own version: "
                        + own.version() + ", epoch: " + own.epoch() + ", checksum " + own.checksum()
                        + ". Sync conflict, epoch times are EQUAL, can't determine which server holds the latest"
                        + " config, we won't sync." + repeat);
            }
            return NONE;
        }
        if (repeatDue) {
            return new Decision.VersionOne(head + ". Own version: " + own.version() + ", epoch: " + own.epoch()
                    + ". diff_check is increasing, but version 1 doesn't allow sync." + repeat);
        }
        return NONE;
    }

    /** §4.8's outcome. */
    sealed interface Choice {
        /** Pull from this peer, which reported this version, epoch and checksum for the module. */
        record Chosen(PeerAddress peer, long version, long epoch, String checksum, String log) implements Choice {
        }

        /** A peer with an even newer epoch has not yet reached the threshold: wait (logged at WARNING). */
        record Postponed(String log) implements Choice {
        }

        /** No peer qualifies: the pull silently does nothing. */
        record NoneEligible() implements Choice {
        }
    }

    /**
     * §4.8: over all peers in iteration order, the one with the highest epoch among those with version > 1 whose
     * {@code diff_check} reached {@code d}; postponed when a peer with a newer epoch has not reached it yet. The
     * running maximum is updated only on a new best candidate epoch, exactly as ProxySQL does. Beyond ProxySQL, of
     * candidates with equal epochs the one that {@link #winsTie wins the tie} is chosen.
     */
    static Choice choosePeer(ClusterModule m, Map<PeerAddress, ModuleState> peers, int d) {
        long bestEpoch = 0;
        long maxEpoch = 0;
        PeerAddress best = null;
        ModuleState bestState = null;
        for (Map.Entry<PeerAddress, ModuleState> e : peers.entrySet()) {
            ModuleState s = e.getValue();
            boolean tieWinner = best != null && s.epoch == bestEpoch && winsTie(s.checksum, bestState.checksum);
            if (s.version > 1 && (s.epoch > bestEpoch || tieWinner)) {
                maxEpoch = s.epoch;
                if (s.diffCheck >= d) {
                    best = e.getKey();
                    bestState = s;
                    bestEpoch = s.epoch;
                }
            }
        }
        if (best == null) {
            return new Choice.NoneEligible();
        }
        if (maxEpoch > bestEpoch) {
            return new Choice.Postponed("Cluster: detected a peer with " + m.checksumName() + " epoch " + maxEpoch
                    + " , but not enough diff_check. We won't sync from epoch " + bestEpoch
                    + ": temporarily skipping sync");
        }
        return new Choice.Chosen(best, bestState.version, bestState.epoch, bestState.checksum,
                "Cluster: detected peer " + best + " with " + m.checksumName() + " version " + bestState.version
                        + ", epoch " + bestState.epoch);
    }
}
