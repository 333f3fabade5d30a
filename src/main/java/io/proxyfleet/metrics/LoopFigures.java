package io.proxyfleet.metrics;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.proxyfleet.frontend.LoopHealth;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Event-loop health per traffic loop: tasks queued, the deadline ticks, and how long a task waits to run. The
 * loop-owned figures are read by a task on each loop; a loop that does not run it within
 * {@link #DEADLINE_MILLIS} is reported as stalled (its wait as at least the deadline) instead of holding up the
 * scrape. Called on the scraping thread.
 */
final class LoopFigures {
    static final long DEADLINE_MILLIS = 500;
    private static final double NANOS = 1e9;

    private LoopFigures() {
    }

    static void collect(MetricSources s, Families f) {
        List<EventExecutor> loops = new ArrayList<>();
        s.trafficLoops().forEach(loops::add);
        List<CompletableFuture<LoopHealth>> samples = new ArrayList<>(loops.size());
        long started = System.nanoTime();
        for (EventExecutor loop : loops) {
            samples.add(LoopHealth.sample(loop));
        }
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MILLIS);
        for (int i = 0; i < loops.size(); i++) {
            String loop = Integer.toString(i);
            if (loops.get(i) instanceof SingleThreadEventExecutor st) {
                f.gauge("proxyfleet_event_loop_pending_tasks", "Tasks queued on the traffic event loop.",
                        st.pendingTasks(), "loop", loop);
            }
            LoopHealth h = await(samples.get(i), deadline);
            double waited = h == null ? (System.nanoTime() - started) / NANOS : h.queuedNanos() / NANOS;
            f.gauge("proxyfleet_event_loop_task_delay_seconds", "How long a task submitted by this scrape waited"
                    + " before the event loop ran it (at least the deadline when it did not run in time).",
                    waited, "loop", loop);
            f.gauge("proxyfleet_event_loop_responsive", "1 when the event loop ran the scrape's task within "
                    + DEADLINE_MILLIS + " ms, 0 otherwise.", h == null ? 0 : 1, "loop", loop);
            if (h != null) {
                f.gauge("proxyfleet_event_loop_sessions", "Client sessions served by the event loop.", h.sessions(),
                        "loop", loop);
                f.counter("proxyfleet_event_loop_ticks_total", "Deadline ticks (query timeouts, wait_timeout) run"
                        + " by the event loop.", h.ticks(), "loop", loop);
                f.counter("proxyfleet_event_loop_tick_seconds_total", "Time the event loop spent in its deadline"
                        + " ticks; divided by the ticks, the time per tick.", h.tickNanosTotal() / NANOS,
                        "loop", loop);
                f.gauge("proxyfleet_event_loop_last_tick_seconds", "Duration of the event loop's latest deadline"
                        + " tick.", h.lastTickNanos() / NANOS, "loop", loop);
            }
        }
    }

    private static LoopHealth await(CompletableFuture<LoopHealth> sample, long deadline) {
        try {
            return sample.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
