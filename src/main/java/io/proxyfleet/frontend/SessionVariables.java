package io.proxyfleet.frontend;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Session variables a client set with SET statements the proxy understood. They live in the client session, not
 * on any backend connection: before a query runs on a connection, {@link #alignmentSql} says which SET brings the
 * connection to this state. Owned by the session's (and the connection's) event loop.
 */
final class SessionVariables {
    /** Empty until the first SET: most sessions never set anything, and idle sessions should stay small. */
    private Map<String, String> values = Map.of();

    void set(String name, String value) {
        if (values.isEmpty()) {
            values = new LinkedHashMap<>();
        }
        values.put(name, value);
    }

    void clear() {
        values = Map.of();
    }

    boolean isEmpty() {
        return values.isEmpty();
    }

    Map<String, String> values() {
        return values;
    }

    /** False once the client turned autocommit off. */
    boolean autocommit() {
        String v = values.get("autocommit");
        return v == null || !(v.equals("0") || v.equalsIgnoreCase("OFF") || v.equalsIgnoreCase("FALSE"));
    }

    /**
     * The single SET statement that turns a connection whose applied variables are {@code applied} into this
     * session's state, or {@code null} when they already agree. Variables the connection has but the session
     * never set go back to DEFAULT. {@code mariadb} picks the isolation variable names of MariaDB 10.x.
     */
    String alignmentSql(Map<String, String> applied, boolean mariadb) {
        StringBuilder sql = null;
        for (Map.Entry<String, String> e : values.entrySet()) {
            if (!e.getValue().equals(applied.get(e.getKey()))) {
                sql = append(sql, e.getKey(), e.getValue(), mariadb);
            }
        }
        for (String name : applied.keySet()) {
            if (!values.containsKey(name)) {
                sql = append(sql, name, null, mariadb);
            }
        }
        return sql == null ? null : sql.toString();
    }

    private static StringBuilder append(StringBuilder sql, String name, String value, boolean mariadb) {
        StringBuilder out = sql == null ? new StringBuilder("SET ") : sql.append(", ");
        switch (name) {
            case "names" -> out.append("NAMES ").append(value == null ? "DEFAULT" : quoteIfNeeded(value));
            case "charset" -> out.append("CHARACTER SET ").append(value == null ? "DEFAULT" : quoteIfNeeded(value));
            case "transaction_isolation", "transaction_read_only" -> {
                String variable = mariadb ? name.replace("transaction_", "tx_") : name;
                out.append("@@session.").append(variable).append(" = ")
                        .append(value == null ? "DEFAULT" : quoteIfNeeded(value));
            }
            default -> out.append("@@session.").append(name).append(" = ")
                    .append(value == null ? "DEFAULT" : quoteIfNeeded(value));
        }
        return out;
    }

    /** Words and numbers go as they are (autocommit=0, ON); anything else as a quoted string. */
    static String quoteIfNeeded(String value) {
        boolean word = !value.isEmpty();
        for (int i = 0; i < value.length() && word; i++) {
            char c = value.charAt(i);
            word = Character.isLetterOrDigit(c) || c == '_';
        }
        if (word) {
            return value;
        }
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }
}
