package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * admin-reported_version makes the admin report a given version, to join real ProxySQL peers: node-local, set at
 * runtime, in the config file (top level or admin_variables), kept on disk across restarts without the file.
 */
class ReportedVersionTest {
    private static final String PROXYSQL_VERSION = "2.7.1-0-g2726c27";

    @TempDir
    Path dir;

    @RegisterExtension
    final AdminTestSupport t = new AdminTestSupport();

    @Test
    void theTopLevelSettingIsReportedAndKeptOnDisk() throws Exception {
        Path cnf = dir.resolve("proxysql.cnf");
        Files.writeString(cnf, "reported_version=\"2.7.2-14-g5cc418b\"\n");
        t.open(dir, cnf, false, false);
        assertThat(t.value("SELECT @@version")).isEqualTo("2.7.2-14-g5cc418b");
        assertThat(t.holder.current().adminVariables().get("version")).isEqualTo("2.7.2-14-g5cc418b");
        t.close();
        t.open(dir);
        assertThat(t.value("SELECT @@version")).isEqualTo("2.7.2-14-g5cc418b");
    }

    @Test
    void withoutItTheAdminReportsProxyFleetsOwn() throws Exception {
        t.open(dir);
        assertThat(t.holder.current().adminVariables().get("version")).endsWith("-proxyfleet");
        assertThat(t.value("SELECT @@admin-reported_version")).isEmpty();
    }

    @Test
    void setAtRuntimeSavedAndStillReportedAfterARestartWithoutTheConfigFile() throws Exception {
        t.open(dir);
        t.ok("SET admin-reported_version = '" + PROXYSQL_VERSION + "'");
        assertThat(t.value("SELECT @@version")).endsWith("-proxyfleet");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.value("SELECT @@version")).isEqualTo(PROXYSQL_VERSION);
        assertThat(t.value("SELECT @@admin-version")).isEqualTo(PROXYSQL_VERSION);
        t.ok("SAVE ADMIN VARIABLES TO DISK");
        t.close();
        t.open(dir);
        assertThat(t.value("SELECT @@version")).isEqualTo(PROXYSQL_VERSION);
        // Cleared, the node reports its own version again.
        t.ok("SET admin-reported_version = ''");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.value("SELECT @@version")).endsWith("-proxyfleet");
    }

    @Test
    void theAdminVariablesSectionSetsItToo() throws Exception {
        Path cnf = dir.resolve("proxysql.cnf");
        Files.writeString(cnf, "admin_variables = { reported_version=\"" + PROXYSQL_VERSION + "\" }\n");
        t.open(dir, cnf, false, false);
        assertThat(t.value("SELECT @@version")).isEqualTo(PROXYSQL_VERSION);
        t.ok("SET admin-version = 'something else'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.value("SELECT @@version")).isEqualTo(PROXYSQL_VERSION);
    }

    @Test
    void aPeerIntroducingItselfIsLoggedAsProxySqlLogsIt() throws Exception {
        var logs = new ListAppender<ILoggingEvent>();
        var logger = (Logger) LoggerFactory.getLogger("io.proxyfleet.admin");
        logs.start();
        logger.addAppender(logs);
        try {
            t.open(dir);
            var peer = new AdminPrincipal("cluster1", AdminRole.ADMIN, "10.0.0.12:40000");
            t.exec(peer, "PROXYSQL CLUSTER_NODE_UUID 1b2c-uuid 0.0.0.0:6032");
            t.exec(peer, "PROXYSQL CLUSTER_NODE_UUID 1b2c-uuid 0.0.0.0:6032");
            assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage)
                    .containsSubsequence("Received PROXYSQL CLUSTER_NODE_UUID from 10.0.0.12:40000 : 1b2c-uuid",
                            "Created new link with Cluster node 10.0.0.12:40000 : 1b2c-uuid at interface 0.0.0.0:6032")
                    .filteredOn(m -> m.startsWith("Created new link")).hasSize(1);
        } finally {
            logger.detachAppender(logs);
        }
    }
}
