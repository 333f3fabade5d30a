package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Every section and field of {@code proxysql.cnf} that the reference lists (§6.3, §6.4) is read on a first start:
 * each field lands in its column, and each top-level setting ProxyFleet does not take over gets one clear line.
 */
class ProxySqlConfigFileTest {
    private static final String EVERY_SECTION = """
            datadir="/var/lib/proxysql"
            errorlog="/var/lib/proxysql/proxysql.log"
            pidfile="/var/lib/proxysql/proxysql.pid"
            uuid="9d7b0c7e-5f0a-4c7e-9a55-7f3c1f1b2a10"
            restart_on_missing_heartbeats=10
            execute_on_exit_failure="/usr/local/bin/alert"
            cluster_sync_interfaces=false
            sqlite3_plugin="/usr/lib/proxysql/sqlite3.so"
            web_interface_plugin="/usr/lib/proxysql/web.so"
            ldap_auth_plugin="/usr/lib/proxysql/ldap.so"
            admin_variables = { admin_credentials="admin:admin;radmin:secret" refresh_interval=2000 }
            mysql_variables = { threads=4 max_connections=2048 server_version="5.5.30" }
            ldap_variables = { auth_ldap_url="ldap://10.0.0.9" }
            mysql_servers = ( { address="10.0.0.1", port=3307, hostgroup=0, gtid_port=3308, status="OFFLINE_SOFT",
                weight=5, compression=1, max_connections=200, max_replication_lag=30, use_ssl=1,
                max_latency_ms=100, comment="primary" } )
            mysql_users = ( { username="app", password="secret", default_hostgroup=0, active=1, use_ssl=1,
                default_schema="shop", schema_locked=1, transaction_persistent=0, fast_forward=1,
                max_connections=50, attributes="{\\"spiffe_id\\":\\"x\\"}", comment="the app" } )
            mysql_query_rules = ( { rule_id=7, active=1, username="app", schemaname="shop", flagIN=1,
                client_addr="10.0.0.5", proxy_addr="10.0.0.2", proxy_port=6033, digest="0x1234",
                match_digest="^SELECT", match_pattern="FROM t", negate_match_pattern=1, re_modifiers="CASELESS",
                flagOUT=2, replace_pattern="FROM u", destination_hostgroup=1, cache_ttl=100,
                cache_empty_result=0, cache_timeout=50, reconnect=1, timeout=1000, retries=2, delay=10,
                next_query_flagIN=3, mirror_flagOUT=4, mirror_hostgroup=5, error_msg="no", OK_msg="ok",
                sticky_conn=1, multiplex=2, gtid_from_hostgroup=0, log=1, apply=1, comment="all fields",
                attributes="" } )
            mysql_replication_hostgroups = ( { writer_hostgroup=0, reader_hostgroup=1, check_type="innodb_read_only",
                comment="repl" } )
            mysql_group_replication_hostgroups = ( { writer_hostgroup=10, backup_writer_hostgroup=11,
                reader_hostgroup=12, offline_hostgroup=13, active=1, max_writers=2, writer_is_also_reader=1,
                max_transactions_behind=100, comment="gr" } )
            mysql_galera_hostgroups = ( { writer_hostgroup=20, backup_writer_hostgroup=21, reader_hostgroup=22,
                offline_hostgroup=23, active=1, max_writers=1, writer_is_also_reader=2,
                max_transactions_behind=10, comment="galera" } )
            mysql_aws_aurora_hostgroups = ( { writer_hostgroup=30, reader_hostgroup=31, active=1, aurora_port=3306,
                domain_name=".cluster-x.eu-west-1.rds.amazonaws.com", max_lag_ms=600000, check_interval_ms=1000,
                check_timeout_ms=800, writer_is_also_reader=1, new_reader_weight=2, add_lag_ms=30, min_lag_ms=30,
                lag_num_checks=1, comment="aurora" } )
            mysql_servers_ssl_params = ( { hostname="10.0.0.1", port=3307, username="app", ssl_ca="ca.pem",
                ssl_cert="cert.pem", ssl_key="key.pem", ssl_capath="/etc/ssl", ssl_crl="crl.pem",
                ssl_crlpath="/etc/crl", ssl_cipher="AES256-SHA", tls_version="TLSv1.2", comment="ssl" } )
            scheduler = ( { id=1, active=0, interval_ms=5000, filename="/bin/echo", arg1="a", arg2="b", arg3="c",
                arg4="d", arg5="e", comment="sched" } )
            restapi = ( { id=2, active=0, interval_ms=2000, method="GET", uri="metrics", script="/bin/true",
                comment="api" } )
            proxysql_servers = ( { address="10.0.0.11", port=6032, weight=0, comment="proxysql1" } )
            """;

