package io.proxyfleet.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Classifies a query from its digest text into the facts the session needs for multiplexing (§5.5): what opens
 * or ends a transaction, and what pins the backend connection to the session (user variables, LOCK TABLES,
 * temporary tables, GET_LOCK, SQL_CALC_FOUND_ROWS, text PREPARE, savepoints). Like ProxySQL it looks at the digest
 * text, where literals are already {@code ?} (an '@' inside a string never counts) and comments are gone.
 *
 * <p>Immutable; one instance per {@code mysql-keep_multiplexing_variables} value, shared by all threads. The scan
 * allocates nothing.
 */
public final class QueryClassifier {
    /** BEGIN, BEGIN WORK, START TRANSACTION. */
    public static final int TRANSACTION_BEGIN = 1;
    /** COMMIT or ROLLBACK of the whole transaction (not ROLLBACK TO SAVEPOINT). */
    public static final int TRANSACTION_END = 1 << 1;
    /** SAVEPOINT name: ProxySQL's HAS_SAVEPOINT. */
    public static final int SAVEPOINT = 1 << 2;
    /** A user variable or a system variable outside keep_multiplexing_variables: USER_VARIABLE. */
    public static final int USER_VARIABLE = 1 << 3;
    /** Text-protocol PREPARE: PREPARED_STATEMENT. */
    public static final int PREPARE = 1 << 4;
    /** LOCK TABLE(S) or FLUSH TABLES WITH READ LOCK: LOCK_TABLES. */
    public static final int LOCK_TABLES = 1 << 5;
    /** UNLOCK TABLES clears LOCK_TABLES. */
    public static final int UNLOCK_TABLES = 1 << 6;
    /** CREATE TEMPORARY TABLE: TEMPORARY_TABLE. */
    public static final int TEMPORARY_TABLE = 1 << 7;
    /** GET_LOCK(...): GET_LOCK. */
    public static final int GET_LOCK = 1 << 8;
    /** SQL_CALC_FOUND_ROWS: FOUND_ROWS. */
    public static final int CALC_FOUND_ROWS = 1 << 9;
    /** FOUND_ROWS(): must run on the connection of the previous query. */
    public static final int FOUND_ROWS_CALL = 1 << 10;
    /** LAST_INSERT_ID(): must run on the connection that did the insert. */
    public static final int LAST_INSERT_ID = 1 << 11;
    /** A SET statement: parse it with {@link SetStatementParser}. */
    public static final int SET_STATEMENT = 1 << 12;
    /** USE db: the session tracks the schema. */
    public static final int USE_STATEMENT = 1 << 13;

    /** Flags that, once set on a backend connection, keep it attached to the session. */
    public static final int PINNING = USER_VARIABLE | PREPARE | LOCK_TABLES | TEMPORARY_TABLE | GET_LOCK
            | CALC_FOUND_ROWS | SAVEPOINT;

    private static final int HAS_UNDERSCORE = 1;
    private static final int HAS_AT = 1 << 1;

    private final String[] keepVariables;
    private final boolean keepAllSystemReads;

    /** @param keepMultiplexingVariables {@code mysql-keep_multiplexing_variables}, comma separated */
    public QueryClassifier(String keepMultiplexingVariables) {
        this(keepMultiplexingVariables, false);
    }

    /**
     * @param keepAllSystemReads when true, a SELECT that only reads {@code @@} system variables never pins the
     *                           connection (ProxyFleet's mysql-keep_multiplexing_on_system_variable_reads): the
     *                           proxy replays every tracked SET, and untracked SETs pin anyway, so such reads
     *                           see the same values on any connection. Connectors run such a SELECT at connect
     *                           time, which under ProxySQL's rule disables multiplexing for the whole session.
     */
    public QueryClassifier(String keepMultiplexingVariables, boolean keepAllSystemReads) {
        this.keepAllSystemReads = keepAllSystemReads;
        List<String> names = new ArrayList<>();
        for (String n : keepMultiplexingVariables.split(",")) {
            String t = n.trim().toLowerCase(Locale.ROOT);
            if (!t.isEmpty()) {
                names.add(t);
            }
        }
        this.keepVariables = names.toArray(new String[0]);
    }

