package io.proxyfleet.stats;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * stats_mysql_commands_counters: per SQL command type, the count and total time of queries and a latency
 * histogram with ProxySQL's buckets. Updated by every event loop, read by the admin thread.
 */
public final class CommandCounters {
    /** Command names in ProxySQL's order. */
    public static final List<String> COMMANDS = List.of("ALTER_TABLE", "ALTER_VIEW", "ANALYZE_TABLE", "BEGIN", "CALL",
            "CHANGE_MASTER", "COMMIT", "CREATE_DATABASE", "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMPORARY",
            "CREATE_TRIGGER", "CREATE_USER", "CREATE_VIEW", "DEALLOCATE", "DELETE", "DESCRIBE", "DROP_DATABASE",
            "DROP_INDEX", "DROP_TABLE", "DROP_TRIGGER", "DROP_USER", "DROP_VIEW", "GRANT", "EXECUTE", "EXPLAIN",
            "FLUSH", "INSERT", "KILL", "LOAD", "LOCK_TABLE", "OPTIMIZE", "PREPARE", "PURGE", "RELEASE_SAVEPOINT",
            "RENAME_TABLE", "RESET_MASTER", "RESET_SLAVE", "REPLACE", "REVOKE", "ROLLBACK", "ROLLBACK_SAVEPOINT",
            "SAVEPOINT", "SELECT", "SELECT_FOR_UPDATE", "SET", "SHOW_TABLE_STATUS", "START_TRANSACTION",
            "TRUNCATE_TABLE", "UNLOCK_TABLES", "UPDATE", "USE", "SHOW", "UNKNOWN");
    public static final int UNKNOWN = COMMANDS.indexOf("UNKNOWN");
    private static final long[] BUCKET_LIMITS_US = {100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000,
            1_000_000, 5_000_000, 10_000_000};

    private final LongAdder[] totalTime = adders(COMMANDS.size());
    private final LongAdder[] totalCount = adders(COMMANDS.size());
    private final LongAdder[][] buckets = new LongAdder[COMMANDS.size()][];

    public CommandCounters() {
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = adders(BUCKET_LIMITS_US.length + 1);
        }
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] out = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            out[i] = new LongAdder();
        }
        return out;
    }

    /** Counts one query of command index {@code command} (see {@link SqlCommand}) that took {@code micros}. */
    public void record(int command, long micros) {
        totalTime[command].add(micros);
        totalCount[command].increment();
        int bucket = 0;
        while (bucket < BUCKET_LIMITS_US.length && micros > BUCKET_LIMITS_US[bucket]) {
            bucket++;
        }
        buckets[command][bucket].increment();
    }

    /** All queries counted, stats_mysql_global's {@code Questions}. */
    public long questions() {
        long sum = 0;
        for (LongAdder count : totalCount) {
            sum += count.sum();
        }
        return sum;
    }

    public List<List<Object>> rows() {
        var rows = new ArrayList<List<Object>>(COMMANDS.size());
        for (int i = 0; i < COMMANDS.size(); i++) {
            var row = new ArrayList<Object>(3 + BUCKET_LIMITS_US.length + 1);
            row.add(COMMANDS.get(i));
            row.add(totalTime[i].sum());
            row.add(totalCount[i].sum());
            for (LongAdder bucket : buckets[i]) {
                row.add(bucket.sum());
            }
            rows.add(row);
        }
        return rows;
    }
}
