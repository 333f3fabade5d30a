package io.proxyfleet.cluster;

import io.proxyfleet.protocol.client.QueryResult;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A module fetched from a peer whose rows hashed to the checksum the peer advertised, ready to be applied:
 * rewrite the {@code main} tables from {@link #tables} (bound as parameters, local columns only), load the module to
 * runtime, which computes its checksum again and adopts the peer's epoch from {@link #adopt} only when it is the
 * same (so the local {@code runtime_checksums_values} ends equal to the peer's, with version + 1), then save the
 * module to disk when {@link #saveToDisk} is set. Immutable.
 *
 * <p>Keys of {@link #tables}, per module, in fetch order (columns exactly as the §4.9 queries return them):
 * <ul>
 *   <li>{@code ADMIN_VARIABLES}, {@code MYSQL_VARIABLES}: {@code global_variables} (variable_name,
 *       variable_value) — replace the rows of that prefix, minus the interface exclusions of §3.3;</li>
 *   <li>{@code MYSQL_QUERY_RULES}: {@code mysql_query_rules} (34 columns, insert with active=1),
 *       {@code mysql_query_rules_fast_routing};</li>
 *   <li>{@code MYSQL_USERS}: {@code mysql_users} (13 columns, insert with active=1);</li>
 *   <li>{@code MYSQL_SERVERS_V2}: {@code mysql_servers} (SHUNNED already counts as ONLINE: write it as ONLINE),
 *       {@code mysql_replication_hostgroups}, {@code mysql_group_replication_hostgroups},
 *       {@code mysql_galera_hostgroups}, {@code mysql_aws_aurora_hostgroups}, {@code mysql_hostgroup_attributes},
 *       {@code mysql_servers_ssl_params}, and with sync algorithm 1 also {@code runtime_mysql_servers}, the
 *       peer's runtime server list to use instead of {@code main.mysql_servers} for the runtime state;</li>
 *   <li>{@code MYSQL_SERVERS} (runtime only): {@code runtime_mysql_servers}, to load as the runtime server list
 *       without touching the configured servers;</li>
 *   <li>{@code PROXYSQL_SERVERS}: {@code proxysql_servers} (hostname, port, weight, comment).</li>
 * </ul>
 *
 * @param adopt the {@code runtime_checksums_values} rows to end with: one per module, or two (v2 and runtime)
 *              for a servers pull with sync algorithm 1
 */
public record PulledModule(ClusterModule module, PeerAddress source, Map<String, QueryResult.Rows> tables,
                           List<Adopted> adopt, boolean saveToDisk) {

    public PulledModule {
        tables = Collections.unmodifiableMap(new LinkedHashMap<>(tables));
        adopt = List.copyOf(adopt);
    }

    /** A module's checksum and the peer's epoch to adopt for it. */
    public record Adopted(String checksumName, String checksum, long epoch) {
    }
}
