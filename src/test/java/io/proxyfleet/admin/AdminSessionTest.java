package io.proxyfleet.admin;

import static io.proxyfleet.admin.AdminTestSupport.STATS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What MySQL clients send (§1.7), admin commands (§1.6) and the stats role's limits. */
class AdminSessionTest {
    @RegisterExtension
    final AdminTestSupport t = AdminTestSupport.openedForEachTest();

    @Test
    void mysqlCliHandshakeQueries() throws Exception {
        var comment = t.rows("select @@version_comment limit 1");
        assertThat(comment.columns()).containsExactly("(ProxySQL Admin Module)");
        assertThat(comment.rows()).containsExactly(List.of("(ProxySQL Admin Module)"));
        assertThat(t.value("SELECT DATABASE()")).isEqualTo("admin");
        assertThat(t.rows(STATS, "SELECT DATABASE()").rows()).containsExactly(List.of("stats"));
        assertThat(t.value("SELECT USER()")).isEqualTo("admin@127.0.0.1");
        assertThat(t.value("select connection_id()")).isEqualTo("0");
        assertThat(t.value("SELECT version()")).isEqualTo(t.value("SELECT @@admin-version"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET NAMES utf8mb4", "SET autocommit=1", "set character_set_results = NULL", "BEGIN",
            "COMMIT", "ROLLBACK", "START TRANSACTION", "USE main", "SET SQL_SAFE_UPDATES=1",
            "/*!40101 SET NAMES utf8 */", "LOCK TABLES mysql_servers READ", "UNLOCK TABLES", "", "SAVEPOINT a",
            "RELEASE SAVEPOINT a"})
    void clientNoOpsAnswerOk(String sql) throws Exception {
        t.ok(sql);
        assertThat(t.exec(STATS, sql)).isInstanceOf(AdminResponse.Ok.class);
        // No transaction was left open: saving to disk still works.
        t.ok("SAVE MYSQL SERVERS TO DISK");
    }

    @Test
    void connectorVariableProbe() throws Exception {
        var rs = t.rows("/* mysql-connector-j-9.5.0 */SELECT @@session.auto_increment_increment AS"
                + " auto_increment_increment, @@character_set_client AS character_set_client,"
                + " @@max_allowed_packet AS max_allowed_packet, @@sql_mode AS sql_mode");
        assertThat(rs.columns()).containsExactly("auto_increment_increment", "character_set_client",
                "max_allowed_packet", "sql_mode");
        assertThat(rs.rows()).containsExactly(List.of("1", "utf8", "67108864", ""));
        var vars = t.rows("SHOW VARIABLES WHERE Variable_name in ('max_allowed_packet','system_time_zone',"
                + "'time_zone','sql_mode')");
        assertThat(vars.rows()).extracting(r -> r.getFirst())
                .containsExactly("max_allowed_packet", "sql_mode", "system_time_zone", "time_zone");
    }

    @Test
    void showCommands() throws Exception {
        var dbs = t.rows("SHOW DATABASES");
        assertThat(dbs.columns()).containsExactly("seq", "name", "file");
        assertThat(dbs.rows()).extracting(r -> r.get(1)).containsExactly("main", "disk", "stats", "monitor");
        assertThat(t.rows("SHOW TABLES").rows()).extracting(r -> r.getFirst())
                .contains("mysql_servers", "mysql_users", "runtime_checksums_values", "scheduler")
                .doesNotContain("stats_mysql_global");
        assertThat(t.rows("SHOW TABLES FROM stats").rows()).extracting(r -> r.getFirst())
                .contains("stats_mysql_global", "stats_proxysql_servers_checksums",
                        "stats_proxysql_servers_clients_status");
        assertThat(t.rows("SHOW TABLES FROM monitor").rows()).extracting(r -> r.getFirst())
                .contains("mysql_server_connect_log", "mysql_server_ping_log", "mysql_server_read_only_log",
                        "mysql_server_replication_lag_log");
        assertThat(t.rows("SHOW TABLES LIKE 'mysql_query%'").rows()).extracting(r -> r.getFirst())
                .containsExactly("mysql_query_rules", "mysql_query_rules_fast_routing");
        var create = t.rows("SHOW CREATE TABLE proxysql_servers");
        assertThat(create.columns()).containsExactly("table", "Create Table");
        assertThat(create.rows().getFirst().get(1)).isEqualTo("CREATE TABLE proxysql_servers (\n"
                + "    hostname VARCHAR NOT NULL,\n    port INT NOT NULL DEFAULT 6032,\n"
                + "    weight INT CHECK (weight >= 0) NOT NULL DEFAULT 0,\n"
                + "    comment VARCHAR NOT NULL DEFAULT '',\n    PRIMARY KEY (hostname, port) )");
        assertThat(t.rows("SHOW FIELDS FROM mysql_servers").rows()).extracting(r -> r.getFirst())
                .startsWith("hostgroup_id", "hostname", "port");
    }

    @Test
    void mysqldumpProbes() throws Exception {
        t.ok("INSERT INTO mysql_servers (hostname) VALUES ('a'), ('b')");
        var status = t.rows("SHOW TABLE STATUS LIKE 'mysql_servers'");
        assertThat(status.columns()).hasSize(18).startsWith("Name", "Engine", "Version", "Row_format", "Rows");
        assertThat(status.rows()).singleElement().satisfies(r -> {
            assertThat(r.get(0)).isEqualTo("mysql_servers");
            assertThat(r.get(1)).isEqualTo("SQLite");
            assertThat(r.get(4)).isEqualTo("2");
        });
        assertThat(t.rows("SHOW VARIABLES LIKE 'gtid\\_mode'").rows()).isEmpty();
        assertThat(t.rows("SHOW STATUS LIKE 'binlog_snapshot_gtid_executed'").rows()).isEmpty();
        assertThat(t.value("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE table_schema = 'performance_schema'"
                + " AND table_name = 'session_variables'")).isEqualTo("0");
        assertThat(t.rows("SHOW TRIGGERS LIKE 'mysql\\_servers'").rows()).isEmpty();
    }

    @Test
    void tablesHaveProxySqlsExactDdl() throws Exception {
        assertThat(t.value("SELECT sql FROM sqlite_master WHERE name = 'runtime_checksums_values'")).isEqualTo(
                "CREATE TABLE runtime_checksums_values (name VARCHAR NOT NULL , version INT NOT NULL ,"
                        + " epoch INT NOT NULL , checksum VARCHAR NOT NULL , PRIMARY KEY (name))");
        assertThat(t.value("SELECT sql FROM disk.sqlite_master WHERE name = 'mysql_servers'"))
                .isEqualTo(t.value("SELECT sql FROM main.sqlite_master WHERE name = 'mysql_servers'"));
        assertThat(t.value("SELECT COUNT(*) FROM disk.global_settings WHERE variable_name = 'uuid'")).isEqualTo("1");
    }

    @Test
    void statsUsersOnlyRead() throws Exception {
        assertThat(t.rows(STATS, "SELECT * FROM stats_mysql_global").columns())
                .containsExactly("Variable_Name", "Variable_Value");
        assertThat(t.rows(STATS, "SELECT COUNT(*) FROM mysql_server_ping_log").rows()).containsExactly(List.of("0"));
        assertThat(t.rows(STATS, "SHOW TABLES").rows()).extracting(r -> r.getFirst())
                .contains("stats_mysql_connection_pool").doesNotContain("mysql_users");
        assertThat(t.error(STATS, "SELECT * FROM mysql_users")).contains("no such table");
        assertThat(t.error(STATS, "SELECT * FROM disk.mysql_users")).contains("no such table");
        assertThat(t.error(STATS, "DELETE FROM stats_mysql_global")).contains("only SELECT");
        assertThat(t.error(STATS, "LOAD MYSQL USERS TO RUNTIME")).contains("only SELECT");
        assertThat(t.error(STATS, "SET admin-admin_credentials='x:y'")).contains("only SELECT");
        assertThat(t.error(STATS, "PRAGMA query_only = OFF")).isEqualTo("ProxySQL Admin Error: Command not allowed");
        assertThat(t.error(STATS, "ATTACH DATABASE 'x.db' AS x")).isEqualTo("ProxySQL Admin Error: Command not allowed");
        assertThat(t.error(STATS, "PROXY_SELECT username FROM runtime_mysql_users")).contains("only SELECT");
        assertThat(t.error(STATS, "SHOW MYSQL USERS")).contains("only SELECT");
        assertThat(t.error(STATS, "SELECT GLOBAL_CHECKSUM()")).contains("no such function");
        assertThat(t.value("SELECT variable_value FROM global_variables WHERE variable_name='admin-admin_credentials'"))
                .isEqualTo("admin:admin");
    }

    @Test
    void statsTablesShowLiveRows() throws Exception {
        t.close();
        var live = new AdminTestSupport();
        try {
            live.engine = AdminEngine.open(t.dir(), null, false, false, live.holder,
                    rules -> io.proxyfleet.config.QueryRuleProgram.EMPTY, new RuntimeStatsSource() {
                        @Override
                        public List<List<Object>> connectionPool() {
                            return List.of(List.of(0, "db1", 3306, "ONLINE", 1, 2, 3, 0, 4, 100, 0, 10, 20, 150));
                        }

                        @Override
                        public List<List<Object>> processlist() {
                            return List.of();
                        }

                        @Override
                        public List<List<Object>> commandsCounters() {
                            return List.of();
                        }

                        @Override
                        public List<List<Object>> global() {
                            return List.of(List.of("Questions", "42"), List.of("ProxySQL_Uptime", "7"));
                        }

                        @Override
                        public List<List<Object>> users() {
                            return List.of();
                        }

                        @Override
                        public List<List<Object>> errors() {
                            return List.of();
                        }

                        @Override
                        public List<List<Object>> freeConnections() {
                            return List.of();
                        }
                    }, NodeControl.NOOP);
            assertThat(live.rows(STATS, "SELECT srv_host, ConnFree FROM stats_mysql_connection_pool").rows())
                    .containsExactly(List.of("db1", "2"));
            assertThat(live.value("SELECT @@Questions")).isEqualTo("42");
            assertThat(live.rows("SHOW MYSQL STATUS").rows()).contains(List.of("Questions", "42"));
            live.engine.registerTableSource("stats_proxysql_servers_metrics", () -> List.of(
                    List.of("peer1", 6032, 0, "", 3, 100, 10, 5, 1, 2)));
            assertThat(live.rows("SELECT hostname, Queries FROM stats_proxysql_servers_metrics").rows())
                    .containsExactly(List.of("peer1", "5"));
            live.engine.registerTableSource("mysql_server_ping_log", () -> List.of(
                    List.of("db1", 3306, 1000L, 120, "")));
            assertThat(live.rows(STATS, "SELECT hostname, ping_success_time_us FROM mysql_server_ping_log").rows())
                    .containsExactly(List.of("db1", "120"));
        } finally {
            live.close();
        }
    }

    @Test
    void proxysqlCommandsReachTheNode() throws Exception {
        t.ok("PROXYSQL PAUSE");
        assertThat(t.error("PROXYSQL PAUSE")).contains("already paused");
        t.ok("PROXYSQL RESUME");
        t.ok("PROXYSQL FLUSH LOGS");
        t.ok("PROXYSQL RELOAD TLS");
        t.ok("KILL CONNECTION 7");
        t.ok("KILL QUERY 7");
        AdminResponse unknown = t.exec("KILL 8");
        assertThat(unknown).isEqualTo(new AdminResponse.Error(1094, "HY000", "Unknown thread id: 8"));
        t.ok("PROXYSQL SHUTDOWN SLOW");
        assertThat(t.control.calls()).containsSubsequence("pause", "resume", "flushLogs", "reloadTls",
                "killConnection:7", "killQuery:7", "killConnection:8", "shutdown:true");
        assertThat(t.error("PROXYSQL START")).contains("already started");
    }

    @Test
    void checksumCommand() throws Exception {
        var rs = t.rows("CHECKSUM MEMORY MYSQL SERVERS");
        assertThat(rs.columns()).containsExactly("table", "checksum");
        assertThat(rs.rows()).containsExactly(List.of("mysql_servers", "0x00"));
        t.ok("INSERT INTO mysql_servers (hostname) VALUES ('db1')");
        assertThat(t.rows("CHECKSUM MYSQL SERVERS").rows().getFirst().get(1)).isNotEqualTo("0x00");
        assertThat(t.rows("CHECKSUM DISK MYSQL SERVERS").rows().getFirst().get(1)).isEqualTo("0x00");
    }

    @Test
    void engineKeepsServingAfterErrors() throws Exception {
        for (int i = 0; i < 3; i++) {
            t.error("SELECT * FROM no_such_table");
        }
        assertThat(t.value("SELECT 1")).isEqualTo("1");
    }
}
