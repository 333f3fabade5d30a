package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A data directory whose {@code proxysql.db} ProxySQL wrote (built here from ProxySQL 2.7's DDL, with rows in every
 * configuration table, and in 2.5's schema) starts a node that runs and serves that configuration, says clearly
 * what it does not take over, and upgrades older tables as ProxySQL does.
 */
class ProxySqlDataDirTest {
    private static final String UUID = "6f0e3c1e-2a8b-4c53-9a51-0e6b2f1d4c7a";
    /** ProxySQL 2.5's mysql_hostgroup_attributes: 2.6 added hostgroup_settings and servers_defaults. */
    private static final String HOSTGROUP_ATTRIBUTES_2_5 = "CREATE TABLE mysql_hostgroup_attributes (hostgroup_id"
            + " INT NOT NULL PRIMARY KEY , max_num_online_servers INT CHECK (max_num_online_servers>=0 AND"
            + " max_num_online_servers <= 1000000) NOT NULL DEFAULT 1000000 , autocommit INT CHECK (autocommit IN"
            + " (-1, 0, 1)) NOT NULL DEFAULT -1 , free_connections_pct INT CHECK (free_connections_pct >= 0 AND"
            + " free_connections_pct <= 100) NOT NULL DEFAULT 10 , init_connect VARCHAR NOT NULL DEFAULT '' ,"
            + " multiplex INT CHECK (multiplex IN (0, 1)) NOT NULL DEFAULT 1 , connection_warming INT CHECK"
            + " (connection_warming IN (0, 1)) NOT NULL DEFAULT 0 , throttle_connections_per_sec INT CHECK"
            + " (throttle_connections_per_sec >= 1 AND throttle_connections_per_sec <= 1000000) NOT NULL DEFAULT"
            + " 1000000 , ignore_session_variables VARCHAR CHECK (JSON_VALID(ignore_session_variables) OR"
            + " ignore_session_variables = '') NOT NULL DEFAULT '' , comment VARCHAR NOT NULL DEFAULT '')";

    @TempDir
    Path dir;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger adminLogger = (Logger) LoggerFactory.getLogger("io.proxyfleet.admin");

    @BeforeEach
    void captureLogs() {
        logs.start();
        adminLogger.addAppender(logs);
    }

    @AfterEach
    void stopCapture() {
        adminLogger.detachAppender(logs);
    }

    private static List<String> ddl() throws Exception {
        try (InputStream in = ProxySqlDataDirTest.class.getResourceAsStream("proxysql-2.7-disk.sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> l.startsWith("CREATE TABLE ")).toList();
        }
    }

    /** A proxysql.db as ProxySQL writes it: the tables of {@code ddl}, a row in each, ports of this test. */
    private static void writeProxySqlDb(Path db, List<String> ddl, int adminPort, int trafficPort, MariaDb backend)
            throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = c.createStatement()) {
            for (String table : ddl) {
                st.execute(table);
            }
            boolean sslParams = ddl.stream().anyMatch(t -> t.startsWith("CREATE TABLE mysql_servers_ssl_params "));
            var rows = new java.util.ArrayList<>(List.of(
                    "INSERT INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (0, '"
                            + backend.host() + "', " + backend.port() + ", 'primary')",
                    "INSERT INTO mysql_users (username, password, default_hostgroup, comment)"
                            + " VALUES ('dropin', 'dropinpass', 0, 'from proxysql')",
                    "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply,"
                            + " comment) VALUES (10, 1, '^SELECT', 0, 1, 'reads')",
                    "INSERT INTO mysql_query_rules_fast_routing (username, schemaname, flagIN,"
                            + " destination_hostgroup, comment) VALUES ('dropin', 'test', 0, 0, 'fast')",
                    "INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, comment)"
                            + " VALUES (0, 1, 'repl')",
                    "INSERT INTO mysql_group_replication_hostgroups (writer_hostgroup, backup_writer_hostgroup,"
                            + " reader_hostgroup, offline_hostgroup, comment) VALUES (10, 11, 12, 13, 'gr')",
                    "INSERT INTO mysql_galera_hostgroups (writer_hostgroup, backup_writer_hostgroup,"
                            + " reader_hostgroup, offline_hostgroup, comment) VALUES (20, 21, 22, 23, 'galera')",
                    "INSERT INTO mysql_aws_aurora_hostgroups (writer_hostgroup, reader_hostgroup, domain_name,"
                            + " comment) VALUES (30, 31, '.example.com', 'aurora')",
                    "INSERT INTO mysql_hostgroup_attributes (hostgroup_id, comment) VALUES (0, 'attrs')",
                    "INSERT INTO proxysql_servers (hostname, port, comment) VALUES ('127.0.0.1', " + adminPort
                            + ", 'self')",
                    "INSERT INTO scheduler (id, active, interval_ms, filename, comment)"
                            + " VALUES (1, 0, 10000, '/bin/true', 'sched')",
                    "INSERT INTO restapi_routes (id, active, timeout_ms, method, uri, script, comment)"
                            + " VALUES (1, 0, 1000, 'GET', 'metrics', '/bin/true', 'api')",
                    "INSERT INTO mysql_collations VALUES (33, 'utf8_general_ci', 'utf8', 'Yes')",
                    "INSERT INTO mysql_ldap_mapping (priority, frontend_entity, backend_entity)"
                            + " VALUES (1, 'cn=app', 'app')",
                    "INSERT INTO mysql_firewall_whitelist_users VALUES (1, 'dropin', '', 'OFF', 'fw')",
                    "INSERT INTO mysql_firewall_whitelist_rules VALUES (1, 'dropin', '', 'test', 0, '0x1', 'fw')",
                    "INSERT INTO mysql_firewall_whitelist_sqli_fingerprints VALUES (1, 's&1')",
                    "INSERT INTO global_settings VALUES ('uuid', '" + UUID + "')"));
            if (sslParams) {
                rows.add("INSERT INTO mysql_servers_ssl_params (hostname, port, username, comment) VALUES ('"
                        + backend.host() + "', " + backend.port() + ", 'dropin', 'ssl')");
            }
            for (var v : Map.of("admin-mysql_ifaces", "127.0.0.1:" + adminPort,
                    "mysql-interfaces", "127.0.0.1:" + trafficPort, "mysql-monitor_enabled", "false",
                    "mysql-server_version", "5.5.30", "mysql-threads", "2", "admin-version", "2.7.1-0-g2726c27",
                    "mysql-max_connections", "2048", "mysql-forward_autocommit", "false").entrySet()) {
                rows.add("INSERT INTO global_variables VALUES ('" + v.getKey() + "', '" + v.getValue() + "')");
            }
            for (String row : rows) {
                st.execute(row);
            }
        }
    }

    private void startAndCheck(Path data, int adminPort, int trafficPort, List<String> moreTables)
            throws Exception {
        try (ProxyFleetNode node = ProxyFleetNode.start(new NodeOptions(data, null, true, false, false))) {
            var tables = new java.util.ArrayList<>(moreTables);
            tables.addAll(List.of("runtime_mysql_servers", "runtime_mysql_query_rules",
                    "runtime_mysql_query_rules_fast_routing", "runtime_mysql_replication_hostgroups",
                    "runtime_mysql_group_replication_hostgroups", "runtime_mysql_galera_hostgroups",
                    "runtime_mysql_aws_aurora_hostgroups", "runtime_mysql_hostgroup_attributes",
                    "runtime_proxysql_servers", "runtime_scheduler", "runtime_restapi_routes",
                    "runtime_mysql_firewall_whitelist_users", "runtime_mysql_firewall_whitelist_rules",
                    "runtime_mysql_firewall_whitelist_sqli_fingerprints"));
            for (String table : tables) {
                MysqlCli.Result count = NodeFixture.admin(adminPort, "SELECT COUNT(*) FROM " + table);
                assertThat(count.succeeded()).as(count.toString()).isTrue();
                assertThat(count.stdout().strip()).as(table).isEqualTo("1");
            }
            MysqlCli.Result users = NodeFixture.admin(adminPort, "SELECT username, frontend, backend, comment"
                    + " FROM runtime_mysql_users ORDER BY frontend",
                    "SELECT @@mysql-max_connections", "SELECT variable_value FROM disk.global_settings"
                            + " WHERE variable_name = 'uuid'");
            assertThat(users.stdout().lines().toList()).containsExactly("dropin\t0\t1\tfrom proxysql",
                    "dropin\t1\t0\tfrom proxysql", "2048", UUID);
            MysqlCli.Result served = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", trafficPort, "dropin",
                    "dropinpass", "-N", "-e", "SELECT CONCAT('served ', 6 * 7)"), "", MysqlCli.DEFAULT_TIMEOUT);
            assertThat(served.succeeded()).as(served.toString()).isTrue();
            assertThat(served.stdout().strip()).isEqualTo("served 42");
        }
        assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage)
                .anySatisfy(m -> assertThat(m).startsWith("Impossible to set not existing variable"
                        + " mysql-forward_autocommit"))
                .anySatisfy(m -> assertThat(m).contains("mysql_ldap_mapping: LDAP authentication"))
                .anySatisfy(m -> assertThat(m).startsWith("scheduler has 1 rows: ProxyFleet keeps them"));
    }

    @Test
    void aProxySql27DataDirectoryStartsAndServesItsConfiguration() throws Exception {
        MariaDb backend = MariaDb.shared();
        backend.execute("CREATE USER IF NOT EXISTS 'dropin'@'%' IDENTIFIED BY 'dropinpass'",
                "GRANT ALL ON *.* TO 'dropin'@'%'");
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path data = dir.resolve("var-lib-proxysql");
        java.nio.file.Files.createDirectories(data);
        writeProxySqlDb(data.resolve("proxysql.db"), ddl(), adminPort, trafficPort, backend);
        startAndCheck(data, adminPort, trafficPort, List.of("runtime_mysql_servers_ssl_params"));
    }

    @Test
    void aProxySql25DatabaseIsUpgradedAsProxySqlDoes() throws Exception {
        MariaDb backend = MariaDb.shared();
        backend.execute("CREATE USER IF NOT EXISTS 'dropin'@'%' IDENTIFIED BY 'dropinpass'",
                "GRANT ALL ON *.* TO 'dropin'@'%'");
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path data = dir.resolve("var-lib-proxysql-25");
        java.nio.file.Files.createDirectories(data);
        List<String> ddl25 = ddl().stream()
                .filter(t -> !t.startsWith("CREATE TABLE mysql_servers_ssl_params "))
                .map(t -> t.startsWith("CREATE TABLE mysql_hostgroup_attributes ") ? HOSTGROUP_ATTRIBUTES_2_5 : t)
                .toList();
        writeProxySqlDb(data.resolve("proxysql.db"), ddl25, adminPort, trafficPort, backend);
        startAndCheck(data, adminPort, trafficPort, List.of());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("proxysql.db"));
             Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT hostgroup_id, hostgroup_settings, servers_defaults, comment"
                     + " FROM mysql_hostgroup_attributes")) {
            assertThat(rs.next()).isTrue();
            assertThat(List.of(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4)))
                    .containsExactly(0, "", "", "attrs");
        }
        assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage)
                .anySatisfy(m -> assertThat(m).startsWith("Upgrading table mysql_hostgroup_attributes of"
                        + " proxysql.db to ProxySQL 2.7's columns"));
    }
}
