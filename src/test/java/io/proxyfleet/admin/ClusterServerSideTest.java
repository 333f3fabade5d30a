package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.config.checksum.Checksums;
import io.proxyfleet.protocol.client.QueryResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The admin side of the cluster protocol (§4.12) and the Java API the cluster layer uses. */
class ClusterServerSideTest {
    @RegisterExtension
    final AdminTestSupport t = AdminTestSupport.openedForEachTest();

    static final String PROXY_RULES = "PROXY_SELECT rule_id, username, schemaname, flagIN, client_addr, proxy_addr,"
            + " proxy_port, digest, match_digest, match_pattern, negate_match_pattern, re_modifiers, flagOUT,"
            + " replace_pattern, destination_hostgroup, cache_ttl, cache_empty_result, cache_timeout, reconnect,"
            + " timeout, retries, delay, next_query_flagIN, mirror_flagOUT, mirror_hostgroup, error_msg, ok_msg,"
            + " sticky_conn, multiplex, gtid_from_hostgroup, log, apply, attributes, comment FROM"
            + " runtime_mysql_query_rules ORDER BY rule_id";
    static final String PROXY_FAST = "PROXY_SELECT username, schemaname, flagIN, destination_hostgroup, comment"
            + " FROM runtime_mysql_query_rules_fast_routing ORDER BY username, schemaname, flagIN";
    static final String PROXY_USERS = "PROXY_SELECT username, password, use_ssl, default_hostgroup, default_schema,"
            + " schema_locked, transaction_persistent, fast_forward, backend, frontend, max_connections, attributes,"
            + " comment FROM runtime_mysql_users";
    static final String PROXY_V2 = "PROXY_SELECT hostgroup_id, hostname, port, gtid_port, status, weight,"
            + " compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment FROM"
            + " mysql_servers_v2 WHERE status<>'OFFLINE_HARD' ORDER BY hostgroup_id, hostname, port";
    static final String PROXY_RUNTIME_SERVERS = "PROXY_SELECT hostgroup_id, hostname, port, gtid_port, status,"
            + " weight, compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment FROM"
            + " runtime_mysql_servers WHERE status<>'OFFLINE_HARD' ORDER BY hostgroup_id, hostname, port";
    static final String PROXY_REPLICATION = "PROXY_SELECT writer_hostgroup, reader_hostgroup, comment FROM"
            + " runtime_mysql_replication_hostgroups ORDER BY writer_hostgroup";

    private String checksum(String module) {
        return t.engine.moduleVersions().get(module).checksum();
    }

