package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.protocol.AuthPlugins;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Logging in through the proxy as users of both drivers and the CLI do: mysql_native_password, users stored as a
 * hash, caching_sha2_password over TLS, RSA and the fast path, TLS itself, and refused logins.
 */
class TrafficAuthTest {
    private static final String NATIVE_USER = "auth_native";
    private static final String NATIVE_PW = "native-pw";
    private static final String HASHED_USER = "auth_hashed";
    private static final String HASHED_PW = "hashed-pw";
    private static final String TLS_ONLY_USER = "auth_tls_only";
    private static final String TLS_ONLY_PW = "tls-only-pw";
    private static final String SHA2_TLS_USER = "auth_sha2_tls";
    private static final String SHA2_RSA_USER = "auth_sha2_rsa";
    /** Logs in with clients that pick their own path (the CLI may use TLS), so it never warms the others' cache. */
    private static final String SHA2_OTHER_USER = "auth_sha2_other";
    private static final String SHA2_PW = "sha2-pw";
    private static final int ER_ACCESS_DENIED = 1045;
    private static final String ACCESS_DENIED = "ProxySQL Error: Access denied for user";
    private static TrafficProxy nativeProxy;
    private static TrafficProxy sha2Proxy;

    @BeforeAll
    static void startProxies() throws Exception {
        MariaDb db = MariaDb.shared();
        for (var user : List.of(List.of(NATIVE_USER, NATIVE_PW), List.of(HASHED_USER, HASHED_PW),
                List.of(TLS_ONLY_USER, TLS_ONLY_PW), List.of(SHA2_TLS_USER, SHA2_PW), List.of(SHA2_RSA_USER, SHA2_PW),
                List.of(SHA2_OTHER_USER, SHA2_PW))) {
            db.execute("DROP USER IF EXISTS " + user.get(0));
            db.createUser(user.get(0), user.get(1));
        }
        List<MysqlServer> servers = List.of(MysqlServer.of(0, "127.0.0.1", db.port()));
        MysqlUser tlsOnly = MysqlUser.of(TLS_ONLY_USER, TLS_ONLY_PW, 0);
        tlsOnly = new MysqlUser(tlsOnly.username(), tlsOnly.password(), true, true, 0, null, false, true, false,
                true, true, 10000, "", "");
        nativeProxy = TrafficProxy.start(servers,
                List.of(MysqlUser.of(NATIVE_USER, NATIVE_PW, 0), MysqlUser.of(HASHED_USER, hashOf(HASHED_PW), 0),
                        tlsOnly),
                Map.of("server_version", "5.5.30"));
        sha2Proxy = TrafficProxy.start(servers,
                List.of(MysqlUser.of(SHA2_TLS_USER, SHA2_PW, 0), MysqlUser.of(SHA2_RSA_USER, SHA2_PW, 0),
                        MysqlUser.of(SHA2_OTHER_USER, SHA2_PW, 0)),
                Map.of("server_version", "5.5.30", "default_authentication_plugin", "caching_sha2_password"));
    }

    @AfterAll
    static void stopProxies() {
        for (TrafficProxy proxy : new TrafficProxy[] {nativeProxy, sha2Proxy}) {
            if (proxy != null) {
                proxy.close();
            }
        }
    }

