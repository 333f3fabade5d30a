package io.proxyfleet.monitor;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the monitor's log rows go: plain SQL statements ({@code INSERT OR REPLACE} into and {@code DELETE} from
 * the {@code monitor} schema) run as one transaction. In a node this is the admin engine's
 * {@code runInTransaction}, which runs them on the admin thread. Called only from the monitor's
 * {@code monitor-log-writer} virtual thread, one batch at a time.
 */
@FunctionalInterface
public interface MonitorLogSink {
    CompletableFuture<?> runInTransaction(List<String> statements);
}
