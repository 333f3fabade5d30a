package io.proxyfleet.routing;

/**
 * A text {@code KILL [CONNECTION | QUERY] id} that is the whole statement, the only form the proxy answers itself
 * (the id then names a proxy session). Anything else, including several statements, {@code KILL QUERY ID n} and
 * MariaDB's {@code HARD}/{@code SOFT} forms, is not a KillStatement and goes to the backend unchanged. Immutable.
 *
 * @param queryOnly {@code KILL QUERY}: interrupt the running statement, keep the session
 */
public record KillStatement(long id, boolean queryOnly) {

    /** Parses {@code sql}, or returns {@code null} when it is not exactly one plain KILL of a numeric id. */
    public static KillStatement parse(CharSequence sql) {
        int n = sql.length();
        int i = skipSpace(sql, 0);
        int afterKill = keyword(sql, i, "KILL");
        if (afterKill < 0 || afterKill == n || !Character.isWhitespace(sql.charAt(afterKill))) {
            return null;
        }
        i = skipSpace(sql, afterKill);
        boolean queryOnly = false;
        int afterModifier = keyword(sql, i, "CONNECTION");
        if (afterModifier < 0) {
            afterModifier = keyword(sql, i, "QUERY");
            queryOnly = afterModifier >= 0;
        }
        if (afterModifier >= 0) {
            if (afterModifier == n || !Character.isWhitespace(sql.charAt(afterModifier))) {
                return null;
            }
            i = skipSpace(sql, afterModifier);
        }
        int digits = i;
        long id = 0;
        while (i < n && sql.charAt(i) >= '0' && sql.charAt(i) <= '9') {
            if (i - digits >= 18) {
                return null; // larger than any session id can be
            }
            id = id * 10 + (sql.charAt(i) - '0');
            i++;
        }
        if (i == digits) {
            return null;
        }
        i = skipSpace(sql, i);
        if (i < n && sql.charAt(i) == ';') {
            i = skipSpace(sql, i + 1);
        }
        return i == n ? new KillStatement(id, queryOnly) : null;
    }

    private static int skipSpace(CharSequence sql, int i) {
        while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The index after {@code word} when it starts at {@code i} (any case) and ends a word there, else -1. */
    private static int keyword(CharSequence sql, int i, String word) {
        int end = i + word.length();
        if (end > sql.length()) {
            return -1;
        }
        for (int j = 0; j < word.length(); j++) {
            if (Character.toUpperCase(sql.charAt(i + j)) != word.charAt(j)) {
                return -1;
            }
        }
        return end < sql.length() && Character.isLetterOrDigit(sql.charAt(end)) ? -1 : end;
    }
}