    /** The {@code *HEX} form MySQL's PASSWORD() prints, computed with the JDK rather than the code under test. */
    private static String hashOf(String password) throws Exception {
        var sha1 = java.security.MessageDigest.getInstance("SHA-1");
        byte[] stage2 = sha1.digest(sha1.digest(password.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        return "*" + java.util.HexFormat.of().withUpperCase().formatHex(stage2);
    }

    /** Logs in, then returns the backend's CURRENT_USER() (proof that the query reached MariaDB as that user). */
    private static String currentUser(JdbcDriver driver, TrafficProxy proxy, String user, String pw, String options)
            throws SQLException {
        try (Connection c = driver.connect(proxy.port(), null, user, pw, options); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT CURRENT_USER()")) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    /** The server's message without MariaDB Connector/J's "(conn=N) " prefix. */
    private static String serverMessage(SQLException e) {
        return e.getMessage().replaceFirst("^\\(conn=\\d+\\) ", "");
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void nativePasswordLogin(JdbcDriver driver) throws Exception {
        assertThat(currentUser(driver, nativeProxy, NATIVE_USER, NATIVE_PW, "")).isEqualTo(NATIVE_USER + "@%");
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void userStoredAsNativeHashLogsInAndQueries(JdbcDriver driver) throws Exception {
        assertThat(hashOf("password")).isEqualTo("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19");
        assertThat(currentUser(driver, nativeProxy, HASHED_USER, HASHED_PW, "")).isEqualTo(HASHED_USER + "@%");
        // A second connection may open a fresh backend connection with the password learned from the first.
        assertThat(currentUser(driver, nativeProxy, HASHED_USER, HASHED_PW, "")).isEqualTo(HASHED_USER + "@%");
    }

    @Test
    void userStoredAsNativeHashLogsInWithTheCli() {
        var result = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", nativeProxy.port(), HASHED_USER, HASHED_PW,
                "-N", "-e", "SELECT CURRENT_USER()"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).isEqualTo(HASHED_USER + "@%\n");
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void wrongPasswordIsRefusedWith1045(JdbcDriver driver) {
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> currentUser(driver, nativeProxy, NATIVE_USER, "not-the-password", ""));
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getErrorCode()).as(String.valueOf(e)).isEqualTo(ER_ACCESS_DENIED);
        assertThat(e.getSQLState()).isEqualTo("28000");
        assertThat(serverMessage(e)).startsWith(ACCESS_DENIED + " '" + NATIVE_USER + "'@'127.0.0.1'")
                .endsWith("(using password: YES)");
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void wrongPasswordForAHashedUserIsRefusedWith1045(JdbcDriver driver) {
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> currentUser(driver, nativeProxy, HASHED_USER, "not-the-password", ""));
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getErrorCode()).isEqualTo(ER_ACCESS_DENIED);
        assertThat(serverMessage(e)).startsWith(ACCESS_DENIED);
    }

    @ParameterizedTest
    @EnumSource(JdbcDriver.class)
    void unknownUserIsRefusedWith1045(JdbcDriver driver) {
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> currentUser(driver, nativeProxy, "nobody_here", "whatever", ""));
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getErrorCode()).isEqualTo(ER_ACCESS_DENIED);
        assertThat(serverMessage(e)).startsWith(ACCESS_DENIED + " 'nobody_here'");
    }

    @Test
    void wrongPasswordWithTheCliPrintsError1045() {
        var result = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", nativeProxy.port(), NATIVE_USER, "bad",
                "-e", "SELECT 1"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(result.exitCode()).as(result.toString()).isEqualTo(1);
        assertThat(result.stderr()).contains("ERROR 1045 (28000): " + ACCESS_DENIED + " '" + NATIVE_USER + "'");
    }

    @Test
    void connectorJWithTlsRequired() throws Exception {
        try (Connection c = JdbcDriver.CONNECTOR_J.connect(nativeProxy.port(), null, NATIVE_USER, NATIVE_PW,
                "sslMode=REQUIRED"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
            // The driver's own socket to the proxy is the TLS one (Ssl_cipher would describe the backend's).
            var session = (com.mysql.cj.NativeSession) c.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).getSession();
            assertThat(session.getProtocol().getSocketConnection().isSSLEstablished()).isTrue();
        }
    }

    @Test
    void mariadbDriverWithTls() throws Exception {
        try (Connection c = JdbcDriver.MARIADB.connect(nativeProxy.port(), null, NATIVE_USER, NATIVE_PW,
                "sslMode=trust"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 2")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(2);
        }
    }

    @Test
    void userMarkedUseSslMustLogInOverTls() throws Exception {
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> currentUser(JdbcDriver.CONNECTOR_J, nativeProxy, TLS_ONLY_USER, TLS_ONLY_PW, ""));
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getErrorCode()).isEqualTo(ER_ACCESS_DENIED);
        assertThat(currentUser(JdbcDriver.CONNECTOR_J, nativeProxy, TLS_ONLY_USER, TLS_ONLY_PW, "sslMode=REQUIRED"))
                .isEqualTo(TLS_ONLY_USER + "@%");
    }