    @Test
    void proxySelectAnswersWhatWasHashed() throws Exception {
        t.ok("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)"
                + " VALUES (1, 1, '^SELECT', 1, 1), (2, 0, '^UPDATE', 0, 1)");
        t.ok("INSERT INTO mysql_query_rules_fast_routing VALUES ('app', 'db', 0, 2, 'fr')");
        t.ok("LOAD MYSQL QUERY RULES TO RUNTIME");
        var rules = t.rows(PROXY_RULES);
        assertThat(rules.columns()).hasSize(34);
        assertThat(rules.rows()).hasSize(1);
        var fast = t.rows(PROXY_FAST);
        long expected = Checksums.queryRules(Checksums.rawChecksum(rules.rows()), Checksums.rawChecksum(fast.rows()));
        assertThat(checksum("mysql_query_rules")).isEqualTo(Checksums.format(expected));

        t.ok("INSERT INTO mysql_servers (hostgroup_id, hostname, status) VALUES (0, 'a', 'ONLINE'),"
                + " (0, 'b', 'SHUNNED'), (1, 'c', 'OFFLINE_HARD')");
        t.ok("INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup) VALUES (0, 1)");
        t.ok("LOAD MYSQL SERVERS TO RUNTIME");
        var v2 = t.rows(PROXY_V2);
        assertThat(v2.rows()).extracting(r -> r.get(1) + "/" + r.get(4)).containsExactly("a/ONLINE", "b/ONLINE");
        var replication = t.rows(PROXY_REPLICATION);
        assertThat(replication.rows()).containsExactly(List.of("0", "1", "read_only", ""));
        assertThat(checksum("mysql_servers_v2")).isEqualTo(Checksums.format(Checksums.mysqlServersV2(
                Checksums.rawChecksum(v2.rows()), Checksums.rawChecksum(replication.rows()), 0, 0, 0, 0, 0)));
        var runtime = t.rows(PROXY_RUNTIME_SERVERS);
        assertThat(checksum("mysql_servers")).isEqualTo(Checksums.format(Checksums.rawChecksum(runtime.rows())));

        t.ok("INSERT INTO mysql_users (username, password, default_schema) VALUES ('app', 'pw', NULL)");
        t.ok("LOAD MYSQL USERS TO RUNTIME");
        var users = t.rows(PROXY_USERS);
        assertThat(users.rows()).containsExactly(
                List.of("app", "pw", "0", "0", "", "0", "1", "0", "1", "1", "10000", "", ""));

        t.ok("INSERT INTO proxysql_servers (hostname, port, comment) VALUES ('p2', 6032, 'two'), ('p1', 6032, 'one')");
        t.ok("LOAD PROXYSQL SERVERS TO RUNTIME");
        var peers = t.rows("SELECT hostname, port, weight, comment FROM runtime_proxysql_servers ORDER BY hostname, port");
        assertThat(peers.rows()).extracting(r -> r.getFirst()).containsExactly("p1", "p2");
        assertThat(checksum("proxysql_servers")).isEqualTo(Checksums.format(Checksums.rawChecksum(peers.rows())));

        var vars = t.rows("SELECT * FROM runtime_global_variables WHERE variable_name LIKE 'mysql-%' AND"
                + " variable_name NOT IN ('mysql-threads') AND variable_name NOT IN ('mysql-interfaces')"
                + " ORDER BY variable_name");
        assertThat(checksum("mysql_variables")).isEqualTo(Checksums.format(Checksums.rawChecksum(vars.rows())));
    }

    @Test
    void everyProxySelectFormIsAnswered() throws Exception {
        String prefix = "PROXY_SELECT ";
        var expectedWidths = new java.util.LinkedHashMap<String, Integer>();
        expectedWidths.put(PROXY_RULES, 34);
        expectedWidths.put(PROXY_FAST, 5);
        expectedWidths.put(PROXY_USERS, 13);
        expectedWidths.put(PROXY_V2, 12);
        expectedWidths.put(PROXY_RUNTIME_SERVERS, 12);
        expectedWidths.put(PROXY_REPLICATION, 4);
        expectedWidths.put(prefix + "writer_hostgroup, backup_writer_hostgroup, reader_hostgroup, offline_hostgroup,"
                + " active, max_writers, writer_is_also_reader, max_transactions_behind, comment FROM"
                + " runtime_mysql_group_replication_hostgroups ORDER BY writer_hostgroup", 9);
        expectedWidths.put(prefix + "writer_hostgroup, backup_writer_hostgroup, reader_hostgroup, offline_hostgroup,"
                + " active, max_writers, writer_is_also_reader, max_transactions_behind, comment FROM"
                + " runtime_mysql_galera_hostgroups ORDER BY writer_hostgroup", 9);
        expectedWidths.put(prefix + "writer_hostgroup, reader_hostgroup, active, aurora_port, domain_name, max_lag_ms,"
                + " check_interval_ms, check_timeout_ms, writer_is_also_reader, new_reader_weight, add_lag_ms,"
                + " min_lag_ms, lag_num_checks, comment FROM runtime_mysql_aws_aurora_hostgroups"
                + " ORDER BY writer_hostgroup", 14);
        expectedWidths.put(prefix + "hostgroup_id, max_num_online_servers, autocommit, free_connections_pct,"
                + " init_connect, multiplex, connection_warming, throttle_connections_per_sec, ignore_session_variables,"
                + " hostgroup_settings, servers_defaults, comment FROM runtime_mysql_hostgroup_attributes"
                + " ORDER BY hostgroup_id", 12);
        expectedWidths.put(prefix + "hostname, port, username, ssl_ca, ssl_cert, ssl_key, ssl_capath, ssl_crl,"
                + " ssl_crlpath, ssl_cipher, tls_version, comment FROM runtime_mysql_servers_ssl_params"
                + " ORDER BY hostname, port, username", 12);
        for (var e : expectedWidths.entrySet()) {
            assertThat(t.rows(e.getKey()).columns()).as(e.getKey()).hasSize(e.getValue());
        }
        assertThat(t.error(AdminTestSupport.STATS, PROXY_USERS)).contains("only SELECT");
    }