    /** Classifies the current digest text of {@code digest}. */
    public int classify(QueryDigest digest) {
        return classify(digest.text());
    }

    /** Classifies a digest text; returns a bit set of this class's constants. */
    public int classify(CharSequence t) {
        int n = t.length();
        int flags = 0;
        if (startsWithWord(t, "BEGIN") || startsWithWords(t, "START", "TRANSACTION")) {
            flags |= TRANSACTION_BEGIN;
        } else if (startsWithWord(t, "COMMIT")) {
            flags |= TRANSACTION_END;
        } else if (startsWithWord(t, "ROLLBACK")) {
            if (!containsWord(t, "TO")) {
                flags |= TRANSACTION_END;
            }
        } else if (startsWithWord(t, "SAVEPOINT")) {
            flags |= SAVEPOINT;
        } else if (startsWithWord(t, "PREPARE")) {
            flags |= PREPARE;
        } else if (startsWithWord(t, "LOCK") && nextWordStartsWith(t, "LOCK", "TABLE")) {
            flags |= LOCK_TABLES;
        } else if (startsWithWords(t, "FLUSH", "TABLES") && containsWord(t, "READ") && containsWord(t, "LOCK")) {
            flags |= LOCK_TABLES;
        } else if (startsWithWords(t, "UNLOCK", "TABLES") || startsWithWords(t, "UNLOCK", "TABLE")) {
            flags |= UNLOCK_TABLES;
        } else if (startsWithWords(t, "CREATE", "TEMPORARY")) {
            flags |= TEMPORARY_TABLE;
        } else if (startsWithWord(t, "SET")) {
            flags |= SET_STATEMENT;
        } else if (startsWithWord(t, "USE")) {
            flags |= USE_STATEMENT;
        }
        int marks = marks(t, n);
        // Every name searched below contains an underscore: most statements have none and skip the four scans.
        if ((marks & HAS_UNDERSCORE) != 0) {
            if (indexOfIgnoreCase(t, "GET_LOCK(", 0) >= 0) {
                flags |= GET_LOCK;
            }
            if (indexOfIgnoreCase(t, "SQL_CALC_FOUND_ROWS", 0) >= 0) {
                flags |= CALC_FOUND_ROWS;
            }
            if (callOf(t, "FOUND_ROWS(")) {
                flags |= FOUND_ROWS_CALL;
            }
            if (callOf(t, "LAST_INSERT_ID(")) {
                flags |= LAST_INSERT_ID;
            }
        }
        if ((marks & HAS_AT) != 0 && hasPinningVariable(t, n, (flags & SET_STATEMENT) != 0)) {
            flags |= USER_VARIABLE;
        }
        return flags;
    }

    /** One pass over the text for the characters the costlier scans need: {@link #HAS_UNDERSCORE}, {@link #HAS_AT}. */
    private static int marks(CharSequence t, int n) {
        int marks = 0;
        for (int i = 0; i < n; i++) {
            char c = t.charAt(i);
            if (c == '_') {
                marks |= HAS_UNDERSCORE;
            } else if (c == '@') {
                marks |= HAS_AT;
            }
        }
        return marks;
    }

