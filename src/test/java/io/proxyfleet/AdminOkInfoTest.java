package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.testkit.MysqlCli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An admin OK that carries a message reaches the mysql CLI intact. The CLI negotiates CLIENT_SESSION_TRACK, under
 * which the message is a length-encoded string; written raw, the CLI rejects the packet as malformed (2027).
 */
class AdminOkInfoTest {
    @Test
    void saveConfigToFileAnswersTheMysqlCli(@TempDir Path dataDir) throws Exception {
        int adminPort = NodeFixture.freePort();
        int trafficPort = NodeFixture.freePort();
        Path cnf = NodeFixture.writeConfig(dataDir, adminPort, trafficPort, "");
        Path saved = dataDir.resolve("saved.cnf");
        try (ProxyFleetNode node = NodeFixture.start(dataDir, cnf)) {
            MysqlCli.Result result = NodeFixture.admin(adminPort, "SAVE CONFIG TO FILE " + saved, "SELECT 'still serving'");
            assertThat(result.succeeded()).as("%s", result).isTrue();
            assertThat(result.stdout()).contains("still serving");
            assertThat(Files.readString(saved)).contains("mysql_variables");
        }
    }
}
