package io.proxyfleet.admin;

import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.checksum.Checksums;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The two statements every cluster peer sends each check, {@code SELECT GLOBAL_CHECKSUM()} and
 * {@code SELECT * FROM runtime_checksums_values ORDER BY name} (ProxySQL's texts, §4.9), answered from the published
 * module versions on the session's event loop instead of on the admin thread. On the admin thread they waited behind
 * whatever it was doing, typically the apply and save to disk of the very change the asking peer wants to see
 * acknowledged (300-800 ms at 10 core nodes); and the second rewrote a SQLite table for every check. The bytes on
 * the wire are those the SQL path gives: the same columns, the rows in name order, numbers as text.
 *
 * <p>Threads: any; reads a volatile snapshot only.
 */
final class ClusterChecksumAnswers {
    static final String GLOBAL_CHECKSUM = "SELECT GLOBAL_CHECKSUM()";
    static final String CHECKSUMS = "SELECT * FROM runtime_checksums_values ORDER BY name";
    private static final List<String> CHECKSUM_COLUMNS = List.of("name", "version", "epoch", "checksum");

    private ClusterChecksumAnswers() {
    }

    /** The answer to {@code sql} from an admin user, or null when it is not one of the two statements. */
    static AdminResponse answer(AdminPrincipal who, String sql, Map<String, ModuleVersion> published) {
        if (who.role() != AdminRole.ADMIN || sql == null) {
            return null;
        }
        if (sql.equals(GLOBAL_CHECKSUM)) {
            return AdminResponse.ResultSet.single("CHECKSUM", Long.toString(Checksums.globalChecksum(published)));
        }
        if (sql.equals(CHECKSUMS)) {
            List<List<String>> rows = new ArrayList<>(published.size());
            new TreeMap<>(published).forEach((name, v) -> rows.add(List.of(name, Long.toString(v.version()),
                    Long.toString(v.epoch()), v.checksum())));
            return new AdminResponse.ResultSet(CHECKSUM_COLUMNS, rows);
        }
        return null;
    }
}
