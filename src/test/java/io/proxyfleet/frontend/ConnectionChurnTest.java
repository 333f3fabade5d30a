package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.testkit.MariaDb;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many more clients than a server's max_connections, all busy: the proxy opens its connections once and shares
 * them, rather than closing connections on one event loop to open new ones on the other. Each statement reports
 * the backend connection that ran it, so the number of connections used is what a client sees.
 */
class ConnectionChurnTest {
    private static final String USER = "churn_user";
    private static final String PASSWORD = "churn-pw";
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
    private static final int CLIENTS = 200;
    private static final int BACKEND_CONNECTIONS = 10;
    private static final int STATEMENTS_PER_CLIENT = 40;
    /**
     * The connections of a steady workload may move between the two event loops a few times while their
     * sessions' demand settles (a connection cannot change loop, so it is closed on one and opened on the other).
     * Closing and reopening connections per statement would use hundreds.
     */
    private static final int MOST_CONNECTIONS_USED = 2 * BACKEND_CONNECTIONS;
    private static MariaDb db;

    @BeforeAll
    static void start() throws Exception {
        db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
    }

    @Test
    void busyClientsBeyondMaxConnectionsReuseTheConnectionsInsteadOfReopeningThem() throws Exception {
        var server = new MysqlServer(0, "127.0.0.1", db.port(), 0, ServerStatus.ONLINE, 1, 0, BACKEND_CONNECTIONS, 0,
                false, 0, "");
        Set<String> backendsUsed = ConcurrentHashMap.newKeySet();
        AtomicInteger answered = new AtomicInteger();
        try (TrafficProxy proxy = TrafficProxy.start(List.of(server), List.of(MysqlUser.of(USER, PASSWORD, 0)),
                Map.of("server_version", "5.5.30", "max_connections", String.valueOf(CLIENTS * 2),
                        "connect_timeout_server_max", "60000"), TrafficProxy.EVENT_LOOPS)) {
            ExecutorService threads = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> work = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) {
                    work.add(threads.submit(() -> {
                        try (BlockingMysqlClient c = BlockingMysqlClient.connect(BlockingMysqlClient.Options.of(
                                "127.0.0.1", proxy.port(), USER, PASSWORD, CLIENT_TIMEOUT, CLIENT_TIMEOUT))) {
                            for (int s = 0; s < STATEMENTS_PER_CLIENT; s++) {
                                backendsUsed.add(c.select("SELECT CONNECTION_ID()").rows().getFirst().getFirst());
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
            }
        }
        assertThat(answered.get()).isEqualTo(CLIENTS * STATEMENTS_PER_CLIENT);
        assertThat(backendsUsed.size()).as("backend connections that served the %d statements",
                CLIENTS * STATEMENTS_PER_CLIENT).isLessThanOrEqualTo(MOST_CONNECTIONS_USED);
    }
}
