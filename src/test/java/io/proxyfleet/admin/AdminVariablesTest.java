package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** global_variables, SET, SELECT @@, SHOW VARIABLES and LOAD ... VARIABLES (§3, §1.6, §1.7). */
class AdminVariablesTest {
    @RegisterExtension
    final AdminTestSupport t = AdminTestSupport.openedForEachTest();

    @Test
    void defaultsAreListedWithPrefixes() throws Exception {
        assertThat(t.value("SELECT variable_value FROM global_variables WHERE variable_name='admin-mysql_ifaces'"))
                .isEqualTo("0.0.0.0:6032");
        assertThat(t.value("SELECT @@mysql-max_connections")).isEqualTo("10000");
        assertThat(t.rows("SHOW VARIABLES LIKE 'admin-stats_credentials'").rows())
                .containsExactly(List.of("admin-stats_credentials", "stats:stats"));
        var all = t.rows("SHOW VARIABLES");
        assertThat(all.columns()).containsExactly("Variable_name", "Value");
        assertThat(all.rows()).hasSizeGreaterThan(50);
        assertThat(t.rows("SHOW ADMIN VARIABLES").rows()).allSatisfy(r -> assertThat(r.getFirst()).startsWith("admin-"));
        assertThat(t.rows("SHOW MYSQL VARIABLES").rows()).allSatisfy(r -> assertThat(r.getFirst()).startsWith("mysql-"));
    }

    @Test
    void setChangesMemoryOnlyUntilLoad() throws Exception {
        t.ok("SET mysql-max_connections = 500");
        assertThat(t.value("SELECT @@mysql-max_connections")).isEqualTo("500");
        assertThat(t.holder.current().mysqlVariables().getInt("max_connections")).isEqualTo(10000);
        t.ok("LOAD MYSQL VARIABLES TO RUNTIME");
        assertThat(t.holder.current().mysqlVariables().getInt("max_connections")).isEqualTo(500);
        assertThat(t.value("SELECT variable_value FROM runtime_global_variables"
                + " WHERE variable_name = 'mysql-max_connections'")).isEqualTo("500");
        assertThat(t.engine.moduleVersions().get("mysql_variables").version()).isEqualTo(2);
    }

    @Test
    void setWithQuotedValueAndUpdateBothWork() throws Exception {
        t.ok("SET admin-cluster_username='cluster1'");
        t.ok("UPDATE global_variables SET variable_value='pw' WHERE variable_name='admin-cluster_password'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.holder.current().adminVariables().get("cluster_username")).isEqualTo("cluster1");
        assertThat(t.holder.current().adminVariables().get("cluster_password")).isEqualTo("pw");
        // As in ProxySQL, the cluster pair is no login of its own until admin_credentials lists it.
        assertThat(t.engine.account("cluster1")).isEmpty();
        t.ok("SET admin-admin_credentials='admin:admin;cluster1:pw'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.engine.account("cluster1")).contains(new AdminAccount("cluster1", "pw", AdminRole.ADMIN));
    }

    @Test
    void unknownVariableIsAClearError() throws Exception {
        assertThat(t.error("SET mysql-no_such_thing = 1")).contains("Unknown global variable: 'mysql-no_such_thing'");
        assertThat(t.rows("SELECT @@mysql-no_such_thing").rows()).isEmpty();
    }

    @Test
    void unknownRowsAreDeletedAndBadValuesResetOnLoad() throws Exception {
        t.ok("INSERT INTO global_variables VALUES ('mysql-bogus', 'x')");
        t.ok("SET mysql-poll_timeout = 'abc'");
        t.ok("SET mysql-multiplexing = 0");
        t.ok("LOAD MYSQL VARIABLES TO RUNTIME");
        assertThat(t.rows("SELECT * FROM global_variables WHERE variable_name = 'mysql-bogus'").rows()).isEmpty();
        assertThat(t.value("SELECT @@mysql-poll_timeout")).isEqualTo("2000");
        assertThat(t.holder.current().mysqlVariables().get("multiplexing")).isEqualTo("false");
        assertThat(t.value("SELECT @@mysql-multiplexing")).isEqualTo("false");
    }

    @Test
    void changingAdminInterfacesTellsTheNode() throws Exception {
        t.ok("SET admin-mysql_ifaces = '127.0.0.1:16032'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.control.calls()).contains("ifaces:127.0.0.1:16032");
        int before = t.control.calls().size();
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.control.calls().subList(before, t.control.calls().size())).containsExactly("loaded:admin_variables");
    }

    @Test
    void credentialsComeFromRuntime() throws Exception {
        assertThat(t.engine.account("admin")).contains(new AdminAccount("admin", "admin", AdminRole.ADMIN));
        assertThat(t.engine.account("stats")).contains(new AdminAccount("stats", "stats", AdminRole.STATS));
        assertThat(t.engine.account("nobody")).isEmpty();
        t.ok("SET admin-admin_credentials = 'admin:admin;radmin:secret'");
        assertThat(t.engine.account("radmin")).isEmpty();
        t.ok("LOAD ADMIN VARIABLES TO RUN");
        assertThat(t.engine.account("radmin")).contains(new AdminAccount("radmin", "secret", AdminRole.ADMIN));
    }

    @Test
    void adminVersionIsReadOnly() throws Exception {
        String version = t.value("SELECT @@admin-version");
        t.ok("SET admin-version = '9.9.9'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.value("SELECT @@admin-version")).isEqualTo(version);
        assertThat(t.value("SELECT @@version")).isEqualTo(version);
    }

    @Test
    void variablesChecksumIgnoresPerNodeInterfaces() throws Exception {
        String before = t.engine.moduleVersions().get("admin_variables").checksum();
        t.ok("SET admin-mysql_ifaces = '0.0.0.0:7032'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.engine.moduleVersions().get("admin_variables").checksum()).isEqualTo(before);
        t.ok("SET admin-refresh_interval = 3000");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.engine.moduleVersions().get("admin_variables").checksum()).isNotEqualTo(before);
    }

    @Test
    void readonlyModeRefusesWrites() throws Exception {
        t.ok("PROXYSQL READONLY");
        assertThat(t.value("SELECT @@global.read_only")).isEqualTo("1");
        assertThat(t.error("INSERT INTO mysql_servers (hostname) VALUES ('x')")).contains("readonly");
        t.ok("PROXYSQL READWRITE");
        t.ok("INSERT INTO mysql_servers (hostname) VALUES ('x')");
    }
}
