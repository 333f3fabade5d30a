package io.proxyfleet.routing;

/**
 * Decides whether a SELECT only reads, so that running it a second time cannot change what the database does:
 * no locking clause ({@code FOR UPDATE}, {@code FOR SHARE}, {@code LOCK IN SHARE MODE}), no {@code INTO}, and one
 * statement only. It scans the raw text, literals and comments included, so a keyword inside a string makes the
 * answer "no": a false "no" only costs a retry, a false "yes" could run a write twice. Stateless.
 */
public final class ReadOnlySelect {
    private static final String[] DISQUALIFYING = {"UPDATE", "SHARE", "INTO", "LOCK"};
    /** ASCII letters differ from their upper case in this bit only. */
    private static final int CASE_BIT = 0x20;
    private static final char NON_ASCII = 0x80;

    private ReadOnlySelect() {
    }

    /** {@code sql} must already be known to be a SELECT (stats' command classification). */
    public static boolean isReadOnly(CharSequence sql, int length) {
        int end = trimmedEnd(sql, length);
        for (int i = 0; i < end; i++) {
            char c = sql.charAt(i);
            if (c == ';') {
                return false; // a second statement follows
            }
            if (isWordStart(sql, i)) {
                for (String word : DISQUALIFYING) {
                    if (wordAt(sql, i, end, word)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static int trimmedEnd(CharSequence sql, int length) {
        int end = Math.min(length, sql.length());
        while (end > 0 && (Character.isWhitespace(sql.charAt(end - 1)) || sql.charAt(end - 1) == ';')) {
            end--;
        }
        return end;
    }

    private static boolean isWordStart(CharSequence sql, int i) {
        char c = sql.charAt(i);
        // Each disqualifying word starts with one of these letters; any other word needs no closer look.
        return isFirstLetter(c) && (i == 0 || !isWordChar(sql.charAt(i - 1)));
    }

    private static boolean isFirstLetter(char c) {
        if (c >= NON_ASCII) {
            return Character.isLetter(c); // may upper-case to one of them: looked at as before
        }
        char upper = (char) (c & ~CASE_BIT);
        return upper == 'U' || upper == 'S' || upper == 'I' || upper == 'L';
    }

    private static boolean wordAt(CharSequence sql, int i, int end, String word) {
        int wordEnd = i + word.length();
        if (wordEnd > end) {
            return false;
        }
        for (int j = 0; j < word.length(); j++) {
            if (Character.toUpperCase(sql.charAt(i + j)) != word.charAt(j)) {
                return false;
            }
        }
        return wordEnd == end || !isWordChar(sql.charAt(wordEnd));
    }

    private static boolean isWordChar(char c) {
        if (c < NON_ASCII) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
        }
        return Character.isLetterOrDigit(c);
    }
}
