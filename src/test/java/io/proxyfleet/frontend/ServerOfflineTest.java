package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.protocol.client.MysqlErrorException;
import io.proxyfleet.testkit.MariaDb;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What clients see when the operator takes a server out of hostgroup 0 with LOAD MYSQL SERVERS TO RUNTIME, through
 * a whole node's admin and traffic ports, against two real MariaDB servers: X (where sessions start) and Y (its
 * replacement). OFFLINE_HARD and removal cut every connection at once, so a session that held state on X hears of
 * the loss at its next statement; OFFLINE_SOFT lets work in progress finish. Pool housekeeping
 * (connection_max_age_ms) is checked on the same setup.
 */
class ServerOfflineTest {
    private static final String USER = "offl_app";
    private static final String PASSWORD = "offl-pw";
    private static final String TABLE = "offl.t";
    private static final int CR_SERVER_LOST = 2013;
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration SETTLE = Duration.ofSeconds(15);
    private static final int BUSY_CLIENTS = 5;
    private static final int SERVER_WAIT_TIMEOUT_SECONDS = 3;

    private static MariaDb x;
    private static MariaDb y;

    @TempDir
    Path dataDir;
    private ProxyFleetNode node;
    private BlockingMysqlClient admin;

    @BeforeAll
    static void startServers() {
        x = MariaDb.shared();
        y = MariaDb.start(MariaDb.Options.defaults().withServerId(2));
        for (MariaDb db : List.of(x, y)) {
            db.execute("DROP USER IF EXISTS " + USER);
            db.createUser(USER, PASSWORD);
            db.execute("CREATE DATABASE IF NOT EXISTS offl");
        }
    }

    @AfterAll
    static void stopServers() {
        if (y != null) {
            y.close();
        }
    }

    @BeforeEach
    void startNode() throws IOException {
        for (MariaDb db : List.of(x, y)) {
            db.execute("DROP TABLE IF EXISTS " + TABLE, "CREATE TABLE " + TABLE + " (id INT PRIMARY KEY) ENGINE=InnoDB");
        }
        Path cnf = NodeFixture.writeConfig(dataDir, NodeFixture.freePort(), NodeFixture.freePort(), """
                mysql_users=
                (
                    { username="%s", password="%s", default_hostgroup=0 }
                )
                """.formatted(USER, PASSWORD));
        node = NodeFixture.start(dataDir, cnf);
        admin = BlockingMysqlClient.connect(BlockingMysqlClient.Options.of("127.0.0.1", node.adminPort(), "admin",
                "admin", CLIENT_TIMEOUT, CLIENT_TIMEOUT));
        // The monitor has no account on these servers; its failed checks are beside the point here.
        admin.execute("SET mysql-monitor_enabled = 'false'");
        admin.execute("LOAD MYSQL VARIABLES TO RUNTIME");
        // The previous test's node closed its connections, but a loaded server may still list them for a while;
        // the counts these tests assert start from zero.
        await().atMost(SETTLE).until(() -> proxyConnections(x) == 0 && proxyConnections(y) == 0);
    }

