package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.protocol.client.QueryResult;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The history's size, its row encoding, and the ProxyFleet-only settings that never travel. */
class ClusterHistoryTest {
    @RegisterExtension
    final AdminTestSupport t = AdminTestSupport.openedForEachTest();

    private void loadUser(String name) throws Exception {
        t.ok("DELETE FROM mysql_users");
        t.ok("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('" + name + "', 'p', 0)");
        t.ok("LOAD MYSQL USERS TO RUNTIME");
    }

    @Test
    void theHistoryKeepsTheLastNVersionsOfEachModule() throws Exception {
        t.ok("UPDATE global_variables SET variable_value = '2' WHERE variable_name = 'admin-proxyfleet_cluster_history_size'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        loadUser("one");
        loadUser("two");
        loadUser("three");
        var rows = t.rows("SELECT source, admin_user, row_count, rows FROM disk.proxyfleet_cluster_history"
                + " WHERE name = 'mysql_users' ORDER BY id").rows();
        assertThat(rows).hasSize(2);
        assertThat(rows).allSatisfy(r -> assertThat(r.subList(0, 3)).containsExactly("local", "admin", "1"));
        assertThat(ClusterHistory.decode(rows.get(0).get(3)).get("mysql_users").rows().getFirst().getFirst())
                .isEqualTo("two");
        assertThat(ClusterHistory.decode(rows.get(1).get(3)).get("mysql_users").rows().getFirst().getFirst())
                .isEqualTo("three");
    }

    @Test
    void proxyFleetSettingsAreNeitherHashedNorFetchedWithTheAdminVariables() throws Exception {
        String before = t.engine.moduleVersions().get("admin_variables").checksum();
        t.ok("UPDATE global_variables SET variable_value = 'true'"
                + " WHERE variable_name = 'admin-proxyfleet_cluster_conflict_strict'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        t.ok("SAVE ADMIN VARIABLES TO DISK");
        assertThat(t.engine.moduleVersions().get("admin_variables").checksum()).isEqualTo(before);
        // ProxySQL's own fetch of the admin variables (§4.9)
        assertThat(t.rows("SELECT * FROM runtime_global_variables WHERE variable_name LIKE 'admin-%'"
                + " ORDER BY variable_name").rows()).noneSatisfy(r -> assertThat(r.getFirst()).startsWith("proxyfleet"));
        assertThat(t.value("SELECT variable_value FROM disk.global_variables"
                + " WHERE variable_name = 'admin-proxyfleet_cluster_conflict_strict'")).isEqualTo("true");
    }

    @Test
    void rowsSurviveTheEncodingWhateverTheyHold() {
        Map<String, QueryResult.Rows> tables = new LinkedHashMap<>();
        tables.put("mysql_users", new QueryResult.Rows(List.of("username", "comment"), List.of(
                Arrays.asList("tab\there", "new\nline"), Arrays.asList("back\\slash", null),
                Arrays.asList("\\N", ""))));
        tables.put("empty", new QueryResult.Rows(List.of("a", "b"), List.of()));
        assertThat(ClusterHistory.decode(ClusterHistory.encode(tables))).isEqualTo(tables);
    }
}
