package io.proxyfleet.admin;

import io.proxyfleet.admin.AdminDatabase.Table;
import io.proxyfleet.protocol.client.QueryResult;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The source side of ProxyFleet's delta sync (beyond ProxySQL, which always fetches whole tables): answers
 * {@code PROXYFLEET CLUSTER DELTA mysql_users FROM <checksum>} with only the rows that differ between the
 * configuration a ProxyFleet peer runs (named by its checksum) and the one this node serves now. Each answer row is
 * {@code change} ({@value #REMOVED} or {@value #ADDED}) followed by the row as peers fetch it with
 * {@code PROXY_SELECT ... FROM runtime_mysql_users}; a changed user is one removed and one added row. The peer applies
 * it to its own rows and must compute the checksum this node advertises, or it pulls the whole table.
 *
 * <p>The base rows come from the version served just before the current one (kept in memory: the usual case, a peer
 * one change behind) or else from the history ({@link ClusterHistory}). A table of fewer than {@link #MIN_DELTA_ROWS}
 * rows, an unknown base, or a delta larger than {@link #MAX_DELTA_SHARE} of the table is refused with an error, and
 * the peer falls back to the whole table.
 *
 * <p>Thread ownership: the engine's admin thread only.
 */
final class ClusterDelta {
    static final String CHANGE_COLUMN = "change";
    static final String REMOVED = "-";
    static final String ADDED = "+";
    /** The only module with deltas: the one that grows to 100,000 rows. */
    static final String MODULE = "mysql_users";
    /** Past this share of the table's rows a delta costs about as much as the table itself. */
    private static final double MAX_DELTA_SHARE = 0.5;
    /** Smaller tables travel whole, as in ProxySQL: a whole pull of them is already cheap. */
    static final int MIN_DELTA_ROWS = 1_000;

    private final ClusterHistory history;
    private String previousChecksum;
    private List<? extends List<?>> previousRows;
    private String currentChecksum;
    private List<? extends List<?>> currentRows;
    /** The answer from {@link #previousChecksum} to {@link #currentChecksum} when the load knew it; else null. */
    private List<List<String>> lastChange;

    ClusterDelta(ClusterHistory history) {
        this.history = history;
    }

    /**
     * Called at every load of {@code mysql_users} with what peers fetch from now on and, when the load read only
     * the changed users, their rows before and after it (else null): then the answer to a peer one change behind
     * is ready without comparing 100,000 rows.
     */
    void served(String checksum, Table rows, List<? extends List<?>> removed, List<? extends List<?>> added) {
        if (checksum.equals(currentChecksum)) {
            currentRows = rows.rows();
            return;
        }
        boolean known = removed != null && added != null && currentChecksum != null;
        previousChecksum = currentChecksum;
        previousRows = currentRows;
        currentChecksum = checksum;
        currentRows = rows.rows();
        lastChange = known ? difference(added, removed) : null;
    }

    /** The answer to {@code PROXYFLEET CLUSTER DELTA <module> FROM <base>}, against {@code current}. */
    AdminResponse.ResultSet delta(String module, String base, Table current) throws SQLException, AdminException {
        if (!MODULE.equals(module)) {
            throw new AdminException("no delta sync for module " + module);
        }
        if (current.rows().size() < MIN_DELTA_ROWS) {
            throw new AdminException(module + " has " + current.rows().size() + " rows, fewer than "
                    + MIN_DELTA_ROWS + "; fetch the whole table");
        }
        if (base.equals(previousChecksum) && lastChange != null) {
            return answer(lastChange, current, module, base);
        }
        if (base.equals(currentChecksum)) {
            return answer(List.of(), current, module, base);
        }
        List<? extends List<?>> baseRows = base.equals(previousChecksum) ? previousRows : fromHistory(base);
        if (baseRows == null) {
            throw new AdminException("base " + base + " of " + module + " is not in this node's history");
        }
        return answer(difference(current.rows(), baseRows), current, module, base);
    }

    private static AdminResponse.ResultSet answer(List<List<String>> changes, Table current, String module,
                                                  String base) throws AdminException {
        int limit = (int) Math.max(1, current.rows().size() * MAX_DELTA_SHARE);
        if (changes.size() > limit) {
            throw new AdminException("the delta of " + module + " since " + base + " is larger than " + limit
                    + " rows; fetch the whole table");
        }
        List<String> columns = new ArrayList<>(current.columns().size() + 1);
        columns.add(CHANGE_COLUMN);
        columns.addAll(current.columns());
        return new AdminResponse.ResultSet(columns, changes);
    }

    /** The delta from {@code base} to {@code current} rows as multisets: added rows first, then removed ones. */
    private static List<List<String>> difference(List<? extends List<?>> current, List<? extends List<?>> base) {
        Map<List<?>, Integer> left = new HashMap<>();
        for (List<?> row : base) {
            left.merge(row, 1, Integer::sum);
        }
        List<List<String>> out = new ArrayList<>();
        for (List<?> row : current) {
            Integer n = left.get(row);
            if (n == null) {
                out.add(changed(ADDED, row));
            } else if (n == 1) {
                left.remove(row);
            } else {
                left.put(row, n - 1);
            }
        }
        for (List<?> row : base) {
            Integer n = left.get(row);
            if (n != null) {
                out.add(changed(REMOVED, row));
                if (n == 1) {
                    left.remove(row);
                } else {
                    left.put(row, n - 1);
                }
            }
        }
        return List.copyOf(out);
    }

    private List<List<String>> fromHistory(String base) throws SQLException {
        Map<String, QueryResult.Rows> rows = history.rowsOf(MODULE, base);
        return rows == null || rows.get(MODULE) == null ? null : rows.get(MODULE).rows();
    }

    private static List<String> changed(String change, List<?> row) {
        List<String> out = new ArrayList<>(row.size() + 1);
        out.add(change);
        for (Object cell : row) {
            out.add(Table.text(cell));
        }
        return out;
    }
}
