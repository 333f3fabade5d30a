package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.testkit.MariaDb;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM on a real node process, as {@code kill PID} or a service manager sends it: the node stops accepting,
 * tells its idle traffic clients {@code 1053 (08S01) Server shutdown in progress}, closes every session, removes
 * proxysql.pid, flushes its log and exits with status 0 (before, the JVM ended it with 143). Lives beside
 * {@link NodeProcess}, which runs a node as its own process.
 */
class NodeShutdownTest {
    private static final String APP_USER = "shutdown_app";
    private static final String APP_PASSWORD = "shutdown-pass";
    private static final int ER_SERVER_SHUTDOWN = 1053;
    private static final int SOCKET_TIMEOUT_MILLIS = 30_000;

    @TempDir
    Path tmp;
    private NodeProcess node;
    private static MariaDb mariaDb;

    @BeforeAll
    static void jarAndBackend() throws Exception {
        NodeProcess.NodeJar.path();
        mariaDb = MariaDb.shared();
        mariaDb.execute("DROP USER IF EXISTS " + MariaDb.quote(APP_USER) + "@'%'");
        mariaDb.createUser(APP_USER, APP_PASSWORD);
    }

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    private Connection app() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", APP_USER);
        props.setProperty("password", APP_PASSWORD);
        props.setProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_MILLIS));
        // MariaDB Connector/J reads what the server sent while the connection was idle; MySQL Connector/J drops
        // unread bytes before each command and would only see the closed connection.
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + node.trafficPort + "/", props);
    }

    @Test
    void sigtermTellsClientsRemovesThePidFileAndExitsWithZero() throws Exception {
        node = NodeProcess.create(tmp, "node");
        node.start();
        node.awaitReady();
        node.admin("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', "
                        + mariaDb.port() + ")", "LOAD MYSQL SERVERS TO RUNTIME",
                "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('" + APP_USER + "', '"
                        + APP_PASSWORD + "', 0)", "LOAD MYSQL USERS TO RUNTIME");
        Path pidFile = node.dir.resolve("proxysql.pid");
        assertThat(pidFile).exists();

        try (Connection idle = app(); Statement st = idle.createStatement();
             Socket greeted = new Socket("127.0.0.1", node.trafficPort)) {
            try (var rs = st.executeQuery("SELECT 42")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
            // A client still in its login: it has the greeting and has not answered yet.
            greeted.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
            DataInputStream login = new DataInputStream(greeted.getInputStream());
            skipPacket(login);

            assertThat(node.terminate()).as("exit status after SIGTERM").isZero();

            assertThat(pidFile).doesNotExist();
            assertThatThrownBy(() -> st.executeQuery("SELECT 43"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getErrorCode()).as("%s", e).isEqualTo(ER_SERVER_SHUTDOWN);
                        assertThat(e.getSQLState()).isEqualTo("08S01");
                        assertThat(e.getMessage()).endsWith("Server shutdown in progress");
                    });
            assertThat(login.read()).as("the half-logged-in client's connection was closed").isEqualTo(-1);
        }
        assertThat(node.log()).contains("Received TERM signal: shutdown in progress...", "ProxyFleet stopped");
    }

    private static void skipPacket(DataInputStream in) throws IOException {
        int length = in.readUnsignedByte() | in.readUnsignedByte() << 8 | in.readUnsignedByte() << 16;
        in.readUnsignedByte();
        in.readFully(new byte[length]);
    }
}
