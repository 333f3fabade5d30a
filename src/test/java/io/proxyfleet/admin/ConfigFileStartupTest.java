package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the config file is read (§6.5) and how LOAD ... FROM CONFIG / SELECT CONFIG FILE behave. */
class ConfigFileStartupTest {
    @TempDir
    Path dir;

    AdminTestSupport t = new AdminTestSupport();

    static final String CONFIG = """
            datadir="/var/lib/proxysql"   # top-level settings are not tables
            admin_variables=
            {
                admin_credentials="admin:admin;cluster1:secret1pass"
                cluster_username="cluster1"
                cluster_password="secret1pass"
                cluster_check_interval_ms=200
            }
            mysql_variables=
            {
                threads=4
                max_connections=2048
                multiplexing=false
            }
            mysql_servers=
            (
                { address="10.0.0.1", port=3306, hostgroup=0, max_connections=200 },
                { address="10.0.0.2", port=3306, hostgroup=1, status="bogus" }
            )
            mysql_users:
            (
                { username = "app" ; password = "secret" ; default_hostgroup = 0 ; }
            )
            mysql_query_rules=
            (
                /* block comment */
                { rule_id=1, match_digest="^SELECT .* FOR UPDATE$", destination_hostgroup=0, apply=1 },
                { rule_id=2, match_digest="^SELECT", destination_hostgroup=1, apply=1 }  // line comment
            )
            mysql_replication_hostgroups=( { writer_hostgroup=0, reader_hostgroup=1, comment="repl" } )
            scheduler=( { id=1, interval_ms=1000, filename="/bin/true" } )
            proxysql_servers=
            (
                { hostname="10.0.0.11", port=6032, weight=0, comment="proxysql1" },
                { hostname="10.0.0.12", port=6032, comment="proxysql2" }
            )
            """;

    @AfterEach
    void tearDown() {
        t.close();
    }

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private void reopen(Path config, boolean initial, boolean reload) throws Exception {
        t.close();
        t = new AdminTestSupport();
        t.open(dir.resolve("data"), config, initial, reload);
    }

    @Test
    void firstStartReadsTheFileAndSavesToDisk() throws Exception {
        Path config = write("proxysql.cnf", CONFIG);
        reopen(config, false, false);
        var cfg = t.holder.current();
        assertThat(cfg.servers().rows()).hasSize(2);
        assertThat(cfg.servers().hostgroup(0).getFirst().maxConnections()).isEqualTo(200);
        assertThat(cfg.servers().hostgroup(1).getFirst().status().name()).isEqualTo("ONLINE");
        assertThat(cfg.users().frontend().get("app").password()).isEqualTo("secret");
        assertThat(cfg.queryRules().rows()).hasSize(2);
        assertThat(cfg.peers().rows()).hasSize(2);
        assertThat(cfg.mysqlVariables().getInt("max_connections")).isEqualTo(2048);
        assertThat(cfg.mysqlVariables().get("multiplexing")).isEqualTo("false");
        assertThat(t.engine.account("cluster1")).isPresent();
        assertThat(t.value("SELECT COUNT(*) FROM disk.mysql_servers")).isEqualTo("2");
        assertThat(t.value("SELECT COUNT(*) FROM disk.mysql_replication_hostgroups")).isEqualTo("1");
        assertThat(t.value("SELECT filename FROM runtime_scheduler")).isEqualTo("/bin/true");
        assertThat(t.value("SELECT variable_value FROM disk.global_variables WHERE variable_name='mysql-max_connections'"))
                .isEqualTo("2048");
        assertThat(t.engine.moduleVersions().values()).allSatisfy(v -> assertThat(v.version()).isEqualTo(1));
    }

    @Test
    void laterStartsIgnoreTheFileUnlessReloadOrInitial() throws Exception {
        Path config = write("proxysql.cnf", CONFIG);
        reopen(config, false, false);
        t.ok("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (5, 'added-by-admin')");
        t.ok("SAVE MYSQL SERVERS TO DISK");
        write("proxysql.cnf", CONFIG.replace("max_connections=200", "max_connections=300"));

        reopen(config, false, false);
        assertThat(t.holder.current().servers().hostgroup(0).getFirst().maxConnections()).isEqualTo(200);
        assertThat(t.holder.current().servers().hostgroup(5)).hasSize(1);

        reopen(config, false, true);
        assertThat(t.holder.current().servers().hostgroup(0).getFirst().maxConnections()).isEqualTo(300);
        assertThat(t.holder.current().servers().hostgroup(5)).as("--reload merges").hasSize(1);
        assertThat(t.value("SELECT max_connections FROM disk.mysql_servers WHERE hostgroup_id = 0")).isEqualTo("300");

        reopen(config, true, false);
        assertThat(t.holder.current().servers().hostgroup(5)).as("--initial rebuilds").isEmpty();
        assertThat(t.holder.current().servers().rows()).hasSize(2);
        assertThat(Files.exists(dir.resolve("data").resolve("proxysql.db.bak"))).isTrue();
    }

