package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every LOAD/SAVE spelling of §1.5, for every module, does what its direction says. */
class LoadSaveCommandsTest {
    @RegisterExtension
    final AdminTestSupport t = AdminTestSupport.openedForEachTest();

    static final List<String> TO_RUNTIME = List.of("LOAD %s TO RUNTIME", "LOAD %s TO RUN", "LOAD %s FROM MEMORY",
            "LOAD %s FROM MEM");
    static final List<String> TO_MEMORY = List.of("SAVE %s TO MEMORY", "SAVE %s TO MEM", "SAVE %s FROM RUNTIME",
            "SAVE %s FROM RUN");
    static final List<String> TO_DISK = List.of("SAVE %s TO DISK", "SAVE %s FROM MEMORY", "SAVE %s FROM MEM");
    static final List<String> FROM_DISK = List.of("LOAD %s TO MEMORY", "LOAD %s TO MEM", "LOAD %s FROM DISK");

    static Stream<Arguments> spellings(List<String> forms) {
        var result = new ArrayList<Arguments>();
        for (AdminModule module : AdminModule.values()) {
            for (String form : forms) {
                result.add(Arguments.of(module, form.formatted(module.words())));
            }
        }
        return result.stream();
    }

    static Stream<Arguments> toRuntime() {
        return spellings(TO_RUNTIME);
    }

    static Stream<Arguments> toMemory() {
        return spellings(TO_MEMORY);
    }

    static Stream<Arguments> toDisk() {
        return spellings(TO_DISK);
    }

