package io.proxyfleet.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code mysql-*} variables ProxyFleet implements, with ProxySQL 2.7's defaults. Names are stored without
 * the {@code mysql-} prefix, in the order {@code SHOW VARIABLES} lists them.
 */
public final class MysqlVariables {
    public static final String PREFIX = "mysql-";

    /** Name to default value, in listing order. */
    public static final Map<String, String> DEFAULTS;

    static {
        var d = new LinkedHashMap<String, String>();
        d.put("interfaces", "0.0.0.0:6033");
        d.put("threads", "4");
        d.put("max_connections", "10000");
        d.put("server_version", "8.0.11");
        d.put("default_schema", "information_schema");
        d.put("default_query_timeout", "86400000");
        d.put("default_query_delay", "0");
        d.put("max_transaction_time", "14400000");
        d.put("max_transaction_idle_time", "14400000");
        d.put("wait_timeout", "28800000");
        d.put("multiplexing", "true");
        d.put("query_cache_size_MB", "256");
        d.put("query_cache_soft_ttl_pct", "0");
        d.put("query_cache_stores_empty_result", "true");
        d.put("connect_timeout_client", "10000");
        d.put("connect_timeout_server", "1000");
        d.put("connect_timeout_server_max", "10000");
        d.put("connect_retries_on_failure", "10");
        d.put("connect_retries_delay", "1");
        d.put("query_retries_on_failure", "1");
        d.put("shun_on_failures", "5");
        d.put("shun_recovery_time_sec", "10");
        d.put("max_allowed_packet", "67108864");
        d.put("free_connections_pct", "10");
        d.put("max_stmts_per_connection", "20");
        d.put("mirror_max_concurrency", "16");
        d.put("eventslog_filename", "");
        d.put("eventslog_default_log", "0");
        d.put("eventslog_format", "2");
        d.put("ping_interval_server_msec", "10000");
        d.put("ping_timeout_server", "200");
        d.put("connection_max_age_ms", "0");
        d.put("poll_timeout", "2000");
        d.put("have_ssl", "true");
        d.put("have_compress", "true");
        d.put("default_max_latency_ms", "1000");
        d.put("auto_increment_delay_multiplex", "5");
        d.put("connection_delay_multiplex_ms", "0");
        d.put("keep_multiplexing_variables", "tx_isolation,transaction_isolation,version");
        // ProxyFleet only: SELECTs that merely read @@system variables keep multiplexing (see QueryClassifier).
        d.put("keep_multiplexing_on_system_variable_reads", "true");
        d.put("set_query_lock_on_hostgroup", "1");
        d.put("query_processor_iterations", "0");
        d.put("query_processor_regex", "1");
        d.put("query_digests", "true");
        d.put("query_digests_lowercase", "false");
        d.put("query_digests_no_digits", "false");
        d.put("query_digests_normalize_digest_text", "false");
        d.put("query_digests_replace_null", "false");
        d.put("query_digests_track_hostname", "false");
        d.put("query_digests_keep_comment", "false");
        d.put("query_digests_max_digest_length", "2048");
        d.put("query_digests_max_query_length", "65000");
        d.put("query_digests_grouping_limit", "3");
        d.put("query_digests_groups_grouping_limit", "10");
        d.put("commands_stats", "true");
        d.put("default_authentication_plugin", "mysql_native_password");
        d.put("use_tcp_keepalive", "true");
        d.put("tcp_keepalive_time", "120");
        d.put("monitor_enabled", "true");
        d.put("monitor_username", "monitor");
        d.put("monitor_password", "monitor");
        d.put("monitor_history", "7200000");
        d.put("monitor_connect_interval", "120000");
        d.put("monitor_connect_timeout", "600");
        d.put("monitor_ping_interval", "8000");
        d.put("monitor_ping_timeout", "1000");
        d.put("monitor_ping_max_failures", "3");
        d.put("monitor_read_only_interval", "1000");
        d.put("monitor_read_only_timeout", "800");
        d.put("monitor_read_only_max_timeout_count", "3");
        d.put("monitor_replication_lag_interval", "10000");
        d.put("monitor_replication_lag_timeout", "1000");
        d.put("monitor_replication_lag_count", "1");
        d.put("monitor_slave_lag_when_null", "60");
        d.put("monitor_writer_is_also_reader", "true");
        d.put("monitor_threads_min", "8");
        d.put("monitor_threads_max", "128");
        d.put("hostgroup_manager_verbose", "1");
        d.put("evaluate_replication_lag_on_servers_load", "1");
        DEFAULTS = java.util.Collections.unmodifiableMap(d);
    }

    private MysqlVariables() {
    }
}
