package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.testkit.MariaDb;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many clients share few backend connections, yet none ever sees another's session state: schema, session
 * variables set with SET, transactions and user variables.
 */
class MultiplexingTest {
    private static final int CLIENTS = 500;
    private static final int MAX_BACKEND_CONNECTIONS = 20;
    private static final int ROUNDS = 5;
    private static MariaDb db;
    private static TrafficProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        db = MariaDb.shared();
        db.createUser("mux", "muxpw");
        db.execute("GRANT ALL ON *.* TO 'mux'@'%'", "CREATE DATABASE IF NOT EXISTS mux_a",
                "CREATE DATABASE IF NOT EXISTS mux_b",
                "CREATE TABLE IF NOT EXISTS mux_a.t (id INT PRIMARY KEY, v INT)", "DELETE FROM mux_a.t");
        var server = new MysqlServer(0, "127.0.0.1", db.port(), 0, ServerStatus.ONLINE, 1, 0,
                MAX_BACKEND_CONNECTIONS, 0, false, 0, "");
        proxy = TrafficProxy.start(List.of(server), List.of(MysqlUser.of("mux", "muxpw", 0)),
                Map.of("server_version", "5.5.30", "connect_timeout_server_max", "30000"));
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static Connection connect(String schema) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + schema
                + "?sslMode=DISABLED&connectTimeout=30000", "mux", "muxpw");
    }

    @Test
    void fiveHundredClientsKeepTheirOwnStateOnTwentyBackendConnections() throws Exception {
        List<Connection> clients = new ArrayList<>();
        Set<Long> backendIds = ConcurrentHashMap.newKeySet();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                Connection c = connect(i % 2 == 0 ? "mux_a" : "mux_b");
                try (Statement st = c.createStatement()) {
                    st.execute("SET time_zone = '+" + String.format("%02d", i % 12) + ":00'");
                    st.execute("SET sql_mode = '" + (i % 3 == 0 ? "ANSI_QUOTES" : "NO_ENGINE_SUBSTITUTION") + "'");
                }
                clients.add(c);
            }
            var sampling = new java.util.concurrent.atomic.AtomicBoolean(true);
            var maxBackend = new java.util.concurrent.atomic.AtomicInteger();
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (sampling.get()) {
                    int now = Integer.parseInt(db.queryValue(
                            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'mux'"));
                    maxBackend.accumulateAndGet(now, Math::max);
                }
            });
            ExecutorService pool = Executors.newFixedThreadPool(16);
            List<Future<?>> work = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int client = i;
                Connection c = clients.get(i);
                work.add(pool.submit(() -> {
                    for (int round = 0; round < ROUNDS; round++) {
                        try (Statement st = c.createStatement();
                             ResultSet rs = st.executeQuery("SELECT @@time_zone, DATABASE(), @@sql_mode, CONNECTION_ID()")) {
                            rs.next();
                            assertThat(rs.getString(1)).isEqualTo("+" + String.format("%02d", client % 12) + ":00");
                            assertThat(rs.getString(2)).isEqualTo(client % 2 == 0 ? "mux_a" : "mux_b");
                            assertThat(rs.getString(3)).isEqualTo(client % 3 == 0 ? "ANSI_QUOTES" : "NO_ENGINE_SUBSTITUTION");
                            backendIds.add(rs.getLong(4));
                        }
                        if (client % 5 == 0) {
                            transactionRollsBack(c, client * 100 + round);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
            pool.shutdown();
            sampling.set(false);
            sampler.join();
            assertThat(maxBackend.get()).as("backend connections open at once").isBetween(1, MAX_BACKEND_CONNECTIONS);
        } finally {
            for (Connection c : clients) {
                c.close();
            }
        }
        // Connections are replaced now and then (another event loop borrows a slot), but far fewer than clients.
        assertThat(backendIds).as("distinct backend connections used").hasSizeLessThan(CLIENTS / 5);
    }

    private static void transactionRollsBack(Connection c, int id) throws SQLException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO mux_a.t VALUES (" + id + ", 1)");
            try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM mux_a.t WHERE id = " + id)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
            c.rollback();
            try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM mux_a.t WHERE id = " + id)) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        } finally {
            c.setAutoCommit(true);
        }
    }

    @Test
    void userVariablesPinTheConnectionToTheSession() throws Exception {
        try (Connection a = connect("mux_a"); Connection b = connect("mux_a");
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            sa.execute("SET @mine = 'a'");
            sb.execute("SET @mine = 'b'");
            for (int i = 0; i < 20; i++) {
                try (ResultSet ra = sa.executeQuery("SELECT @mine"); ResultSet rb = sb.executeQuery("SELECT @mine")) {
                    ra.next();
                    rb.next();
                    assertThat(ra.getString(1)).isEqualTo("a");
                    assertThat(rb.getString(1)).isEqualTo("b");
                }
            }
        }
    }

    @Test
    void preparedStatementsFollowTheSessionAcrossBackendConnections() throws Exception {
        String url = "jdbc:mysql://127.0.0.1:" + proxy.port()
                + "/mux_a?sslMode=DISABLED&useServerPrepStmts=true&cachePrepStmts=true";
        try (Connection a = DriverManager.getConnection(url, "mux", "muxpw");
             Connection b = DriverManager.getConnection(url, "mux", "muxpw");
             var psA = a.prepareStatement("SELECT ? + 1, CONNECTION_ID()");
             var psB = b.prepareStatement("SELECT ? * 2, CONNECTION_ID()")) {
            Set<Long> backends = new java.util.HashSet<>();
            for (int i = 0; i < 30; i++) {
                psA.setInt(1, i);
                try (ResultSet rs = psA.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(i + 1);
                    backends.add(rs.getLong(2));
                }
                psB.setLong(1, i);
                try (ResultSet rs = psB.executeQuery()) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(2L * i);
                    backends.add(rs.getLong(2));
                }
                // Other sessions' work moves the pooled connections around between executions.
                try (Statement st = b.createStatement(); ResultSet rs = st.executeQuery("SELECT DATABASE()")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("mux_a");
                }
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> {
                for (ClientSession session : proxy.sessions().all()) {
                    SessionSnapshot snapshot = session.snapshot().get();
                    assertThat(snapshot == null ? -1 : snapshot.hostgroup())
                            .as("prepared statements do not pin the backend").isEqualTo(-1);
                }
            });
            assertThat(backends).as("executions ran on pooled connections").isNotEmpty();
        }
    }
}