    @Test
    void cachingSha2FullAuthenticationOverTlsThenFastPath() throws Exception {
        String sha2 = "defaultAuthenticationPlugin=" + AuthPlugins.CACHING_SHA2_PASSWORD;
        // Nothing cached yet: without TLS and without the public key the password cannot be sent.
        assertThatThrownBy(() -> currentUser(JdbcDriver.CONNECTOR_J, sha2Proxy, SHA2_TLS_USER, SHA2_PW, sha2))
                .isInstanceOf(SQLException.class).hasMessageContaining("Public Key Retrieval is not allowed");
        // Full authentication: the password travels inside TLS.
        assertThat(currentUser(JdbcDriver.CONNECTOR_J, sha2Proxy, SHA2_TLS_USER, SHA2_PW, sha2 + "&sslMode=REQUIRED"))
                .isEqualTo(SHA2_TLS_USER + "@%");
        // Now cached: the fast path needs neither TLS nor the public key.
        assertThat(currentUser(JdbcDriver.CONNECTOR_J, sha2Proxy, SHA2_TLS_USER, SHA2_PW, sha2))
                .isEqualTo(SHA2_TLS_USER + "@%");
        // A wrong password misses the cache, so full authentication runs again, and refuses it.
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> currentUser(JdbcDriver.CONNECTOR_J, sha2Proxy, SHA2_TLS_USER, "wrong", sha2 + "&sslMode=REQUIRED"));
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getErrorCode()).isEqualTo(ER_ACCESS_DENIED);
    }

    @Test
    void cachingSha2FullAuthenticationWithRsaThenFastPath() throws Exception {
        String sha2 = "defaultAuthenticationPlugin=" + AuthPlugins.CACHING_SHA2_PASSWORD;
        assertThat(currentUser(JdbcDriver.CONNECTOR_J, sha2Proxy, SHA2_RSA_USER, SHA2_PW,
                sha2 + "&allowPublicKeyRetrieval=true")).isEqualTo(SHA2_RSA_USER + "@%");
        assertThat(currentUser(JdbcDriver.CONNECTOR_J, sha2Proxy, SHA2_RSA_USER, SHA2_PW, sha2))
                .isEqualTo(SHA2_RSA_USER + "@%");
    }

    @Test
    void cachingSha2WrongPasswordOverRsaIsRefused() {
        String options = "defaultAuthenticationPlugin=" + AuthPlugins.CACHING_SHA2_PASSWORD
                + "&allowPublicKeyRetrieval=true";
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> currentUser(JdbcDriver.CONNECTOR_J, sha2Proxy, SHA2_RSA_USER, "wrong", options));
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getErrorCode()).isEqualTo(ER_ACCESS_DENIED);
        assertThat(e.getMessage()).startsWith(ACCESS_DENIED);
    }

    @Test
    void otherClientsLogInOnTheSha2Proxy() throws Exception {
        // The proxy offers caching_sha2_password; MariaDB Connector/J and the CLI log in all the same.
        assertThat(currentUser(JdbcDriver.MARIADB, sha2Proxy, SHA2_OTHER_USER, SHA2_PW, "")).isEqualTo(
                SHA2_OTHER_USER + "@%");
        var result = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", sha2Proxy.port(), SHA2_OTHER_USER, SHA2_PW,
                "-N", "-e", "SELECT CURRENT_USER()"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).isEqualTo(SHA2_OTHER_USER + "@%\n");
    }
}
