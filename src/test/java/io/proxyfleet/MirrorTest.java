package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mirror_hostgroup runs the query a second time on another hostgroup, in the background. */
class MirrorTest {
    @Test
    void mirroredInsertRunsOnTheMirrorHostgroupToo(@TempDir Path dataDir) throws Exception {
        MariaDb db = MariaDb.shared();
        db.createUser("mirror", "mirrorpw");
        db.execute("GRANT ALL ON *.* TO 'mirror'@'%'", "CREATE DATABASE IF NOT EXISTS mir",
                "CREATE TABLE IF NOT EXISTS mir.t (v INT)", "DELETE FROM mir.t");
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dataDir, adminPort, trafficPort, "");
        try (ProxyFleetNode node = NodeFixture.start(dataDir, cnf)) {
            MysqlCli.Result setup = NodeFixture.admin(adminPort,
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', " + db.port() + ")",
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (7, '127.0.0.1', " + db.port() + ")",
                    "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('mirror', 'mirrorpw', 0)",
                    "INSERT INTO mysql_query_rules (rule_id, active, match_pattern, mirror_hostgroup, apply)"
                            + " VALUES (1, 1, '^INSERT INTO mir[.]t', 7, 1)",
                    "LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL USERS TO RUNTIME", "LOAD MYSQL QUERY RULES TO RUNTIME");
            assertThat(setup.exitCode()).as(setup.toString()).isZero();
            MysqlCli.Result insert = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", trafficPort, "mirror", "mirrorpw",
                    "-e", "INSERT INTO mir.t VALUES (42)"), "", MysqlCli.DEFAULT_TIMEOUT);
            assertThat(insert.exitCode()).as(insert.toString()).isZero();
            // Once by the session on hostgroup 0, once by the mirror on hostgroup 7 (the same server here).
            await().atMost(Duration.ofSeconds(10)).until(() -> "2".equals(db.queryValue("SELECT COUNT(*) FROM mir.t")));
            MysqlCli.Result digest = NodeFixture.admin(adminPort,
                    "SELECT hostgroup FROM stats_mysql_query_digest WHERE digest_text LIKE 'INSERT INTO mir.t%'");
            assertThat(digest.stdout().trim()).isEqualTo("0");
        }
    }
}
