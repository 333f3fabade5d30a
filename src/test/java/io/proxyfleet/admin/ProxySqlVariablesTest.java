package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ProxySqlVariables;
import io.proxyfleet.config.checksum.Checksums;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every ProxySQL 2.7 variable, with ProxySQL's defaults and checks, gives ProxySQL's checksums; ProxyFleet's own
 * variables never change them and never reach a peer (reference §3, §4.2, proxysql-variables.tsv).
 */
class ProxySqlVariablesTest {
    /** What ProxySQL 2.7.1 reports as admin-version; peers only cluster with an exact match. */
    private static final String PROXYSQL_VERSION = "2.7.1-0-g2726c27";
    /** ProxySQL 2.7.1's checksums with every default (the header of the reference variables list). */
    private static final String DEFAULT_ADMIN = "0xDE7FED1158FA8621";
    private static final String DEFAULT_MYSQL = "0x72C9F95F7FE827AA";
    /**
     * Derived by the same rules (raw checksum of ProxySQL's rows, by name, without mysql-threads and the
     * listeners) from the reference list with mysql-max_connections=2048, mysql-eventslog_format=2 and
     * admin-cluster_check_interval_ms=200.
     */
    private static final String CHANGED_ADMIN = "0xB8AFEB0116BCCAEA";
    private static final String CHANGED_MYSQL = "0x65A17DBEE6666EFC";
    /** The exact fetch a ProxySQL peer sends for mysql variables (§4.9), without cluster_sync_interfaces. */
    private static final String PEER_MYSQL_FETCH = "SELECT * FROM runtime_global_variables WHERE variable_name LIKE"
            + " 'mysql-%' AND variable_name NOT IN ('mysql-threads') AND variable_name NOT IN ('mysql-interfaces')"
            + " ORDER BY variable_name";
    private static final String PEER_ADMIN_FETCH = "SELECT * FROM runtime_global_variables WHERE variable_name LIKE"
            + " 'admin-%' AND variable_name NOT IN ('admin-mysql_ifaces','admin-restapi_port',"
            + "'admin-telnet_admin_ifaces','admin-telnet_stats_ifaces','admin-web_port') ORDER BY variable_name";

    @TempDir
    Path dir;

    @RegisterExtension
    final AdminTestSupport t = new AdminTestSupport();

    private void openWith(String config) throws Exception {
        Path cnf = dir.resolve("proxysql.cnf");
        Files.writeString(cnf, config);
        t.open(dir, cnf, false, false);
    }

    private String checksum(String module) throws Exception {
        return t.value("SELECT checksum FROM runtime_checksums_values WHERE name = '" + module + "'");
    }

    @Test
    void allOfProxySqlsDefaultsGiveProxySqlsChecksums() throws Exception {
        openWith("reported_version=\"" + PROXYSQL_VERSION + "\"\n");
        assertThat(ProxySqlVariables.ALL).hasSize(212);
        assertThat(checksum("admin_variables")).isEqualTo(DEFAULT_ADMIN);
        assertThat(checksum("mysql_variables")).isEqualTo(DEFAULT_MYSQL);
        assertThat(t.value("SELECT @@mysql-eventslog_format")).isEqualTo("1");
        assertThat(t.rows("SELECT variable_name FROM global_variables").rows()).extracting(List::getFirst)
                .containsAll(ProxySqlVariables.ALL.keySet());
    }

    @Test
    void aChangedConfigGivesTheDerivedChecksumsAndProxyFleetsOwnVariablesChangeNothing() throws Exception {
        openWith("""
                reported_version="%s"
                admin_variables = { cluster_check_interval_ms=200 mysql_ifaces="127.0.0.1:1" }
                mysql_variables = { max_connections=2048 eventslog_format=2 threads=8
                                    keep_multiplexing_on_system_variable_reads=false }
                """.formatted(PROXYSQL_VERSION));
        assertThat(checksum("admin_variables")).isEqualTo(CHANGED_ADMIN);
        assertThat(checksum("mysql_variables")).isEqualTo(CHANGED_MYSQL);
        assertThat(t.holder.current().mysqlVariables().get("keep_multiplexing_on_system_variable_reads"))
                .isEqualTo("false");
    }