    @AfterEach
    void stopNode() {
        if (admin != null) {
            admin.close();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    void aTransactionOnAServerTakenOfflineHardIsCutNotContinuedElsewhere() throws Exception {
        servers(x, "ONLINE");
        try (BlockingMysqlClient client = client()) {
            client.execute("BEGIN");
            client.execute("INSERT INTO " + TABLE + " VALUES (1)");

            servers(x, "OFFLINE_HARD", y, "ONLINE");

            MysqlErrorException lost = catchThrowableOfType(MysqlErrorException.class,
                    () -> client.execute("INSERT INTO " + TABLE + " VALUES (2)"));
            assertThat(lost).as("INSERT 2 after the cut").isNotNull();
            assertThat(lost.code()).isEqualTo(CR_SERVER_LOST);
            // As when the server itself goes away (and as ProxySQL does), the connection ends with the 2013:
            // a COMMIT cannot follow on Y as if the transaction had been there.
            assertThatThrownBy(() -> client.execute("COMMIT")).as("COMMIT after the cut").isInstanceOf(Exception.class)
                    .isNotInstanceOf(MysqlErrorException.class);
        }
        // X rolled the transaction back when its connection went; Y never saw it.
        await().atMost(SETTLE).until(() -> ids(x).isEmpty());
        assertThat(ids(y)).isEmpty();
    }

    @Test
    void userVariablesOnAServerTakenOfflineHardAreReportedLost() throws Exception {
        servers(x, "ONLINE");
        try (BlockingMysqlClient client = client()) {
            client.execute("SET @kept = 42");
            assertThat(value(client, "SELECT @kept")).isEqualTo("42");

            servers(x, "OFFLINE_HARD", y, "ONLINE");

            MysqlErrorException lost = catchThrowableOfType(MysqlErrorException.class,
                    () -> client.select("SELECT @kept"));
            assertThat(lost).as("SELECT @kept after the cut").isNotNull();
            assertThat(lost.code()).isEqualTo(CR_SERVER_LOST);
        }
    }

    @Test
    void preparedStatementsInATransactionOnAServerTakenOfflineHardFail() throws Exception {
        servers(x, "ONLINE");
        try (Connection jdbc = JdbcDriver.MARIADB.connect(node.trafficPort(), null, USER, PASSWORD,
                "useServerPrepStmts=true");
             PreparedStatement insert = jdbc.prepareStatement("INSERT INTO " + TABLE + " VALUES (?)")) {
            jdbc.setAutoCommit(false);
            insert.setInt(1, 1);
            insert.executeUpdate();

            servers(x, "OFFLINE_HARD", y, "ONLINE");

            insert.setInt(1, 2);
            SQLException lost = catchThrowableOfType(SQLException.class, insert::executeUpdate);
            assertThat((Throwable) lost).as("execute after the cut").isNotNull();
            assertThat(lost.getErrorCode()).as(lost.toString()).isEqualTo(CR_SERVER_LOST);
        }
        await().atMost(SETTLE).until(() -> ids(x).isEmpty());
        assertThat(ids(y)).isEmpty();
    }

    @Test
    void offlineSoftLetsATransactionFinishAndThenDrains() throws Exception {
        servers(x, "ONLINE");
        try (BlockingMysqlClient client = client()) {
            client.execute("BEGIN");
            client.execute("INSERT INTO " + TABLE + " VALUES (1)");

            servers(x, "OFFLINE_SOFT", y, "ONLINE");

            client.execute("INSERT INTO " + TABLE + " VALUES (2)");
            client.execute("COMMIT");
            assertThat(ids(x)).containsExactly("1", "2");
            assertThat(value(client, "SELECT @@port")).as("new work goes to Y").isEqualTo(Integer.toString(y.port()));
            // The connection that finished the transaction was closed, not pooled.
            await().atMost(SETTLE).until(() -> proxyConnections(x) == 0);
        }
    }

    @Test
    void pooledConnectionsToARemovedServerAreClosed() throws Exception {
        servers(x, "ONLINE");
        try (BlockingMysqlClient client = client()) {
            assertThat(value(client, "SELECT @@port")).isEqualTo(Integer.toString(x.port()));
            assertThat(proxyConnections(x)).as("the idle connection waits in the pool").isEqualTo(1);

            servers(y, "ONLINE");

            await().atMost(SETTLE).until(() -> proxyConnections(x) == 0);
            assertThat(value(client, "SELECT @@port")).isEqualTo(Integer.toString(y.port()));
        }
    }

    @Test
    void aPooledConnectionOlderThanConnectionMaxAgeIsReplaced() throws Exception {
        servers(x, "ONLINE");
        admin.execute("SET mysql-connection_max_age_ms = 1000");
        admin.execute("LOAD MYSQL VARIABLES TO RUNTIME");
        try (BlockingMysqlClient client = client()) {
            String first = value(client, "SELECT CONNECTION_ID()");

            await().atMost(SETTLE).until(() -> !value(client, "SELECT CONNECTION_ID()").equals(first));

            await().atMost(SETTLE).until(() -> x.queryValue(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + first).equals("0"));
            assertThat(proxyConnections(x)).as("replaced, not added").isEqualTo(1);
        }
    }

    @Test
    void idleConnectionsBeyondFreeConnectionsPctAreTrimmed() throws Exception {
        // max_connections 10 and free_connections_pct 10: one idle connection is kept.
        admin.execute("DELETE FROM mysql_servers");
        admin.execute("INSERT INTO mysql_servers (hostgroup_id, hostname, port, max_connections) VALUES (0,"
                + " '127.0.0.1', " + x.port() + ", 10)");
        admin.execute("LOAD MYSQL SERVERS TO RUNTIME");
        List<BlockingMysqlClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < BUSY_CLIENTS; i++) {
                BlockingMysqlClient client = client();
                clients.add(client);
                client.execute("BEGIN"); // holds its connection, so each client has one of its own
                client.execute("SELECT 1");
            }
            assertThat(proxyConnections(x)).isEqualTo(BUSY_CLIENTS);
            for (BlockingMysqlClient client : clients) {
                client.execute("COMMIT");
            }

            await().atMost(SETTLE).until(() -> proxyConnections(x) == 1);
        } finally {
            clients.forEach(BlockingMysqlClient::close);
        }
    }

