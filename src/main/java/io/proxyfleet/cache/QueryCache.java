package io.proxyfleet.cache;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * ProxySQL's query cache (§5.7): whole result sets, as the bytes the backend sent, stored for the cache_ttl a
 * query rule gave them, per user, schema and exact query text. Shared by every event loop; bounded by
 * mysql-query_cache_size_MB.
 */
public final class QueryCache {
    /**
     * What a cached response depends on: who asked (user and schema, as ProxySQL keys it), the result format the
     * client negotiated (its capabilities among {@code BackendConnection.FORMAT_CAPABILITIES}), and the query's
     * exact bytes (hashed here, compared in full on a hit).
     */
    public record Key(String username, String schema, int formatCapabilities, int queryHash, int queryLength) {
    }

    private record Entry(byte[] query, byte[] response, long expiresAtMillis) {
        long size() {
            return query.length + response.length + 64;
        }
    }

    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong memoryBytes = new AtomicLong();
    private final LongAdder gets = new LongAdder();
    private final LongAdder getsOk = new LongAdder();
    private final LongAdder sets = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder purged = new LongAdder();

    public static Key key(String username, String schema, int formatCapabilities, byte[] query, int length) {
        int hash = 1;
        for (int i = 0; i < length; i++) {
            hash = 31 * hash + query[i];
        }
        return new Key(username, schema, formatCapabilities, hash, length);
    }

    /** The cached response for {@code query}, or {@code null} on a miss or an expired entry. */
    public byte[] get(Key key, byte[] query, long nowMillis) {
        gets.increment();
        Entry entry = entries.get(key);
        if (entry == null || !Arrays.equals(entry.query, 0, entry.query.length, query, 0, key.queryLength())) {
            return null;
        }
        if (nowMillis >= entry.expiresAtMillis) {
            remove(key, entry);
            return null;
        }
        getsOk.increment();
        bytesOut.add(entry.response.length);
        return entry.response;
    }

    /** Stores a complete response, unless it would not fit in {@code maxBytes} even after purging expired ones. */
    public void put(Key key, byte[] query, byte[] response, long ttlMillis, long maxBytes, long nowMillis) {
        var entry = new Entry(Arrays.copyOf(query, key.queryLength()), response, nowMillis + ttlMillis);
        if (memoryBytes.get() + entry.size() > maxBytes) {
            purgeExpired(nowMillis);
            if (memoryBytes.get() + entry.size() > maxBytes) {
                return;
            }
        }
        Entry previous = entries.put(key, entry);
        memoryBytes.addAndGet(entry.size() - (previous == null ? 0 : previous.size()));
        sets.increment();
        bytesIn.add(response.length);
    }

    private void remove(Key key, Entry entry) {
        if (entries.remove(key, entry)) {
            memoryBytes.addAndGet(-entry.size());
            purged.increment();
        }
    }

    /** Drops entries whose time is up. */
    public void purgeExpired(long nowMillis) {
        for (Iterator<Map.Entry<Key, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, Entry> e = it.next();
            if (nowMillis >= e.getValue().expiresAtMillis) {
                remove(e.getKey(), e.getValue());
            }
        }
    }

    /** PROXYSQL FLUSH QUERY CACHE. */
    public void flush() {
        for (Map.Entry<Key, Entry> e : entries.entrySet()) {
            remove(e.getKey(), e.getValue());
        }
    }

    /** The Query_Cache_* rows of stats_mysql_global. */
    public List<List<Object>> globalRows() {
        return List.of(
                List.of("Query_Cache_Memory_bytes", memoryBytes.get()),
                List.of("Query_Cache_count_GET", gets.sum()),
                List.of("Query_Cache_count_GET_OK", getsOk.sum()),
                List.of("Query_Cache_count_SET", sets.sum()),
                List.of("Query_Cache_bytes_IN", bytesIn.sum()),
                List.of("Query_Cache_bytes_OUT", bytesOut.sum()),
                List.of("Query_Cache_Purged", purged.sum()),
                List.of("Query_Cache_Entries", entries.size()));
    }
}
