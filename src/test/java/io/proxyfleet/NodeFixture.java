package io.proxyfleet;

import io.proxyfleet.testkit.FreePorts;
import io.proxyfleet.testkit.MysqlCli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts whole nodes in the test JVM on free loopback ports, with a data directory of their own. */
public final class NodeFixture {
    private NodeFixture() {
    }

    /** Writes a ProxySQL-format config file that binds admin and traffic to the given loopback ports. */
    public static Path writeConfig(Path dir, int adminPort, int trafficPort, String extra) throws IOException {
        return write(dir, adminPort, """
                    admin_credentials="admin:admin"
                """, trafficPort, """
                    threads=2
                    server_version="5.5.30"
                    connect_timeout_server_max=3000
                """, extra);
    }

    /**
     * Writes {@code dir/proxysql.cnf} for a node with one event loop: admin on {@code adminPort} with the lines
     * {@code adminVariables} (its credentials among them), traffic on a free port, then the top-level sections
     * {@code extra} (a proxysql_servers list, say).
     */
    public static Path writeOneLoopConfig(Path dir, int adminPort, String adminVariables, String extra)
            throws IOException {
        return write(dir, adminPort, adminVariables, freePort(), """
                    threads=1
                    server_version="5.5.30"
                """, extra);
    }

    /** {@code dir/proxysql.cnf} with the listeners on loopback and the given lines in each section. */
    private static Path write(Path dir, int adminPort, String adminVariables, int trafficPort, String mysqlVariables,
                              String extra) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("proxysql.cnf");
        Files.writeString(file, """
                datadir="%s"
                admin_variables=
                {
                    mysql_ifaces="127.0.0.1:%d"
                %s}
                mysql_variables=
                {
                    interfaces="127.0.0.1:%d"
                %s}
                %s
                """.formatted(dir, adminPort, adminVariables, trafficPort, mysqlVariables, extra));
        return file;
    }

    /** A config file's proxysql_servers section listing {@code adminPorts} on loopback, commented n0, n1... */
    public static String proxysqlServers(int... adminPorts) {
        StringBuilder servers = new StringBuilder("proxysql_servers=\n(\n");
        for (int i = 0; i < adminPorts.length; i++) {
            servers.append("    { hostname=\"127.0.0.1\", port=%d, weight=0, comment=\"n%d\" }%s\n"
                    .formatted(adminPorts[i], i, i + 1 < adminPorts.length ? "," : ""));
        }
        return servers.append(")\n").toString();
    }

    public static ProxyFleetNode start(Path dataDir, Path configFile) {
        return ProxyFleetNode.start(new NodeOptions(dataDir, configFile, true, false, false));
    }

    public static int freePort() {
        return FreePorts.loopback();
    }

    /** Runs statements on the admin port with the mysql CLI in batch mode; returns the result. */
    public static MysqlCli.Result admin(int port, String... statements) {
        List<String> args = new ArrayList<>(MysqlCli.loginArgs("127.0.0.1", port, "admin", "admin", "-N", "-B"));
        return MysqlCli.run(args, String.join(";\n", statements) + ";\n", MysqlCli.DEFAULT_TIMEOUT);
    }
}
