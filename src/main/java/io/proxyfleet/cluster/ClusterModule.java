package io.proxyfleet.cluster;

import java.util.Optional;

/**
 * The synchronised modules, in the order a node evaluates them after each check (§4.7 C): {@code proxysql_servers}
 * comes last because pulling it may remove the very peer being evaluated.
 *
 * <p>Immutable.
 */
public enum ClusterModule {
    ADMIN_VARIABLES("admin_variables", "admin_variables", "LOAD ADMIN VARIABLES TO RUNTIME"),
    MYSQL_QUERY_RULES("mysql_query_rules", "mysql_query_rules", "LOAD MYSQL QUERY RULES TO RUNTIME"),
    MYSQL_SERVERS_V2("mysql_servers_v2", "mysql_servers", "LOAD MYSQL SERVERS TO RUNTIME"),
    MYSQL_SERVERS("mysql_servers", "mysql_servers", "LOAD MYSQL SERVERS TO RUNTIME"),
    MYSQL_USERS("mysql_users", "mysql_users", "LOAD MYSQL USERS TO RUNTIME"),
    MYSQL_VARIABLES("mysql_variables", "mysql_variables", "LOAD MYSQL VARIABLES TO RUNTIME"),
    PROXYSQL_SERVERS("proxysql_servers", "proxysql_servers", "LOAD PROXYSQL SERVERS TO RUNTIME");

    private final String checksumName;
    private final String variableStem;
    private final String loadCommand;

    ClusterModule(String checksumName, String variableStem, String loadCommand) {
        this.checksumName = checksumName;
        this.variableStem = variableStem;
        this.loadCommand = loadCommand;
    }

    /** The {@code name} in {@code runtime_checksums_values} and {@code stats_proxysql_servers_checksums}. */
    public String checksumName() {
        return checksumName;
    }

    /**
     * The stem of this module's {@code admin-cluster_<stem>_diffs_before_sync} / {@code _save_to_disk} variables;
     * both server modules share {@code mysql_servers}.
     */
    public String variableStem() {
        return variableStem;
    }

    /** The admin command that loads this module, as the conflict messages name it. */
    public String loadCommand() {
        return loadCommand;
    }

    /** The module whose {@code runtime_checksums_values} name is {@code name}, if it is synchronised. */
    public static Optional<ClusterModule> byChecksumName(String name) {
        for (ClusterModule m : values()) {
            if (m.checksumName.equals(name)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }
}
