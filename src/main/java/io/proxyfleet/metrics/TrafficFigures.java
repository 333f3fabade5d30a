package io.proxyfleet.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.frontend.ClientSession;
import io.proxyfleet.frontend.SessionSnapshot;
import io.proxyfleet.routing.CompiledRules;
import io.proxyfleet.routing.RuleHits;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Client-side figures: connections, questions, slow queries, commands, query cache, query rule hits, uptime,
 * version and the {@code mysql-*} settings ProxySQL exports. Read from the counters the stats tables use
 * ({@code stats_mysql_commands_counters}, {@code stats_mysql_global}, {@code stats_mysql_query_rules}). Called on
 * the scraping thread.
 */
final class TrafficFigures {
    /**
     * Upper bounds, in seconds, of the buckets of {@code stats_mysql_commands_counters} (its columns cnt_100us
     * ... cnt_10s, then cnt_INFs), in the order {@code CommandCounters.rows()} lists them after name, time, count.
     */
    static final double[] COMMAND_BUCKETS_SECONDS = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
        Double.POSITIVE_INFINITY};
    /**
     * Buckets of queries that took more than 1 s, ProxySQL's default {@code mysql-long_query_time} (1000 ms);
     * ProxyFleet has no such variable, so slow means slower than that default.
     */
    private static final int FIRST_SLOW_BUCKET = 9;
    private static final int FIRST_BUCKET_COLUMN = 3;
    private static final double MICROS = 1e6;
    private static final double MILLIS = 1e3;
    /** How long a scrape waits for the event loops to report their sessions' transaction state. */
    private static final long SNAPSHOT_DEADLINE_MILLIS = 500;

    private TrafficFigures() {
    }

    static void collect(MetricSources s, Families f) {
        var traffic = s.traffic();
        f.gauge("proxysql_client_connections_connected", "Client connections that are currently connected.",
                traffic.sessions().size());
        f.counter("proxysql_client_connections_total", "Total number of client connections created.",
                traffic.connectionIds().get(), "status", "created");
        f.gauge("proxysql_active_transactions",
                "Provides a count of how many client connection are currently processing a transaction.",
                activeTransactions(traffic.sessions().all()));
        commands(traffic.commands().rows(), f);
        queryCache(traffic.queryCache().globalRows(), f);
        ruleHits(s, f);
        f.counter("proxysql_uptime_seconds_total", "The total uptime of ProxySQL.",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - s.startedNanos()));
        RuntimeConfig cfg = traffic.config().current();
        String version = cfg.adminVariables().get("version");
        f.info("proxysql_version", "ProxySQL version.", "version", version,
                "version_comment", "ProxyFleet version " + version);
        f.gauge("proxysql_mysql_listener_paused", "MySQL listener paused because of PROXYSQL PAUSE.",
                s.listenerPaused().getAsBoolean() ? 1 : 0);
        settings(cfg.mysqlVariables(), f);
    }

    private static int activeTransactions(java.util.Collection<ClientSession> sessions) {
        var pending = new ArrayList<CompletableFuture<SessionSnapshot>>(sessions.size());
        for (ClientSession session : sessions) {
            pending.add(session.snapshot());
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SNAPSHOT_DEADLINE_MILLIS);
        int active = 0;
        for (var future : pending) {
            try {
                SessionSnapshot snap = future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (snap != null && snap.inTransaction()) {
                    active++;
                }
            } catch (TimeoutException | ExecutionException e) {
                // a loop too busy to answer in time: its sessions are left out of this scrape
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return active;
    }

    /** Questions, slow queries and the per-command histogram, from {@code stats_mysql_commands_counters} rows. */
    private static void commands(List<List<Object>> rows, Families f) {
        long questions = 0;
        long slow = 0;
        for (List<Object> row : rows) {
            String command = (String) row.get(0);
            long timeMicros = ((Number) row.get(1)).longValue();
            long count = ((Number) row.get(2)).longValue();
            long[] buckets = new long[COMMAND_BUCKETS_SECONDS.length];
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = ((Number) row.get(FIRST_BUCKET_COLUMN + i)).longValue();
                if (i >= FIRST_SLOW_BUCKET) {
                    slow += buckets[i];
                }
            }
            questions += count;
            f.counter("proxyfleet_commands_total", "Queries per command type (stats_mysql_commands_counters.Total_cnt).",
                    count, "command", command);
            if (count == 0) {
                // 14 series per command: only for the commands this node has seen
                continue;
            }
            f.histogram("proxyfleet_command_duration_seconds",
                    "Query time per command type, in the buckets of stats_mysql_commands_counters.",
                    HistogramSnapshot.HistogramDataPointSnapshot.builder().labels(Labels.of("command", command))
                            .classicHistogramBuckets(ClassicHistogramBuckets.of(COMMAND_BUCKETS_SECONDS, buckets))
                            .sum(timeMicros / MICROS).build());
        }
        f.counter("proxysql_questions_total", "The total number of client requests / statements executed.",
                questions);
        f.counter("proxysql_slow_queries_total",
                "The total number of queries with an execution time greater than \"mysql-long_query_time\" milliseconds.",
                slow);
    }

    private static void queryCache(List<List<Object>> rows, Families f) {
        var v = new java.util.HashMap<String, Long>();
        for (List<Object> row : rows) {
            v.put((String) row.get(0), ((Number) row.get(1)).longValue());
        }
        long gets = v.getOrDefault("Query_Cache_count_GET", 0L);
        long getsOk = v.getOrDefault("Query_Cache_count_GET_OK", 0L);
        String getHelp = "Number of failed read requests.";
        f.counter("proxysql_query_cache_count_get_total", getHelp, getsOk, "status", "ok");
        f.counter("proxysql_query_cache_count_get_total", getHelp, gets - getsOk, "status", "err");
        f.counter("proxysql_query_cache_count_set_total", "Number of write requests.",
                v.getOrDefault("Query_Cache_count_SET", 0L));
        String bytesHelp = "Number of bytes (read|written) into the Query Cache.";
        f.counter("proxysql_query_cache_bytes_total", bytesHelp, v.getOrDefault("Query_Cache_bytes_OUT", 0L),
                "op", "read");
        f.counter("proxysql_query_cache_bytes_total", bytesHelp, v.getOrDefault("Query_Cache_bytes_IN", 0L),
                "op", "written");
        f.counter("proxysql_query_cache_purged_total",
                "Number of entries purged by the Query Cache due to TTL expiration.",
                v.getOrDefault("Query_Cache_Purged", 0L));
        f.counter("proxysql_query_cache_entries_total", "Number of entries currently stored in the query cache.",
                v.getOrDefault("Query_Cache_Entries", 0L));
        f.gauge("proxysql_query_cache_memory_bytes", "Memory currently used by the query cache.",
                v.getOrDefault("Query_Cache_Memory_bytes", 0L));
    }

    private static void ruleHits(MetricSources s, Families f) {
        String help = "Queries that matched each query rule (stats_mysql_query_rules.hits).";
        f.declareCounter("proxyfleet_query_rule_hits_total", help);
        for (RuleHits hits : CompiledRules.of(s.traffic().config().current().queryRules().program()).hits()) {
            f.counter("proxyfleet_query_rule_hits_total", help, hits.hits(), "rule_id",
                    Integer.toString(hits.ruleId()));
        }
    }

    /** The {@code mysql-*} settings ProxySQL exports as gauges, in its units. */
    private static void settings(RuntimeConfig.Variables mysql, Families f) {
        f.gauge("proxysql_mysql_thread_workers", "Number of MySQL Thread workers i.e. 'mysql-threads'",
                mysql.getInt("threads"));
        f.gauge("proxysql_mysql_wait_timeout",
                "If a proxy session has been idle for more than this threshold, the proxy will kill the session.",
                mysql.getLong("wait_timeout"));
        f.gauge("proxysql_mysql_max_connections",
                "The maximum number of client connections that the proxy can handle.", mysql.getLong("max_connections"));
        f.gauge("proxysql_mysql_monitor_enabled", "Enables or disables MySQL Monitor.",
                mysql.getBoolean("monitor_enabled") ? 1 : 0);
        f.gauge("proxysql_mysql_monitor_ping_interval", "How frequently a ping check is performed, in seconds.",
                mysql.getLong("monitor_ping_interval") / MILLIS);
        f.gauge("proxysql_mysql_monitor_ping_timeout_seconds", "Ping timeout in seconds.",
                mysql.getLong("monitor_ping_timeout") / MILLIS);
        f.gauge("proxysql_mysql_monitor_ping_max_failures", "Reached maximum ping attempts from monitor.",
                mysql.getLong("monitor_ping_max_failures"));
        f.gauge("proxysql_mysql_monitor_read_only_interval_seconds",
                "How frequently a read only check is performed, in seconds.",
                mysql.getLong("monitor_read_only_interval") / MILLIS);
        f.gauge("proxysql_mysql_monitor_read_only_timeout_seconds", "Read only check timeout in seconds.",
                mysql.getLong("monitor_read_only_timeout") / MILLIS);
        f.gauge("proxysql_mysql_monitor_writer_is_also_reader",
                "Encodes different behaviors for nodes depending on their 'READ_ONLY' flag value.",
                mysql.getBoolean("monitor_writer_is_also_reader") ? 1 : 0);
        f.gauge("proxysql_mysql_monitor_replication_lag_interval_seconds",
                "How frequently a replication lag check is performed, in seconds.",
                mysql.getLong("monitor_replication_lag_interval") / MILLIS);
        f.gauge("proxysql_mysql_monitor_replication_lag_timeout_seconds",
                "Replication lag check timeout in seconds.", mysql.getLong("monitor_replication_lag_timeout") / MILLIS);
        f.gauge("proxysql_mysql_monitor_history_timeout_seconds",
                "The duration for which the events for the checks made by the Monitor module are kept, in seconds.",
                mysql.getLong("monitor_history") / MILLIS);
    }
}
