package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.admin.AdminPrincipal;
import io.proxyfleet.admin.AdminRole;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.checksum.Checksums;
import io.proxyfleet.protocol.client.QueryResult;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a verified pull is applied to a real admin engine (issue 13's review findings): as one admin step, with the
 * checksum computed locally, with the peer's rows bound as parameters into columns of the local schema only.
 */
class AdminClusterNodeTest {
    private static final PeerAddress PEER = new PeerAddress("127.0.0.1", 16032);
    /** The admin-thread timeout of the one test that runs into it; every other apply gets the node's own. */
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);
    private static final List<String> USER_COLUMNS = List.of("username", "password", "use_ssl", "default_hostgroup",
            "default_schema", "schema_locked", "transaction_persistent", "fast_forward", "backend", "frontend",
            "max_connections", "attributes", "comment");
    private static final String USERS_IN_MAIN = "SELECT username FROM main.mysql_users ORDER BY username";
    private static final String USERS_AT_RUNTIME = "SELECT DISTINCT username FROM runtime_mysql_users ORDER BY username";

    @TempDir
    Path tmp;
    private TestNode node;
    private AdminClusterNode local;

    @BeforeEach
    void setUp() throws Exception {
        node = new TestNode(tmp.resolve("node"));
        node.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('kept', 'p', 0)");
        node.exec("LOAD MYSQL USERS TO RUNTIME");
        local = new AdminClusterNode(node.engine, node.holder, false, true);
    }

    @AfterEach
    void tearDown() throws Exception {
        node.close();
    }

    private static List<String> user(String name) {
        return List.of(name, "pw", "0", "0", "", "0", "1", "0", "1", "1", "10000", "", "");
    }

    /** The users pull of {@code rows}, advertising the checksum those rows really have. */
    private static PulledModule users(List<List<String>> rows) {
        QueryResult.Rows fetched = new QueryResult.Rows(USER_COLUMNS, rows);
        List<MysqlUser> parsed = ModulePuller.users(fetched);
        return users(fetched, Checksums.format(Checksums.mysqlUsers(parsed)));
    }

    private static PulledModule users(QueryResult.Rows fetched, String advertised) {
        return new PulledModule(ClusterModule.MYSQL_USERS, PEER, Map.of("mysql_users", fetched),
                List.of(new PulledModule.Adopted("mysql_users", advertised, 1_700_000_000L)), false);
    }

    private void assertNothingChanged(ModuleVersion before) throws Exception {
        assertThat(node.rows(USERS_IN_MAIN)).containsExactly(List.of("kept"));
        assertThat(node.rows(USERS_AT_RUNTIME)).containsExactly(List.of("kept"));
        assertThat(node.module("mysql_users")).isEqualTo(before);
    }

    @Test
    void aPullWhoseLoadFailsLeavesTheTablesAsTheyWere() throws Exception {
        node.exec("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup) VALUES"
                + " (1, 1, '^SELECT', 0)");
        node.exec("LOAD MYSQL QUERY RULES TO RUNTIME");
        ModuleVersion before = node.module("mysql_query_rules");
        String rulesInMain = "SELECT rule_id, match_pattern FROM main.mysql_query_rules";
        List<List<String>> mainBefore = node.rows(rulesInMain);
        // the rows hash fine on the peer, but this node's load refuses the regular expression
        QueryResult.Rows rules = new QueryResult.Rows(List.of("rule_id", "match_pattern", "destination_hostgroup",
                "apply"), List.of(List.of("2", "([unclosed", "1", "1")));
        QueryResult.Rows fast = new QueryResult.Rows(List.of("username", "schemaname", "flagIN",
                "destination_hostgroup", "comment"), List.of(List.of("app", "shop", "0", "3", "")));
        String advertised = Checksums.format(Checksums.queryRules(Checksums.rawChecksum(rules.rows()),
                Checksums.rawChecksum(fast.rows())));
        PulledModule pulled = new PulledModule(ClusterModule.MYSQL_QUERY_RULES, PEER,
                Map.of("mysql_query_rules", rules, "mysql_query_rules_fast_routing", fast),
                List.of(new PulledModule.Adopted("mysql_query_rules", advertised, 1_700_000_000L)), false);

        assertThatThrownBy(() -> local.apply(pulled)).hasMessageContaining("query rules");
        assertThat(node.rows(rulesInMain)).isEqualTo(mainBefore);
        assertThat(node.rows("SELECT COUNT(*) FROM main.mysql_query_rules_fast_routing"))
                .containsExactly(List.of("0"));
        assertThat(node.rows("SELECT rule_id FROM runtime_mysql_query_rules")).containsExactly(List.of("1"));
        assertThat(node.module("mysql_query_rules")).isEqualTo(before);
    }

    @Test
    void aPullThatTimesOutWaitingForTheAdminThreadNeverRunsLater() throws Exception {
        ModuleVersion before = node.module("mysql_users");
        CountDownLatch release = new CountDownLatch(1);
        node.engine.registerTableSource("stats_mysql_users", () -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of();
        });
        // an operator's query that keeps the admin thread busy past the pull's timeout
        var busy = node.engine.execute(new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:1"),
                "SELECT * FROM stats_mysql_users");

        AdminClusterNode impatient = new AdminClusterNode(node.engine, node.holder, false, true, SHORT_TIMEOUT);
        assertThatThrownBy(() -> impatient.apply(users(List.of(user("late")))))
                .isInstanceOf(TimeoutException.class);
        release.countDown();
        busy.get(10, TimeUnit.SECONDS);
        // every task queued before this query has run by now
        node.exec("SELECT 1");
        assertNothingChanged(before);
    }

    @Test
    void theChecksumIsComputedHereAndAMismatchIsRefusedAndCounted() throws Exception {
        ModuleVersion before = node.module("mysql_users");
        QueryResult.Rows fetched = new QueryResult.Rows(USER_COLUMNS, List.of(user("fresh")));
        String claimed = "0x1111111111111111";

        assertThatThrownBy(() -> local.apply(users(fetched, claimed)))
                .hasMessageContaining("computed locally").hasMessageContaining(claimed);
        assertNothingChanged(before);
        assertThat(node.rows("SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_users'"))
                .containsExactly(List.of(before.checksum()));
        assertThat(local.checksumMismatches(ClusterModule.MYSQL_USERS)).isEqualTo(1);
    }

    @Test
    void aMatchingPullIsAppliedWithThePeersEpoch() throws Exception {
        local.apply(users(List.of(user("fresh"))));
        assertThat(node.rows(USERS_IN_MAIN)).containsExactly(List.of("fresh"));
        assertThat(node.rows(USERS_AT_RUNTIME)).containsExactly(List.of("fresh"));
        assertThat(node.module("mysql_users").epoch()).isEqualTo(1_700_000_000L);
    }

    @Test
    void aColumnNameIsNeverSqlText() throws Exception {
        ModuleVersion before = node.module("mysql_users");
        // spliced into SQL text, this name would insert its own row and comment out the peer's values
        String injected = "username, password, default_hostgroup) SELECT 1, 'evil', 'pw', 0 --";
        PulledModule pulled = users(new QueryResult.Rows(List.of(injected), List.of(List.of("x"))), "0x0");

        assertThatThrownBy(() -> local.apply(pulled)).hasMessageContaining("unknown column");
        assertNothingChanged(before);
    }

    @Test
    void rowsForAColumnThisNodeDoesNotHaveAreRefused() throws Exception {
        ModuleVersion before = node.module("mysql_users");
        List<String> columns = new java.util.ArrayList<>(USER_COLUMNS);
        columns.add("added_in_a_later_version");
        List<String> row = new java.util.ArrayList<>(user("fresh"));
        row.add("1");
        PulledModule pulled = users(new QueryResult.Rows(columns, List.of(row)), "0x0");

        assertThatThrownBy(() -> local.apply(pulled)).hasMessageContaining("added_in_a_later_version");
        assertNothingChanged(before);
    }

    @Test
    void aVariablesPullCannotSetAnotherModulesVariable() throws Exception {
        String mysqlValue = "SELECT variable_value FROM main.global_variables"
                + " WHERE variable_name = 'mysql-max_connections'";
        List<List<String>> before = node.rows(mysqlValue);
        PulledModule pulled = new PulledModule(ClusterModule.ADMIN_VARIABLES, PEER, Map.of("global_variables",
                new QueryResult.Rows(List.of("variable_name", "variable_value"),
                        List.of(List.of("admin-refresh_interval", "2000"), List.of("mysql-max_connections", "1")))),
                List.of(), false);

        assertThatThrownBy(() -> local.apply(pulled)).hasMessageContaining("mysql-max_connections");
        assertThat(node.rows(mysqlValue)).isEqualTo(before);
    }
}
