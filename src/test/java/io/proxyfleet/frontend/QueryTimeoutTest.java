package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.testkit.MariaDb;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** mysql-default_query_timeout interrupts a query on the server; the session and its connection stay usable. */
class QueryTimeoutTest {
    @Test
    void longQueryIsInterruptedAndTheSessionGoesOn() throws Exception {
        MariaDb db = MariaDb.shared();
        db.createUser("slow", "slowpw");
        db.execute("GRANT ALL ON *.* TO 'slow'@'%'");
        try (var proxy = TrafficProxy.start(List.of(MysqlServer.of(0, "127.0.0.1", db.port())),
                List.of(MysqlUser.of("slow", "slowpw", 0)),
                Map.of("server_version", "5.5.30", "default_query_timeout", "1000"));
             var c = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/?sslMode=DISABLED",
                     "slow", "slowpw");
             var st = c.createStatement()) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> st.executeQuery("SELECT SLEEP(30)").next())
                    .satisfiesAnyOf(
                            e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(1317),
                            e -> assertThat(e).hasMessageContaining("interrupted"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            try (var rs = st.executeQuery("SELECT 'still usable'")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("still usable");
            }
        }
    }
}
