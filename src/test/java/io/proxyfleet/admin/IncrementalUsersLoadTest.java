package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.checksum.Checksums;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A load of a few changed users among many patches runtime instead of reading {@code main} again: whatever SQL
 * changed the users, the runtime users, the rows peers fetch, the checksum and {@code disk} after a save must be
 * exactly what a load of the whole table gives. Owned by the JUnit thread.
 */
class IncrementalUsersLoadTest {
    private static final int USERS = 2_000;
    private static final String COLUMNS = "username, password, use_ssl, default_hostgroup, default_schema,"
            + " schema_locked, transaction_persistent, fast_forward, backend, frontend, max_connections, attributes,"
            + " comment";
    private static final String FETCH = "PROXY_SELECT " + COLUMNS + " FROM runtime_mysql_users";

    @TempDir
    Path dir;

    final AdminTestSupport t = new AdminTestSupport();

    @BeforeEach
    void open() throws Exception {
        t.open(dir);
        t.ok("INSERT INTO mysql_users (username, password, default_hostgroup, comment)"
                + " WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < " + USERS + ")"
                + " SELECT 'user' || x, 'pw' || x, x % 4, 'c' FROM n");
        loadAndCheck();
    }

    @AfterEach
    void close() {
        t.close();
    }

    @Test
    void everyKindOfEditLoadsAsTheWholeTableWould() throws Exception {
        t.ok("UPDATE mysql_users SET comment = 'changed' WHERE username = 'user1'");
        loadAndCheck();
        t.ok("DELETE FROM mysql_users WHERE username = 'user2'");
        loadAndCheck();
        t.ok("INSERT INTO mysql_users (username, password) VALUES ('new', 'pw')");
        loadAndCheck();
        t.ok("INSERT OR REPLACE INTO mysql_users (username, password, default_hostgroup) VALUES ('user3', 'x', 9)");
        loadAndCheck();
        t.ok("UPDATE mysql_users SET username = 'renamed' WHERE username = 'user4'");
        loadAndCheck();
        t.ok("UPDATE mysql_users SET active = 0 WHERE username = 'user5'");
        t.ok("UPDATE mysql_users SET default_hostgroup = -1 WHERE username = 'user6'");
        loadAndCheck();
        // one user as a backend row and a separate frontend row
        t.ok("UPDATE mysql_users SET frontend = 0 WHERE username = 'user7'");
        t.ok("INSERT INTO mysql_users (username, password, backend, frontend, comment)"
                + " VALUES ('user7', 'fe', 0, 1, 'front')");
        loadAndCheck();
        // an edit undone before the load, and a load with nothing changed
        t.ok("UPDATE mysql_users SET password = 'tmp' WHERE username = 'user8'");
        t.ok("UPDATE mysql_users SET password = 'pw8' WHERE username = 'user8'");
        loadAndCheck();
        loadAndCheck();
    }

    @Test
    void loadOfOneUserLeavesTheOtherEditsForTheNextLoad() throws Exception {
        t.ok("UPDATE mysql_users SET comment = 'one' WHERE username = 'user1'");
        t.ok("UPDATE mysql_users SET comment = 'other' WHERE username = 'user2'");
        t.ok("LOAD MYSQL USER user1 TO RUNTIME");
        assertThat(t.value("SELECT comment FROM runtime_mysql_users WHERE username = 'user1' AND backend = 1"))
                .isEqualTo("one");
        assertThat(t.value("SELECT comment FROM runtime_mysql_users WHERE username = 'user2' AND backend = 1"))
                .isEqualTo("c");
        loadAndCheck();
    }

    @Test
    void refusedLoadAndLostTrackingFallBackToTheWholeTable() throws Exception {
        t.ok("UPDATE mysql_users SET comment = 'before refusal' WHERE username = 'user1'");
        t.ok("INSERT INTO mysql_users (username, password) VALUES ('', 'pw')");
        t.error("LOAD MYSQL USERS TO RUNTIME");
        t.ok("DELETE FROM mysql_users WHERE username = ''");
        loadAndCheck();
        // an operator who drops the tracking trigger only costs a whole read
        t.ok("DROP TRIGGER temp.proxyfleet_users_main_update");
        t.ok("UPDATE mysql_users SET comment = 'untracked' WHERE username = 'user9'");
        loadAndCheck();
        t.ok("UPDATE mysql_users SET comment = 'tracked again' WHERE username = 'user9'");
        loadAndCheck();
        // dropped again and re-created by a save before the load: the edit made meanwhile is still loaded
        t.ok("DROP TRIGGER temp.proxyfleet_users_main_update");
        t.ok("UPDATE mysql_users SET comment = 'unrecorded' WHERE username = 'user10'");
        t.ok("SAVE MYSQL USERS TO DISK");
        assertDiskEqualsMain();
        loadAndCheck();
        assertThat(t.value("SELECT comment FROM runtime_mysql_users WHERE username = 'user10' AND backend = 1"))
                .isEqualTo("unrecorded");
    }

