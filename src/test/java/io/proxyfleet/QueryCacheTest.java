package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rule's cache_ttl serves repeated SELECTs from the proxy until they expire or the cache is flushed. */
class QueryCacheTest {
    @Test
    void cachedResultsAreServedUntilFlushed(@TempDir Path dataDir) throws Exception {
        MariaDb db = MariaDb.shared();
        db.createUser("qc", "qcpw");
        db.execute("GRANT ALL ON *.* TO 'qc'@'%'", "CREATE DATABASE IF NOT EXISTS qc",
                "CREATE TABLE IF NOT EXISTS qc.price (id INT PRIMARY KEY, amount INT)",
                "REPLACE INTO qc.price VALUES (1, 100)");
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dataDir, adminPort, trafficPort, "");
        try (ProxyFleetNode node = NodeFixture.start(dataDir, cnf)) {
            MysqlCli.Result setup = NodeFixture.admin(adminPort,
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', " + db.port() + ")",
                    "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('qc', 'qcpw', 0)",
                    "INSERT INTO mysql_query_rules (rule_id, active, match_digest, cache_ttl, apply)"
                            + " VALUES (1, 1, '^SELECT amount FROM qc.price', 60000, 1)",
                    "LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL USERS TO RUNTIME", "LOAD MYSQL QUERY RULES TO RUNTIME");
            assertThat(setup.exitCode()).as(setup.toString()).isZero();

            assertThat(price(trafficPort)).isEqualTo("100");
            db.execute("UPDATE qc.price SET amount = 200 WHERE id = 1");
            assertThat(price(trafficPort)).as("served from the cache").isEqualTo("100");

            MysqlCli.Result stats = NodeFixture.admin(adminPort, "SELECT Variable_Value FROM stats_mysql_global"
                    + " WHERE Variable_Name = 'Query_Cache_count_GET_OK'");
            assertThat(stats.stdout().trim()).as(stats.toString()).isEqualTo("1");

            assertThat(NodeFixture.admin(adminPort, "PROXYSQL FLUSH QUERY CACHE").exitCode()).isZero();
            assertThat(price(trafficPort)).as("after the flush").isEqualTo("200");
        }
    }

    private static String price(int port) {
        MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", port, "qc", "qcpw", "-N", "-B", "-e",
                "SELECT amount FROM qc.price WHERE id = 1"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdout().trim();
    }
}
