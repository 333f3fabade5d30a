package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may log in to the admin port, tried through the real port with Connector/J as an operator would: the
 * users named admin and stats only from exactly 127.0.0.1 (problem 9: 127.0.0.2 is loopback too, and was let
 * in), other admin credentials from anywhere, and the cluster credentials only when admin_credentials lists them
 * (problem 10: they were a full admin account of their own).
 */
class AdminLoginTest {
    private static final String LOCALHOST = "127.0.0.1";
    /** Another loopback address: Linux routes all of 127/8 to lo, so a client may bind it as its source. */
    private static final String OTHER_LOOPBACK = "127.0.0.2";
    private static final int ER_CON_COUNT_ERROR = 1040;
    private static final int ER_ACCESS_DENIED = 1045;
    private static final int CONNECT_TIMEOUT_MILLIS = 30_000;

    @TempDir
    static Path dir;
    private static ProxyFleetNode node;
    private static int port;

    @BeforeAll
    static void startNode() throws Exception {
        port = NodeFixture.freePort();
        node = NodeFixture.start(dir, NodeFixture.writeConfig(dir, port, NodeFixture.freePort(), ""));
        try (Connection c = connect("admin", "admin", LOCALHOST); Statement st = c.createStatement()) {
            st.execute("SET admin-admin_credentials='admin:admin;radmin:radmin'");
            st.execute("SET admin-stats_credentials='stats:stats'");
            // The cluster pair exists, but is not an admin credential.
            st.execute("SET admin-cluster_username='cluster9'");
            st.execute("SET admin-cluster_password='cl-pass'");
            st.execute("LOAD ADMIN VARIABLES TO RUNTIME");
        }
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    private static Connection connect(String user, String password, String from) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("sslMode", "DISABLED");
        props.setProperty("localSocketAddress", from);
        props.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_MILLIS));
        return DriverManager.getConnection("jdbc:mysql://" + LOCALHOST + ":" + port + "/", props);
    }

    private static String currentUser(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); var rs = st.executeQuery("SELECT USER()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void adminAndStatsAreRefusedFromAnotherLoopbackAddress() {
        assertThatThrownBy(() -> connect("admin", "admin", OTHER_LOOPBACK).close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(ER_CON_COUNT_ERROR);
                    assertThat(e.getSQLState()).isEqualTo("42000");
                    assertThat(e.getMessage()).isEqualTo("User 'admin' can only connect locally");
                });
        assertThatThrownBy(() -> connect("stats", "stats", OTHER_LOOPBACK).close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(ER_CON_COUNT_ERROR);
                    assertThat(e.getMessage()).isEqualTo("User 'stats' can only connect locally");
                });
    }

    @Test
    void aWrongPasswordIsAccessDeniedEvenFromElsewhere() {
        // ProxySQL checks the password first: a stranger does not learn that the name exists and is local-only.
        assertThatThrownBy(() -> connect("admin", "wrong", OTHER_LOOPBACK).close())
                .isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getErrorCode()).isEqualTo(ER_ACCESS_DENIED));
    }

    @Test
    void adminAndStatsLogInFromLocalhost() throws Exception {
        try (Connection admin = connect("admin", "admin", LOCALHOST);
             Connection stats = connect("stats", "stats", LOCALHOST)) {
            assertThat(currentUser(admin)).startsWith("admin@127.0.0.1");
            assertThat(currentUser(stats)).startsWith("stats@127.0.0.1");
        }
    }

    @Test
    void aSecondAdminCredentialIsTheRemoteAdministrator() throws Exception {
        try (Connection c = connect("radmin", "radmin", OTHER_LOOPBACK); Statement st = c.createStatement()) {
            assertThat(currentUser(c)).startsWith("radmin@127.0.0.2");
            assertThat(st.executeUpdate("INSERT INTO mysql_query_rules (rule_id, active, match_digest, apply)"
                    + " VALUES (901, 1, '^SELECT radmin', 1)")).isEqualTo(1);
            st.execute("DELETE FROM mysql_query_rules WHERE rule_id = 901");
        }
    }

    @Test
    void clusterCredentialsNotInAdminCredentialsCannotLogIn() throws Exception {
        for (String from : new String[] {LOCALHOST, OTHER_LOOPBACK}) {
            assertThatThrownBy(() -> connect("cluster9", "cl-pass", from).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(ER_ACCESS_DENIED);
                        assertThat(e.getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage()).startsWith("ProxySQL Error: Access denied for user 'cluster9'@");
                    });
        }
        try (Connection c = connect("admin", "admin", LOCALHOST); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT COUNT(*) FROM mysql_query_rules")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void clusterCredentialsListedInAdminCredentialsAreAnOrdinaryAdmin() throws Exception {
        try (Connection admin = connect("admin", "admin", LOCALHOST); Statement st = admin.createStatement()) {
            st.execute("SET admin-admin_credentials='admin:admin;radmin:radmin;cluster8:cl8-pass'");
            st.execute("SET admin-cluster_username='cluster8'");
            st.execute("SET admin-cluster_password='cl8-pass'");
            st.execute("LOAD ADMIN VARIABLES TO RUNTIME");
            try (Connection cluster = connect("cluster8", "cl8-pass", OTHER_LOOPBACK);
                 Statement cs = cluster.createStatement()) {
                assertThat(cs.executeUpdate("INSERT INTO mysql_query_rules (rule_id, active, match_digest, apply)"
                        + " VALUES (902, 1, '^SELECT cluster', 1)")).isEqualTo(1);
                cs.execute("DELETE FROM mysql_query_rules WHERE rule_id = 902");
            }
        } finally {
            try (Connection admin = connect("admin", "admin", LOCALHOST); Statement st = admin.createStatement()) {
                st.execute("SET admin-admin_credentials='admin:admin;radmin:radmin'");
                st.execute("SET admin-cluster_username='cluster9'");
                st.execute("SET admin-cluster_password='cl-pass'");
                st.execute("LOAD ADMIN VARIABLES TO RUNTIME");
            }
        }
    }
}
