package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many clients at once, each checking that every answer is its own (no response crosses sessions while backend
 * connections are shared), and the proxy's connection limits as clients see them.
 */
class ConcurrentClientsTest {
    private static final String USER = "conc_user";
    private static final String LIMITED_USER = "conc_limited";
    private static final String PASSWORD = "conc-pw";
    private static final int CLIENTS = 24;
    private static final int QUERIES = 150;
    private static final int USER_LIMIT = 3;
    private static final int PROXY_LIMIT = 40;
    private static TrafficProxy proxy;

    @BeforeAll
    static void startProxy() throws Exception {
        MariaDb db = MariaDb.shared();
        for (String user : List.of(USER, LIMITED_USER)) {
            db.execute("DROP USER IF EXISTS " + user);
            db.createUser(user, PASSWORD);
        }
        MysqlUser limited = MysqlUser.of(LIMITED_USER, PASSWORD, 0);
        limited = new MysqlUser(limited.username(), limited.password(), true, false, 0, null, false, true, false,
                true, true, USER_LIMIT, "", "");
        proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())),
                List.of(MysqlUser.of(USER, PASSWORD, 0), limited),
                Map.of("server_version", "5.5.30", "max_connections", String.valueOf(PROXY_LIMIT)));
    }

    @AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** One client's run: text and prepared queries whose answers name the client and the iteration. */
    private static int runClient(int client) throws SQLException {
        JdbcDriver driver = JdbcDriver.values()[client % JdbcDriver.values().length];
        String options = client % 3 == 0 ? "useServerPrepStmts=true" : "";
        int checked = 0;
        try (Connection c = driver.connect(proxy.port(), null, USER, PASSWORD, options);
             Statement st = c.createStatement();
             PreparedStatement ps = c.prepareStatement("SELECT ?, ?, REPEAT(?, ?)")) {
            for (int i = 0; i < QUERIES; i++) {
                int width = (client * 31 + i * 17) % 3000;
                if (i % 2 == 0) {
                    try (ResultSet rs = st.executeQuery("SELECT " + client + ", " + i + ", REPEAT('c', " + width + ")")) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(client);
                        assertThat(rs.getInt(2)).isEqualTo(i);
                        assertThat(rs.getString(3)).hasSize(width);
                    }
                } else {
                    ps.setInt(1, client);
                    ps.setInt(2, i);
                    ps.setString(3, "p");
                    ps.setInt(4, width);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(client);
                        assertThat(rs.getInt(2)).isEqualTo(i);
                        assertThat(rs.getString(3)).hasSize(width);
                    }
                }
                checked++;
            }
        }
        return checked;
    }

    @Test
    void manyClientsAtOnceEachGetTheirOwnAnswers() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int client = 0; client < CLIENTS; client++) {
                int id = client;
                runs.add(pool.submit(() -> runClient(id)));
            }
            int total = 0;
            for (Future<Integer> run : runs) {
                total += run.get(120, TimeUnit.SECONDS);
            }
            assertThat(total).isEqualTo(CLIENTS * QUERIES);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void userBeyondItsMaxConnectionsIsRefused() throws Exception {
        List<RawClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < USER_LIMIT; i++) {
                open.add(RawClient.login(proxy.port(), LIMITED_USER, PASSWORD));
            }
            try (RawClient extra = RawClient.connect(proxy.port())) {
                extra.write(1, extra.handshakeResponse(RawClient.BASIC_CAPABILITIES, LIMITED_USER, PASSWORD, null));
                // The answer to the login is the refusal itself, never an OK followed by an error.
                RawClient.Packet reply = extra.read();
                assertThat(reply.isErr()).as("login answered 0x%02x", reply.first()).isTrue();
                assertThat(reply.errorCode()).isIn(1040, 1226);
                assertThat(reply.errorMessage()).contains("max_user_connections");
                assertThat(extra.readUntilClosed()).isEmpty();
            }
            // The ones inside the limit still work, and a slot frees up when one leaves.
            assertThat(open.getFirst().query("SELECT 'in'")).containsExactly(List.of("in"));
            open.removeFirst().close();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
                open.add(RawClient.login(proxy.port(), LIMITED_USER, PASSWORD));
                return true;
            });
        } finally {
            open.forEach(RawClient::close);
        }
    }

    @Test
    void clientsBeyondMaxConnectionsAreRefusedWith1040() throws Exception {
        List<RawClient> open = new ArrayList<>();
        try {
            RawClient.ServerError refused = null;
            for (int i = 0; i <= PROXY_LIMIT + 5 && refused == null; i++) {
                try {
                    open.add(RawClient.login(proxy.port(), USER, PASSWORD));
                } catch (RawClient.ServerError e) {
                    refused = e;
                }
            }
            assertThat((Throwable) refused).as("a client beyond mysql-max_connections is refused").isNotNull();
            assertThat(refused.code).isEqualTo(1040);
            assertThat(open.size()).isLessThanOrEqualTo(PROXY_LIMIT);
        } finally {
            open.forEach(RawClient::close);
        }
        // Once they leave, new clients get in again.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
            try (RawClient client = RawClient.login(proxy.port(), USER, PASSWORD)) {
                return client.query("SELECT 'back'").equals(List.of(List.of("back")));
            }
        });
    }
}
