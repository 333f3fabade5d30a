package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.ServerStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class AdminEngineTest {
    private static final int QUERY_SECONDS = 10;

    @TempDir
    Path dir;

    @RegisterExtension
    final AdminTestSupport t = new AdminTestSupport();

    /** queryRows binds its values (a quote in one is data, not SQL) and reads runtime tables as they run. */
    @Test
    void queryRowsBindsItsParametersAndSeesRuntimeTablesAsTheyRun() throws Exception {
        t.open(dir);
        t.ok("INSERT INTO restapi_routes (id, active, timeout_ms, method, uri, script)"
                + " VALUES (1, 1, 1000, 'get', 'it''s', '/bin/true')");
        t.exec("LOAD RESTAPI TO RUNTIME");
        String sql = "SELECT script, timeout_ms FROM runtime_restapi_routes WHERE uri = ? AND UPPER(method) = ?";
        assertThat(t.engine.queryRows(sql, "it's", "GET").get(QUERY_SECONDS, TimeUnit.SECONDS))
                .containsExactly(List.of("/bin/true", "1000"));
        assertThat(t.engine.queryRows(sql, "x' OR '1' = '1", "GET").get(QUERY_SECONDS, TimeUnit.SECONDS))
                .isEmpty();
    }

    @Test
    void bootLoadsEveryModuleAtVersionOne() throws Exception {
        t.open(dir);
        assertThat(t.engine.moduleVersions()).containsOnlyKeys("admin_variables", "mysql_query_rules",
                "mysql_servers", "mysql_servers_v2", "mysql_users", "mysql_variables", "proxysql_servers");
        assertThat(t.engine.moduleVersions().values()).allSatisfy(v -> assertThat(v.version()).isEqualTo(1));
        var rs = t.rows("SELECT name, version, checksum FROM runtime_checksums_values ORDER BY name");
        assertThat(rs.rows()).hasSize(7);
        assertThat(rs.rows().getFirst()).containsExactly("admin_variables", "1",
                t.engine.moduleVersions().get("admin_variables").checksum());
        assertThat(t.rows("SELECT * FROM runtime_checksums_values WHERE name='mysql_users'").rows().getFirst()
                .get(3)).isEqualTo("0x0000000000000000");
        assertThat(Files.exists(dir.resolve("proxysql.db"))).isTrue();
        assertThat(t.holder.current().adminVariables().get("admin_credentials")).isEqualTo("admin:admin");
    }

    @Test
    void theChecksumQueriesPeersSendAreAnsweredFromMemoryAsSqliteAnswersThem() throws Exception {
        t.open(dir);
        t.ok("INSERT INTO mysql_users (username, password) VALUES ('u1', 'p1')");
        t.ok("LOAD MYSQL USERS TO RUNTIME");
        // The exact texts peers send take the in-memory path; any other spelling goes through SQLite.
        var fast = t.rows(ClusterChecksumAnswers.CHECKSUMS);
        var sql = t.rows("select * from runtime_checksums_values order by name");
        assertThat(fast.columns()).isEqualTo(sql.columns());
        assertThat(fast.rows()).isEqualTo(sql.rows()).hasSize(7);
        assertThat(fast.rows()).filteredOn(r -> r.getFirst().equals("mysql_users")).singleElement()
                .satisfies(r -> assertThat(r.get(1)).isEqualTo("2"));
        assertThat(t.rows(ClusterChecksumAnswers.GLOBAL_CHECKSUM)).isEqualTo(t.rows("select global_checksum()"));
    }

    @Test
    void tutorialFlow() throws Exception {
        t.open(dir);
        t.ok("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '10.0.0.1', 3306)");
        t.ok("INSERT INTO mysql_servers (hostgroup_id, hostname, port, max_connections) VALUES (1, '10.0.0.2', 3307, 50)");
        t.ok("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('app', 'secret', 0)");
        assertThat(t.holder.current().servers().rows()).isEmpty();

        t.ok("LOAD MYSQL SERVERS TO RUNTIME");
        t.ok("LOAD MYSQL USERS TO RUNTIME");
        assertThat(t.holder.current().servers().rows()).containsExactly(
                MysqlServer.of(0, "10.0.0.1", 3306),
                new MysqlServer(1, "10.0.0.2", 3307, 0, ServerStatus.ONLINE, 1, 0, 50, 0, false, 0, ""));
        assertThat(t.holder.current().users().frontend()).containsKey("app");
        assertThat(t.engine.moduleVersions().get("mysql_users").version()).isEqualTo(2);
        assertThat(t.engine.moduleVersions().get("mysql_users").checksum()).isNotEqualTo("0x0000000000000000");
        assertThat(t.rows("SELECT username, backend, frontend FROM runtime_mysql_users ORDER BY backend").rows())
                .containsExactly(List.of("app", "0", "1"), List.of("app", "1", "0"));
        assertThat(t.rows("SELECT hostname, port FROM runtime_mysql_servers ORDER BY hostname").rows())
                .containsExactly(List.of("10.0.0.1", "3306"), List.of("10.0.0.2", "3307"));

        // Edit without load: runtime stays as it was.
        t.ok("UPDATE mysql_servers SET max_connections = 5 WHERE hostname = '10.0.0.1'");
        assertThat(t.holder.current().servers().hostgroup(0).getFirst().maxConnections()).isEqualTo(1000);

        t.ok("SAVE MYSQL SERVERS TO DISK");
        t.ok("SAVE MYSQL USERS TO DISK");
        t.close();

        var reopened = new AdminTestSupport();
        try {
            reopened.open(dir);
            assertThat(reopened.holder.current().servers().hostgroup(0).getFirst().maxConnections()).isEqualTo(5);
            assertThat(reopened.holder.current().users().frontend()).containsKey("app");
            assertThat(reopened.value("SELECT COUNT(*) FROM disk.mysql_servers")).isEqualTo("2");

            // LOAD FROM DISK replaces main with the disk copy.
            reopened.ok("DELETE FROM mysql_servers");
            reopened.ok("LOAD MYSQL SERVERS FROM DISK");
            assertThat(reopened.value("SELECT COUNT(*) FROM main.mysql_servers")).isEqualTo("2");
        } finally {
            reopened.close();
        }
    }

    @Test
    void resultsAndAffectedRowsLookLikeProxySql() throws Exception {
        t.open(dir);
        assertThat(t.ok("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (0, 'a'), (0, 'b')").affectedRows())
                .isEqualTo(2);
        assertThat(t.ok("UPDATE mysql_servers SET weight = 5").affectedRows()).isEqualTo(2);
        assertThat(t.ok("DELETE FROM mysql_servers WHERE hostname = 'a'").affectedRows()).isEqualTo(1);
        var empty = t.rows("SELECT * FROM mysql_users");
        assertThat(empty.columns()).hasSize(14).startsWith("username", "password", "active");
        assertThat(empty.rows()).isEmpty();
        var rs = t.rows("SELECT hostgroup_id, hostname, weight, NULL AS n, 1.5 AS r FROM mysql_servers");
        assertThat(rs.columns()).containsExactly("hostgroup_id", "hostname", "weight", "n", "r");
        assertThat(rs.rows()).containsExactly(java.util.Arrays.asList("0", "b", "5", null, "1.5"));
    }

    @Test
    void diskFileIsAPlainSqliteDatabase() throws Exception {
        t.open(dir);
        t.ok("INSERT INTO mysql_users (username, password) VALUES ('app', 'pw')");
        t.ok("SAVE MYSQL USERS TO DISK");
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("proxysql.db"));
             var st = c.createStatement();
             var rs = st.executeQuery("SELECT username FROM mysql_users")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("app");
        }
    }

    @Test
    void statementsFromManyThreadsRunOneAtATime() throws Exception {
        t.open(dir);
        int threads = 8;
        int perThread = 25;
        var futures = new java.util.ArrayList<java.util.concurrent.CompletableFuture<AdminResponse>>();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            var submitted = new java.util.ArrayList<java.util.concurrent.Future<?>>();
            for (int i = 0; i < threads; i++) {
                int thread = i;
                submitted.add(pool.submit(() -> {
                    for (int j = 0; j < perThread; j++) {
                        synchronized (futures) {
                            futures.add(t.engine.execute(AdminTestSupport.ADMIN,
                                    "INSERT INTO proxysql_servers (hostname) VALUES ('h" + thread + "-" + j + "')"));
                        }
                    }
                }));
            }
            for (var f : submitted) {
                f.get(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdown();
        }
        for (var f : futures) {
            assertThat(f.get(10, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(AdminResponse.Ok.class);
        }
        assertThat(t.value("SELECT COUNT(*) FROM proxysql_servers")).isEqualTo(Integer.toString(threads * perThread));
    }

    @Test
    void closedEngineAnswersWithAnError() throws Exception {
        t.open(dir);
        AdminEngine engine = t.engine;
        t.close();
        AdminResponse r = engine.execute(AdminTestSupport.ADMIN, "SELECT 1").get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r).isInstanceOf(AdminResponse.Error.class);
        engine.close();
    }

    @Test
    void checkConstraintViolationChangesNothing() throws Exception {
        t.open(dir);
        String message = t.error("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, 'h', 70000)");
        assertThat(message).contains("CHECK constraint failed");
        assertThat(t.value("SELECT COUNT(*) FROM mysql_servers")).isEqualTo("0");
        assertThat(t.error("SELEKT * FROM mysql_servers")).contains("syntax error");
        assertThat(t.value("SELECT COUNT(*) FROM mysql_servers")).isEqualTo("0");
    }
}
