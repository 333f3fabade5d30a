package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ProxySQL's "configuring ProxySQL" tutorial, step by step, through the mysql CLI against a whole node and a
 * real MariaDB: admin changes reach runtime only on LOAD, survive a restart only after SAVE.
 */
class NodeTutorialTest {
    @TempDir
    Path dataDir;

    @Test
    void tutorialFlowThroughAdminAndTraffic() throws Exception {
        MariaDb db = MariaDb.shared();
        db.createUser("tutorial", "tutorialpw");
        db.execute("GRANT ALL ON *.* TO 'tutorial'@'%'");
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dataDir, adminPort, trafficPort, "");
        try (ProxyFleetNode node = NodeFixture.start(dataDir, cnf)) {
            MysqlCli.Result setup = NodeFixture.admin(adminPort,
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', " + db.port() + ")",
                    "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('tutorial', 'tutorialpw', 0)",
                    "LOAD MYSQL SERVERS TO RUNTIME",
                    "LOAD MYSQL USERS TO RUNTIME",
                    "SELECT hostgroup_id, hostname, port, status FROM runtime_mysql_servers");
            assertThat(setup.exitCode()).as(setup.toString()).isZero();
            assertThat(setup.stdout()).contains("0\t127.0.0.1\t" + db.port() + "\tONLINE");

            MysqlCli.Result query = traffic(trafficPort, "tutorial", "tutorialpw", "SELECT 40+2");
            assertThat(query.exitCode()).as(query.toString()).isZero();
            assertThat(query.stdout().trim()).isEqualTo("42");

            MysqlCli.Result save = NodeFixture.admin(adminPort, "SAVE MYSQL SERVERS TO DISK", "SAVE MYSQL USERS TO DISK");
            assertThat(save.exitCode()).as(save.toString()).isZero();
        }
        // Restart on the same data directory, without --initial: the disk layer wins over the config file.
        try (ProxyFleetNode node = ProxyFleetNode.start(new NodeOptions(dataDir, cnf, true, false, false))) {
            MysqlCli.Result query = traffic(trafficPort, "tutorial", "tutorialpw", "SELECT 'still here'");
            assertThat(query.stdout().trim()).as(query.toString()).isEqualTo("still here");

            MysqlCli.Result edit = NodeFixture.admin(adminPort,
                    "UPDATE mysql_users SET password='changed' WHERE username='tutorial'",
                    "SELECT password FROM runtime_mysql_users WHERE username='tutorial' AND frontend=1");
            assertThat(edit.stdout().trim()).as(edit.toString()).isEqualTo("tutorialpw");
            assertThat(traffic(trafficPort, "tutorial", "tutorialpw", "SELECT 1").exitCode()).isZero();

            MysqlCli.Result reload = NodeFixture.admin(adminPort, "LOAD MYSQL USERS FROM DISK",
                    "SELECT password FROM mysql_users WHERE username='tutorial'", "LOAD MYSQL USERS TO RUNTIME");
            assertThat(reload.stdout().trim()).as(reload.toString()).isEqualTo("tutorialpw");

            MysqlCli.Result bad = NodeFixture.admin(adminPort, "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (-1, 'x', 1)");
            assertThat(bad.exitCode()).isNotZero();
            assertThat(bad.stderr()).contains("ProxySQL Admin Error");
        }
    }

    private static MysqlCli.Result traffic(int port, String user, String password, String sql) {
        return MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", port, user, password, "-N", "-B", "-e", sql), "",
                MysqlCli.DEFAULT_TIMEOUT);
    }
}
