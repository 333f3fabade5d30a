package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's read/write split: writes to hostgroup 0 (a MariaDB primary), reads to hostgroup 1 (its replica,
 * replicating for real), with two query rules, configured through the admin port as an operator would.
 */
class ReadWriteSplitTest {
    private static MariaDb primary;
    private static MariaDb replica;

    @BeforeAll
    static void startReplication() {
        primary = MariaDb.start(MariaDb.Options.defaults().withServerId(1).withLogBin(true));
        replica = MariaDb.start(MariaDb.Options.defaults().withServerId(2));
        primary.execute("CREATE USER 'repl'@'%' IDENTIFIED BY 'replpw'", "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'");
        String file = primary.queryRows("SHOW MASTER STATUS").get(0).get(0);
        String pos = primary.queryRows("SHOW MASTER STATUS").get(0).get(1);
        replica.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" + primary.port()
                + ", MASTER_USER='repl', MASTER_PASSWORD='replpw', MASTER_LOG_FILE='" + file + "', MASTER_LOG_POS=" + pos,
                "START SLAVE", "SET GLOBAL read_only = 1");
        // Created after the replication position, so the replica gets the user through replication.
        primary.execute("CREATE USER 'app'@'%' IDENTIFIED BY 'apppw'", "GRANT ALL ON *.* TO 'app'@'%'");
        await().atMost(Duration.ofSeconds(30)).until(() ->
                "app".equals(replica.queryValue("SELECT MAX(User) FROM mysql.user WHERE User = 'app'")));
    }

    @AfterAll
    static void stop() {
        replica.close();
        primary.close();
    }

    @Test
    void writesGoToThePrimaryAndReadsToTheReplica(@TempDir Path dataDir) throws Exception {
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dataDir, adminPort, trafficPort, "");
        try (ProxyFleetNode node = NodeFixture.start(dataDir, cnf)) {
            MysqlCli.Result setup = NodeFixture.admin(adminPort,
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', " + primary.port() + ")",
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (1, '127.0.0.1', " + replica.port() + ")",
                    "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('app', 'apppw', 0)",
                    "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)"
                            + " VALUES (1, 1, '^SELECT.*FOR UPDATE$', 0, 1)",
                    "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)"
                            + " VALUES (2, 1, '^SELECT', 1, 1)",
                    "LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL USERS TO RUNTIME", "LOAD MYSQL QUERY RULES TO RUNTIME");
            assertThat(setup.exitCode()).as(setup.toString()).isZero();

            assertThat(traffic(trafficPort, "SELECT @@server_id").stdout().trim()).isEqualTo("2");
            assertThat(traffic(trafficPort, "CREATE DATABASE IF NOT EXISTS rw; "
                    + "CREATE TABLE IF NOT EXISTS rw.t (id INT PRIMARY KEY, who INT); "
                    + "INSERT INTO rw.t VALUES (1, @@server_id)").exitCode()).isZero();
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    "1".equals(traffic(trafficPort, "SELECT who FROM rw.t WHERE id = 1").stdout().trim()));
            assertThat(traffic(trafficPort, "SELECT @@server_id FROM rw.t WHERE id = 1 FOR UPDATE").stdout().trim())
                    .isEqualTo("1");

            MysqlCli.Result digests = NodeFixture.admin(adminPort,
                    "SELECT hostgroup, digest_text, count_star FROM stats_mysql_query_digest"
                            + " WHERE digest_text LIKE 'SELECT who FROM rw.t%' ORDER BY hostgroup");
            assertThat(digests.stdout()).as(digests.toString()).contains("1\tSELECT who FROM rw.t WHERE id = ?\t");
            MysqlCli.Result hits = NodeFixture.admin(adminPort, "SELECT rule_id, hits FROM stats_mysql_query_rules ORDER BY rule_id");
            assertThat(hits.stdout()).as(hits.toString()).containsPattern("1\t1\n2\t[1-9]");
        }
    }

    private static MysqlCli.Result traffic(int port, String sql) {
        return MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", port, "app", "apppw", "-N", "-B", "-e", sql), "",
                MysqlCli.DEFAULT_TIMEOUT);
    }
}
