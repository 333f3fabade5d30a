package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What a user of the real {@code mysql} command-line client sees through the proxy. */
class MysqlCliTrafficTest {
    private static final String USER = "cli_user";
    private static final String PASSWORD = "cli-pw";
    private static final String DB = "cli_db";
    private static TrafficProxy proxy;

    @BeforeAll
    static void startProxy() throws Exception {
        MariaDb db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
        db.execute("DROP DATABASE IF EXISTS " + DB, "CREATE DATABASE " + DB);
        proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())),
                List.of(MysqlUser.of(USER, PASSWORD, 0)), Map.of("server_version", "5.5.30"));
    }

    @AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static MysqlCli.Result mysql(String stdin, String... extra) {
        return MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", proxy.port(), USER, PASSWORD, extra), stdin,
                MysqlCli.DEFAULT_TIMEOUT);
    }

    @Test
    void batchQueriesPrintTabSeparatedRows() {
        var result = mysql("", "-N", "-e", "SELECT 1+1, 'a b', NULL; SELECT 'second'");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).isEqualTo("2\ta b\tNULL\nsecond\n");
        assertThat(result.stderr()).isEmpty();
    }

    @Test
    void batchOutputWithHeaders() {
        var result = mysql("", "-e", "SELECT 42 AS answer");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).isEqualTo("answer\n42\n");
    }

    @Test
    void useSwitchesTheDatabaseForLaterQueries() {
        // Without a database at login the session starts in mysql-default_schema, as with ProxySQL.
        var result = mysql("", "-N", "-e", "SELECT DATABASE(); USE " + DB + "; SELECT DATABASE()");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout().lines().toList()).containsExactly("information_schema", DB);
    }

    @Test
    void databaseGivenOnTheCommandLineIsCurrent() {
        var result = mysql("", "-N", "-D", DB, "-e", "SELECT DATABASE()");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).isEqualTo(DB + "\n");
    }

    @Test
    void statusShowsTheProxysServerVersion() {
        var result = mysql("", "-D", DB, "-e", "status");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).containsPattern("Server version:\\s+5\\.5\\.30")
                .containsPattern("Current database:\\s+" + DB)
                .containsPattern("Current user:\\s+" + USER + "@")
                .containsPattern("TCP port:\\s+" + proxy.port());
    }

    @Test
    void multiStatementScriptFromStdin() {
        String script = """
                USE %s;
                DROP TABLE IF EXISTS script_t;
                CREATE TABLE script_t (id INT PRIMARY KEY, name VARCHAR(20));
                INSERT INTO script_t VALUES (1, 'one'), (2, 'two');
                INSERT INTO script_t VALUES (3, 'three');
                UPDATE script_t SET name = UPPER(name) WHERE id >= 2;
                SELECT id, name FROM script_t ORDER BY id;
                SELECT COUNT(*) FROM script_t;
                DROP TABLE script_t;
                """.formatted(DB);
        var result = mysql(script, "-N");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout().lines().toList()).containsExactly("1\tone", "2\tTWO", "3\tTHREE", "3");
    }

    @Test
    void missingTableReportsError1146AndExitCode1() {
        var result = mysql("", "-D", DB, "-e", "SELECT * FROM no_such_table");
        assertThat(result.exitCode()).as(result.toString()).isEqualTo(1);
        assertThat(result.stderr()).contains("ERROR 1146 (42S02)")
                .contains("Table '" + DB + ".no_such_table' doesn't exist");
        assertThat(result.stdout()).isEmpty();
    }

    @Test
    void errorInAScriptStopsItAtTheFailingLine() {
        var result = mysql("SELECT 'before';\nSELECT * FROM " + DB + ".missing;\nSELECT 'after';\n", "-N");
        assertThat(result.exitCode()).as(result.toString()).isEqualTo(1);
        assertThat(result.stdout()).isEqualTo("before\n");
        assertThat(result.stderr()).contains("ERROR 1146 (42S02) at line 2");
    }

    @Test
    void syntaxErrorReportsError1064AndTheSessionGoesOnWithForce() {
        var result = mysql("SELEC 1;\nSELECT 'still here';\n", "-N", "--force");
        assertThat(result.stderr()).as(result.toString()).contains("ERROR 1064 (42000) at line 1");
        assertThat(result.stdout()).isEqualTo("still here\n");
    }

    @Test
    void tlsConnectionShowsTheCipherInStatus() {
        var result = mysql("", "--ssl", "-e", "status");
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).containsPattern("SSL:\\s+Cipher in use is \\S+");
        var plain = mysql("", "--skip-ssl", "-e", "status");
        assertThat(plain.exitCode()).as(plain.toString()).isZero();
        assertThat(plain.stdout()).containsPattern("SSL:\\s+Not in use");
        var query = mysql("", "--ssl", "-N", "-e", "SELECT 'over tls'");
        assertThat(query.stdout()).as(query.toString()).isEqualTo("over tls\n");
    }
}
