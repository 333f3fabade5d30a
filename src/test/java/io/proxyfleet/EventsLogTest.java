package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rule with log=1 writes its queries to mysql-eventslog_filename, one JSON object a line. */
class EventsLogTest {
    /** Room for the events log's writer thread on a loaded 2-core machine. */
    private static final Duration EVENT_WAIT = Duration.ofSeconds(10);

    @Test
    void loggedRuleWritesJsonEvents(@TempDir Path dataDir) throws Exception {
        MariaDb db = MariaDb.shared();
        db.createUser("evlog", "evlogpw");
        db.execute("GRANT ALL ON *.* TO 'evlog'@'%'");
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dataDir, adminPort, trafficPort, "");
        try (ProxyFleetNode node = NodeFixture.start(dataDir, cnf)) {
            MysqlCli.Result setup = NodeFixture.admin(adminPort,
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', " + db.port() + ")",
                    "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('evlog', 'evlogpw', 0)",
                    "INSERT INTO mysql_query_rules (rule_id, active, match_digest, log, apply) VALUES (1, 1, 'audited', 1, 1)",
                    "UPDATE global_variables SET variable_value = 'queries.log' WHERE variable_name = 'mysql-eventslog_filename'",
                    "LOAD MYSQL VARIABLES TO RUNTIME", "LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL USERS TO RUNTIME",
                    "LOAD MYSQL QUERY RULES TO RUNTIME");
            assertThat(setup.exitCode()).as(setup.toString()).isZero();
            MysqlCli.Result run = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", trafficPort, "evlog", "evlogpw", "-e",
                    "SELECT 1 AS audited; SELECT 2 AS not_logged"), "", MysqlCli.DEFAULT_TIMEOUT);
            assertThat(run.exitCode()).as(run.toString()).isZero();
            Path log = dataDir.resolve("queries.log");
            // the event is written by the log's own thread after the reply: wait for a whole line
            await().atMost(EVENT_WAIT).until(() -> Files.exists(log) && Files.readString(log).endsWith("\n"));
            String events = Files.readString(log);
            assertThat(events.lines()).hasSize(1);
            assertThat(events).contains("\"query\":\"SELECT 1 AS audited\"").contains("\"username\":\"evlog\"")
                    .contains("\"hostgroup_id\":0").contains("\"rows_sent\":1").contains("\"event\":\"COM_QUERY\"");
        }
    }
}
