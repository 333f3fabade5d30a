package io.proxyfleet.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses SET statements into name/value pairs the session can record and replay on another backend connection
 * (§5.2 step 10, §5.5): {@code SET [SESSION|LOCAL] var = value, @@session.var = value, @uservar := value},
 * {@code SET NAMES cs [COLLATE coll]}, {@code SET CHARACTER SET cs}, {@code SET [SESSION] TRANSACTION
 * ISOLATION LEVEL … | READ ONLY | READ WRITE}. Values must be a quoted string or a single word/number; anything
 * else (expressions, GLOBAL/PERSIST scope) is {@link SetStatement.Unparsable}, which is what makes ProxySQL run the
 * statement on the backend and lock the session there.
 *
 * <p>Stateless; reads the query text in place. Allocates only for the result (SET statements are rare next to
 * the queries they configure).
 */
public final class SetStatementParser {
    private static final SetStatement NOT_SET = new SetStatement.NotSet();

    private SetStatementParser() {
    }

    /** Parses {@code query}; statements that do not start with SET give {@link SetStatement.NotSet}. */
    public static SetStatement parse(CharSequence query) {
        Cursor c = new Cursor(query);
        c.skipBlank();
        if (!c.keyword("SET")) {
            return NOT_SET;
        }
        List<SessionVariable> vars = new ArrayList<>();
        do {
            c.skipBlank();
            String error = assignment(c, vars);
            if (error != null) {
                return new SetStatement.Unparsable(error);
            }
            c.skipBlank();
        } while (c.consume(','));
        c.consume(';');
        c.skipBlank();
        if (!c.atEnd()) {
            return new SetStatement.Unparsable("unexpected text at offset " + c.pos);
        }
        return new SetStatement.Assignments(vars);
    }

    /** Parses one assignment into {@code vars}; returns an error text or null. */
    private static String assignment(Cursor c, List<SessionVariable> vars) {
        if (c.keyword("NAMES")) {
            String charset = value(c);
            if (charset == null) {
                return "SET NAMES needs a character set";
            }
            vars.add(new SessionVariable("names", charset, SessionVariable.Scope.SESSION));
            if (c.keyword("COLLATE")) {
                String collation = value(c);
                if (collation == null) {
                    return "COLLATE needs a collation";
                }
                vars.add(new SessionVariable("collation_connection", collation, SessionVariable.Scope.SESSION));
            }
            return null;
        }
        if (c.keyword("CHARSET") || (c.keyword("CHARACTER") && c.keyword("SET"))) {
            String charset = value(c);
            if (charset == null) {
                return "SET CHARACTER SET needs a character set";
            }
            vars.add(new SessionVariable("charset", charset, SessionVariable.Scope.SESSION));
            return null;
        }
        if (c.keyword("GLOBAL") || c.keyword("PERSIST") || c.keyword("PERSIST_ONLY")) {
            return "global variables are not tracked";
        }
        boolean sessionKeyword = c.keyword("SESSION") || c.keyword("LOCAL");
        if (c.keyword("TRANSACTION")) {
            return transaction(c, vars,
                    sessionKeyword ? SessionVariable.Scope.SESSION : SessionVariable.Scope.NEXT_TRANSACTION);
        }
        SessionVariable.Scope scope = SessionVariable.Scope.SESSION;
        if (!sessionKeyword && c.peek(0) == '@') {
            if (c.peek(1) == '@') {
                c.pos += 2;
                if (c.prefix("global.") || c.prefix("persist.") || c.prefix("persist_only.")) {
                    return "global variables are not tracked";
                }
                if (!c.prefix("session.")) {
                    c.prefix("local.");
                }
            } else {
                c.pos += 1;
                scope = SessionVariable.Scope.USER;
            }
        }
        String name = scope == SessionVariable.Scope.USER ? c.userVariableName() : c.identifier();
        if (name == null) {
            return "expected a variable name at offset " + c.pos;
        }
        c.skipBlank();
        boolean assigns = c.consume('=') || (c.consume(':') && c.consume('='));
        if (!assigns) {
            return "expected '=' after " + name;
        }
        String value = value(c);
        if (value == null) {
            return "value of " + name + " is an expression";
        }
        vars.add(new SessionVariable(canonical(name, scope), value, scope));
        return null;
    }

    private static String transaction(Cursor c, List<SessionVariable> vars, SessionVariable.Scope scope) {
        do {
            c.skipBlank();
            if (c.keyword("ISOLATION")) {
                if (!c.keyword("LEVEL")) {
                    return "expected LEVEL";
                }
                String level;
                if (c.keyword("READ")) {
                    level = c.keyword("UNCOMMITTED") ? "READ-UNCOMMITTED" : c.keyword("COMMITTED") ? "READ-COMMITTED" : null;
                } else if (c.keyword("REPEATABLE")) {
                    level = c.keyword("READ") ? "REPEATABLE-READ" : null;
                } else {
                    level = c.keyword("SERIALIZABLE") ? "SERIALIZABLE" : null;
                }
                if (level == null) {
                    return "unknown isolation level";
                }
                vars.add(new SessionVariable("transaction_isolation", level, scope));
            } else if (c.keyword("READ")) {
                if (c.keyword("WRITE")) {
                    vars.add(new SessionVariable("transaction_read_only", "0", scope));
                } else if (c.keyword("ONLY")) {
                    vars.add(new SessionVariable("transaction_read_only", "1", scope));
                } else {
                    return "expected READ WRITE or READ ONLY";
                }
            } else {
                return "unknown transaction characteristic";
            }
            c.skipBlank();
        } while (c.consume(','));
        return null;
    }