    @Test
    void saveAndLoadFromDiskCopyOnlyTheChangedUsersYetExactly() throws Exception {
        t.ok("SAVE MYSQL USERS TO DISK");
        assertDiskEqualsMain();
        t.ok("UPDATE mysql_users SET comment = 'saved' WHERE username = 'user1'");
        t.ok("DELETE FROM mysql_users WHERE username = 'user2'");
        t.ok("SAVE MYSQL USERS TO DISK");
        assertDiskEqualsMain();
        // edits on disk itself come back with LOAD ... FROM DISK, and unsaved edits of main are undone by it
        t.ok("UPDATE disk.mysql_users SET comment = 'on disk' WHERE username = 'user3'");
        t.ok("UPDATE mysql_users SET comment = 'unsaved' WHERE username = 'user4'");
        t.ok("LOAD MYSQL USERS FROM DISK");
        assertDiskEqualsMain();
        assertThat(t.value("SELECT comment FROM mysql_users WHERE username = 'user3'")).isEqualTo("on disk");
        assertThat(t.value("SELECT comment FROM mysql_users WHERE username = 'user4'")).isEqualTo("c");
        loadAndCheck();
    }

    @Test
    void aRollbackRewritesEverythingAndLaterEditsStayExact() throws Exception {
        String first = t.value("SELECT MAX(id) FROM disk.proxyfleet_cluster_history WHERE name = 'mysql_users'");
        t.ok("UPDATE mysql_users SET comment = 'later' WHERE username = 'user1'");
        t.ok("DELETE FROM mysql_users WHERE username = 'user2'");
        loadAndCheck();
        t.ok("SAVE MYSQL USERS TO DISK");
        t.ok("PROXYFLEET CLUSTER ROLLBACK TO " + first);
        assertThat(t.value("SELECT COUNT(*) FROM runtime_mysql_users WHERE username = 'user2'")).isEqualTo("2");
        t.ok("UPDATE mysql_users SET comment = 'after rollback' WHERE username = 'user3'");
        loadAndCheck();
        t.ok("SAVE MYSQL USERS TO DISK");
        assertDiskEqualsMain();
        t.ok("UPDATE mysql_users SET comment = 'after save' WHERE username = 'user4'");
        loadAndCheck();
        t.ok("SAVE MYSQL USERS TO DISK");
        assertDiskEqualsMain();
    }

    private void assertDiskEqualsMain() throws Exception {
        assertThat(t.rows("SELECT * FROM disk.mysql_users ORDER BY username, backend").rows())
                .isEqualTo(t.rows("SELECT * FROM main.mysql_users ORDER BY username, backend").rows());
    }

    /** LOAD MYSQL USERS TO RUNTIME, then runtime, the fetched rows and the checksum against a whole read of main. */
    private void loadAndCheck() throws Exception {
        t.ok("LOAD MYSQL USERS TO RUNTIME");
        List<MysqlUser> expected = new ArrayList<>();
        for (List<String> r : t.rows("SELECT " + COLUMNS + " FROM main.mysql_users"
                + " WHERE active = 1 AND default_hostgroup >= 0 ORDER BY username, backend DESC").rows()) {
            expected.add(new MysqlUser(r.get(0), r.get(1), true, r.get(2).equals("1"), Integer.parseInt(r.get(3)),
                    r.get(4), r.get(5).equals("1"), r.get(6).equals("1"), r.get(7).equals("1"), r.get(8).equals("1"),
                    r.get(9).equals("1"), Integer.parseInt(r.get(10)), r.get(11), r.get(12)));
        }
        assertThat(t.holder.current().users().rows()).isEqualTo(expected);
        assertThat(t.value("SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_users'"))
                .isEqualTo(Checksums.format(Checksums.mysqlUsers(expected)));
        Comparator<List<String>> byText = Comparator.comparing(r -> String.join("\t", r));
        List<List<String>> fetched = new ArrayList<>(t.rows(FETCH).rows());
        fetched.sort(byText);
        List<List<String>> wanted = new ArrayList<>(t.rows("SELECT " + COLUMNS.replace("default_schema",
                "COALESCE(default_schema, '')") + " FROM main.mysql_users WHERE active = 1"
                + " AND default_hostgroup >= 0").rows());
        wanted.sort(byText);
        assertThat(fetched).isEqualTo(wanted);
        // history keeps exactly the rows peers fetch
        List<List<String>> recorded = new ArrayList<>(ClusterHistory.decode(t.value("SELECT rows FROM"
                + " disk.proxyfleet_cluster_history WHERE name = 'mysql_users' ORDER BY id DESC LIMIT 1"))
                .get("mysql_users").rows());
        recorded.sort(byText);
        assertThat(recorded).isEqualTo(wanted);
    }
}
