package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.testkit.MariaDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** mysql_servers.use_ssl=1: the proxy talks TLS to a MariaDB that has it, and the client sees the cipher. */
class BackendTlsTest {
    @Test
    void useSslEncryptsTheBackendConnection() throws Exception {
        Path certs = Files.createTempDirectory("proxyfleet-backend-tls");
        TlsFiles files = TlsFiles.open(certs);
        try (MariaDb db = MariaDb.start(MariaDb.Options.defaults().withExtraArgs(
                "--ssl-ca=" + files.caFile(), "--ssl-cert=" + files.certFile(), "--ssl-key=" + files.keyFile()))) {
            db.execute("CREATE USER 'tlsuser'@'%' IDENTIFIED BY 'tlspw' REQUIRE SSL", "GRANT ALL ON *.* TO 'tlsuser'@'%'");
            var tlsServer = new MysqlServer(0, "127.0.0.1", db.port(), 0, ServerStatus.ONLINE, 1, 0, 100, 0, true, 0, "");
            try (var proxy = TrafficProxy.start(List.of(tlsServer), List.of(MysqlUser.of("tlsuser", "tlspw", 0)),
                    Map.of("server_version", "5.5.30"));
                 var c = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/?sslMode=DISABLED",
                         "tlsuser", "tlspw");
                 var st = c.createStatement();
                 var rs = st.executeQuery("SHOW SESSION STATUS LIKE 'Ssl_cipher'")) {
                rs.next();
                assertThat(rs.getString(2)).as("cipher between proxy and MariaDB").isNotBlank();
            }
        }
    }
}
