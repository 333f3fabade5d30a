package io.proxyfleet.web.dashboard;

import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.admin.AdminResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The dashboard's reads of the admin tables: each statement goes through the admin engine's queue, exactly as
 * an admin session's would, so the {@code stats_*} tables are filled as they are for {@code mysql} clients.
 * Stateless; called from handler threads and the sampler thread, which wait at most {@link #TIMEOUT_SECONDS}.
 */
final class AdminQueries {
    static final long TIMEOUT_SECONDS = 5;

    /** The admin engine did not answer, or answered with an error; the handler turns it into a 503. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message);
        }
    }

    private final AdminEngine admin;

    AdminQueries(AdminEngine admin) {
        this.admin = admin;
    }

    /** The rows of {@code sql}, each a column-name to cell map in column order. */
    List<Map<String, Object>> rows(String sql) throws Unavailable, InterruptedException {
        AdminResponse response;
        try {
            response = admin.runSql(sql).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new Unavailable("the admin engine did not answer within " + TIMEOUT_SECONDS + " s");
        } catch (ExecutionException e) {
            throw new Unavailable("the admin engine failed: " + e.getCause().getMessage());
        }
        if (!(response instanceof AdminResponse.ResultSet rs)) {
            throw new Unavailable("the admin engine refused a dashboard query: " + response);
        }
        List<Map<String, Object>> out = new ArrayList<>(rs.rows().size());
        for (List<String> row : rs.rows()) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (int i = 0; i < rs.columns().size(); i++) {
                map.put(rs.columns().get(i), row.get(i));
            }
            out.add(map);
        }
        return out;
    }

    /** The single number {@code sql} answers, or 0 for NULL. */
    long number(String sql) throws Unavailable, InterruptedException {
        List<Map<String, Object>> rows = rows(sql);
        if (rows.isEmpty()) {
            return 0;
        }
        Object cell = rows.getFirst().values().iterator().next();
        try {
            return cell == null ? 0 : Long.parseLong(cell.toString().trim());
        } catch (NumberFormatException e) {
            throw new Unavailable("not a number: " + cell);
        }
    }
}
