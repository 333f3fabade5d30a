package io.proxyfleet.metrics;

import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.monitor.LogRow;
import io.proxyfleet.monitor.MysqlMonitor;

/**
 * The connection pool per hostgroup and server, as {@code stats_mysql_connection_pool} shows it, and the monitor's
 * check counts. Server counters are the pool's own atomics; reading them takes no lock. Called on the scraping
 * thread.
 */
final class BackendFigures {
    private static final String CONNS_HELP = "How many backend connections are currently (free|used).";
    private static final String CONNS_TOTAL_HELP = "How many connections have been tried to be established.";
    private static final String BYTES_HELP = "Amount of data (sent|recv) from the backend, excluding metadata.";

    private BackendFigures() {
    }

    static void collect(MetricSources s, Families f) {
        RuntimeConfig cfg = s.traffic().config().current();
        long connected = 0;
        long created = 0;
        long sent = 0;
        long received = 0;
        f.declareCounter("proxysql_connpool_conns_total", CONNS_TOTAL_HELP);
        for (ServerRuntime server : s.hostgroups().all(cfg.servers())) {
            String hostgroup = Integer.toString(server.key().hostgroupId());
            String endpoint = server.key().hostname() + ":" + server.key().port();
            int used = server.usedConnections();
            int free = server.freeConnections();
            connected += used + free;
            created += server.connectOk();
            sent += server.bytesSent();
            received += server.bytesReceived();
            f.gauge("proxysql_connpool_conns_status", "The status of the backend server (1 - ONLINE, 2 - SHUNNED,"
                    + " 3 - OFFLINE_SOFT, 4 - OFFLINE_HARD, 5 - SHUNNED_REPLICATION_LAG).",
                    server.status().ordinal() + 1, "endpoint", endpoint, "hostgroup", hostgroup);
            f.gauge("proxysql_connpool_conns", CONNS_HELP, used, "endpoint", endpoint, "hostgroup", hostgroup,
                    "status", "used");
            f.gauge("proxysql_connpool_conns", CONNS_HELP, free, "endpoint", endpoint, "hostgroup", hostgroup,
                    "status", "free");
            f.counter("proxysql_connpool_conns_total", CONNS_TOTAL_HELP, server.connectOk(), "endpoint", endpoint,
                    "hostgroup", hostgroup, "status", "ok");
            f.counter("proxysql_connpool_conns_total", CONNS_TOTAL_HELP, server.connectErrors(), "endpoint",
                    endpoint, "hostgroup", hostgroup, "status", "err");
            f.counter("proxysql_connpool_conns_queries_total",
                    "The number of queries routed towards this particular backend server.", server.queries(),
                    "endpoint", endpoint, "hostgroup", hostgroup);
            f.counter("proxysql_connpool_data_bytes_total", BYTES_HELP, server.bytesSent(), "endpoint", endpoint,
                    "hostgroup", hostgroup, "traffic_flow", "sent");
            f.counter("proxysql_connpool_data_bytes_total", BYTES_HELP, server.bytesReceived(), "endpoint",
                    endpoint, "hostgroup", hostgroup, "traffic_flow", "recv");
            f.gauge("proxysql_connpool_conns_latency_us",
                    "The currently ping time in microseconds, as reported from Monitor.", server.pingLatencyMicros(),
                    "endpoint", endpoint, "hostgroup", hostgroup);
        }
        f.gauge("proxysql_server_connections_connected", "Backend connections that are currently connected.",
                connected);
        f.counter("proxysql_server_connections_total", "Total number of server connections (created|delayed|aborted).",
                created, "status", "created");
        String bytesHelp = "Total number of bytes (sent|received) in backend connections.";
        f.counter("proxysql_queries_backends_bytes_total", bytesHelp, received, "traffic_flow", "received");
        f.counter("proxysql_queries_backends_bytes_total", bytesHelp, sent, "traffic_flow", "sent");
        f.counter("proxysql_servers_table_version_total", "Number of times the \"servers_table\" have been modified.",
                cfg.servers().version().version());
        monitor(s.monitor().get(), f);
    }

    private static void monitor(MysqlMonitor monitor, Families f) {
        if (monitor == null) {
            return;
        }
        check(monitor, LogRow.Table.CONNECT, "proxysql_mysql_monitor_connect_check_total",
                "Number of (succeed|failed) 'connect checks' from 'monitor_connect_thread'.", f);
        check(monitor, LogRow.Table.PING, "proxysql_mysql_monitor_ping_check_total",
                "Number of (succeed|failed) 'ping checks' from 'monitor_ping_thread'.", f);
        check(monitor, LogRow.Table.READ_ONLY, "proxysql_mysql_monitor_read_only_check_total",
                "Number of (succeed|failed) 'read only checks' from 'monitor_read_only_thread'.", f);
        check(monitor, LogRow.Table.REPLICATION_LAG, "proxysql_mysql_monitor_replication_lag_check_total",
                "Number of (succeed|failed)'replication lag checks' from 'monitor_replication_lag_thread'.", f);
    }

    private static void check(MysqlMonitor monitor, LogRow.Table table, String name, String help, Families f) {
        f.counter(name, help, monitor.checks(table, true), "status", "ok");
        f.counter(name, help, monitor.checks(table, false), "status", "err");
    }
}
