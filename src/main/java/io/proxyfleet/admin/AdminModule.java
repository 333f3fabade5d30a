package io.proxyfleet.admin;

import java.util.List;
import java.util.Optional;

/**
 * A unit of configuration that {@code LOAD}/{@code SAVE} move between the layers, with the tables it owns in
 * the {@code main} and {@code disk} schemas (reference §1.5). The cluster layer names modules with this enum.
 */
public enum AdminModule {
    MYSQL_USERS("MYSQL USERS", "mysql_users", List.of("mysql_users")),
    MYSQL_SERVERS("MYSQL SERVERS", "mysql_servers", List.of("mysql_servers", "mysql_replication_hostgroups",
            "mysql_group_replication_hostgroups", "mysql_galera_hostgroups", "mysql_aws_aurora_hostgroups",
            "mysql_hostgroup_attributes", "mysql_servers_ssl_params")),
    MYSQL_QUERY_RULES("MYSQL QUERY RULES", "mysql_query_rules",
            List.of("mysql_query_rules", "mysql_query_rules_fast_routing")),
    MYSQL_VARIABLES("MYSQL VARIABLES", "mysql_variables", List.of("global_variables")),
    ADMIN_VARIABLES("ADMIN VARIABLES", "admin_variables", List.of("global_variables")),
    PROXYSQL_SERVERS("PROXYSQL SERVERS", "proxysql_servers", List.of("proxysql_servers")),
    SCHEDULER("SCHEDULER", "scheduler", List.of("scheduler")),
    MYSQL_FIREWALL("MYSQL FIREWALL", "mysql_firewall", List.of("mysql_firewall_whitelist_users",
            "mysql_firewall_whitelist_rules", "mysql_firewall_whitelist_sqli_fingerprints")),
    RESTAPI("RESTAPI", "restapi", List.of("restapi_routes"));

    private final String words;
    private final String moduleName;
    private final List<String> tables;

    AdminModule(String words, String moduleName, List<String> tables) {
        this.words = words;
        this.moduleName = moduleName;
        this.tables = tables;
    }

    /** The words of the module in LOAD/SAVE commands, e.g. {@code MYSQL QUERY RULES}. */
    public String words() {
        return words;
    }

    /**
     * The module's name as {@link NodeControl#moduleLoaded} and {@code runtime_checksums_values} use it
     * ({@code mysql_users}, {@code admin_variables}, ...).
     */
    public String moduleName() {
        return moduleName;
    }

    /** Tables of {@code main}/{@code disk} the module moves, parents first. */
    public List<String> tables() {
        return tables;
    }

    /** For variables modules, the {@code variable_name} prefix of its rows in {@code global_variables}. */
    Optional<String> variablePrefix() {
        return switch (this) {
            case MYSQL_VARIABLES -> Optional.of("mysql-");
            case ADMIN_VARIABLES -> Optional.of("admin-");
            default -> Optional.empty();
        };
    }

    /** Finds the module whose command words are {@code words} (upper case, single spaces). */
    static Optional<AdminModule> byWords(String words) {
        for (AdminModule module : values()) {
            if (module.words.equals(words)) {
                return Optional.of(module);
            }
        }
        return Optional.empty();
    }
}
