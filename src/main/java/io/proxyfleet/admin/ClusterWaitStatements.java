package io.proxyfleet.admin;

import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.RuntimeConfig;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The admin side of acknowledged changes: answers {@code PROXYFLEET WAIT CLUSTER <module> [TIMEOUT <ms>]
 * [QUORUM]} without the admin thread, and makes a {@code LOAD ... TO RUNTIME} wait for the cluster when
 * {@code admin-proxyfleet_cluster_load_wait} is on. Either way the session's answer is completed by the wait, so
 * the admin thread and every other admin session keep working meanwhile.
 *
 * <p>Threads: called on the session's event loop (intercept) and on the admin thread's completion (after a load);
 * it only reads the runtime snapshot and the volatile {@link ClusterWaits}, set once by the node wiring.
 */
final class ClusterWaitStatements {
    private static final Pattern WAIT = Pattern.compile(
            "(?i)^\\s*PROXYFLEET\\s+WAIT\\s+CLUSTER\\s+([a-z_0-9]+)(?:\\s+TIMEOUT\\s+(\\d{1,9}))?(\\s+QUORUM)?\\s*;?\\s*$");
    private static final Pattern LOAD = Pattern.compile(
            "(?i)^\\s*LOAD\\s+(.+?)\\s+(?:TO\\s+RUN(?:TIME)?|FROM\\s+MEM(?:ORY)?)\\s*;?\\s*$");
    private static final String COMMAND_PREFIX = "PROXYFLEET";
    /** The admin variables (without {@code admin-}) that govern waiting; see {@code AdminVariables}. */
    private static final String LOAD_WAIT = "proxyfleet_cluster_load_wait";
    private static final String ACK_QUORUM = "proxyfleet_cluster_ack_quorum";
    private static final String ACK_TIMEOUT_MS = "proxyfleet_cluster_ack_timeout_ms";

    private final ConfigHolder holder;
    private volatile ClusterWaits waits;

    ClusterWaitStatements(ConfigHolder holder) {
        this.holder = holder;
    }

    void waits(ClusterWaits waits) {
        this.waits = waits;
    }

    /**
     * The answer to {@code sql} when it is {@code PROXYFLEET WAIT CLUSTER}, or null when the statement is for the
     * admin thread.
     */
    CompletableFuture<AdminResponse> intercept(AdminPrincipal who, String sql) {
        String s = sql.stripLeading();
        if (!s.regionMatches(true, 0, COMMAND_PREFIX, 0, COMMAND_PREFIX.length())) {
            return null;
        }
        Matcher m = WAIT.matcher(s);
        if (!m.matches()) {
            return null;
        }
        if (who.role() != AdminRole.ADMIN) {
            return CompletableFuture.completedFuture(
                    AdminResponse.Error.admin("only SELECT statements are allowed for stats users"));
        }
        ClusterWaits w = waits;
        if (w == null) {
            return CompletableFuture.completedFuture(AdminResponse.Error.admin("this node runs no cluster"));
        }
        String module = m.group(1).toLowerCase(Locale.ROOT);
        if (!w.synchronises(module)) {
            return CompletableFuture.completedFuture(AdminResponse.Error.admin("unknown cluster module '" + module
                    + "': use a name of runtime_checksums_values"));
        }
        Duration timeout = m.group(2) != null ? Duration.ofMillis(Long.parseLong(m.group(2))) : timeout();
        return w.await(module, timeout, m.group(3) != null)
                .thenApply(r -> new AdminResponse.ResultSet(ClusterWaits.COLUMNS, r.rows()));
    }

    /**
     * {@code answer} itself, or, for a successful {@code LOAD <module> TO RUNTIME} of a synchronised module while
     * {@code admin-proxyfleet_cluster_load_wait} is on, an answer that comes once the cluster applied it: OK when
     * every node (or a quorum) did in time, otherwise an error that names the others (the load itself stays).
     */
    CompletableFuture<AdminResponse> afterStatement(String sql, Supplier<CompletableFuture<AdminResponse>> run) {
        ClusterWaits w = waits;
        // The settings in effect when the statement arrives decide, so a LOAD ADMIN VARIABLES that turns the
        // wait on (or off) does not race its own effect.
        RuntimeConfig.Variables admin = holder.current().adminVariables();
        Duration timeout = timeout();
        CompletableFuture<AdminResponse> answer = run.get();
        if (w == null || !admin.getBoolean(LOAD_WAIT)) {
            return answer;
        }
        Matcher m = LOAD.matcher(sql);
        if (!m.matches()) {
            return answer;
        }
        var module = AdminModule.byWords(m.group(1).toUpperCase(Locale.ROOT).replaceAll("\\s+", " "));
        if (module.isEmpty() || !w.synchronises(module.get().moduleName())) {
            return answer;
        }
        boolean quorum = admin.getBoolean(ACK_QUORUM);
        String command = "LOAD " + module.get().words() + " TO RUNTIME";
        return answer.thenCompose(r -> r instanceof AdminResponse.Ok
                ? w.await(module.get().moduleName(), timeout, quorum).thenApply(result -> loadAnswer(command,
                        result, timeout, quorum))
                : CompletableFuture.completedFuture(r));
    }

    private static AdminResponse loadAnswer(String command, ClusterWaits.Result result, Duration timeout,
                                            boolean quorum) {
        String counts = result.applied() + " of " + result.rows().size() + " nodes";
        if (result.satisfied()) {
            // No info text: the admin session writes it in a form clients with CLIENT_SESSION_TRACK reject.
            return AdminResponse.Ok.empty();
        }
        return AdminResponse.Error.admin(command + " is applied on this node, but only " + counts + " applied it"
                + " within " + timeout.toMillis() + " ms" + (quorum ? " (quorum not reached)" : "") + ": "
                + String.join(", ", result.missing()));
    }

    private Duration timeout() {
        return Duration.ofMillis(holder.current().adminVariables().getLong(ACK_TIMEOUT_MS));
    }
}
