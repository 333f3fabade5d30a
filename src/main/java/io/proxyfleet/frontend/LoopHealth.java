package io.proxyfleet.frontend;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * How one traffic event loop is doing, as a task run on that loop saw it: its sessions, its deadline ticks
 * ({@link LoopTicker}), and how long the sampling task itself waited in the loop's queue. Immutable.
 *
 * @param ticks          ticks run since the loop's first session
 * @param tickNanosTotal time spent in those ticks
 * @param lastTickNanos  duration of the latest tick
 * @param queuedNanos    from submitting the sampling task to its start: what any task waits on this loop now
 */
public record LoopHealth(int sessions, long ticks, long tickNanosTotal, long lastTickNanos, long queuedNanos) {

    /** Samples {@code loop} from a task run on it; completes when the loop gets to it. Any thread. */
    public static CompletableFuture<LoopHealth> sample(EventExecutor loop) {
        var result = new CompletableFuture<LoopHealth>();
        long submitted = System.nanoTime();
        try {
            loop.execute(() -> result.complete(LoopTicker.health(System.nanoTime() - submitted)));
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(e);
        }
        return result;
    }
}