    @Test
    void topLevelUuidAndClusterSyncInterfaces() throws Exception {
        Path plain = write("plain.cnf", "uuid=\"11111111-2222-3333-4444-555555555555\"\n");
        reopen(plain, false, false);
        assertThat(t.engine.nodeUuid()).isEqualTo("11111111-2222-3333-4444-555555555555");
        String withoutInterfaces = t.engine.moduleVersions().get("admin_variables").checksum();
        reopen(write("sync.cnf", "cluster_sync_interfaces=true\n"), false, false);
        assertThat(t.engine.nodeUuid()).as("kept on disk").isEqualTo("11111111-2222-3333-4444-555555555555");
        assertThat(t.engine.moduleVersions().get("admin_variables").checksum()).isNotEqualTo(withoutInterfaces);
    }

    @Test
    void noDatabaseAndNoFileStartsWithDefaults() throws Exception {
        reopen(null, false, false);
        assertThat(t.holder.current().servers().rows()).isEmpty();
        assertThat(t.holder.current().adminVariables().get("mysql_ifaces")).isEqualTo("0.0.0.0:6032");
        assertThat(t.value("SELECT variable_value FROM disk.global_variables WHERE variable_name='admin-mysql_ifaces'"))
                .isEqualTo("0.0.0.0:6032");
        assertThat(t.error("LOAD MYSQL SERVERS FROM CONFIG")).isEqualTo("ProxySQL Admin Error: Config file unknown");
    }

    @Test
    void corruptFileStopsTheNodeAndNamesTheLine() throws Exception {
        Path config = write("bad.cnf", "admin_variables=\n{\n    admin_credentials=\"admin:admin\n}\n");
        assertThatThrownBy(() -> reopen(config, false, false)).isInstanceOf(AdminStartupException.class)
                .hasMessageContaining("line 3");
        Path missingBrace = write("bad2.cnf", "mysql_servers=\n(\n { address=\"h\", hostgroup=0 }\n\n");
        assertThatThrownBy(() -> reopen(missingBrace, false, false)).isInstanceOf(AdminStartupException.class)
                .hasMessageContaining("line 5");
        Path junk = write("bad3.cnf", "mysql_variables =\n{\n threads = 4\n max_connections = = 5\n}\n");
        assertThatThrownBy(() -> reopen(junk, false, false)).isInstanceOf(AdminStartupException.class)
                .hasMessageContaining("line 4");
        assertThat(Files.exists(dir.resolve("data").resolve("proxysql.db"))).isFalse();
    }

    @Test
    void loadFromConfigMergesIntoMemory() throws Exception {
        Path config = write("proxysql.cnf", CONFIG);
        reopen(config, false, false);
        t.ok("DELETE FROM mysql_servers WHERE hostgroup_id = 1");
        t.ok("INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (7, 'kept')");
        AdminResponse.Ok ok = t.ok("LOAD MYSQL SERVERS FROM CONFIG");
        assertThat(ok.affectedRows()).isEqualTo(3);
        assertThat(t.rows("SELECT hostgroup_id FROM mysql_servers ORDER BY hostgroup_id").rows())
                .containsExactly(List.of("0"), List.of("1"), List.of("7"));
        assertThat(t.holder.current().servers().hostgroup(7)).as("not loaded to runtime yet").isEmpty();

        write("proxysql.cnf", "mysql_users=({ username=\"u\" password=\"p\" default_hostgroup=-5 active=2 })");
        assertThat(t.error("LOAD MYSQL USERS FROM CONFIG")).contains("CHECK constraint failed");
        assertThat(t.value("SELECT COUNT(*) FROM mysql_users")).isEqualTo("1");
        write("proxysql.cnf", "mysql_users=( { username=\"u\" ");
        assertThat(t.error("LOAD MYSQL USERS FROM CONFIG")).contains("Unable to open or parse config file");
    }

    @Test
    void selectConfigFileRoundTrips() throws Exception {
        Path config = write("proxysql.cnf", CONFIG);
        reopen(config, false, false);
        String text = t.value("SELECT CONFIG FILE");
        assertThat(text).contains("mysql_servers:", "hostname=\"10.0.0.1\"", "admin_credentials=");
        Path saved = dir.resolve("saved.cnf");
        assertThat(t.ok("SAVE CONFIG TO FILE " + saved).info()).isEqualTo("File " + saved + " is saved.");

        var copy = new AdminTestSupport();
        try {
            copy.open(dir.resolve("copy"), saved, false, false);
            for (String table : List.of("mysql_servers", "mysql_users", "mysql_query_rules", "proxysql_servers",
                    "scheduler", "mysql_replication_hostgroups", "global_variables")) {
                assertThat(copy.rows("SELECT * FROM " + table + " ORDER BY 1, 2").rows()).as(table)
                        .isEqualTo(t.rows("SELECT * FROM " + table + " ORDER BY 1, 2").rows());
            }
        } finally {
            copy.close();
        }
    }
}
