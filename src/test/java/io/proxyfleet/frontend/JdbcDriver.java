package io.proxyfleet.frontend;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The two JDBC drivers the traffic tests run against the proxy, each with a URL builder, so that a test can be
 * parameterized over both. Stateless.
 */
enum JdbcDriver {
    CONNECTOR_J("jdbc:mysql://", "sslMode=DISABLED"),
    MARIADB("jdbc:mariadb://", "");

    private static final String HOST = "127.0.0.1";
    /** A test waits this long for any socket read before failing instead of hanging. */
    private static final int SOCKET_TIMEOUT_MILLIS = 60_000;
    /** Generous: other jobs may load this 2-core machine, and a TLS handshake is CPU work. */
    private static final int CONNECT_TIMEOUT_MILLIS = 30_000;

    private final String prefix;
    private final String defaults;

    JdbcDriver(String prefix, String defaults) {
        this.prefix = prefix;
        this.defaults = defaults;
    }

    /** A URL for {@code database} on the proxy, with this driver's defaults and then {@code options} ("a=b&c=d"). */
    String url(int port, String database, String options) {
        StringBuilder query = new StringBuilder(defaults);
        if (!options.isEmpty()) {
            query.append(query.isEmpty() ? "" : "&").append(options);
        }
        return prefix + HOST + ":" + port + "/" + (database == null ? "" : database)
                + (query.isEmpty() ? "" : "?" + query);
    }

    Connection connect(int port, String database, String user, String password, String options)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_MILLIS));
        props.setProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_MILLIS));
        return DriverManager.getConnection(url(port, database, options), props);
    }
}
