package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Admin commands that act on the running node: PAUSE/RESUME, KILL CONNECTION, SHUTDOWN, and the stats tables. */
class NodeCommandsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration POLL = Duration.ofMillis(100);

    @Test
    void pauseResumeKillAndShutdown(@TempDir Path dataDir) throws Exception {
        MariaDb db = MariaDb.shared();
        db.createUser("cmd", "cmdpw");
        db.execute("GRANT ALL ON *.* TO 'cmd'@'%'");
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dataDir, adminPort, trafficPort, """
                mysql_servers = ( { address="127.0.0.1" port=%d hostgroup=0 } )
                mysql_users = ( { username="cmd" password="cmdpw" default_hostgroup=0 } )
                """.formatted(db.port()));
        ProxyFleetNode node = NodeFixture.start(dataDir, cnf);
        try {
            assertThat(traffic(trafficPort, "SELECT 1").exitCode()).isZero();

            assertThat(NodeFixture.admin(adminPort, "PROXYSQL PAUSE").exitCode()).isZero();
            MysqlCli.Result refused = traffic(trafficPort, "SELECT 1");
            assertThat(refused.exitCode()).isNotZero();
            assertThat(refused.stderr()).contains("2002");
            assertThat(NodeFixture.admin(adminPort, "PROXYSQL RESUME").exitCode()).isZero();
            assertThat(traffic(trafficPort, "SELECT 'back'").stdout().trim()).isEqualTo("back");

            // A session sleeping on the traffic port shows in the processlist and can be killed from admin.
            AtomicReference<MysqlCli.Result> slept = new AtomicReference<>();
            Thread sleeper = Thread.ofPlatform().start(() -> slept.set(traffic(trafficPort, "SELECT SLEEP(20)")));
            String id = awaitSessionId(adminPort);
            long started = System.nanoTime();
            assertThat(NodeFixture.admin(adminPort, "KILL CONNECTION " + id).exitCode()).isZero();
            sleeper.join(15_000);
            assertThat(sleeper.isAlive()).isFalse();
            assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(15_000);
            assertThat(slept.get().exitCode()).as("the killed client's query failed: %s", slept.get()).isNotZero();

            MysqlCli.Result pool = NodeFixture.admin(adminPort,
                    "SELECT hostgroup, srv_port, status FROM stats_mysql_connection_pool");
            assertThat(pool.stdout()).contains("0\t" + db.port() + "\tONLINE");
            assertThat(NodeFixture.admin(adminPort, "PROXYSQL FLUSH LOGS").exitCode()).isZero();

            assertThat(traffic(trafficPort, "SELECT * FROM no_such_db.t").exitCode()).isNotZero();
            MysqlCli.Result errors = NodeFixture.admin(adminPort,
                    "SELECT hostgroup, username, errno, count_star FROM stats_mysql_errors WHERE errno = 1146");
            assertThat(errors.stdout()).as(errors.toString()).contains("0\tcmd\t1146\t1");
            MysqlCli.Result free = NodeFixture.admin(adminPort,
                    "SELECT hostgroup, srv_port, user FROM stats_mysql_free_connections");
            assertThat(free.stdout()).as(free.toString()).contains("0\t" + db.port() + "\tcmd");

            assertThat(NodeFixture.admin(adminPort, "PROXYSQL SHUTDOWN").exitCode()).isZero();
            await().atMost(WAIT).pollInterval(POLL).untilAsserted(() ->
                    assertThat(traffic(trafficPort, "SELECT 1").exitCode()).as("node stopped").isNotZero());
        } finally {
            node.close();
        }
    }

    private static String awaitSessionId(int adminPort) {
        return await("the sleeping session shows in stats_mysql_processlist").atMost(WAIT).pollInterval(POLL)
                .until(() -> NodeFixture.admin(adminPort, "SELECT SessionID FROM stats_mysql_processlist"
                        + " WHERE user = 'cmd' AND command = 'Query'").stdout().trim(), id -> !id.isEmpty())
                .lines().findFirst().orElseThrow();
    }

    private static MysqlCli.Result traffic(int port, String sql) {
        return MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", port, "cmd", "cmdpw", "-N", "-B", "-e", sql), "",
                MysqlCli.DEFAULT_TIMEOUT);
    }
}
