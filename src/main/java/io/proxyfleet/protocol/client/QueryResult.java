package io.proxyfleet.protocol.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What a {@code COM_QUERY} returned: rows, or an OK. Immutable. */
public sealed interface QueryResult {

    /** A statement that returns no rows (INSERT, SET, LOAD ... TO RUNTIME, ...). */
    record Ok(long affectedRows, long lastInsertId, int statusFlags, int warnings, String info) implements QueryResult {
    }

    /**
     * A text-protocol result set.
     *
     * @param columns column names (the {@code name} field of each column definition, i.e. the alias)
     * @param rows    each row's cells as text; a SQL NULL is {@code null}
     */
    record Rows(List<String> columns, List<List<String>> rows) implements QueryResult {
        public Rows {
            columns = List.copyOf(columns);
            List<List<String>> copy = new ArrayList<>(rows.size());
            for (List<String> row : rows) {
                // List.copyOf rejects nulls, and NULL cells are legitimate here.
                copy.add(Collections.unmodifiableList(new ArrayList<>(row)));
            }
            rows = Collections.unmodifiableList(copy);
        }

        /** Index of a column by name, ignoring case; -1 when absent. */
        public int columnIndex(String name) {
            for (int i = 0; i < columns.size(); i++) {
                if (columns.get(i).equalsIgnoreCase(name)) {
                    return i;
                }
            }
            return -1;
        }
    }
}