    @TempDir
    Path dir;
    final AdminTestSupport t = new AdminTestSupport();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger adminLogger = (Logger) LoggerFactory.getLogger("io.proxyfleet.admin");

    @AfterEach
    void tearDown() {
        t.close();
        adminLogger.detachAppender(logs);
    }

    private List<String> row(String sql) throws Exception {
        AdminResponse.ResultSet rs = t.rows(sql);
        assertThat(rs.rows()).as(sql).hasSize(1);
        return rs.rows().getFirst();
    }

    @Test
    void everySectionAndFieldOfTheReferenceIsRead() throws Exception {
        logs.start();
        adminLogger.addAppender(logs);
        Path cnf = Files.writeString(dir.resolve("proxysql.cnf"), EVERY_SECTION);
        t.open(dir, cnf, false, false);

        assertThat(row("SELECT * FROM disk.mysql_servers")).containsExactly("0", "10.0.0.1", "3307", "3308",
                "OFFLINE_SOFT", "5", "1", "200", "30", "1", "100", "primary");
        assertThat(row("SELECT * FROM disk.mysql_users")).containsExactly("app", "secret", "1", "1", "0", "shop",
                "1", "0", "1", "1", "1", "50", "{\"spiffe_id\":\"x\"}", "the app");
        assertThat(row("SELECT * FROM disk.mysql_query_rules")).containsExactly("7", "1", "app", "shop", "1",
                "10.0.0.5", "10.0.0.2", "6033", "0x1234", "^SELECT", "FROM t", "1", "CASELESS", "2", "FROM u", "1",
                "100", "0", "50", "1", "1000", "2", "10", "3", "4", "5", "no", "ok", "1", "2", "0", "1", "1", "",
                "all fields");
        assertThat(row("SELECT * FROM disk.mysql_replication_hostgroups"))
                .containsExactly("0", "1", "innodb_read_only", "repl");
        assertThat(row("SELECT * FROM disk.mysql_group_replication_hostgroups"))
                .containsExactly("10", "11", "12", "13", "1", "2", "1", "100", "gr");
        assertThat(row("SELECT * FROM disk.mysql_galera_hostgroups"))
                .containsExactly("20", "21", "22", "23", "1", "1", "2", "10", "galera");
        assertThat(row("SELECT * FROM disk.mysql_aws_aurora_hostgroups")).containsExactly("30", "31", "1", "3306",
                ".cluster-x.eu-west-1.rds.amazonaws.com", "600000", "1000", "800", "1", "2", "30", "30", "1",
                "aurora");
        assertThat(row("SELECT * FROM disk.mysql_servers_ssl_params")).containsExactly("10.0.0.1", "3307", "app",
                "ca.pem", "cert.pem", "key.pem", "/etc/ssl", "crl.pem", "/etc/crl", "AES256-SHA", "TLSv1.2", "ssl");
        assertThat(row("SELECT * FROM disk.scheduler"))
                .containsExactly("1", "0", "5000", "/bin/echo", "a", "b", "c", "d", "e", "sched");
        assertThat(row("SELECT * FROM disk.restapi_routes"))
                .containsExactly("2", "0", "2000", "GET", "metrics", "/bin/true", "api");
        assertThat(row("SELECT * FROM disk.proxysql_servers")).containsExactly("10.0.0.11", "6032", "0", "proxysql1");
        assertThat(t.value("SELECT @@mysql-max_connections")).isEqualTo("2048");
        assertThat(t.value("SELECT @@admin-admin_credentials")).isEqualTo("admin:admin;radmin:secret");
        assertThat(t.engine.nodeUuid()).isEqualTo("9d7b0c7e-5f0a-4c7e-9a55-7f3c1f1b2a10");

        List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).noneMatch(l -> l.contains("unknown setting"));
        for (String key : List.of("errorlog", "pidfile", "restart_on_missing_heartbeats", "execute_on_exit_failure",
                "sqlite3_plugin", "web_interface_plugin", "ldap_auth_plugin", "ldap_variables")) {
            assertThat(lines).filteredOn(l -> l.contains("'" + key + "' is not taken over: ")).as(key).hasSize(1);
        }
    }
}