    static Stream<Arguments> fromDisk() {
        return spellings(FROM_DISK);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("toRuntime")
    void memoryToRuntime(AdminModule module, String command) throws Exception {
        int before = t.control.calls().size();
        t.ok(command.toLowerCase() + " ;");
        assertThat(t.control.calls().subList(before, t.control.calls().size()))
                .containsExactly("loaded:" + module.moduleName());
        if (RuntimeModules.CHECKSUM_MODULES.contains(module.moduleName())) {
            assertThat(t.engine.moduleVersions().get(module.moduleName()).version()).isEqualTo(2);
        }
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("toMemory")
    void runtimeToMemory(AdminModule module, String command) throws Exception {
        String table = module.tables().getFirst();
        // Saving users to memory deactivates rows that do not run instead of deleting them.
        String countSql = "SELECT COUNT(*) FROM main." + table
                + (module == AdminModule.MYSQL_USERS ? " WHERE active = 1" : "");
        String before = t.value(countSql);
        if (module.variablePrefix().isPresent()) {
            t.ok("DELETE FROM global_variables WHERE variable_name LIKE '" + module.variablePrefix().get() + "%'");
        } else {
            insertRow(module);
        }
        t.ok(command);
        assertThat(t.value(countSql)).isEqualTo(before);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("toDisk")
    void memoryToDisk(AdminModule module, String command) throws Exception {
        if (module.variablePrefix().isPresent()) {
            String name = module.variablePrefix().get() + (module == AdminModule.ADMIN_VARIABLES ? "refresh_interval"
                    : "poll_timeout");
            t.ok("UPDATE global_variables SET variable_value = '1234' WHERE variable_name = '" + name + "'");
            t.ok(command);
            assertThat(t.value("SELECT variable_value FROM disk.global_variables WHERE variable_name = '" + name
                    + "'")).isEqualTo("1234");
            return;
        }
        insertRow(module);
        String table = module.tables().getFirst();
        assertThat(t.value("SELECT COUNT(*) FROM disk." + table)).isEqualTo("0");
        t.ok(command);
        assertThat(t.value("SELECT COUNT(*) FROM disk." + table)).isEqualTo("1");
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("fromDisk")
    void diskToMemory(AdminModule module, String command) throws Exception {
        if (module.variablePrefix().isPresent()) {
            String name = module.variablePrefix().get() + (module == AdminModule.ADMIN_VARIABLES ? "refresh_interval"
                    : "poll_timeout");
            t.ok("UPDATE global_variables SET variable_value = '1234' WHERE variable_name = '" + name + "'");
            t.ok(command);
            assertThat(t.value("SELECT variable_value FROM main.global_variables WHERE variable_name = '" + name
                    + "'")).isNotEqualTo("1234");
            return;
        }
        insertRow(module);
        t.ok(command);
        assertThat(t.value("SELECT COUNT(*) FROM main." + module.tables().getFirst())).isEqualTo("0");
    }

    private void insertRow(AdminModule module) throws Exception {
        t.ok(switch (module) {
            case MYSQL_USERS -> "INSERT INTO mysql_users (username, password) VALUES ('u1', 'p')";
            case MYSQL_SERVERS -> "INSERT INTO mysql_servers (hostname) VALUES ('db1')";
            case MYSQL_QUERY_RULES -> "INSERT INTO mysql_query_rules (rule_id, active, match_digest, apply)"
                    + " VALUES (10, 1, '^SELECT', 1)";
            case PROXYSQL_SERVERS -> "INSERT INTO proxysql_servers (hostname) VALUES ('peer1')";
            case SCHEDULER -> "INSERT INTO scheduler (interval_ms, filename) VALUES (1000, '/bin/true')";
            case MYSQL_FIREWALL -> "INSERT INTO mysql_firewall_whitelist_users (username, client_address, comment)"
                    + " VALUES ('u', '', '')";
            case RESTAPI -> "INSERT INTO restapi_routes (timeout_ms, method, uri, script) VALUES (1000, 'GET', 'x', 'y')";
            case MYSQL_VARIABLES, ADMIN_VARIABLES -> throw new IllegalArgumentException(module.name());
        });
    }

    @Test
    void savingToMemoryKeepsRuntimeUsersAndDeactivatesOthers() throws Exception {
        t.ok("INSERT INTO mysql_users (username, password) VALUES ('app', 'pw')");
        t.ok("LOAD MYSQL USERS TO RUNTIME");
        t.ok("INSERT INTO mysql_users (username, password) VALUES ('other', 'pw')");
        t.ok("SAVE MYSQL USERS TO MEMORY");
        assertThat(t.rows("SELECT username, active FROM mysql_users ORDER BY username").rows())
                .containsExactly(List.of("app", "1"), List.of("other", "0"));
    }

    @Test
    void loadingOneUserLeavesTheOthersAsTheyRun() throws Exception {
        t.ok("INSERT INTO mysql_users (username, password) VALUES ('a', 'pa'), ('b', 'pb')");
        t.ok("LOAD MYSQL USERS TO RUNTIME");
        t.ok("UPDATE mysql_users SET password = 'new'");
        t.ok("LOAD MYSQL USER b TO RUNTIME");
        assertThat(t.holder.current().users().frontend().get("a").password()).isEqualTo("pa");
        assertThat(t.holder.current().users().frontend().get("b").password()).isEqualTo("new");
        assertThat(t.engine.moduleVersions().get("mysql_users").version()).isEqualTo(3);
        assertThat(t.error("LOAD MYSQL USER b'x TO RUNTIME")).isEqualTo("ProxySQL Admin Error: Invalid name b'x");
    }

    @Test
    void unknownLoadFormFallsThroughToSqliteAsSyntaxError() throws Exception {
        assertThat(t.error("LOAD MYSQL USERS TO DISK")).contains("syntax error");
        assertThat(t.error("SAVE MYSQL SERVERS TO RUNTIME")).contains("syntax error");
        assertThat(t.error("LOAD MYSQL THINGS TO RUNTIME")).contains("syntax error");
    }

    @Test
    void invalidRowsAreRefusedAtLoadAndRuntimeIsUnchanged() throws Exception {
        t.ok("INSERT INTO mysql_users (username, password) VALUES ('', 'pw')");
        var before = t.holder.current().users();
        assertThat(t.error("LOAD MYSQL USERS TO RUNTIME")).contains("mysql_users");
        assertThat(t.holder.current().users()).isSameAs(before);
        assertThat(t.engine.moduleVersions().get("mysql_users").version()).isEqualTo(1);
    }

    @Test
    void ruleCompilerRejectionLeavesRuntimeUnchanged() throws Exception {
        t.close();
        var strict = new AdminTestSupport();
        try {
            strict.engine = AdminEngine.open(t.dir(), null, false, false, strict.holder, rules -> {
                for (var rule : rules) {
                    if ("(".equals(rule.matchDigest())) {
                        throw new IllegalArgumentException("bad regex '('");
                    }
                }
                return io.proxyfleet.config.QueryRuleProgram.EMPTY;
            }, RuntimeStatsSource.NONE, NodeControl.NOOP);
            strict.ok("INSERT INTO mysql_query_rules (rule_id, active, match_digest) VALUES (1, 1, '^SELECT')");
            strict.ok("LOAD MYSQL QUERY RULES TO RUNTIME");
            assertThat(strict.holder.current().queryRules().rows()).hasSize(1);
            strict.ok("INSERT INTO mysql_query_rules (rule_id, active, match_digest) VALUES (2, 1, '(')");
            assertThat(strict.error("LOAD MYSQL QUERY RULES TO RUNTIME")).contains("bad regex");
            assertThat(strict.holder.current().queryRules().rows()).hasSize(1);
            assertThat(strict.rows("SELECT rule_id FROM runtime_mysql_query_rules").rows())
                    .containsExactly(List.of("1"));
        } finally {
            strict.close();
        }
    }

    @Test
    void inactiveRulesAreNotLoaded() throws Exception {
        t.ok("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)"
                + " VALUES (1, 1, '^SELECT', 1, 1), (2, 0, '^UPDATE', 0, 1)");
        t.ok("LOAD MYSQL QUERY RULES TO RUNTIME");
        assertThat(t.holder.current().queryRules().rows()).singleElement()
                .satisfies(r -> assertThat(r.destinationHostgroup()).isEqualTo(1));
    }
}
