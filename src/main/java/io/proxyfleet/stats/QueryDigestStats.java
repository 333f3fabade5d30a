package io.proxyfleet.stats;

import io.proxyfleet.routing.QueryDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * stats_mysql_query_digest: one entry per (hostgroup, schema, user, client address, digest). Updated by every
 * event loop at the end of each query, read (and reset) by the admin thread.
 */
public final class QueryDigestStats {
    /** Key of an entry; the client address is empty unless mysql-query_digests_track_hostname is on. */
    public record Key(int hostgroup, String schemaname, String username, String clientAddress, long digest) {
        @Override
        public int hashCode() {
            return hash(hostgroup, schemaname, username, clientAddress, digest);
        }

        static int hash(int hostgroup, String schemaname, String username, String clientAddress, long digest) {
            int h = Long.hashCode(digest);
            h = 31 * h + hostgroup;
            h = 31 * h + Objects.hashCode(schemaname);
            h = 31 * h + Objects.hashCode(username);
            return 31 * h + Objects.hashCode(clientAddress);
        }
    }

    /**
     * A reusable lookup key, equal to the {@link Key} of the same fields: finding an existing entry then allocates
     * nothing, where a new key per query would. Owned by one thread (an event loop keeps one); a key is made from
     * it only when a digest is seen first.
     */
    public static final class Probe {
        private int hostgroup;
        private String schemaname;
        private String username;
        private String clientAddress;
        private QueryDigest digest;
        private int hash;

        public Probe set(int hostgroupId, String schema, String user, String client, QueryDigest queryDigest) {
            this.hostgroup = hostgroupId;
            this.schemaname = schema;
            this.username = user;
            this.clientAddress = client;
            this.digest = queryDigest;
            this.hash = Key.hash(hostgroupId, schema, user, client, queryDigest.hash());
            return this;
        }

        Key key() {
            return new Key(hostgroup, schemaname, username, clientAddress, digest.hash());
        }

        @Override
        public int hashCode() {
            return hash;
        }

        /** Equal to the {@link Key} of the same fields; the map compares the probe with its keys, not the reverse. */
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.digest() == digest.hash() && k.hostgroup() == hostgroup
                    && Objects.equals(k.schemaname(), schemaname) && Objects.equals(k.username(), username)
                    && Objects.equals(k.clientAddress(), clientAddress);
        }
    }

    /** Accumulators of one entry; fields are updated concurrently and read without a lock. */
    public static final class Entry {
        private final String digestText;
        private final LongAdder count = new LongAdder();
        private final LongAdder sumTime = new LongAdder();
        private final LongAdder sumRowsAffected = new LongAdder();
        private final LongAdder sumRowsSent = new LongAdder();
        private final AtomicLong minTime = new AtomicLong(Long.MAX_VALUE);
        private final AtomicLong maxTime = new AtomicLong();
        private final long firstSeen;
        private volatile long lastSeen;

        Entry(String digestText, long nowSeconds) {
            this.digestText = digestText;
            this.firstSeen = nowSeconds;
        }

        /** Counts one finished query. */
        public void record(long micros, long rowsAffected, long rowsSent) {
            add(micros, rowsAffected, rowsSent, System.currentTimeMillis() / 1000);
        }

        void add(long micros, long rowsAffected, long rowsSent, long nowSeconds) {
            count.increment();
            sumTime.add(micros);
            sumRowsAffected.add(rowsAffected);
            sumRowsSent.add(rowsSent);
            minTime.accumulateAndGet(micros, Math::min);
            maxTime.accumulateAndGet(micros, Math::max);
            lastSeen = nowSeconds;
        }
    }

    /**
     * At most this many digests are kept between resets (ProxySQL has no bound and no variable for one). With
     * digest texts capped by mysql-query_digests_max_digest_length, that bounds the table to a few tens of MiB
     * however many distinct queries clients send.
     */
    public static final int MAX_ENTRIES = 20_000;
    /** Where queries of new digests are counted once the table is full, so that the totals stay right. */
    static final Key OVERFLOW_KEY = new Key(-1, "", "", "", 0);
    static final String OVERFLOW_TEXT = "(other digests: stats_mysql_query_digest is full)";

    private volatile Map<Key, Entry> entries = new ConcurrentHashMap<>();

    /**
     * The entry of {@code key}, created on first sight. {@code digestText} is called only then, so the
     * normalised text is materialised once per digest rather than per query. The session looks the entry up
     * when the query starts (while its digest is at hand) and {@link Entry#record counts} it when it ends.
     */
    public Entry entry(Probe probe) {
        try {
            Entry entry = entries.get(probe);
            return entry != null ? entry : entry(probe.key(), probe.digest::textString);
        } finally {
            probe.digest = null; // the probe outlives the query; its text must not
        }
    }

    /** As {@link #entry(Probe)}, for a key made by the caller. */
    public Entry entry(Key key, Supplier<String> digestText) {
        Map<Key, Entry> map = entries;
        Entry entry = map.get(key);
        if (entry == null) {
            long now = System.currentTimeMillis() / 1000;
            if (map.size() >= MAX_ENTRIES) {
                return map.computeIfAbsent(OVERFLOW_KEY, k -> new Entry(OVERFLOW_TEXT, now));
            }
            entry = map.computeIfAbsent(key, k -> new Entry(digestText.get(), now));
        }
        return entry;
    }

    /** Rows in stats_mysql_query_digest column order. */
    public List<List<Object>> rows() {
        return rowsOf(entries);
    }

    /** Rows as {@link #rows()}, then forgets them (stats_mysql_query_digest_reset, TRUNCATE). */
    public List<List<Object>> rowsAndReset() {
        Map<Key, Entry> previous = entries;
        entries = new ConcurrentHashMap<>();
        return rowsOf(previous);
    }

    private static List<List<Object>> rowsOf(Map<Key, Entry> map) {
        var rows = new ArrayList<List<Object>>(map.size());
        map.forEach((key, e) -> {
            long count = e.count.sum();
            if (count == 0) {
                return;
            }
            rows.add(List.of(key.hostgroup(), key.schemaname(), key.username(), key.clientAddress(),
                    formatDigest(key.digest()), e.digestText, count, e.firstSeen, e.lastSeen, e.sumTime.sum(),
                    e.minTime.get(), e.maxTime.get(), e.sumRowsAffected.sum(), e.sumRowsSent.sum()));
        });
        return rows;
    }

    /** ProxySQL prints digests zero-padded, unlike configuration checksums. */
    public static String formatDigest(long digest) {
        String hex = Long.toHexString(digest).toUpperCase(java.util.Locale.ROOT);
        return "0x" + "0".repeat(16 - hex.length()) + hex;
    }
}
