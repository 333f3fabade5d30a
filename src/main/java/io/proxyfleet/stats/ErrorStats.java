package io.proxyfleet.stats;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * stats_mysql_errors: errors backends returned (and failures to reach them), counted per hostgroup, server,
 * user, schema and error number. Recorded by event loops when an error happens (a cold path), read by the admin.
 */
public final class ErrorStats {
    private record Key(int hostgroup, String hostname, int port, String username, String schemaname, int errno) {
    }

    private static final class Entry {
        final LongAdder count = new LongAdder();
        final long firstSeen;
        volatile long lastSeen;
        volatile String clientAddress;
        volatile String lastError;

        Entry(long now) {
            this.firstSeen = now;
        }
    }

    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();

    public void record(int hostgroup, String hostname, int port, String username, String clientAddress,
                       String schemaname, int errno, String message) {
        long now = System.currentTimeMillis() / 1000;
        Entry entry = entries.computeIfAbsent(new Key(hostgroup, hostname, port, username,
                schemaname == null ? "" : schemaname, errno), k -> new Entry(now));
        entry.count.increment();
        entry.lastSeen = now;
        entry.clientAddress = clientAddress;
        entry.lastError = message;
    }

    /** Rows in stats_mysql_errors column order. */
    public List<List<Object>> rows() {
        var rows = new ArrayList<List<Object>>(entries.size());
        entries.forEach((k, e) -> rows.add(List.of(k.hostgroup(), k.hostname(), k.port(), k.username(),
                e.clientAddress, k.schemaname(), k.errno(), e.count.sum(), e.firstSeen, e.lastSeen, e.lastError)));
        return rows;
    }

    /** stats_mysql_errors_reset: the rows, then forgets them. */
    public List<List<Object>> rowsAndReset() {
        List<List<Object>> rows = rows();
        entries.clear();
        return rows;
    }
}
