package io.proxyfleet.monitor;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes check results into the admin database's {@code monitor} tables and purges rows older than
 * {@code mysql-monitor_history}. Checks only enqueue; one virtual thread, {@code monitor-log-writer}, drains the
 * queue and hands each batch to the {@link MonitorLogSink} as one transaction, so a slow admin thread costs batching,
 * never a blocked check. Rows that cannot be written are dropped with a warning: the logs are informative.
 */
final class MonitorLogWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MonitorLogWriter.class);
    /** Upper bound on queued rows; beyond it (admin stuck) new rows are dropped rather than piling up. */
    private static final int MAX_QUEUED = 10_000;
    private static final int MAX_BATCH = 500;
    private static final long PURGE_EVERY_MICROS = TimeUnit.SECONDS.toMicros(1);
    private static final long WRITE_TIMEOUT_SECONDS = 30;

    private record Entry(LogRow row, long historyMillis) {
    }

    private final MonitorLogSink sink;
    private final LinkedBlockingQueue<Entry> queue = new LinkedBlockingQueue<>(MAX_QUEUED);
    /** Owned by the writer thread. */
    private final Map<LogRow.Table, Long> lastPurgeMicros = new EnumMap<>(LogRow.Table.class);
    private final Thread thread;
    private volatile boolean running = true;
    /** Checks per table, [0] failed and [1] succeeded, counted whether or not the row could be queued. */
    private final Map<LogRow.Table, LongAdder[]> checks = new EnumMap<>(LogRow.Table.class);

    MonitorLogWriter(MonitorLogSink sink) {
        this.sink = sink;
        for (LogRow.Table table : LogRow.Table.values()) {
            checks.put(table, new LongAdder[] {new LongAdder(), new LongAdder()});
        }
        this.thread = Thread.ofVirtual().name("monitor-log-writer").start(this::run);
    }

    /** Queues a row; never blocks. */
    void add(LogRow row, long historyMillis) {
        checks.get(row.table())[row.error() == null ? 1 : 0].increment();
        if (!queue.offer(new Entry(row, historyMillis))) {
            LOG.warn("Monitor log queue full, dropping a {} row for {}", row.table(), row.server());
        }
    }

    /** How many checks of {@code table}'s kind succeeded ({@code ok}) or failed since start. */
    long checks(LogRow.Table table, boolean ok) {
        return checks.get(table)[ok ? 1 : 0].sum();
    }

    private void run() {
        var batch = new ArrayList<Entry>();
        while (running) {
            try {
                Entry first = queue.poll(1, TimeUnit.SECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, MAX_BATCH - 1);
                }
                write(batch);
            } catch (InterruptedException e) {
                return;
            } finally {
                batch.clear();
            }
        }
    }

    private void write(List<Entry> batch) throws InterruptedException {
        long nowMicros = nowMicros();
        var statements = new ArrayList<String>(batch.size() + LogRow.Table.values().length);
        var history = new EnumMap<LogRow.Table, Long>(LogRow.Table.class);
        for (Entry e : batch) {
            statements.add(e.row().insertSql());
            history.put(e.row().table(), e.historyMillis());
        }
        for (var e : history.entrySet()) {
            long last = lastPurgeMicros.getOrDefault(e.getKey(), 0L);
            if (nowMicros - last >= PURGE_EVERY_MICROS) {
                lastPurgeMicros.put(e.getKey(), nowMicros);
                long cutoff = nowMicros - TimeUnit.MILLISECONDS.toMicros(e.getValue());
                statements.add("DELETE FROM " + e.getKey().tableName() + " WHERE time_start_us < " + cutoff);
            }
        }
        if (statements.isEmpty()) {
            return;
        }
        try {
            sink.runInTransaction(statements).get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("Monitor could not write {} log rows: {}", batch.size(), e.toString());
        }
    }

    static long nowMicros() {
        long millis = System.currentTimeMillis();
        // Sub-millisecond digits from the monotonic clock keep rows of one server distinct within a millisecond.
        return millis * 1000 + (System.nanoTime() / 1000) % 1000;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
