package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LogSetupTest {
    private static final Logger log = LoggerFactory.getLogger(LogSetupTest.class);

    @Test
    void linesLandInProxysqlLogInProxySqlsFormat(@TempDir Path dataDir) throws Exception {
        try (LogSetup setup = LogSetup.configure(dataDir, false)) {
            log.info("Cluster: starting thread for peer {}:{}", "10.0.0.2", 6032);
            log.warn("Cluster: unable to connect to peer 10.0.0.3:6032 . Error: refused");
            assertThat(setup.logFile()).isEqualTo(dataDir.resolve("proxysql.log"));
        }

        List<String> lines = Files.readAllLines(dataDir.resolve("proxysql.log"));
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d LogSetupTest\\.java:\\d+:"
                + "linesLandInProxysqlLogInProxySqlsFormat\\(\\): \\[INFO\\] "
                + "Cluster: starting thread for peer 10\\.0\\.0\\.2:6032");
        assertThat(lines.get(1)).contains("(): [WARNING] Cluster: unable to connect to peer 10.0.0.3:6032");
    }

    @Test
    void restartAppendsAndClosingStopsWritingToTheFile(@TempDir Path dataDir) throws Exception {
        try (LogSetup _ = LogSetup.configure(dataDir, true)) {
            log.info("first start");
        }
        try (LogSetup _ = LogSetup.configure(dataDir, true)) {
            log.info("second start");
        }
        log.info("after close");

        assertThat(Files.readAllLines(dataDir.resolve("proxysql.log")))
                .satisfiesExactly(
                        first -> assertThat(first).endsWith("[INFO] first start"),
                        second -> assertThat(second).endsWith("[INFO] second start"));
    }
}