    @Test
    void globalChecksumFollowsLoads() throws Exception {
        String before = t.value("SELECT GLOBAL_CHECKSUM()");
        assertThat(t.rows("SELECT GLOBAL_CHECKSUM()").columns()).containsExactly("CHECKSUM");
        assertThat(before).isEqualTo(Long.toString(t.engine.globalChecksum()));
        t.ok("LOAD MYSQL USERS TO RUNTIME");
        assertThat(t.value("select global_checksum()")).isNotEqualTo(before)
                .isEqualTo(Long.toString(t.engine.globalChecksum()));
        assertThat(t.rows("SELECT * FROM runtime_checksums_values ORDER BY name").rows())
                .extracting(r -> r.getFirst() + ":" + r.get(1))
                .containsExactly("admin_variables:1", "mysql_query_rules:1", "mysql_servers:1",
                        "mysql_servers_v2:1", "mysql_users:2", "mysql_variables:1", "proxysql_servers:1");
    }

    @Test
    void clusterNodeUuidIsRecordedForTheConnectingPeer() throws Exception {
        var peer = new AdminPrincipal("cluster1", AdminRole.ADMIN, "10.0.0.12:40123");
        assertThat(t.exec(peer, "PROXYSQL CLUSTER_NODE_UUID 1f2e-uuid 0.0.0.0:6032"))
                .isInstanceOf(AdminResponse.Ok.class);
        assertThat(t.rows("SELECT uuid, hostname, port, admin_mysql_ifaces FROM stats_proxysql_servers_clients_status")
                .rows()).containsExactly(List.of("1f2e-uuid", "10.0.0.12", "40123", "0.0.0.0:6032"));
        assertThat(t.engine.nodeUuid()).hasSize(36);
    }

    private static final QueryResult.Rows PEERS_P1 = new QueryResult.Rows(
            List.of("hostname", "port", "weight", "comment"), List.of(List.of("p1", "6032", "0", "")));

    @Test
    void aPullAdoptsThePeersEpochOnlyForTheChecksumComputedHere() throws Exception {
        String computed = Checksums.format(Checksums.rawChecksum(PEERS_P1.rows()));
        var versions = t.engine.applyPulled(AdminModule.PROXYSQL_SERVERS, Map.of("proxysql_servers", PEERS_P1),
                "peer:6032", List.of(new PeerChecksum("proxysql_servers", 1_600_000_000L, computed)), false)
                .await(Duration.ofSeconds(10));
        assertThat(versions.get("proxysql_servers")).isEqualTo(
                new io.proxyfleet.config.ModuleVersion(2, 1_600_000_000L, computed));
    }

    @Test
    void applyingAPullIsOneStep() throws Exception {
        var versions = t.engine.applyPulled(AdminModule.PROXYSQL_SERVERS, Map.of("proxysql_servers", PEERS_P1),
                "peer:6032", List.of(), true).await(Duration.ofSeconds(10));
        assertThat(versions.get("proxysql_servers").version()).isEqualTo(2);
        assertThat(t.holder.current().peers().rows()).extracting(p -> p.hostname()).containsExactly("p1");
        assertThat(t.value("SELECT hostname FROM disk.proxysql_servers")).isEqualTo("p1");
    }