    @Test
    void idlePooledConnectionsArePingedSoTheServerDoesNotDropThem() throws Exception {
        y.execute("SET GLOBAL wait_timeout = " + SERVER_WAIT_TIMEOUT_SECONDS);
        try {
            servers(y, "ONLINE");
            admin.execute("SET mysql-ping_interval_server_msec = 500");
            admin.execute("LOAD MYSQL VARIABLES TO RUNTIME");
            try (BlockingMysqlClient client = client()) {
                String pooled = value(client, "SELECT CONNECTION_ID()");

                // Unpinged, Y would close the idle connection after its wait_timeout.
                await().during(Duration.ofSeconds(SERVER_WAIT_TIMEOUT_SECONDS * 2)).atMost(SETTLE).until(() ->
                        y.queryValue("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + pooled)
                                .equals("1"));
                assertThat(value(client, "SELECT CONNECTION_ID()")).isEqualTo(pooled);
            }
        } finally {
            y.execute("SET GLOBAL wait_timeout = DEFAULT");
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Replaces hostgroup 0 with the given (server, status) pairs and loads it to runtime. */
    private void servers(Object... serverAndStatus) throws IOException {
        admin.execute("DELETE FROM mysql_servers");
        for (int i = 0; i < serverAndStatus.length; i += 2) {
            MariaDb db = (MariaDb) serverAndStatus[i];
            admin.execute("INSERT INTO mysql_servers (hostgroup_id, hostname, port, status) VALUES (0, '127.0.0.1', "
                    + db.port() + ", '" + serverAndStatus[i + 1] + "')");
        }
        admin.execute("LOAD MYSQL SERVERS TO RUNTIME");
    }

    private BlockingMysqlClient client() throws IOException {
        return BlockingMysqlClient.connect(BlockingMysqlClient.Options.of("127.0.0.1", node.trafficPort(), USER,
                PASSWORD, CLIENT_TIMEOUT, CLIENT_TIMEOUT));
    }

    private static String value(BlockingMysqlClient client, String sql) throws IOException {
        return client.select(sql).rows().getFirst().getFirst();
    }

    private static List<String> ids(MariaDb db) {
        return db.queryRows("SELECT id FROM " + TABLE + " ORDER BY id").stream().map(List::getFirst).toList();
    }

    /** Connections the proxy holds open to {@code db}, as that server's processlist shows them. */
    private static int proxyConnections(MariaDb db) {
        return Integer.parseInt(db.queryValue(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = " + MariaDb.quote(USER)));
    }
}
