package io.proxyfleet.cluster;

/**
 * The exact statements a node sends to a peer's admin (§4.9). The {@code PROXY_SELECT} ones are not SQL: the admin
 * recognises them by prefix and answers from the result sets it loaded to runtime. Texts are verbatim ProxySQL's,
 * so a ProxyFleet node can pull from a ProxySQL node and the other way round. Constants only; thread-safe.
 */
final class ClusterQueries {
    static final String VERSION = "SELECT @@version";
    static final String NODE_UUID = "PROXYSQL CLUSTER_NODE_UUID ";
    static final String GLOBAL_CHECKSUM = "SELECT GLOBAL_CHECKSUM()";
    static final String CHECKSUMS = "SELECT * FROM runtime_checksums_values ORDER BY name";
    static final String METRICS = "SELECT * FROM stats_mysql_global ORDER BY Variable_Name";
    /** ProxyFleet only: asks a peer to check this node now (fast path; polling still repairs anything missed). */
    static final String NOTIFY = "PROXYSQL CLUSTER_NOTIFY";
    /**
     * Plain SQL that tells a ProxyFleet peer from a ProxySQL one before anything ProxyFleet-only is sent: 1 on a
     * ProxyFleet node with cluster history, 0 on ProxySQL, which has no such variable.
     */
    static final String PROXYFLEET_PROBE = "SELECT COUNT(*) FROM global_variables WHERE variable_name ="
            + " 'admin-proxyfleet_cluster_history_size'";
    /** ProxyFleet only: the rows of a module changed since a checksum; followed by the module and the checksum. */
    static final String DELTA = "PROXYFLEET CLUSTER DELTA ";

    static final String QUERY_RULES = "PROXY_SELECT rule_id, username, schemaname, flagIN, client_addr, proxy_addr,"
            + " proxy_port, digest, match_digest, match_pattern, negate_match_pattern, re_modifiers, flagOUT,"
            + " replace_pattern, destination_hostgroup, cache_ttl, cache_empty_result, cache_timeout, reconnect,"
            + " timeout, retries, delay, next_query_flagIN, mirror_flagOUT, mirror_hostgroup, error_msg, ok_msg,"
            + " sticky_conn, multiplex, gtid_from_hostgroup, log, apply, attributes, comment FROM"
            + " runtime_mysql_query_rules ORDER BY rule_id";
    static final String QUERY_RULES_FAST_ROUTING = "PROXY_SELECT username, schemaname, flagIN,"
            + " destination_hostgroup, comment FROM runtime_mysql_query_rules_fast_routing ORDER BY username,"
            + " schemaname, flagIN";
    static final String USERS = "PROXY_SELECT username, password, use_ssl, default_hostgroup, default_schema,"
            + " schema_locked, transaction_persistent, fast_forward, backend, frontend, max_connections, attributes,"
            + " comment FROM runtime_mysql_users";
    static final String SERVERS_V2 = "PROXY_SELECT hostgroup_id, hostname, port, gtid_port, status, weight,"
            + " compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment FROM"
            + " mysql_servers_v2 WHERE status<>'OFFLINE_HARD' ORDER BY hostgroup_id, hostname, port";
    static final String REPLICATION_HOSTGROUPS = "PROXY_SELECT writer_hostgroup, reader_hostgroup, comment FROM"
            + " runtime_mysql_replication_hostgroups ORDER BY writer_hostgroup";
    static final String GROUP_REPLICATION_HOSTGROUPS = "PROXY_SELECT writer_hostgroup, backup_writer_hostgroup,"
            + " reader_hostgroup, offline_hostgroup, active, max_writers, writer_is_also_reader,"
            + " max_transactions_behind, comment FROM runtime_mysql_group_replication_hostgroups ORDER BY"
            + " writer_hostgroup";
    static final String GALERA_HOSTGROUPS = "PROXY_SELECT writer_hostgroup, backup_writer_hostgroup,"
            + " reader_hostgroup, offline_hostgroup, active, max_writers, writer_is_also_reader,"
            + " max_transactions_behind, comment FROM runtime_mysql_galera_hostgroups ORDER BY writer_hostgroup";
    static final String AURORA_HOSTGROUPS = "PROXY_SELECT writer_hostgroup, reader_hostgroup, active, aurora_port,"
            + " domain_name, max_lag_ms, check_interval_ms, check_timeout_ms, writer_is_also_reader,"
            + " new_reader_weight, add_lag_ms, min_lag_ms, lag_num_checks, comment FROM"
            + " runtime_mysql_aws_aurora_hostgroups ORDER BY writer_hostgroup";
    static final String HOSTGROUP_ATTRIBUTES = "PROXY_SELECT hostgroup_id, max_num_online_servers, autocommit,"
            + " free_connections_pct, init_connect, multiplex, connection_warming, throttle_connections_per_sec,"
            + " ignore_session_variables, hostgroup_settings, servers_defaults, comment FROM"
            + " runtime_mysql_hostgroup_attributes ORDER BY hostgroup_id";
    static final String SERVERS_SSL_PARAMS = "PROXY_SELECT hostname, port, username, ssl_ca, ssl_cert, ssl_key,"
            + " ssl_capath, ssl_crl, ssl_crlpath, ssl_cipher, tls_version, comment FROM"
            + " runtime_mysql_servers_ssl_params ORDER BY hostname, port, username";
    static final String RUNTIME_SERVERS = "PROXY_SELECT hostgroup_id, hostname, port, gtid_port, status, weight,"
            + " compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment FROM"
            + " runtime_mysql_servers WHERE status<>'OFFLINE_HARD' ORDER BY hostgroup_id, hostname, port";
    static final String PROXYSQL_SERVERS = "SELECT hostname, port, weight, comment FROM runtime_proxysql_servers"
            + " ORDER BY hostname, port";

    private static final String ADMIN_INTERFACES = " AND variable_name NOT IN ('admin-mysql_ifaces',"
            + "'admin-restapi_port','admin-telnet_admin_ifaces','admin-telnet_stats_ifaces','admin-web_port')";
    private static final String MYSQL_INTERFACES = " AND variable_name NOT IN ('mysql-interfaces')";

    private ClusterQueries() {
    }

    /** The plain-SQL fetch of a variables module (§4.9), with ProxySQL's exclusions. */
    static String variables(ClusterModule module, boolean syncInterfaces) {
        StringBuilder q = new StringBuilder("SELECT * FROM runtime_global_variables WHERE variable_name LIKE ");
        if (module == ClusterModule.MYSQL_VARIABLES) {
            q.append("'mysql-%' AND variable_name NOT IN ('mysql-threads')");
            if (!syncInterfaces) {
                q.append(MYSQL_INTERFACES);
            }
        } else if (module == ClusterModule.ADMIN_VARIABLES) {
            // ProxyFleet's node-local variables never travel (ProxySQL peers fetch with their own query).
            q.append("'admin-%' AND variable_name NOT LIKE 'admin-proxyfleet_%'");
            if (!syncInterfaces) {
                q.append(ADMIN_INTERFACES);
            }
        } else {
            throw new IllegalArgumentException("not a variables module: " + module);
        }
        return q.append(" ORDER BY variable_name").toString();
    }
}