    @Test
    void peersFetchExactlyTheHashedRowsAndNeverNodeLocalOnes() throws Exception {
        openWith("reported_version=\"" + PROXYSQL_VERSION + "\"\n");
        for (String[] fetch : new String[][] {{PEER_MYSQL_FETCH, "mysql_variables"},
                {PEER_ADMIN_FETCH, "admin_variables"}}) {
            AdminResponse.ResultSet rows = t.rows(fetch[0]);
            assertThat(rows.rows()).extracting(List::getFirst)
                    .allSatisfy(name -> assertThat(ProxySqlVariables.isProxySql(name)).as(name).isTrue())
                    .doesNotContain("mysql-keep_multiplexing_on_system_variable_reads", "admin-reported_version");
            assertThat(Checksums.format(Checksums.rawChecksum(rows.rows()))).isEqualTo(checksum(fetch[1]));
        }
        // An operator's own query still shows everything.
        assertThat(t.value("SELECT variable_value FROM runtime_global_variables"
                + " WHERE variable_name = 'admin-reported_version'")).isEqualTo(PROXYSQL_VERSION);
    }

    @Test
    void valuesAreCheckedAsProxySqlChecksThem() throws Exception {
        t.open(dir);
        t.ok("SET admin-cluster_check_interval_ms = 5");
        t.ok("SET mysql-max_connections = 0");
        t.ok("SET mysql-query_processor_regex = 3");
        t.ok("SET mysql-auditlog_filename = 'audit.log'");
        t.ok("SET mysql-enable_load_data_local_infile = 1");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        t.ok("LOAD MYSQL VARIABLES TO RUNTIME");
        assertThat(t.value("SELECT @@admin-cluster_check_interval_ms")).isEqualTo("1000");
        assertThat(t.value("SELECT @@mysql-max_connections")).isEqualTo("10000");
        assertThat(t.value("SELECT @@mysql-query_processor_regex")).isEqualTo("1");
        // Not acted on, but accepted, stored and synced like any ProxySQL variable.
        assertThat(t.holder.current().mysqlVariables().get("auditlog_filename")).isEqualTo("audit.log");
        assertThat(t.value("SELECT @@mysql-enable_load_data_local_infile")).isEqualTo("true");
        // The deprecated admin-checksum_* switches hold their module's diffs_before_sync at 0, as in ProxySQL.
        t.ok("SET admin-checksum_mysql_users = 'false'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.value("SELECT @@admin-cluster_mysql_users_diffs_before_sync")).isEqualTo("0");
        t.ok("SET admin-cluster_mysql_users_diffs_before_sync = 3");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.value("SELECT @@admin-cluster_mysql_users_diffs_before_sync")).isEqualTo("0");
        assertThat(t.value("SELECT @@admin-cluster_mysql_servers_diffs_before_sync")).isEqualTo("3");
        assertThat(t.rows("SELECT proxysql, implemented, travels, note FROM runtime_proxyfleet_variables"
                + " WHERE variable_name = 'mysql-auditlog_filename'").rows())
                .containsExactly(List.of("1", "0", "1", "not implemented: accepted, stored and synced"));
    }

    @Test
    void theScopeTableListsWhatNeverTravels() throws Exception {
        t.open(dir);
        // ProxySQL's node-local variables, and every variable ProxySQL does not have (whoever adds it).
        assertThat(t.rows("SELECT variable_name FROM runtime_proxyfleet_variables WHERE travels = 0"
                + " AND proxysql = 1 ORDER BY variable_name").rows()).extracting(List::getFirst)
                .containsExactly("admin-mysql_ifaces", "admin-restapi_port", "admin-telnet_admin_ifaces",
                        "admin-telnet_stats_ifaces", "admin-web_port", "mysql-interfaces", "mysql-threads");
        assertThat(t.rows("SELECT variable_name FROM runtime_proxyfleet_variables WHERE travels = 0"
                + " AND proxysql = 0").rows()).extracting(List::getFirst)
                .contains("admin-reported_version", "mysql-keep_multiplexing_on_system_variable_reads");
        assertThat(t.value("SELECT COUNT(*) FROM runtime_proxyfleet_variables WHERE proxysql = 0 AND travels = 1"))
                .isEqualTo("0");
        t.ok("SET admin-reported_version = '" + PROXYSQL_VERSION + "'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.value("SELECT note FROM runtime_proxyfleet_variables WHERE variable_name = 'admin-version'"))
                .isEqualTo("overridden on this node by admin-reported_version");
        assertThat(t.value("SELECT COUNT(*) FROM runtime_proxyfleet_variables WHERE implemented = 0"))
                .isEqualTo(Long.toString(ProxySqlVariables.ALL.values().stream().filter(s -> !s.implemented())
                        .count()));
    }
}
