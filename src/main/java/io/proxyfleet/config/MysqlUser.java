package io.proxyfleet.config;

/**
 * One row of {@code mysql_users}, as loaded to runtime. Immutable; safe to share between threads.
 *
 * @param password clear text, or {@code *HEX} (SHA1(SHA1(pwd)) as MySQL's PASSWORD() prints it), or empty
 */
public record MysqlUser(
        String username,
        String password,
        boolean active,
        boolean useSsl,
        int defaultHostgroup,
        String defaultSchema,
        boolean schemaLocked,
        boolean transactionPersistent,
        boolean fastForward,
        boolean backend,
        boolean frontend,
        int maxConnections,
        String attributes,
        String comment) {

    public MysqlUser {
        if (username == null || username.isEmpty()) {
            throw new IllegalArgumentException("username must not be empty");
        }
        password = password == null ? "" : password;
        attributes = attributes == null ? "" : attributes;
        comment = comment == null ? "" : comment;
    }

    /** A user with ProxySQL's column defaults: active, both frontend and backend, default hostgroup as given. */
    public static MysqlUser of(String username, String password, int defaultHostgroup) {
        return new MysqlUser(username, password, true, false, defaultHostgroup, null, false, true, false,
                true, true, 10000, "", "");
    }

    /** True when the password column holds MySQL's double-SHA1 form rather than clear text. */
    public boolean passwordIsHashed() {
        return password.length() == 41 && password.charAt(0) == '*';
    }
}
