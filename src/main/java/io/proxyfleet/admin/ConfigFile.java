package io.proxyfleet.admin;

import io.proxyfleet.admin.LibConfig.Group;
import io.proxyfleet.admin.LibConfig.Items;
import io.proxyfleet.admin.LibConfig.Value;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves configuration between a {@code proxysql.cnf} file (libconfig syntax, reference §6) and the {@code main}
 * schema: reading sections into tables with {@code INSERT OR REPLACE} ({@code LOAD ... FROM CONFIG}, first
 * start, {@code --initial}, {@code --reload}) and rendering the tables back as a file ({@code SELECT CONFIG FILE},
 * {@code SAVE CONFIG TO FILE}). Stateless; its methods run on the admin thread because they touch the database.
 */
final class ConfigFile {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFile.class);

    /** How one list section maps onto its table. */
    private record Section(String name, AdminModule module, String table, List<String> required,
                           Map<String, String> aliases, Map<String, String> defaults) {
    }

    private static final List<Section> LIST_SECTIONS = List.of(
            new Section("mysql_servers", AdminModule.MYSQL_SERVERS, "mysql_servers",
                    List.of("hostname", "hostgroup_id"), Map.of("address", "hostname", "hostgroup", "hostgroup_id"),
                    Map.of()),
            new Section("mysql_replication_hostgroups", AdminModule.MYSQL_SERVERS, "mysql_replication_hostgroups",
                    List.of("writer_hostgroup", "reader_hostgroup"), Map.of(), Map.of()),
            new Section("mysql_group_replication_hostgroups", AdminModule.MYSQL_SERVERS,
                    "mysql_group_replication_hostgroups",
                    List.of("writer_hostgroup", "backup_writer_hostgroup", "reader_hostgroup", "offline_hostgroup"),
                    Map.of(), Map.of()),
            new Section("mysql_galera_hostgroups", AdminModule.MYSQL_SERVERS, "mysql_galera_hostgroups",
                    List.of("writer_hostgroup", "backup_writer_hostgroup", "reader_hostgroup", "offline_hostgroup"),
                    Map.of(), Map.of()),
            new Section("mysql_aws_aurora_hostgroups", AdminModule.MYSQL_SERVERS, "mysql_aws_aurora_hostgroups",
                    List.of("writer_hostgroup", "reader_hostgroup"), Map.of(), Map.of()),
            new Section("mysql_servers_ssl_params", AdminModule.MYSQL_SERVERS, "mysql_servers_ssl_params",
                    List.of("hostname"), Map.of(), Map.of()),
            new Section("mysql_users", AdminModule.MYSQL_USERS, "mysql_users", List.of("username"), Map.of(),
                    Map.of("password", "", "default_schema", "")),
            // In the file an absent "active" means active, unlike the table's default of 0.
            new Section("mysql_query_rules", AdminModule.MYSQL_QUERY_RULES, "mysql_query_rules",
                    List.of("rule_id"), Map.of(), Map.of("active", "1")),
            new Section("scheduler", AdminModule.SCHEDULER, "scheduler", List.of("id", "filename"), Map.of(),
                    Map.of()),
            new Section("restapi", AdminModule.RESTAPI, "restapi_routes", List.of("id", "method", "uri", "script"),
                    Map.of("interval_ms", "timeout_ms"), Map.of()),
            new Section("proxysql_servers", AdminModule.PROXYSQL_SERVERS, "proxysql_servers",
                    List.of("hostname", "port"), Map.of("address", "hostname"), Map.of()));

    private static final Set<String> SERVER_STATUSES = Set.of("ONLINE", "SHUNNED", "OFFLINE_SOFT", "OFFLINE_HARD");

    private ConfigFile() {
    }

    /** Reads and parses a file; a syntax error names the line. */
    static Group read(Path file) throws IOException, LibConfig.SyntaxException {
        return LibConfig.parse(Files.readString(file, StandardCharsets.UTF_8));
    }

    /**
     * Writes the sections of {@code config} that belong to {@code modules} into {@code main} with
     * {@code INSERT OR REPLACE}; rows already in {@code main} that the file does not mention are kept.
     * The caller runs this inside a transaction.
     *
     * @return the number of rows written
     * @throws SQLException when a row violates a table constraint (the message names the section)
     */
    static long apply(Group config, AdminDatabase db, Set<AdminModule> modules) throws SQLException {
        long written = 0;
        if (modules.contains(AdminModule.ADMIN_VARIABLES)) {
            written += applyVariables(config, db, "admin_variables", "admin-");
        }
        if (modules.contains(AdminModule.MYSQL_VARIABLES)) {
            written += applyVariables(config, db, "mysql_variables", "mysql-");
        }
        for (Section section : LIST_SECTIONS) {
            if (modules.contains(section.module())) {
                written += applyList(config, db, section);
            }
        }
        return written;
    }

    private static long applyVariables(Group config, AdminDatabase db, String section, String prefix)
            throws SQLException {
        if (!(config.settings().get(section) instanceof Group group)) {
            return 0;
        }
        long written = 0;
        for (var e : group.settings().entrySet()) {
            if (e.getValue() instanceof Group || e.getValue() instanceof Items) {
                LOG.warn("Config file: ignoring {}.{}: not a scalar", section, e.getKey());
                continue;
            }
            written += db.update("INSERT OR REPLACE INTO global_variables VALUES (?, ?)", prefix + e.getKey(),
                    e.getValue().text());
        }
        return written;
    }

    private static long applyList(Group config, AdminDatabase db, Section section) throws SQLException {
        if (!(config.settings().get(section.name()) instanceof Items list)) {
            return 0;
        }
        Set<String> columns = columnsOf(db, section.table());
        long written = 0;
        int index = 0;
        for (Value item : list.items()) {
            index++;
            if (!(item instanceof Group entry)) {
                LOG.warn("Config file: {} entry #{} is not a group; skipped", section.name(), index);
                continue;
            }
            var row = new LinkedHashMap<String, Object>(section.defaults());
            for (var e : entry.settings().entrySet()) {
                String column = section.aliases().getOrDefault(e.getKey(), e.getKey());
                String known = matchColumn(columns, column);
                if (known == null) {
                    LOG.warn("Config file: {} entry #{} has unknown setting '{}'; ignored", section.name(), index,
                            e.getKey());
                    continue;
                }
                row.put(known, cell(e.getValue()));
            }
            List<String> missing = section.required().stream().filter(r -> !row.containsKey(r)).toList();
            if (!missing.isEmpty()) {
                LOG.error("Config file: {} entry #{} lacks mandatory {}; skipped", section.name(), index, missing);
                continue;
            }
            if (section.table().equals("mysql_servers") && row.get("status") instanceof String status
                    && !SERVER_STATUSES.contains(status.toUpperCase(Locale.ROOT))) {
                row.put("status", "ONLINE");
            }
            String sql = "INSERT OR REPLACE INTO " + section.table() + " (" + String.join(", ", row.keySet())
                    + ") VALUES (" + String.join(", ", Collections.nCopies(row.size(), "?")) + ")";
            try {
                written += db.update(sql, row.values().toArray());
            } catch (SQLException e) {
                throw new SQLException("config file section " + section.name() + " entry #" + index + ": "
                        + AdminDatabase.sqliteMessage(e), e);
            }
            if (section.module() == AdminModule.PROXYSQL_SERVERS) {
                LOG.info("Cluster: Adding ProxySQL Servers {}:{} from config file", row.get("hostname"),
                        row.get("port"));
            }
        }
        return written;
    }

    /** Table column names match case-insensitively ({@code flagIN} may be written {@code flagin}). */
    private static String matchColumn(Set<String> columns, String name) {
        for (String column : columns) {
            if (column.equalsIgnoreCase(name)) {
                return column;
            }
        }
        return null;
    }

    private static Object cell(Value value) {
        return switch (value) {
            case LibConfig.Bool b -> b.value() ? 1L : 0L;
            case LibConfig.Int i -> i.value();
            case LibConfig.Flt f -> f.value();
            default -> value.text();
        };
    }

    private static Set<String> columnsOf(AdminDatabase db, String table) throws SQLException {
        var result = new LinkedHashSet<String>();
        for (List<Object> row : db.query("PRAGMA main.table_info(" + table + ")").rows()) {
            result.add((String) row.get(1));
        }
        return result;
    }

    /** The tables {@code SELECT CONFIG FILE} renders, with the section names a file uses. */
    private static final Map<String, String> RENDERED = linked(
            "mysql_users", "mysql_users",
            "mysql_query_rules", "mysql_query_rules",
            "mysql_servers", "mysql_servers",
            "mysql_replication_hostgroups", "mysql_replication_hostgroups",
            "mysql_group_replication_hostgroups", "mysql_group_replication_hostgroups",
            "mysql_galera_hostgroups", "mysql_galera_hostgroups",
            "mysql_aws_aurora_hostgroups", "mysql_aws_aurora_hostgroups",
            "mysql_servers_ssl_params", "mysql_servers_ssl_params",
            "scheduler", "scheduler",
            "restapi_routes", "restapi",
            "proxysql_servers", "proxysql_servers");

    private static Map<String, String> linked(String... pairs) {
        var map = new LinkedHashMap<String, String>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return map;
    }

    /** Renders {@code main} as a config file that {@link #apply} reads back to the same rows. */
    static String render(AdminDatabase db) throws SQLException {
        var out = new StringBuilder();
        renderVariables(db, out, "admin_variables", "admin-");
        renderVariables(db, out, "mysql_variables", "mysql-");
        for (var e : RENDERED.entrySet()) {
            AdminDatabase.Table table = db.query("SELECT * FROM main." + e.getKey());
            if (table.rows().isEmpty()) {
                continue;
            }
            out.append(e.getValue()).append(":\n(\n");
            List<String> entries = new ArrayList<>();
            for (List<Object> row : table.rows()) {
                var entry = new StringBuilder("\t{\n");
                for (int i = 0; i < row.size(); i++) {
                    Object cell = row.get(i);
                    if (cell == null) {
                        continue;
                    }
                    entry.append("\t\t").append(table.columns().get(i)).append('=').append(literal(cell))
                            .append('\n');
                }
                entries.add(entry.append("\t}").toString());
            }
            out.append(String.join(",\n", entries)).append("\n)\n");
        }
        return out.toString();
    }

    private static void renderVariables(AdminDatabase db, StringBuilder out, String section, String prefix)
            throws SQLException {
        AdminDatabase.Table vars = db.query("SELECT variable_name, variable_value FROM main.global_variables"
                + " WHERE variable_name LIKE ? ORDER BY variable_name", prefix + "%");
        out.append(section).append("=\n{\n");
        for (List<Object> row : vars.rows()) {
            String name = ((String) row.get(0)).substring(prefix.length());
            out.append('\t').append(name).append('=').append(literal(String.valueOf(row.get(1)))).append('\n');
        }
        out.append("}\n");
    }

    private static String literal(Object cell) {
        if (cell instanceof Long || cell instanceof Integer) {
            return cell.toString();
        }
        String text = AdminDatabase.Table.text(cell);
        return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}
