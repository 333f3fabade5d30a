package io.proxyfleet.frontend;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.proxyfleet.login.FrontendHandshake;
import io.proxyfleet.protocol.StatusFlags;
import io.proxyfleet.routing.SessionVariable;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The session state a client set with SET statements the proxy understood, against a baseline: the character set
 * the client negotiated in its handshake for the charset variables, the server's default for every other one.
 * The state lives in the client session, not on any backend connection: before a query runs on a connection,
 * {@link #alignmentSql} says which SET brings the connection to this state, and local OKs carry the
 * {@link #statusFlags status flags} a server in this state would send.
 *
 * <p>Only departures from the baseline are stored, as the server would apply them: {@code SET NAMES} and
 * {@code SET CHARACTER SET} are broken down into the variables they set, and the connection character set is one
 * setting however it was last chosen (by character set, by collation, or from the database's collation).
 *
 * <p>Owned by the session's event loop (which is also the loop of every connection it aligns).
 */
final class SessionVariables {
    /** Collation ids from here on exist only in MySQL 8; a MariaDB backend would refuse them at login. */
    private static final int FIRST_MYSQL8_ONLY_COLLATION = 255;
    private static final String CLIENT = "character_set_client";
    private static final String RESULTS = "character_set_results";
    private static final String CONNECTION_CHARSET = "character_set_connection";
    private static final String CONNECTION_COLLATION = "collation_connection";
    /**
     * The connection character set taken from the database's collation, as SET CHARACTER SET does; the value is
     * the schema that was current then ("" for none).
     */
    private static final String CONNECTION_FROM_DATABASE = "collation_connection<database";
    private static final String SQL_MODE = "sql_mode";
    private static final String NO_BACKSLASH_ESCAPES = "NO_BACKSLASH_ESCAPES";
    private static final String DEFAULT = "DEFAULT";
    private static final String[] CLIENT_AND_RESULTS = {CLIENT, RESULTS};
    private static final String[] CONNECTION_SETTINGS = {CONNECTION_CHARSET, CONNECTION_COLLATION,
            CONNECTION_FROM_DATABASE};

    /** Empty until the first SET: most sessions never set anything, and idle sessions should stay small. */
    private Map<String, String> values = Map.of();
    /** {@link #values} as a server last accepted them; the baseline until then. */
    private Map<String, String> confirmed = Map.of();
    /** The collation the session's backend connections log in with, which their charset baseline follows. */
    private int collation = FrontendHandshake.SERVER_COLLATION;
    /** Status flags a backend last reported that the session's own settings do not decide. */
    private int observedFlags;

    /** The collation the client asked for in its handshake (or COM_CHANGE_USER). */
    void negotiated(int clientCollation) {
        collation = clientCollation >= FIRST_MYSQL8_ONLY_COLLATION ? FrontendHandshake.SERVER_COLLATION
                : clientCollation;
    }

    /** The collation backend connections for this session log in with: the client's, if every server knows it. */
    int backendCollation() {
        return collation;
    }

    /**
     * Records the session-scoped tracked assignments of one SET statement, in order; others (user variables, the
     * next transaction's characteristics, untracked names) are left to the backend that runs the statement.
     *
     * @param schema the session's current schema, which SET CHARACTER SET takes the connection collation from
     */
    void apply(List<SessionVariable> assigned, String schema) {
        for (SessionVariable variable : assigned) {
            if (variable.tracked() && variable.scope() == SessionVariable.Scope.SESSION) {
                set(variable.name(), variable.value(), schema);
            }
        }
    }

    private void set(String name, String value, String schema) {
        if (values.isEmpty()) {
            values = new LinkedHashMap<>();
        }
        switch (name) {
            case "names" -> {
                values.put(CLIENT, value);
                values.put(RESULTS, value);
                connection(CONNECTION_CHARSET, value);
            }
            case "charset" -> {
                values.put(CLIENT, value);
                values.put(RESULTS, value);
                connection(CONNECTION_FROM_DATABASE, schema == null ? "" : schema);
            }
            case CLIENT, RESULTS, "character_set_database" -> values.put(name, value);
            case CONNECTION_CHARSET, CONNECTION_COLLATION -> connection(name, value);
            default -> {
                // DEFAULT is the global value, which is what a fresh connection has: the baseline.
                if (value.equalsIgnoreCase(DEFAULT)) {
                    values.remove(name);
                } else {
                    values.put(name, value);
                }
            }
        }
    }

    /** The connection character set is one setting; the last way of choosing it wins. */
    private void connection(String name, String value) {
        values.remove(CONNECTION_CHARSET);
        values.remove(CONNECTION_COLLATION);
        values.remove(CONNECTION_FROM_DATABASE);
        values.put(name, value);
    }

    /** Back to the baseline: COM_RESET_CONNECTION and COM_CHANGE_USER. The negotiated collation stays. */
    void clear() {
        values = Map.of();
        confirmed = Map.of();
        observedFlags &= StatusFlags.NO_BACKSLASH_ESCAPES; // what the server's sql_mode has
    }

    /** False once the client turned autocommit off. */
    boolean autocommit() {
        String v = values.get("autocommit");
        return v == null || !(v.equals("0") || v.equalsIgnoreCase("OFF") || v.equalsIgnoreCase("FALSE"));
    }

    /**
     * The status flags a server in this session's state sends, for OKs the proxy answers itself: autocommit, the
     * transaction, and NO_BACKSLASH_ESCAPES from sql_mode (from the backend's last report while the session keeps
     * the server's sql_mode, which the proxy does not know).
     */
    int statusFlags(boolean inTransaction) {
        int flags = autocommit() ? StatusFlags.AUTOCOMMIT : 0;
        if (inTransaction) {
            flags |= StatusFlags.IN_TRANS | (observedFlags & StatusFlags.IN_TRANS_READONLY);
        }
        String sqlMode = values.get(SQL_MODE);
        if (sqlMode == null ? (observedFlags & StatusFlags.NO_BACKSLASH_ESCAPES) != 0 : hasMode(sqlMode)) {
            flags |= StatusFlags.NO_BACKSLASH_ESCAPES;
        }
        return flags;
    }

    /** Takes note of the status flags a backend in this session's state sent at the end of a command. */
    void observe(int backendStatusFlags) {
        // While the session has its own sql_mode, the flag says nothing about the server's.
        int noBackslashEscapes = (values.containsKey(SQL_MODE) ? observedFlags : backendStatusFlags)
                & StatusFlags.NO_BACKSLASH_ESCAPES;
        observedFlags = (backendStatusFlags & StatusFlags.IN_TRANS_READONLY) | noBackslashEscapes;
    }

    /** Whether the comma-separated {@code sqlMode} lists NO_BACKSLASH_ESCAPES; PINGs ask, so nothing allocates. */
    private static boolean hasMode(String sqlMode) {
        int at = 0;
        while (at <= sqlMode.length()) {
            int comma = sqlMode.indexOf(',', at);
            int end = comma < 0 ? sqlMode.length() : comma;
            int start = at;
            while (start < end && sqlMode.charAt(start) == ' ') {
                start++;
            }
            while (end > start && sqlMode.charAt(end - 1) == ' ') {
                end--;
            }
            if (end - start == NO_BACKSLASH_ESCAPES.length()
                    && sqlMode.regionMatches(true, start, NO_BACKSLASH_ESCAPES, 0, end - start)) {
                return true;
            }
            at = (comma < 0 ? sqlMode.length() : comma) + 1;
        }
        return false;
    }

    /** Makes {@code applied}, a connection's record of what was set on it, say that it is in this session's state. */
    void recordOn(Map<String, String> applied) {
        applied.clear();
        applied.putAll(values);
        if (!values.equals(confirmed)) {
            confirmed = Map.copyOf(values);
        }
    }

    /**
     * A server refused the alignment SET: some value the proxy accepted for the client is invalid (an unknown time
     * zone, say). The server would have refused that SET and kept the session as it was, so the session goes back
     * to the state a server last accepted; otherwise every later query would fail the same way.
     */
    void alignmentRefused() {
        values = confirmed.isEmpty() ? Map.of() : new LinkedHashMap<>(confirmed);
    }

    /**
     * The single SET statement that turns a connection whose applied variables are {@code applied} into this
     * session's state, or {@code null} when they already agree. The connection logged in with this session's
     * collation (it is part of the pool key), so a variable it does not list is at the same baseline. Variables
     * the connection has but the session does not go back to the baseline: the negotiated collation for the
     * charset variables, DEFAULT (the server's global value) for the others. {@code mariadb} picks the isolation
     * variable names of MariaDB 10.x.
     */
    String alignmentSql(Map<String, String> applied, boolean mariadb) {
        StringBuilder sql = null;
        for (String name : CLIENT_AND_RESULTS) {
            String wanted = values.get(name);
            if (!Objects.equals(wanted, applied.get(name))) {
                sql = start(sql).append("@@session.").append(name).append(" = ")
                        .append(wanted == null ? Integer.toString(collation) : quoteIfNeeded(wanted));
            }
        }
        if (!sameConnectionSetting(values, applied)) {
            sql = appendConnection(start(sql));
        }
        for (Map.Entry<String, String> e : values.entrySet()) {
            if (!isCharset(e.getKey()) && !e.getValue().equals(applied.get(e.getKey()))) {
                sql = append(start(sql), e.getKey(), e.getValue(), mariadb);
            }
        }
        for (String name : applied.keySet()) {
            if (!isCharset(name) && !values.containsKey(name)) {
                sql = append(start(sql), name, null, mariadb);
            }
        }
        return sql == null ? null : sql.toString();
    }

    private static boolean isCharset(String name) {
        return name.equals(CLIENT) || name.equals(RESULTS) || name.equals(CONNECTION_CHARSET)
                || name.equals(CONNECTION_COLLATION) || name.equals(CONNECTION_FROM_DATABASE);
    }

    /** Whether both chose the connection character set the same way (or both kept the baseline). */
    private static boolean sameConnectionSetting(Map<String, String> a, Map<String, String> b) {
        for (String name : CONNECTION_SETTINGS) {
            if (!Objects.equals(a.get(name), b.get(name))) {
                return false;
            }
        }
        return true;
    }

    private StringBuilder appendConnection(StringBuilder out) {
        String value;
        if ((value = values.get(CONNECTION_CHARSET)) != null) {
            return out.append("@@session.character_set_connection = ").append(quoteIfNeeded(value));
        }
        out.append("@@session.collation_connection = ");
        if ((value = values.get(CONNECTION_COLLATION)) != null) {
            return out.append(quoteIfNeeded(value));
        }
        if ((value = values.get(CONNECTION_FROM_DATABASE)) != null) {
            // collation_database as it was at the SET, even if the session changed schema since; with no schema
            // (or one dropped since) that is the server's collation.
            return out.append("COALESCE((SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA"
                    + " WHERE SCHEMA_NAME = CONVERT(X'").append(HexFormat.of().formatHex(value.getBytes(UTF_8)))
                    .append("' USING utf8mb4)), @@session.collation_server)");
        }
        return out.append(collation);
    }

    private static StringBuilder start(StringBuilder sql) {
        return sql == null ? new StringBuilder("SET ") : sql.append(", ");
    }

    private static StringBuilder append(StringBuilder out, String name, String value, boolean mariadb) {
        String variable = mariadb && (name.equals("transaction_isolation") || name.equals("transaction_read_only"))
                ? name.replace("transaction_", "tx_") : name;
        return out.append("@@session.").append(variable).append(" = ")
                .append(value == null ? DEFAULT : quoteIfNeeded(value));
    }

    /** Words and numbers go as they are (autocommit=0, ON); anything else as a quoted string. */
    static String quoteIfNeeded(String value) {
        boolean word = !value.isEmpty();
        for (int i = 0; i < value.length() && word; i++) {
            char c = value.charAt(i);
            word = Character.isLetterOrDigit(c) || c == '_';
        }
        return word ? value : quote(value);
    }

    /**
     * A string literal that reads the same with and without NO_BACKSLASH_ESCAPES: quotes are doubled, and
     * {@link io.proxyfleet.routing.SetStatementParser} leaves values with a backslash, whose meaning depends on
     * the mode, to the backend.
     */
    private static String quote(String value) {
        return "'" + value.replace("'", "''") + "'";
    }
}
