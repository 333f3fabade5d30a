package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.testkit.MariaDb;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A session keeps its backend connection from one statement to the next while no other session needs it, and
 * gives it back at once when one does: on its own event loop, and when the session that waits is on another
 * loop. Keeping never lets the proxy exceed a server's max_connections, nor one client see another's state.
 */
class KeptConnectionTest {
    private static final String PASSWORD = "kept-pw";
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
    private static final int CLIENTS = 2_000;
    private static final int BACKEND_CONNECTIONS = 50;
    private static final int CLIENT_THREADS = 64;
    private static final int STATEMENTS_PER_CLIENT = 3;
    private static final int TIME_ZONES = 12;
    /**
     * Well before a kept connection idles out (then it would be given back anyway): a statement that gets its
     * connection within this time got it from the session that kept it.
     */
    private static final long PROMPTLY_NANOS = ClientSession.KEEP_IDLE_NANOS / 2;
    private static MariaDb db;

    @BeforeAll
    static void start() throws Exception {
        db = MariaDb.shared();
        for (String user : List.of("kept_many", "kept_loop", "kept_other")) {
            db.execute("DROP USER IF EXISTS " + user);
            db.createUser(user, PASSWORD);
        }
    }

    private static TrafficProxy proxy(String user, int maxConnections, int eventLoops) throws Exception {
        var server = new MysqlServer(0, "127.0.0.1", db.port(), 0, ServerStatus.ONLINE, 1, 0, maxConnections, 0,
                false, 0, "");
        return TrafficProxy.start(List.of(server), List.of(MysqlUser.of(user, PASSWORD, 0)),
                Map.of("server_version", "5.5.30", "max_connections", String.valueOf(CLIENTS * 2),
                        "connect_timeout_server_max", "60000"), eventLoops);
    }

    private static BlockingMysqlClient client(TrafficProxy proxy, String user) throws IOException {
        return BlockingMysqlClient.connect(BlockingMysqlClient.Options.of("127.0.0.1", proxy.port(), user, PASSWORD,
                CLIENT_TIMEOUT, CLIENT_TIMEOUT));
    }

    private static String value(BlockingMysqlClient client, String sql) throws IOException {
        return client.select(sql).rows().getFirst().getFirst();
    }

    private static int serverConnections(String user) {
        return Integer.parseInt(db.queryValue(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = " + MariaDb.quote(user)));
    }

    private static String timeZone(int client) {
        return String.format("+%02d:00", client % TIME_ZONES);
    }

    @Test
    void twoThousandClientsShareFiftyBackendConnectionsAndEveryStatementSucceeds() throws Exception {
        String user = "kept_many";
        List<BlockingMysqlClient> clients = new ArrayList<>();
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicBoolean sampling = new AtomicBoolean(true);
        try (TrafficProxy proxy = proxy(user, BACKEND_CONNECTIONS, TrafficProxy.EVENT_LOOPS)) {
            Thread sampler = Thread.ofPlatform().start(() -> {
                while (sampling.get()) {
                    most.accumulateAndGet(serverConnections(user), Math::max);
                }
            });
            ExecutorService threads = Executors.newFixedThreadPool(CLIENT_THREADS);
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    clients.add(client(proxy, user));
                }
                List<Future<?>> work = new ArrayList<>();
                for (int t = 0; t < CLIENT_THREADS; t++) {
                    int first = t;
                    work.add(threads.submit(() -> {
                        // Each client sets its own session state, then runs statements back to back: the case
                        // where it keeps its connection, unless one of the 1,999 others waits for it.
                        for (int i = first; i < CLIENTS; i += CLIENT_THREADS) {
                            BlockingMysqlClient c = clients.get(i);
                            c.execute("SET time_zone = '" + timeZone(i) + "'");
                            for (int s = 0; s < STATEMENTS_PER_CLIENT; s++) {
                                List<String> row = c.select("SELECT " + i + ", @@time_zone").rows().getFirst();
                                assertThat(row).containsExactly(String.valueOf(i), timeZone(i));
                                answered.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : work) {
                    f.get();
                }
            } finally {
                threads.shutdownNow();
                assertThat(threads.awaitTermination(1, TimeUnit.MINUTES)).as("client threads ended").isTrue();
                sampling.set(false);
                sampler.join();
                clients.forEach(BlockingMysqlClient::close);
            }
        }
        assertThat(answered.get()).isEqualTo(CLIENTS * STATEMENTS_PER_CLIENT);
        assertThat(most.get()).as("backend connections open at once").isBetween(1, BACKEND_CONNECTIONS);
    }

    /**
     * One event loop and one allowed connection: the first client keeps it after its statement; the second
     * client's statement takes it from the first at once, well before the first would let an idle connection go.
     */
    @Test
    void aSessionOnTheSameLoopTakesAKeptConnectionAtOnce() throws Exception {
        String user = "kept_loop";
        try (TrafficProxy proxy = proxy(user, 1, 1);
             BlockingMysqlClient first = client(proxy, user); BlockingMysqlClient second = client(proxy, user)) {
            String backend = value(first, "SELECT CONNECTION_ID()");
            assertThat(value(first, "SELECT CONNECTION_ID()")).as("kept by the first client").isEqualTo(backend);

            long started = System.nanoTime();
            assertThat(value(second, "SELECT CONNECTION_ID()")).as("the same, given back").isEqualTo(backend);
            assertThat(System.nanoTime() - started).as("waited for the kept connection, in ns")
                    .isLessThan(PROMPTLY_NANOS);

            started = System.nanoTime();
            assertThat(value(first, "SELECT CONNECTION_ID()")).isEqualTo(backend);
            assertThat(System.nanoTime() - started).isLessThan(PROMPTLY_NANOS);
            assertThat(serverConnections(user)).isEqualTo(1);
        }
    }

    /**
     * Two event loops (clients are spread over them in turn) and one allowed connection: the loop of the second
     * client has no connection of its own, so the first client's loop closes the kept one at once to free the
     * slot, rather than keep it until it idles.
     */
    @Test
    void aSessionOnAnotherLoopGetsTheSlotOfAKeptConnectionAtOnce() throws Exception {
        String user = "kept_other";
        try (TrafficProxy proxy = proxy(user, 1, TrafficProxy.EVENT_LOOPS);
             BlockingMysqlClient first = client(proxy, user); BlockingMysqlClient second = client(proxy, user)) {
            String backend = value(first, "SELECT CONNECTION_ID()");
            assertThat(value(first, "SELECT CONNECTION_ID()")).as("kept by the first client").isEqualTo(backend);

            long started = System.nanoTime();
            String secondBackend = value(second, "SELECT CONNECTION_ID()");
            assertThat(System.nanoTime() - started).as("waited for the slot, in ns")
                    .isLessThan(PROMPTLY_NANOS);
            assertThat(secondBackend).as("a connection of the second client's own loop").isNotEqualTo(backend);

            started = System.nanoTime();
            assertThat(value(first, "SELECT 1")).isEqualTo("1");
            assertThat(System.nanoTime() - started).isLessThan(PROMPTLY_NANOS);
            // The server forgets a closed connection a moment after the proxy closed it.
            await().atMost(Duration.ofSeconds(10)).until(() -> serverConnections(user) <= 1);
        }
    }
}
