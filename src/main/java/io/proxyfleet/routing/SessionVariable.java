package io.proxyfleet.routing;

import java.util.Objects;
import java.util.Set;

/**
 * One assignment of a SET statement, as the session replays it on another backend connection. Names are lower
 * case and canonical ({@code tx_isolation} is reported as {@code transaction_isolation}); {@code names} and
 * {@code charset} stand for {@code SET NAMES} and {@code SET CHARACTER SET}; values are unquoted. Immutable.
 */
public record SessionVariable(String name, String value, Scope scope) {

    /** Where the assignment applies. */
    public enum Scope {
        /** The session (SET x=…, SET SESSION x=…, SET @@session.x=…, SET NAMES …). */
        SESSION,
        /** Only the next transaction (SET TRANSACTION … without SESSION). */
        NEXT_TRANSACTION,
        /** A user variable (SET @x=…): lives on the backend connection, which must then stay with the session. */
        USER
    }

    /** Session variables whose value ProxySQL tracks and replays on whichever backend connection is used. */
    private static final Set<String> TRACKED = Set.of(
            "autocommit", "names", "charset", "character_set_client", "character_set_connection",
            "character_set_results", "character_set_database", "collation_connection", "sql_mode", "time_zone",
            "transaction_isolation", "transaction_read_only", "sql_auto_is_null", "sql_select_limit",
            "sql_safe_updates", "sql_log_bin", "sql_big_selects", "sql_quote_show_create", "max_join_size",
            "net_read_timeout", "net_write_timeout", "group_concat_max_len", "foreign_key_checks", "unique_checks",
            "innodb_lock_wait_timeout", "innodb_strict_mode", "innodb_table_locks", "lc_time_names",
            "long_query_time", "lock_wait_timeout", "max_execution_time", "max_statement_time",
            "max_sort_length", "max_heap_table_size", "optimizer_switch", "optimizer_prune_level",
            "optimizer_search_depth", "optimizer_use_condition_selectivity", "query_cache_type",
            "session_track_gtids", "session_track_schema", "session_track_state_change",
            "session_track_system_variables", "session_track_transaction_info", "timestamp", "wsrep_sync_wait",
            "wsrep_osu_method", "default_storage_engine", "default_tmp_storage_engine", "sort_buffer_size",
            "join_buffer_size", "tmp_table_size", "old_alter_table", "auto_increment_increment",
            "auto_increment_offset", "sql_warnings", "sql_notes", "block_encryption_mode",
            "aurora_read_replica_read_committed", "collation_server", "character_set_server");

    public SessionVariable {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(scope, "scope");
    }

    /** True for session variables the proxy tracks and replays (user variables never are). */
    public boolean tracked() {
        return scope != Scope.USER && TRACKED.contains(name);
    }
}
