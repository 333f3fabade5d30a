package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.QueryRuleProgram;
import io.proxyfleet.config.RuntimeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config file's reported_version makes the admin report a given version, to join real ProxySQL peers. */
class ReportedVersionTest {
    private static final AdminPrincipal ADMIN = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:1");

    @Test
    void adminReportsTheConfiguredVersion(@TempDir Path dir) throws Exception {
        Path cnf = dir.resolve("proxysql.cnf");
        Files.writeString(cnf, "reported_version=\"2.7.2-14-g5cc418b\"\n");
        var holder = new ConfigHolder(RuntimeConfig.empty());
        try (AdminEngine engine = AdminEngine.open(dir, cnf, false, false, holder, rules -> QueryRuleProgram.EMPTY,
                RuntimeStatsSource.NONE, NodeControl.NOOP)) {
            AdminResponse version = engine.execute(ADMIN, "SELECT @@version").get();
            assertThat(version).isInstanceOf(AdminResponse.ResultSet.class);
            assertThat(((AdminResponse.ResultSet) version).rows().get(0).get(0)).isEqualTo("2.7.2-14-g5cc418b");
            assertThat(holder.current().adminVariables().get("version")).isEqualTo("2.7.2-14-g5cc418b");
        }
    }

    @Test
    void withoutItTheAdminReportsProxyFleetsOwn(@TempDir Path dir) throws Exception {
        var holder = new ConfigHolder(RuntimeConfig.empty());
        try (AdminEngine engine = AdminEngine.open(dir, null, false, false, holder, rules -> QueryRuleProgram.EMPTY,
                RuntimeStatsSource.NONE, NodeControl.NOOP)) {
            assertThat(holder.current().adminVariables().get("version")).endsWith("-proxyfleet");
        }
    }
}