    /**
     * ProxySQL disables multiplexing for any '@' in the digest, except in a SELECT whose system variables are
     * all in keep_multiplexing_variables. In a SET only user variables count here: system variables of a SET
     * are the SET parser's business.
     */
    private boolean hasPinningVariable(CharSequence t, int n, boolean isSet) {
        boolean isSelect = startsWithWord(t, "SELECT");
        for (int i = 0; i < n; i++) {
            if (t.charAt(i) != '@') {
                continue;
            }
            boolean system = i + 1 < n && t.charAt(i + 1) == '@';
            if (!system) {
                return true;
            }
            if (isSet) {
                i++;
                continue;
            }
            if (!isSelect) {
                return true;
            }
            int nameStart = i + 2;
            nameStart = skipScope(t, nameStart, "session.");
            nameStart = skipScope(t, nameStart, "local.");
            nameStart = skipScope(t, nameStart, "global.");
            int nameEnd = nameStart;
            while (nameEnd < n && isNameChar(t.charAt(nameEnd))) {
                nameEnd++;
            }
            if (!keepAllSystemReads && !isKept(t, nameStart, nameEnd)) {
                return true;
            }
            i = nameEnd - 1;
        }
        return false;
    }

    private static int skipScope(CharSequence t, int at, String scope) {
        return regionMatchesIgnoreCase(t, at, scope) ? at + scope.length() : at;
    }

    private boolean isKept(CharSequence t, int from, int to) {
        for (String keep : keepVariables) {
            if (keep.length() == to - from && regionMatchesIgnoreCase(t, from, keep)) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Allocation-free text helpers (ASCII case folding)
    // ---------------------------------------------------------------------------------------------------------

    static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
    }

    static boolean regionMatchesIgnoreCase(CharSequence t, int at, String s) {
        if (at < 0 || at + s.length() > t.length()) {
            return false;
        }
        for (int k = 0; k < s.length(); k++) {
            char a = t.charAt(at + k);
            char b = s.charAt(k);
            if (a != b && Character.toLowerCase(a) != Character.toLowerCase(b)) {
                return false;
            }
        }
        return true;
    }

    /** {@code t} starts with the word {@code w} (followed by a non-name character or the end). */
    static boolean startsWithWord(CharSequence t, String w) {
        return regionMatchesIgnoreCase(t, 0, w) && (t.length() == w.length() || !isNameChar(t.charAt(w.length())));
    }

    private static boolean startsWithWords(CharSequence t, String first, String second) {
        if (!startsWithWord(t, first)) {
            return false;
        }
        int at = first.length();
        while (at < t.length() && t.charAt(at) == ' ') {
            at++;
        }
        return regionMatchesIgnoreCase(t, at, second)
                && (at + second.length() == t.length() || !isNameChar(t.charAt(at + second.length())));
    }

    /** The word after {@code first} starts with {@code prefix} (LOCK TABLE / LOCK TABLES). */
    private static boolean nextWordStartsWith(CharSequence t, String first, String prefix) {
        int at = first.length();
        while (at < t.length() && t.charAt(at) == ' ') {
            at++;
        }
        return regionMatchesIgnoreCase(t, at, prefix);
    }

    private static boolean containsWord(CharSequence t, String w) {
        int from = 0;
        while (true) {
            int i = indexOfIgnoreCase(t, w, from);
            if (i < 0) {
                return false;
            }
            int end = i + w.length();
            if ((i == 0 || !isNameChar(t.charAt(i - 1))) && (end == t.length() || !isNameChar(t.charAt(end)))) {
                return true;
            }
            from = i + 1;
        }
    }

    /** A call of function {@code nameParen} ("NAME(") not preceded by a name character. */
    private static boolean callOf(CharSequence t, String nameParen) {
        int from = 0;
        while (true) {
            int i = indexOfIgnoreCase(t, nameParen, from);
            if (i < 0) {
                return false;
            }
            if (i == 0 || !isNameChar(t.charAt(i - 1))) {
                return true;
            }
            from = i + 1;
        }
    }

    static int indexOfIgnoreCase(CharSequence t, String s, int from) {
        int last = t.length() - s.length();
        for (int i = from; i <= last; i++) {
            if (regionMatchesIgnoreCase(t, i, s)) {
                return i;
            }
        }
        return -1;
    }
}