    @Test
    void monitorChangesToRuntimeServersChangeTheChecksumButNotTheVersion() throws Exception {
        t.ok("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (0, 'a'), (1, 'b')");
        t.ok("LOAD MYSQL SERVERS TO RUNTIME");
        var before = t.engine.moduleVersions().get("mysql_servers");
        var v2Before = t.engine.moduleVersions().get("mysql_servers_v2");
        t.holder.update(c -> c.withServers(io.proxyfleet.config.RuntimeConfig.Servers.of(
                List.of(io.proxyfleet.config.MysqlServer.of(0, "a", 3306)), c.servers().version())));
        var after = t.engine.runtimeServersChanged().get(10, TimeUnit.SECONDS).get("mysql_servers");
        assertThat(after.version()).isEqualTo(before.version());
        assertThat(after.checksum()).isNotEqualTo(before.checksum());
        assertThat(t.rows(PROXY_RUNTIME_SERVERS).rows()).extracting(r -> r.get(1)).containsExactly("a");
        assertThat(t.engine.moduleVersions().get("mysql_servers_v2")).as("config servers unchanged")
                .isEqualTo(v2Before);
    }

    @Test
    void runtimeOnlyServersPull() throws Exception {
        t.ok("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (0, 'mine')");
        t.ok("LOAD MYSQL SERVERS TO RUNTIME");
        var v2Before = t.engine.moduleVersions().get("mysql_servers_v2");
        List<List<String>> peerRows = List.of(
                List.of("0", "peer-a", "3306", "0", "ONLINE", "1", "0", "1000", "0", "0", "0", ""),
                List.of("1", "peer-b", "3306", "0", "OFFLINE_SOFT", "1", "0", "1000", "0", "0", "0", "c"));
        String advertised = Checksums.format(Checksums.rawChecksum(peerRows));
        var versions = t.engine.loadRuntimeServers(peerRows,
                List.of(new PeerChecksum("mysql_servers", 1_650_000_000L, advertised)), false).get(10, TimeUnit.SECONDS);
        assertThat(versions.get("mysql_servers")).isEqualTo(
                new io.proxyfleet.config.ModuleVersion(3, 1_650_000_000L, advertised));
        assertThat(versions.get("mysql_servers_v2")).isEqualTo(v2Before);
        assertThat(t.holder.current().servers().rows()).extracting(s -> s.hostname()).containsExactly("peer-a", "peer-b");
        assertThat(t.value("SELECT hostname FROM main.mysql_servers")).isEqualTo("mine");

        t.engine.loadRuntimeServers(peerRows, List.of(), true).get(10, TimeUnit.SECONDS);
        assertThat(t.rows("SELECT hostname FROM disk.mysql_servers ORDER BY hostname").rows())
                .containsExactly(List.of("peer-a"), List.of("peer-b"));
        var bad = t.engine.loadRuntimeServers(List.of(List.of("x")), List.of(), false);
        assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
    }

    @Test
    void transactionsForPullsAreAtomic() throws Exception {
        t.engine.runInTransaction(List.of("DELETE FROM proxysql_servers",
                "INSERT INTO proxysql_servers VALUES ('p9', 6032, 0, '')")).get(10, TimeUnit.SECONDS);
        assertThat(t.value("SELECT hostname FROM proxysql_servers")).isEqualTo("p9");
        var failing = t.engine.runInTransaction(List.of("DELETE FROM proxysql_servers",
                "INSERT INTO proxysql_servers VALUES ('p10', 6032, -1, '')"));
        assertThatThrownBy(() -> failing.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("CHECK constraint failed");
        assertThat(t.value("SELECT hostname FROM proxysql_servers")).isEqualTo("p9");
        t.engine.saveToDisk(AdminModule.PROXYSQL_SERVERS).get(10, TimeUnit.SECONDS);
        assertThat(t.value("SELECT hostname FROM disk.proxysql_servers")).isEqualTo("p9");
        assertThat(t.engine.runSql("SELECT COUNT(*) FROM proxysql_servers").get()).isInstanceOf(
                AdminResponse.ResultSet.class);
    }
}
