package io.proxyfleet.admin;

import io.proxyfleet.admin.AdminDatabase.Table;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.checksum.UsersChecksum;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The runtime {@code mysql_users} module, loaded incrementally: at 100,000 users, a load of one changed user reads
 * that user's rows of {@code main}, not the whole table, and patches the runtime rows, the rows peers fetch and the
 * kept account bytes of the checksum ({@link UsersChecksum}, which still hashes every account).
 *
 * <p>Which users changed is known exactly, whoever changed them (an operator's SQL, a pull, {@code LOAD ... FROM
 * DISK}): temporary triggers of the admin connection record every username written in {@code main.mysql_users}
 * since the last load ({@value #UNLOADED}) and every username written in {@code main} or {@code disk} since the two
 * tables were last made equal ({@value #UNSAVED}). Those tables live in SQLite's {@code temp} schema, so a rolled
 * back transaction rolls them back with the rows. The runtime rows held here are not transactional: each load
 * stores a generation number next to the recorded usernames, and a load that finds another one (a transaction
 * rolled back after a load) reads the whole table again, as does a load when the triggers are missing or when a
 * quarter of the users changed.
 *
 * <p>Thread ownership: the engine's admin thread only.
 */
final class UsersModule {
    static final List<String> COLUMN_NAMES = List.of(RuntimeModules.USER_COLUMNS.split(", "));
    /** Past one changed user in this many, one read of the whole table is cheaper than patching. */
    private static final int FULL_LOAD_DIVISOR = 4;
    private static final String UNLOADED = "temp.proxyfleet_users_unloaded";
    private static final String UNSAVED = "temp.proxyfleet_users_unsaved";
    private static final String STATE = "temp.proxyfleet_users_state";
    private static final String TRIGGER_PREFIX = "proxyfleet_users_";
    private static final String ACTIVE_ROWS = "SELECT " + RuntimeModules.USER_COLUMNS + " FROM main.mysql_users"
            + " WHERE active = 1 AND default_hostgroup >= 0";
    private static final String ORDER = " ORDER BY username, backend DESC";

    private static final List<String> TRIGGER_NAMES = List.of("main_insert", "main_update", "main_delete",
            "disk_insert", "disk_update", "disk_delete").stream().map(n -> TRIGGER_PREFIX + n).toList();
    private static final List<String> TRACKING_DDL = trackingDdl();
    private static final String HISTORY_HEADER = ClusterHistory.header("mysql_users", COLUMN_NAMES);

    private final AdminDatabase db;
    /** What runs, by username in {@code main}'s order, each user's rows backend first; see {@link #generation}. */
    private final TreeMap<String, List<Account>> byName = new TreeMap<>(UsersChecksum::compareCodePoints);
    private final UsersChecksum checksum = new UsersChecksum();
    /**
     * Not 0 when {@link #byName} is exactly what runs and {@value #UNLOADED} names every user {@code main} changed
     * since; it is then the number stored in {@value #STATE}.
     */
    private long generation;
    private long generations;

    /** One runtime account, its row as peers fetch it and that row as history stores it. */
    private record Account(MysqlUser user, List<Object> served, String historyLine) {
        Account(MysqlUser user) {
            this(user, UsersModule.served(user));
        }

        private Account(MysqlUser user, List<Object> served) {
            this(user, served, ClusterHistory.line(served));
        }
    }

    /**
     * A load's result, not yet published.
     *
     * @param onlyUser    the user a {@code LOAD MYSQL USER} loaded, or null for the whole module
     * @param tracked     whether the users changed in main since are still known after this load
     * @param removedRows served rows of the changed users before the load; null after a whole read
     * @param addedRows   their rows after it; null after a whole read
     */
    record Loaded(List<MysqlUser> users, Table served, long checksum, String onlyUser, boolean tracked,
                  List<List<Object>> removedRows, List<List<Object>> addedRows) {
    }

    UsersModule(AdminDatabase db) {
        this.db = db;
    }

    /** Creates the tracking tables and triggers; on the admin connection, before the boot copies. */
    void track() throws SQLException {
        for (String ddl : TRACKING_DDL) {
            db.update(ddl);
        }
    }

    /**
     * Reads the active users of {@code main} (all, or only {@code onlyUser}'s rows, the others staying as they run)
     * into the runtime rows kept here, and returns them. Until {@link #published} the kept rows are marked stale.
     *
     * @param running what runs now, used when {@code onlyUser} is loaded and the kept rows are stale
     */
    Loaded load(String onlyUser, List<MysqlUser> running) throws SQLException, AdminException {
        boolean tracked = trusted();
        if (onlyUser == null) {
            Set<String> changed = tracked ? changedSinceLoad() : null;
            if (changed == null) {
                List<MysqlUser> users = parse(db.query(ACTIVE_ROWS + ORDER));
                generation = 0;
                rebuild(users);
                return snapshot(null, true, null, null);
            }
            return patch(changed, parse(db.query(ACTIVE_ROWS + " AND username IN (SELECT username FROM " + UNLOADED
                    + ")" + ORDER)), null, true);
        }
        List<MysqlUser> fresh = parse(db.query(ACTIVE_ROWS + " AND username = ?" + ORDER, onlyUser));
        if (!tracked) {
            generation = 0;
            rebuild(running);
        }
        return patch(Set.of(onlyUser), fresh, onlyUser, tracked);
    }

    /** After {@code loaded} was published: the recorded changes it took are forgotten, the kept rows trusted. */
    void published(Loaded loaded) throws SQLException {
        if (!loaded.tracked()) {
            // which other users main changed is unknown, so the next load reads the whole table
            return;
        }
        if (loaded.onlyUser() == null) {
            db.update("DELETE FROM " + UNLOADED);
        } else {
            db.update("DELETE FROM " + UNLOADED + " WHERE username = ?", loaded.onlyUser());
        }
        generation = ++generations;
        db.update("UPDATE " + STATE + " SET loaded = ?", generation);
    }

    private void rebuild(List<MysqlUser> users) {
        byName.clear();
        for (MysqlUser u : users) {
            byName.computeIfAbsent(u.username(), k -> new ArrayList<>(2)).add(new Account(u));
        }
        checksum.reset(users);
    }

    /** Replaces the kept rows of the users {@code changed} with {@code fresh} (their active rows of main). */
    private Loaded patch(Set<String> changed, List<MysqlUser> fresh, String onlyUser, boolean tracked) {
        Map<String, List<Account>> next = new HashMap<>();
        for (MysqlUser u : fresh) {
            next.computeIfAbsent(u.username(), k -> new ArrayList<>(2)).add(new Account(u));
        }
        generation = 0;
        List<MysqlUser> removed = new ArrayList<>();
        List<MysqlUser> added = new ArrayList<>();
        List<List<Object>> removedRows = new ArrayList<>();
        List<List<Object>> addedRows = new ArrayList<>();
        for (String name : changed) {
            List<Account> before = byName.remove(name);
            if (before != null) {
                for (Account a : before) {
                    removed.add(a.user());
                    removedRows.add(a.served());
                }
            }
            List<Account> after = next.get(name);
            if (after != null) {
                byName.put(name, after);
                for (Account a : after) {
                    added.add(a.user());
                    addedRows.add(a.served());
                }
            }
        }
        checksum.replace(removed, added);
        return snapshot(onlyUser, tracked, removedRows, addedRows);
    }

    /**
     * Makes {@code to.mysql_users} equal to {@code from.mysql_users} ({@code main} and {@code disk}, either way):
     * only the users written in either since they were last made equal, or the whole table the first time.
     * Part of the caller's transaction.
     */
    void copy(String from, String to) throws SQLException {
        boolean equalBefore = tracking()
                && ((Number) db.query("SELECT saved FROM " + STATE).rows().getFirst().getFirst()).longValue() == 1;
        if (equalBefore) {
            db.update("DELETE FROM " + to + ".mysql_users WHERE username IN (SELECT username FROM " + UNSAVED + ")");
            db.update("INSERT INTO " + to + ".mysql_users SELECT * FROM " + from + ".mysql_users"
                    + " WHERE username IN (SELECT username FROM " + UNSAVED + ")");
        } else {
            untracked(to.equals("main"), () -> {
                db.update("DELETE FROM " + to + ".mysql_users");
                db.update("INSERT INTO " + to + ".mysql_users SELECT * FROM " + from + ".mysql_users");
            });
        }
        db.update("DELETE FROM " + UNSAVED);
        db.update("UPDATE " + STATE + " SET saved = 1");
    }

    /**
     * Runs {@code work}, which writes many rows of {@code main.mysql_users} (a whole pull, a rollback) or of
     * {@code disk.mysql_users} (a whole copy), without the triggers, which would cost more than the rows: the next
     * copy then copies the whole table, and the next load reads it whole if {@code main} was written. Part of the
     * caller's transaction, so a rollback brings the triggers back too.
     */
    void untracked(boolean mainWritten, RuntimeModules.Rewrite work) throws SQLException {
        for (String trigger : TRIGGER_NAMES) {
            db.update("DROP TRIGGER IF EXISTS temp." + trigger);
        }
        try {
            work.run();
        } catch (AdminException e) {
            throw new SQLException(e.getMessage(), e);
        }
        track();
        db.update("UPDATE " + STATE + " SET saved = 0" + (mainWritten ? ", loaded = 0" : ""));
    }

    /** The rows of what runs as history stores them (a load's rows, each kept encoded since it was read). */
    String historyText() {
        StringBuilder s = new StringBuilder(HISTORY_HEADER);
        for (List<Account> accounts : byName.values()) {
            for (Account a : accounts) {
                s.append(a.historyLine()).append('\n');
            }
        }
        return s.toString();
    }

    /** How many rows {@link #historyText} holds. */
    long rowCount() {
        long n = 0;
        for (List<Account> accounts : byName.values()) {
            n += accounts.size();
        }
        return n;
    }

    /** The users changed in {@code main} since the last load, or null when the whole table must be read. */
    private Set<String> changedSinceLoad() throws SQLException {
        if (!trusted()) {
            return null;
        }
        Set<String> names = new LinkedHashSet<>();
        for (List<Object> r : db.query("SELECT username FROM " + UNLOADED).rows()) {
            names.add(Table.text(r.getFirst()));
        }
        return names.size() > byName.size() / FULL_LOAD_DIVISOR ? null : names;
    }

    /** Whether the kept rows are what runs and the recorded changes are complete. */
    private boolean trusted() throws SQLException {
        return tracking() && generation != 0
                && ((Number) db.query("SELECT loaded FROM " + STATE).rows().getFirst().getFirst()).longValue()
                == generation;
    }

    /**
     * Whether every trigger is in place. When one is missing (an operator dropped it), changes went unrecorded: it
     * is created again and both records start over from a whole read and a whole copy.
     */
    private boolean tracking() throws SQLException {
        long n = ((Number) db.query("SELECT COUNT(*) FROM temp.sqlite_master WHERE type = 'trigger' AND name LIKE ?",
                TRIGGER_PREFIX + "%").rows().getFirst().getFirst()).longValue();
        if (n == TRIGGER_NAMES.size()) {
            return true;
        }
        track();
        db.update("UPDATE " + STATE + " SET loaded = 0, saved = 0");
        return false;
    }

    private Loaded snapshot(String onlyUser, boolean tracked, List<List<Object>> removedRows,
                            List<List<Object>> addedRows) {
        List<MysqlUser> users = new ArrayList<>(byName.size() * 2);
        List<List<Object>> rows = new ArrayList<>(byName.size() * 2);
        for (List<Account> accounts : byName.values()) {
            for (Account a : accounts) {
                users.add(a.user());
                rows.add(a.served());
            }
        }
        return new Loaded(users, new Table(COLUMN_NAMES, rows), checksum.value(), onlyUser, tracked, removedRows,
                addedRows);
    }

    private static List<MysqlUser> parse(Table rows) throws AdminException {
        var users = new ArrayList<MysqlUser>(rows.rows().size());
        for (List<Object> r : rows.rows()) {
            try {
                users.add(new MysqlUser(Table.text(r.get(0)), Table.text(r.get(1)), true, bool(r.get(2)),
                        integer(r.get(3)), Table.text(r.get(4)), bool(r.get(5)), bool(r.get(6)), bool(r.get(7)),
                        bool(r.get(8)), bool(r.get(9)), integer(r.get(10)), Table.text(r.get(11)),
                        Table.text(r.get(12))));
            } catch (IllegalArgumentException e) {
                throw new AdminException("invalid row in mysql_users: " + e.getMessage(), e);
            }
        }
        return users;
    }

    /** The row peers fetch of one account: NULLs as '' (§4.12). */
    private static List<Object> served(MysqlUser u) {
        return List.of(u.username(), u.password(), flag(u.useSsl()), Integer.toString(u.defaultHostgroup()),
                u.defaultSchema() == null ? "" : u.defaultSchema(), flag(u.schemaLocked()),
                flag(u.transactionPersistent()), flag(u.fastForward()), flag(u.backend()), flag(u.frontend()),
                Integer.toString(u.maxConnections()), u.attributes(), u.comment());
    }

    private static String flag(boolean b) {
        return b ? "1" : "0";
    }

    private static int integer(Object cell) {
        return switch (cell) {
            case null -> 0;
            case Number n -> n.intValue();
            default -> Integer.parseInt(cell.toString().trim());
        };
    }

    private static boolean bool(Object cell) {
        return integer(cell) != 0;
    }

    private static List<String> trackingDdl() {
        List<String> ddl = new ArrayList<>(List.of(
                "CREATE TEMP TABLE IF NOT EXISTS proxyfleet_users_unloaded (username TEXT PRIMARY KEY) WITHOUT ROWID",
                "CREATE TEMP TABLE IF NOT EXISTS proxyfleet_users_unsaved (username TEXT PRIMARY KEY) WITHOUT ROWID",
                "CREATE TEMP TABLE IF NOT EXISTS proxyfleet_users_state (loaded INT NOT NULL, saved INT NOT NULL)",
                "INSERT INTO " + STATE + " SELECT 0, 0 WHERE NOT EXISTS (SELECT 1 FROM " + STATE + ")"));
        for (String schema : List.of("main", "disk")) {
            for (String event : List.of("INSERT", "UPDATE", "DELETE")) {
                StringBuilder body = new StringBuilder();
                for (String row : event.equals("INSERT") ? List.of("NEW") : event.equals("DELETE") ? List.of("OLD")
                        : List.of("OLD", "NEW")) {
                    if (schema.equals("main")) {
                        body.append(" INSERT OR IGNORE INTO proxyfleet_users_unloaded VALUES (").append(row)
                                .append(".username);");
                    }
                    body.append(" INSERT OR IGNORE INTO proxyfleet_users_unsaved VALUES (").append(row)
                            .append(".username);");
                }
                ddl.add("CREATE TEMP TRIGGER IF NOT EXISTS " + TRIGGER_PREFIX + schema + "_" + event.toLowerCase(Locale.ROOT)
                        + " AFTER " + event + " ON " + schema + ".mysql_users BEGIN" + body + " END");
            }
        }
        return List.copyOf(ddl);
    }
}
