package io.proxyfleet.frontend;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One periodic tick per event loop that checks the deadlines of that loop's sessions (query timeouts,
 * mysql-wait_timeout, transaction limits), instead of a timer task per query: a query then costs no timer
 * allocation, and a check of all sessions every {@link #TICK_MILLIS} is cheap even with thousands of idle ones.
 * Owned by its event loop.
 */
final class LoopTicker implements Runnable {
    static final long TICK_MILLIS = 100;

    private static final FastThreadLocal<LoopTicker> PER_LOOP = new FastThreadLocal<>();

    private final List<ClientSession> sessions = new ArrayList<>();
    /** Tick figures for {@link LoopHealth}; written and read on the loop only. */
    private long ticks;
    private long tickNanosTotal;
    private long lastTickNanos;

    /** Registers a session with its loop's ticker; call on that loop. */
    static void register(EventLoop loop, ClientSession session) {
        LoopTicker ticker = PER_LOOP.get();
        if (ticker == null) {
            ticker = new LoopTicker();
            PER_LOOP.set(ticker);
            loop.scheduleWithFixedDelay(ticker, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        }
        ticker.sessions.add(session);
    }

    /** Removes a session; call on its loop. */
    static void deregister(ClientSession session) {
        LoopTicker ticker = PER_LOOP.get();
        if (ticker != null) {
            ticker.sessions.remove(session);
        }
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        for (int i = sessions.size() - 1; i >= 0; i--) {
            sessions.get(i).tick(now);
        }
        lastTickNanos = System.nanoTime() - now;
        tickNanosTotal += lastTickNanos;
        ticks++;
    }

    /** This loop's figures, or none before its first session; call on the loop. */
    static LoopHealth health(long queuedNanos) {
        LoopTicker t = PER_LOOP.get();
        return t == null ? new LoopHealth(0, 0, 0, 0, queuedNanos)
                : new LoopHealth(t.sessions.size(), t.ticks, t.tickNanosTotal, t.lastTickNanos, queuedNanos);
    }
}
