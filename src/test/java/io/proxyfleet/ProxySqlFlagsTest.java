package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.testkit.MysqlCli;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ProxySQL's -U, -M, -n, -r and -S on a real node: the UUID kept on disk, no monitor, admin only until
 * PROXYSQL START, SO_REUSEPORT listeners, and the admin on a Unix socket where the admin user may log in.
 */
class ProxySqlFlagsTest {
    private static final String UUID = "0f8e6c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6";

    @Test
    void theRealFlagsWorkOnARunningNode(@TempDir Path dir) throws Exception {
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dir, adminPort, trafficPort, "");
        Path socket = dir.resolve("proxysql_admin.sock");
        var options = new NodeOptions(dir, cnf, true, false, false, UUID, true, true, true, socket);
        try (ProxyFleetNode node = ProxyFleetNode.start(options)) {
            // -M: no monitor runs.
            assertThat(node.monitor()).isNull();
            // -n: the admin answers, traffic does not listen yet.
            assertThatThrownBy(() -> new Socket("127.0.0.1", trafficPort).close()).isInstanceOf(IOException.class);
            // -S: the admin user logs in on the Unix socket (a local socket, like 127.0.0.1); -U: the UUID.
            MysqlCli.Result uuid = MysqlCli.run(List.of("-S", socket.toString(), "-uadmin", "-padmin", "-N", "-B",
                    "-e", "SELECT variable_value FROM disk.global_settings WHERE variable_name = 'uuid'"), "",
                    MysqlCli.DEFAULT_TIMEOUT);
            assertThat(uuid.succeeded()).as(uuid.toString()).isTrue();
            assertThat(uuid.stdout().strip()).isEqualTo(UUID);
            MysqlCli.Result start = NodeFixture.admin(adminPort, "PROXYSQL START");
            assertThat(start.succeeded()).as(start.toString()).isTrue();
            new Socket("127.0.0.1", trafficPort).close();
            MysqlCli.Result again = NodeFixture.admin(adminPort, "PROXYSQL START");
            assertThat(again.stderr()).contains("ProxySQL already started");
            // -r: another SO_REUSEPORT socket may bind the same ports.
            for (int port : new int[] {trafficPort, adminPort}) {
                try (ServerSocketChannel other = ServerSocketChannel.open()) {
                    other.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                    other.bind(new InetSocketAddress("127.0.0.1", port));
                }
            }
        }
        assertThat(socket).doesNotExist();
    }

    @Test
    void withoutTheFlagsTheListenersAreExclusiveAndEverythingStarts(@TempDir Path dir) throws Exception {
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dir, adminPort, trafficPort, "");
        try (ProxyFleetNode node = NodeFixture.start(dir, cnf)) {
            assertThat(node.monitor()).isNotNull();
            new Socket("127.0.0.1", trafficPort).close();
            try (ServerSocketChannel other = ServerSocketChannel.open()) {
                other.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                assertThatThrownBy(() -> other.bind(new InetSocketAddress("127.0.0.1", trafficPort)))
                        .isInstanceOf(IOException.class);
            }
        }
    }
}
