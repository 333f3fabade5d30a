package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.testkit.MariaDb;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
    /** Has its own pools, so the backend connections counted for it are one test's alone. */
    private static final String PREPARING_USER = "muxps";
    private static final String PREPARING_PASSWORD = "muxpspw";
    private static final int PREPARING_CLIENTS = 10;
    private static MariaDb db;
    private static TrafficProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        db = MariaDb.shared();
        db.createUser("mux", "muxpw");
        db.createUser(PREPARING_USER, PREPARING_PASSWORD);
        db.execute("GRANT ALL ON *.* TO 'mux'@'%'", "CREATE DATABASE IF NOT EXISTS mux_a",
                "CREATE DATABASE IF NOT EXISTS mux_b",
                "CREATE TABLE IF NOT EXISTS mux_a.t (id INT PRIMARY KEY, v INT)", "DELETE FROM mux_a.t");
        var server = new MysqlServer(0, "127.0.0.1", db.port(), 0, ServerStatus.ONLINE, 1, 0,
                MAX_BACKEND_CONNECTIONS, 0, false, 0, "");
        proxy = TrafficProxy.start(List.of(server), List.of(MysqlUser.of("mux", "muxpw", 0),
                        MysqlUser.of(PREPARING_USER, PREPARING_PASSWORD, 0)),
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
            try {
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
            } finally {
                // stopped on failure too, so no thread outlives the test
                pool.shutdownNow();
                assertThat(pool.awaitTermination(1, TimeUnit.MINUTES)).as("client threads ended").isTrue();
                sampling.set(false);
                sampler.join();
            }
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
        List<Connection> clients = new ArrayList<>();
        List<PreparedStatement> statements = new ArrayList<>();
        Set<Long> backendIds = new HashSet<>();
        try {
            for (int i = 0; i < PREPARING_CLIENTS; i++) {
                Connection c = DriverManager.getConnection(url, PREPARING_USER, PREPARING_PASSWORD);
                clients.add(c);
                statements.add(c.prepareStatement("SELECT ? + " + i + ", CONNECTION_ID()"));
            }
            // One statement at a time, client after client: each backend connection runs every client's statement
            // in turn, so each is prepared again wherever it lands.
            for (int round = 0; round < ROUNDS; round++) {
                for (int i = 0; i < PREPARING_CLIENTS; i++) {
                    PreparedStatement ps = statements.get(i);
                    ps.setInt(1, round);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).as("client %d, round %d", i, round).isEqualTo(round + i);
                        backendIds.add(rs.getLong(2));
                    }
                }
            }
        } finally {
            for (Connection c : clients) {
                c.close();
            }
        }
        // Were the connections pinned by their prepared statements, each client would have needed its own. With
        // one statement in flight at a time, each event loop needs one connection.
        assertThat(backendIds).as("backend connections that ran the %d clients' statements", PREPARING_CLIENTS)
                .hasSizeBetween(1, TrafficProxy.EVENT_LOOPS);
        assertThat(Integer.parseInt(db.queryValue("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = "
                + MariaDb.quote(PREPARING_USER)))).as("backend connections the proxy opened for %d clients",
                PREPARING_CLIENTS).isBetween(1, TrafficProxy.EVENT_LOOPS);
    }
}
