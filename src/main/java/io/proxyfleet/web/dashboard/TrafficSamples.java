package io.proxyfleet.web.dashboard;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Queries per second over the last {@link #CAPACITY} samples, from the node's total query count read once a second:
 * a fixed ring of (time, rate) pairs, so memory stays the same however long the node runs.
 *
 * <p>Threads: {@link #record} is called by the dashboard's sampler thread only; {@link #points} by handler
 * threads. Both are synchronized: the ring is tiny and read at most a few times a second.
 */
final class TrafficSamples {
    /** Five minutes at one sample a second. */
    static final int CAPACITY = 300;
    private static final double MILLIS_PER_SECOND = 1000.0;

    private final long[] timesMillis = new long[CAPACITY];
    private final double[] rates = new double[CAPACITY];
    private int next;
    private int size;
    private long lastTotal = -1;
    private long lastMillis;

    /** Adds the rate since the previous call; the first call (and a counter that went back) only sets the base. */
    synchronized void record(long totalQueries, long nowMillis) {
        if (lastTotal >= 0 && totalQueries >= lastTotal && nowMillis > lastMillis) {
            timesMillis[next] = nowMillis;
            rates[next] = (totalQueries - lastTotal) * MILLIS_PER_SECOND / (nowMillis - lastMillis);
            next = (next + 1) % CAPACITY;
            size = Math.min(size + 1, CAPACITY);
        }
        lastTotal = totalQueries;
        lastMillis = nowMillis;
    }

    /** The samples, oldest first, as {@code {t, qps}} maps. */
    synchronized List<Object> points() {
        List<Object> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            int at = (next - size + i + CAPACITY) % CAPACITY;
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("t", timesMillis[at]);
            p.put("qps", Math.round(rates[at] * 10) / 10.0);
            out.add(p);
        }
        return out;
    }

    synchronized long total() {
        return Math.max(lastTotal, 0);
    }
}