    private static String canonical(String name, SessionVariable.Scope scope) {
        if (scope == SessionVariable.Scope.USER) {
            return name;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        return switch (lower) {
            case "tx_isolation" -> "transaction_isolation";
            case "tx_read_only" -> "transaction_read_only";
            default -> lower;
        };
    }

    /** A quoted string (unquoted) or one bare word/number, followed by ',', ';', COLLATE or the end. */
    private static String value(Cursor c) {
        c.skipBlank();
        String v;
        char first = c.peek(0);
        if (first == '\'' || first == '"') {
            v = c.quoted();
        } else {
            v = c.bareWord();
        }
        if (v == null) {
            return null;
        }
        c.skipBlank();
        char next = c.peek(0);
        if (next == ',' || next == ';' || c.atEnd() || c.lookingAtKeyword("COLLATE")) {
            return v;
        }
        return null;
    }

    /** A position in the statement with SQL-aware skipping of blanks and comments. */
    private static final class Cursor {
        private final CharSequence q;
        private final int n;
        int pos;

        Cursor(CharSequence q) {
            this.q = q;
            this.n = q.length();
        }

        boolean atEnd() {
            return pos >= n;
        }

        char peek(int ahead) {
            int i = pos + ahead;
            return i < n ? q.charAt(i) : '\0';
        }

        boolean consume(char ch) {
            if (peek(0) == ch) {
                pos++;
                return true;
            }
            return false;
        }

        void skipBlank() {
            while (pos < n) {
                char ch = q.charAt(pos);
                if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
                    pos++;
                } else if (ch == '/' && peek(1) == '*') {
                    int close = QueryClassifier.indexOfIgnoreCase(q, "*/", pos + 2);
                    pos = close < 0 ? n : close + 2;
                } else if (ch == '#' || (ch == '-' && peek(1) == '-' && (peek(2) == ' ' || peek(2) == '\t'))) {
                    while (pos < n && q.charAt(pos) != '\n') {
                        pos++;
                    }
                } else {
                    return;
                }
            }
        }

        boolean lookingAtKeyword(String word) {
            return QueryClassifier.regionMatchesIgnoreCase(q, pos, word)
                    && (pos + word.length() >= n || !QueryClassifier.isNameChar(q.charAt(pos + word.length())));
        }

        /** Consumes {@code word} (case-insensitive, whole word) and the blanks after it. */
        boolean keyword(String word) {
            skipBlank();
            if (!lookingAtKeyword(word)) {
                return false;
            }
            pos += word.length();
            skipBlank();
            return true;
        }

        /** Consumes a case-insensitive prefix such as "session." directly at the cursor. */
        boolean prefix(String p) {
            if (QueryClassifier.regionMatchesIgnoreCase(q, pos, p)) {
                pos += p.length();
                return true;
            }
            return false;
        }

        String identifier() {
            if (peek(0) == '`') {
                int close = pos + 1;
                while (close < n && q.charAt(close) != '`') {
                    close++;
                }
                if (close >= n) {
                    return null;
                }
                String name = q.subSequence(pos + 1, close).toString();
                pos = close + 1;
                return name;
            }
            int start = pos;
            while (pos < n && QueryClassifier.isNameChar(q.charAt(pos))) {
                pos++;
            }
            return pos > start ? q.subSequence(start, pos).toString() : null;
        }

        String userVariableName() {
            char first = peek(0);
            if (first == '\'' || first == '"' || first == '`') {
                return first == '`' ? identifier() : quoted();
            }
            int start = pos;
            while (pos < n && (QueryClassifier.isNameChar(q.charAt(pos)) || q.charAt(pos) == '.')) {
                pos++;
            }
            return pos > start ? q.subSequence(start, pos).toString() : null;
        }

        /** A word or number value: letters, digits, '_', '.', '-', '+', ':' (ON, utf8mb4, -1, 0.5, +00:00). */
        String bareWord() {
            int start = pos;
            while (pos < n) {
                char ch = q.charAt(pos);
                if (QueryClassifier.isNameChar(ch) || ch == '.' || ch == '-' || ch == '+' || ch == ':') {
                    pos++;
                } else {
                    break;
                }
            }
            return pos > start ? q.subSequence(start, pos).toString() : null;
        }

        /** A '…' or "…" string with doubled quotes, unquoted; null if unterminated or with a backslash. */
        String quoted() {
            char delim = q.charAt(pos);
            StringBuilder sb = new StringBuilder();
            int i = pos + 1;
            while (i < n) {
                char ch = q.charAt(i);
                if (ch == '\\') {
                    // Whether a backslash escapes depends on the session's sql_mode (NO_BACKSLASH_ESCAPES), which
                    // a replay on another connection cannot be sure of: the backend reads it in its own mode.
                    return null;
                } else if (ch == delim) {
                    if (i + 1 < n && q.charAt(i + 1) == delim) {
                        sb.append(delim);
                        i += 2;
                    } else {
                        pos = i + 1;
                        return sb.toString();
                    }
                } else {
                    sb.append(ch);
                    i++;
                }
            }
            return null;
        }
    }
}
