package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrafficSmokeTest {
    @Test
    void cliAndJdbcReachMariaDbThroughTheProxy() throws Exception {
        MariaDb db = MariaDb.shared();
        db.createUser("smoke", "smokepw");
        db.execute("CREATE DATABASE IF NOT EXISTS smoke", "GRANT ALL ON *.* TO 'smoke'@'%'");
        try (var proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())),
                List.of(MysqlUser.of("smoke", "smokepw", 0)),
                Map.of("server_version", "5.5.30"))) {
            var result = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", proxy.port(), "smoke", "smokepw",
                    "-N", "-B", "-e", "SELECT 1+1; SELECT @@port"), "", MysqlCli.DEFAULT_TIMEOUT);
            assertThat(result.exitCode()).as(result.toString()).isZero();
            assertThat(result.stdout()).contains("2").contains(String.valueOf(db.port()));
            try (var c = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/smoke?sslMode=DISABLED",
                    "smoke", "smokepw"); var st = c.createStatement(); var rs = st.executeQuery("SELECT DATABASE()")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("smoke");
            }
        }
    }
}
