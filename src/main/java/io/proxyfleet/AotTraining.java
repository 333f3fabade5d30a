package io.proxyfleet;

import io.proxyfleet.login.tls.ClientContexts;
import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.protocol.client.ClientTls;
import io.proxyfleet.protocol.client.MysqlErrorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The training run of the ahead-of-time cache (JEPs 483, 514 and 515): {@code bin/proxyfleet} runs this class once
 * per jar and JVM with {@code -XX:AOTCacheOutput}, and every later start maps the classes it loaded and linked,
 * and the method profiles it gathered, instead of loading, verifying and profiling them again. It does what a node
 * does in its first seconds, as {@link Main} does it: parses a command line, starts a node from a config file in
 * a throwaway data directory (as at a restart: the TLS files are there, written by an earlier JVM, see
 * {@link #main}; the SQLite schema is created), answers admin statements
 * over TLS (the mysql client asks for TLS by default, so the first admin login of every start is a TLS handshake:
 * without this its 260 JDK TLS classes were loaded from the modules file at each start), logs a client in on the
 * traffic port and fails its query on a backend that refuses connections, then stops.
 * Runs on the main thread; the node's own threads stop with it.
 */
public final class AotTraining {
    private static final String ADMIN_USER = "admin";
    private static final String ADMIN_PASSWORD = "admin";
    private static final String TRAFFIC_USER = "training";
    private static final String TRAFFIC_PASSWORD = "training";
    /** Port 1 (tcpmux) is never served here: a backend connection attempt is refused at once. */
    private static final int REFUSING_PORT = 1;
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(30);
    private static final String TLS_FILES_FLAG = "--tls-files";
    /** What an operator typically runs on a fresh node, plus the statistics a dashboard polls. */
    private static final List<String> ADMIN_STATEMENTS = List.of(
            "SELECT 1",
            "SELECT * FROM mysql_servers",
            "SELECT * FROM runtime_mysql_users",
            // The refused backend fails the traffic query as soon as retrying gives up, not after the default 10 s.
            "UPDATE global_variables SET variable_value = '500' WHERE variable_name IN"
                    + " ('mysql-connect_timeout_server', 'mysql-connect_timeout_server_max')",
            "LOAD MYSQL VARIABLES TO RUNTIME",
            "LOAD MYSQL SERVERS TO RUNTIME",
            "SELECT * FROM stats_mysql_global",
            "SELECT * FROM stats_mysql_connection_pool",
            "SELECT * FROM stats_mysql_query_digest");

    private AotTraining() {
    }

    /**
     * {@code --tls-files DIR} writes a data directory's TLS files and stops; {@code DIR} (a directory with those
     * files and nothing else) trains. Run as two JVMs so that Bouncy Castle, which generates the files, stays out of
     * the cache: its jars are signed, so the JVM cannot cache their classes, and every class in the cache that
     * refers to one made each start load it from its jar and check the jar's signature (about 0.5 s of CPU).
     */
    public static void main(String[] args) throws IOException {
        if (args.length == 2 && args[0].equals(TLS_FILES_FLAG)) {
            TlsFiles.open(Path.of(args[1]));
            return;
        }
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: AotTraining [" + TLS_FILES_FLAG + "] DIR");
        }
        train(Path.of(args[0]));
        LogSetup.flushAndStop();
    }

    private static void train(Path dir) throws IOException {
        Path config = dir.resolve("training.cnf");
        Files.writeString(config, """
                admin_variables=
                {
                    admin_credentials="%s:%s"
                    mysql_ifaces="127.0.0.1:0"
                }
                mysql_variables=
                {
                    interfaces="127.0.0.1:0"
                }
                mysql_servers=
                (
                    { address="127.0.0.1", port=%d, hostgroup=0 }
                )
                mysql_users=
                (
                    { username="%s", password="%s", default_hostgroup=0 }
                )
                """.formatted(ADMIN_USER, ADMIN_PASSWORD, REFUSING_PORT, TRAFFIC_USER, TRAFFIC_PASSWORD));
        NodeOptions options = Main.withoutPicocli("-f", "-D", dir.toString(), "-c", config.toString()).orElseThrow()
                .nodeOptions();
        try (LogSetup logging = LogSetup.configure(options.dataDir(), false);
             ProxyFleetNode node = ProxyFleetNode.start(options)) {
            var tls = new ClientTls(ClientContexts.verifying(dir.resolve(TlsFiles.CA_FILE), null, null), true, false);
            try (BlockingMysqlClient admin = BlockingMysqlClient.connect(BlockingMysqlClient.Options.of("127.0.0.1",
                    node.adminPort(), ADMIN_USER, ADMIN_PASSWORD, CLIENT_TIMEOUT, CLIENT_TIMEOUT), tls)) {
                for (String sql : ADMIN_STATEMENTS) {
                    admin.query(sql);
                }
            }
            try (BlockingMysqlClient client = connect(node.trafficPort(), TRAFFIC_USER, TRAFFIC_PASSWORD)) {
                client.query("SELECT 1");
            } catch (MysqlErrorException expected) {
                // The backend refuses: the client hears of it, which is the path being trained.
            }
        }
    }

    private static BlockingMysqlClient connect(int port, String user, String password) throws IOException {
        return BlockingMysqlClient.connect(BlockingMysqlClient.Options.of("127.0.0.1", port, user, password,
                CLIENT_TIMEOUT, CLIENT_TIMEOUT));
    }
}
