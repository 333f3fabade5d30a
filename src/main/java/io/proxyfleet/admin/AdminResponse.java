package io.proxyfleet.admin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The answer to one admin statement, ready for the listener to encode as MySQL packets. Immutable.
 */
public sealed interface AdminResponse {

    /** MySQL error code ProxySQL uses for every SQLite error and most admin errors (sic, "access denied"). */
    int ER_ADMIN = 1045;
    /** SQLSTATE that goes with {@link #ER_ADMIN}. */
    String SQLSTATE_ADMIN = "28000";
    /** Prefix of every admin error message, as ProxySQL writes it. */
    String ERROR_PREFIX = "ProxySQL Admin Error: ";

    /**
     * A result set. Every column is text, as ProxySQL sends VAR_STRING columns with SQLite's text rendering.
     *
     * @param rows each row has {@code columns.size()} cells; a {@code null} cell is SQL NULL
     */
    record ResultSet(List<String> columns, List<List<String>> rows) implements AdminResponse {
        public ResultSet {
            columns = List.copyOf(columns);
            var frozen = new ArrayList<List<String>>(rows.size());
            for (List<String> row : rows) {
                // List.copyOf refuses nulls, and null cells are meaningful here.
                frozen.add(Collections.unmodifiableList(new ArrayList<>(row)));
            }
            rows = Collections.unmodifiableList(frozen);
        }

        /** A one-row result, handy for the many single-value housekeeping answers. */
        public static ResultSet single(String column, String value) {
            return new ResultSet(List.of(column), List.of(Collections.singletonList(value)));
        }
    }

    /** Success without rows. {@code info} is the OK packet's message (often empty). */
    record Ok(long affectedRows, String info) implements AdminResponse {
        public Ok {
            info = info == null ? "" : info;
        }

        public static Ok empty() {
            return new Ok(0, "");
        }
    }

    /** A failure; the engine's state is unchanged and it keeps serving. */
    record Error(int code, String sqlState, String message) implements AdminResponse {
        /** An error with ProxySQL's usual code, SQLSTATE and {@code ProxySQL Admin Error: } prefix. */
        public static Error admin(String message) {
            return new Error(ER_ADMIN, SQLSTATE_ADMIN, ERROR_PREFIX + message);
        }
    }
}
