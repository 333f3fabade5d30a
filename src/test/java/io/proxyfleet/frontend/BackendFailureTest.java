package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What clients see when backends are missing or die: ProxySQL's 9001 error for a hostgroup without servers, and
 * a prompt error (no hang) when the server dies under a running query, with recovery after it comes back.
 */
class BackendFailureTest {
    private static final int EMPTY_HOSTGROUP = 5;
    private static final int SHARED_HOSTGROUP = 1;
    private static final int CRASH_HOSTGROUP = 2;
    private static final String NO_BACKEND_USER = "fail_nobackend";
    private static final String OK_USER = "fail_ok";
    private static final String CRASH_USER = "fail_crash";
    private static final String PASSWORD = "fail-pw";
    private static final int ERR_MAX_CONNECT_TIMEOUT = 9001;
    private static MariaDb crashable;
    private static TrafficProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        MariaDb shared = MariaDb.shared();
        for (String user : List.of(NO_BACKEND_USER, OK_USER)) {
            shared.execute("DROP USER IF EXISTS " + user);
            shared.createUser(user, PASSWORD);
        }
        crashable = MariaDb.start(MariaDb.Options.defaults());
        crashable.createUser(CRASH_USER, PASSWORD);
        proxy = TrafficProxy.start(
                List.of(MysqlServer.of(SHARED_HOSTGROUP, "127.0.0.1", shared.port()),
                        MysqlServer.of(CRASH_HOSTGROUP, "127.0.0.1", crashable.port())),
                List.of(MysqlUser.of(NO_BACKEND_USER, PASSWORD, EMPTY_HOSTGROUP),
                        MysqlUser.of(OK_USER, PASSWORD, SHARED_HOSTGROUP),
                        MysqlUser.of(CRASH_USER, PASSWORD, CRASH_HOSTGROUP)),
                Map.of("server_version", "5.5.30",
                        "connect_timeout_server_max", "1000",
                        "shun_recovery_time_sec", "1"));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (crashable != null) {
            crashable.close();
        }
    }

    private static Object scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getObject(1);
        }
    }

    private static void assertNoBackendError(SQLException e) {
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getErrorCode()).as(e.toString()).isEqualTo(ERR_MAX_CONNECT_TIMEOUT);
        assertThat(e.getMessage().replaceFirst("^\\(conn=\\d+\\) ", ""))
                .startsWith("Max connect timeout reached while reaching hostgroup " + EMPTY_HOSTGROUP + " after");
    }

    private static void assertNoBackendError(RawClient.ServerError e) {
        assertThat((Throwable) e).isNotNull();
        assertThat(e.code).isEqualTo(ERR_MAX_CONNECT_TIMEOUT);
        assertThat(e.getMessage()).startsWith(ERR_MAX_CONNECT_TIMEOUT
                + ": Max connect timeout reached while reaching hostgroup " + EMPTY_HOSTGROUP + " after");
    }

    @Test
    void hostgroupWithoutServersAnswers9001AndTheSessionSurvives() throws Exception {
        // The login succeeds: the proxy authenticates without a backend (as ProxySQL does). A raw client sends
        // nothing else, so each query is what meets the empty hostgroup.
        try (RawClient client = RawClient.login(proxy.port(), NO_BACKEND_USER, PASSWORD)) {
            RawClient.ServerError first = catchThrowableOfType(RawClient.ServerError.class,
                    () -> client.query("SELECT 1"));
            assertNoBackendError(first);
            long start = System.nanoTime();
            RawClient.ServerError second = catchThrowableOfType(RawClient.ServerError.class,
                    () -> client.query("SELECT 2"));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertNoBackendError(second);
            assertThat(millis).as("second failure after about connect_timeout_server_max (1 s)").isLessThan(5_000);
        }
        // Other users' hostgroups are unaffected.
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), null, OK_USER, PASSWORD, "")) {
            assertThat(scalar(c, "SELECT CURRENT_USER()")).isEqualTo(OK_USER + "@%");
        }
    }

    @Test
    void hostgroupWithoutServersWithTheCli() {
        var result = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", proxy.port(), NO_BACKEND_USER, PASSWORD,
                "--force"), "SELECT 1;\nSELECT 2;\n", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(result.stderr()).as(result.toString())
                .containsPattern("(?s)ERROR 9001 \\(HY000\\).*ERROR 9001 \\(HY000\\)")
                .contains("Max connect timeout reached while reaching hostgroup " + EMPTY_HOSTGROUP + " after");
        assertThat(result.stdout()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void hostgroupWithoutServersFailsJdbcConnects(JdbcDriver driver) {
        // Both drivers query the server while connecting, so the error surfaces from getConnection.
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> driver.connect(proxy.port(), null, NO_BACKEND_USER, PASSWORD, "").close());
        assertThat((Throwable) e).isNotNull();
        SQLException cause = e;
        while (cause.getErrorCode() != ERR_MAX_CONNECT_TIMEOUT && cause.getCause() instanceof SQLException next) {
            cause = next;
        }
        assertNoBackendError(cause);
    }

    @Test
    void backendKilledDuringALongQuery() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), null, CRASH_USER, PASSWORD, "")) {
            assertThat(scalar(c, "SELECT CURRENT_USER()")).isEqualTo(CRASH_USER + "@%");
            CompletableFuture<Object> sleeping = CompletableFuture.supplyAsync(() -> {
                try {
                    return scalar(c, "SELECT SLEEP(30)");
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> "1".equals(crashable.queryValue(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(30)'")));
            crashable.kill();
            Throwable failure = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                ExecutionException e = catchThrowableOfType(ExecutionException.class, sleeping::get);
                assertThat((Throwable) e).as("the query fails instead of returning").isNotNull();
                return e.getCause();
            });
            assertThat(failure).isInstanceOf(SQLException.class);

            crashable.restart();
            // The server is back: new connections work (after the proxy's shun recovery), and so does this one.
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().untilAsserted(() -> {
                try (Connection fresh = JdbcDriver.CONNECTOR_J.connect(proxy.port(), null, CRASH_USER, PASSWORD, "")) {
                    assertThat(((Number) scalar(fresh, "SELECT 1 + 1")).intValue()).isEqualTo(2);
                }
            });
            assertThat(((Number) scalar(c, "SELECT 40 + 2")).intValue()).isEqualTo(42);
        }
    }
    @Test
    void backendLostBetweenStatementsOfATransactionIsAnError() throws Exception {
        MariaDb shared = MariaDb.shared();
        shared.execute("CREATE DATABASE IF NOT EXISTS fail_db",
                "CREATE TABLE IF NOT EXISTS fail_db.t (id INT PRIMARY KEY)", "DELETE FROM fail_db.t");
        Connection c = JdbcDriver.CONNECTOR_J.connect(proxy.port(), "fail_db", OK_USER, PASSWORD, "");
        try {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO t VALUES (1)");
            }
            String backendThread = scalar(c, "SELECT CONNECTION_ID()").toString();
            shared.execute("KILL " + backendThread);
            // The open transaction (and its insert) is gone with the backend connection: the client must hear
            // about it instead of carrying on in autocommit on a fresh connection.
            SQLException e = catchThrowableOfType(SQLException.class, () -> {
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("INSERT INTO t VALUES (2)");
                }
                c.commit();
            });
            assertThat((Throwable) e).as("statements after the lost transaction fail").isNotNull();
        } finally {
            // The proxy ended the connection with the 2013, as a vanished server would: Connector/J's close then
            // cannot roll back, and says so.
            assertThatThrownBy(c::close).hasMessageContaining("Transaction resolution unknown");
        }
        assertThat(shared.queryValue("SELECT COUNT(*) FROM fail_db.t")).as("no half transaction committed")
                .isEqualTo("0");
    }
}
