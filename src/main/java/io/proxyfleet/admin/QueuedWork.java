package io.proxyfleet.admin;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Work queued on the engine's admin thread that its waiter can withdraw until it starts: a wait that times out
 * leaves nothing behind that would run later. Whoever takes the work first — the admin thread starting it, or the
 * waiter giving up — wins one compare-and-set. Thread-safe.
 *
 * @param <T> what the work produces
 */
public final class QueuedWork<T> {
    private final AtomicBoolean taken = new AtomicBoolean();
    private final CompletableFuture<T> result = new CompletableFuture<>();

    QueuedWork() {
    }

    /** The admin thread's side: true if the work may run (the waiter has not withdrawn it). */
    boolean start() {
        return taken.compareAndSet(false, true);
    }

    void complete(T value) {
        result.complete(value);
    }

    void fail(Exception e) {
        result.completeExceptionally(e);
    }

    /**
     * Waits for the work's outcome. If it has not started within {@code timeout} it is withdrawn, never runs, and
     * a {@link TimeoutException} says so; if it has started, its outcome is awaited for another {@code timeout}.
     *
     * @throws Exception what the work failed with
     */
    public T await(Duration timeout) throws Exception {
        try {
            return get(timeout);
        } catch (TimeoutException e) {
            if (taken.compareAndSet(false, true)) {
                throw new TimeoutException("the admin thread did not start the work within " + timeout
                        + "; withdrawn, it will not run");
            }
            return get(timeout);
        }
    }

    private T get(Duration timeout) throws Exception {
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }
}
