package io.proxyfleet.admin;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Waiting for the cluster to acknowledge a change (ProxyFleet, beyond ProxySQL), implemented by the cluster layer
 * and called by the admin engine for {@code PROXYFLEET WAIT CLUSTER} and for a {@code LOAD ... TO RUNTIME} when
 * {@code admin-proxyfleet_cluster_load_wait} is on. Implementations must not block the caller (an event loop or
 * the admin thread): the wait completes the future from elsewhere.
 */
public interface ClusterWaits {
    /** The columns of {@link Result#rows()}, as {@code PROXYFLEET WAIT CLUSTER} returns them. */
    List<String> COLUMNS = List.of("node", "state", "checksum", "time_to_apply_ms");

    /** Whether {@code module} (a checksum module name) is synchronised, so that it can be waited for. */
    boolean synchronises(String module);

    /**
     * Waits until every node in {@code runtime_proxysql_servers} (or, with {@code quorum}, a majority of them)
     * reports this node's current checksum of {@code module}, or until {@code timeout}.
     *
     * @param module a checksum module name ({@code mysql_users}, {@code mysql_servers}, ...)
     * @return the outcome; never completes exceptionally
     * @throws IllegalArgumentException when {@code module} is not {@linkplain #synchronises synchronised}
     */
    CompletableFuture<Result> await(String module, Duration timeout, boolean quorum);

    /**
     * What a wait found.
     *
     * @param satisfied whether all nodes (or a quorum) applied the change in time
     * @param rows      one row per node, cells as {@link #COLUMNS}
     */
    record Result(boolean satisfied, List<List<String>> rows) {
        public Result {
            rows = List.copyOf(rows);
        }

        /** Rows whose state is not {@code applied}, as {@code node state} pairs. */
        public List<String> missing() {
            return rows.stream().filter(r -> !"applied".equals(r.get(1))).map(r -> r.get(0) + " " + r.get(1))
                    .toList();
        }

        public long applied() {
            return rows.stream().filter(r -> "applied".equals(r.get(1))).count();
        }
    }
}
