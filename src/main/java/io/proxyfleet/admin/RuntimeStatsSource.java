package io.proxyfleet.admin;

import java.util.List;

/**
 * Live counters the admin copies into its {@code stats_*} tables when a query mentions them. Implemented by the
 * stats layer. The engine calls it on the admin thread; implementations read their own thread-safe counters and
 * return fresh lists. Each row has the table's columns in its DDL order (§2.3 of the reference), as text or
 * numbers ({@code String}, {@code Long}, {@code Integer}, {@code Double}) or {@code null}.
 */
public interface RuntimeStatsSource {
    /**
     * The status a runtime server has right now, which the monitor and connect-error shunning change without
     * touching configuration; runtime_mysql_servers shows it. Defaults to the configured status.
     */
    default io.proxyfleet.config.ServerStatus liveStatus(io.proxyfleet.config.MysqlServer server) {
        return server.status();
    }


    /** Rows of {@code stats_mysql_connection_pool} (14 columns, hostgroup .. Latency_us). */
    List<List<Object>> connectionPool();

    /** Rows of {@code stats_mysql_processlist} (16 columns, ThreadID .. extended_info). */
    List<List<Object>> processlist();

    /** Rows of {@code stats_mysql_commands_counters} (15 columns, Command .. cnt_INFs). */
    List<List<Object>> commandsCounters();

    /** Rows of {@code stats_mysql_global} (Variable_Name, Variable_Value). */
    List<List<Object>> global();

    /** Rows of {@code stats_mysql_users} (username, frontend_connections, frontend_max_connections). */
    List<List<Object>> users();

    /** Rows of {@code stats_mysql_errors} (11 columns, hostgroup .. last_error). */
    List<List<Object>> errors();

    /** Rows of {@code stats_mysql_free_connections} (13 columns, fd .. mysql_info). */
    List<List<Object>> freeConnections();

    /** No traffic layer: every stats table stays empty. */
    RuntimeStatsSource NONE = new RuntimeStatsSource() {
        @Override
        public List<List<Object>> connectionPool() {
            return List.of();
        }

        @Override
        public List<List<Object>> processlist() {
            return List.of();
        }

        @Override
        public List<List<Object>> commandsCounters() {
            return List.of();
        }

        @Override
        public List<List<Object>> global() {
            return List.of();
        }

        @Override
        public List<List<Object>> users() {
            return List.of();
        }

        @Override
        public List<List<Object>> errors() {
            return List.of();
        }

        @Override
        public List<List<Object>> freeConnections() {
            return List.of();
        }
    };
}
