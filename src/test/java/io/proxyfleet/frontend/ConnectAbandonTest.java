package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A connect attempt stops when its client leaves. The only backend accepts TCP connections and never greets, so
 * every attempt times out after mysql-connect_timeout_server and the proxy would try again until
 * mysql-connect_timeout_server_max; the test counts the attempts the backend sees.
 */
class ConnectAbandonTest {
    private static final String USER = "abandon_app";
    private static final String PASSWORD = "abandon-pw";
    private static final int CONNECT_TIMEOUT_MILLIS = 300;
    private static final int CONNECT_TIMEOUT_MAX_MILLIS = 4_000;
    /** How long the client waits for its query before it gives up and leaves. */
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(1);
    /**
     * Attempts that may start between the client's close and the proxy noticing it (one every
     * CONNECT_TIMEOUT_MILLIS); without the fix there are about ten.
     */
    private static final int ATTEMPTS_UNDER_WAY = 2;

    @Test
    void attemptsStopOnceTheClientHasGone() throws Exception {
        var attempts = new AtomicInteger();
        List<Socket> accepted = new CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = Thread.ofPlatform().name("silent-backend").start(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept());
                        attempts.incrementAndGet();
                    }
                } catch (IOException closed) {
                    // The test closed the listener.
                }
            });
            try (TrafficProxy proxy = TrafficProxy.start(
                    List.of(MysqlServer.of(0, "127.0.0.1", silent.getLocalPort())),
                    List.of(MysqlUser.of(USER, PASSWORD, 0)),
                    Map.of("connect_timeout_server", Integer.toString(CONNECT_TIMEOUT_MILLIS),
                            "connect_timeout_server_max", Integer.toString(CONNECT_TIMEOUT_MAX_MILLIS),
                            "shun_on_failures", "1000"))) {
                try (BlockingMysqlClient client = BlockingMysqlClient.connect(BlockingMysqlClient.Options.of(
                        "127.0.0.1", proxy.port(), USER, PASSWORD, Duration.ofSeconds(10), CLIENT_TIMEOUT))) {
                    assertThat(catchThrowable(() -> client.execute("SELECT 1")))
                            .isInstanceOf(SocketTimeoutException.class);
                    await().atMost(Duration.ofSeconds(5)).until(() -> attempts.get() >= 1);
                }
                int atLeaving = attempts.get();

                // Without the client, the proxy would retry about every CONNECT_TIMEOUT_MILLIS until the max.
                await().during(Duration.ofMillis(CONNECT_TIMEOUT_MAX_MILLIS))
                        .atMost(Duration.ofMillis(CONNECT_TIMEOUT_MAX_MILLIS * 2L))
                        .until(() -> attempts.get() <= atLeaving + ATTEMPTS_UNDER_WAY);
            } finally {
                silent.close();
                acceptor.join();
                for (Socket socket : accepted) {
                    socket.close();
                }
            }
        }
    }
}
