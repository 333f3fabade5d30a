package io.proxyfleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MysqlCliTest {

    @Test
    void clientThatHangsIsKilledAtTheTimeout() throws Exception {
        // Accepts the TCP connection but never sends a handshake, so the client waits forever.
        Thread acceptor;
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            acceptor = Thread.ofVirtual().start(() -> {
                try (Socket ignoredUntilClosed = silent.accept()) {
                    ignoredUntilClosed.getInputStream().read();
                } catch (java.io.IOException e) {
                    // The test closed the listener.
                }
            });
            long started = System.nanoTime();

            MysqlCli.Result result = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", silent.getLocalPort(), "u", "p",
                    "--connect-timeout=60", "-e", "SELECT 1"), "", Duration.ofSeconds(1));

            assertThat(result.timedOut()).isTrue();
            assertThat(result.succeeded()).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        }
        // the killed client's connection and the closed listener both end the acceptor
        assertThat(acceptor.join(Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void refusedConnectionIsReportedOnStderrWithTheClientsExitCode() {
        int closedPort = FreePorts.loopback();

        MysqlCli.Result result = MysqlCli.run(List.of("--protocol=TCP", "-h", "127.0.0.1", "-P",
                Integer.toString(closedPort), "-u", "u", "-e", "SELECT 1"), "", MysqlCli.DEFAULT_TIMEOUT);

        assertThat(result.timedOut()).isFalse();
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).startsWith("ERROR 2002 (HY000): Can't connect to server on '127.0.0.1'");
    }
}
