package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The multi-host JDBC URLs that docs/vip.md recommends to smart clients, run against three whole nodes on loopback:
 * a client keeps working on the same {@link Connection} when the node it is connected to stops.
 */
@Tag("slow")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MultiHostJdbcTest {
    private static final String USER = "mh_app";
    private static final String PASSWORD = "mh-pw";
    private static final String DATABASE = "multihost";
    private static final int NODES = 3;
    private static final int ROWS_BEFORE = 5;
    private static final int ROWS_AFTER = 10;
    /** Statements that may fail (connection lost) while the driver moves to another node. */
    private static final int MAX_FAILED_STATEMENTS = 2;
    private static final int SOCKET_TIMEOUT_MILLIS = 60_000;
    private static final int CONNECT_TIMEOUT_MILLIS = 30_000;
    /** The SQLSTATE class of a lost connection (Connector/J: 08S01, for ER_SERVER_SHUTDOWN too). */
    private static final String CONNECTION_EXCEPTION_CLASS = "08";

    /** The drivers' documented multi-host modes, as written in docs/vip.md. */
    enum Mode {
        CONNECTOR_J_FAILOVER("jdbc:mysql://", "failOverReadOnly=false&sslMode=DISABLED"),
        CONNECTOR_J_LOADBALANCE("jdbc:mysql:loadbalance://", "sslMode=DISABLED"),
        MARIADB_SEQUENTIAL("jdbc:mariadb:sequential://", ""),
        MARIADB_LOADBALANCE("jdbc:mariadb:loadbalance://", "");

        private final String prefix;
        private final String options;

        Mode(String prefix, String options) {
            this.prefix = prefix;
            this.options = options;
        }

        String url(List<Integer> ports) {
            var hosts = new ArrayList<String>();
            ports.forEach(p -> hosts.add("127.0.0.1:" + p));
            return prefix + String.join(",", hosts) + "/" + DATABASE + (options.isEmpty() ? "" : "?" + options);
        }
    }

    private static MariaDb db;

    @BeforeAll
    static void database() {
        db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
        db.execute("CREATE DATABASE IF NOT EXISTS " + DATABASE);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void theClientMovesToAnotherNodeWhenItsNodeStops(Mode mode, @TempDir Path dir) throws Exception {
        String table = DATABASE + ".rows_" + mode.name().toLowerCase();
        db.execute("DROP TABLE IF EXISTS " + table, "CREATE TABLE " + table + " (i INT PRIMARY KEY) ENGINE=InnoDB");
        var nodes = new ProxyFleetNode[NODES];
        var adminPorts = new int[NODES];
        var trafficPorts = new ArrayList<Integer>();
        try {
            for (int n = 0; n < NODES; n++) {
                adminPorts[n] = NodeFixture.freePort();
                trafficPorts.add(NodeFixture.freePort());
                Path cnf = NodeFixture.writeConfig(dir.resolve("n" + n), adminPorts[n], trafficPorts.get(n), """
                        mysql_servers=
                        (
                            { address="%s", port=%d, hostgroup=0 }
                        )
                        mysql_users=
                        (
                            { username="%s", password="%s", default_hostgroup=0 }
                        )
                        """.formatted(db.host(), db.port(), USER, PASSWORD));
                nodes[n] = NodeFixture.start(dir.resolve("n" + n), cnf);
            }
            var committed = new ArrayList<Integer>();
            try (Connection c = DriverManager.getConnection(mode.url(trafficPorts), props())) {
                for (int i = 1; i <= ROWS_BEFORE; i++) {
                    insert(c, table, i);
                    committed.add(i);
                }
                int serving = servingNode(adminPorts, nodes);
                assertThat(serving).as("a node serves the client's session").isNotNegative();
                nodes[serving].close();
                nodes[serving] = null;

                int failed = 0;
                for (int i = ROWS_BEFORE + 1; i <= ROWS_BEFORE + ROWS_AFTER; ) {
                    try {
                        insert(c, table, i);
                        committed.add(i);
                        i++;
                    } catch (SQLException e) {
                        System.out.println(mode + ": statement failed while moving: SQLSTATE " + e.getSQLState()
                                + ", " + e);
                        // Connector/J: a lost connection (class 08); MariaDB Connector/J: it already reconnected
                        // and says so with a transient connection exception (the statement is to be retried).
                        assertThat(e instanceof SQLTransientConnectionException
                                || e.getSQLState().startsWith(CONNECTION_EXCEPTION_CLASS)).as("%s: %s", mode, e).isTrue();
                        failed++;
                        assertThat(failed).as("statements failed while the driver moved on (%s)", e)
                                .isLessThanOrEqualTo(MAX_FAILED_STATEMENTS);
                    }
                }
                System.out.println(mode + ": " + failed + " statement(s) failed while the driver moved from node "
                        + serving + " to node " + servingNode(adminPorts, nodes));
                assertThat(servingNode(adminPorts, nodes)).as("another node serves the session").isNotNegative();
            }
            List<String> stored = db.queryRows("SELECT i FROM " + table + " ORDER BY i").stream()
                    .map(List::getFirst).toList();
            assertThat(stored).containsExactlyElementsOf(committed.stream().map(String::valueOf).toList());
        } finally {
            for (ProxyFleetNode node : nodes) {
                if (node != null) {
                    node.close();
                }
            }
        }
    }

    private static Properties props() {
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", PASSWORD);
        p.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_MILLIS));
        p.setProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_MILLIS));
        return p;
    }

    private static void insert(Connection c, String table, int i) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO " + table + " VALUES (?)")) {
            s.setInt(1, i);
            assertThat(s.executeUpdate()).isEqualTo(1);
        }
    }

    /** The first live node with a session of {@link #USER}, or -1. */
    private static int servingNode(int[] adminPorts, ProxyFleetNode[] nodes) {
        for (int n = 0; n < nodes.length; n++) {
            if (nodes[n] == null) {
                continue;
            }
            MysqlCli.Result r = NodeFixture.admin(adminPorts[n],
                    "SELECT COUNT(*) FROM stats_mysql_processlist WHERE user = '" + USER + "'");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            if (Integer.parseInt(r.stdout().trim()) > 0) {
                return n;
            }
        }
        return -1;
    }
}
