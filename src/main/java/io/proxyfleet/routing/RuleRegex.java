package io.proxyfleet.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rule's compiled {@code match_digest} or {@code match_pattern}, with a shortcut for the shapes real rules
 * have. Most rules are literals joined by {@code .*} with optional anchors ({@code ^SELECT},
 * {@code ^SELECT.*FOR UPDATE$}, {@code FROM orders WHERE}); those are decided exactly by ordered substring
 * search, without entering the regex engine. Other patterns get a necessary-condition check on their leading
 * literal before the regex runs. Either way the answer is exactly the regex's (for texts with line breaks, where
 * {@code .} would stop, the regex always decides).
 *
 * <p>Immutable and shared by all sessions; matchers come from the session's {@link QueryContext}.
 */
final class RuleRegex {
    final Pattern pattern;
    /** Index of this regex's matcher in each session's matcher array. */
    final int slot;
    private final boolean caseless;
    /** Literal pieces between ".*" when the whole pattern has that shape, else null. */
    private final String[] glob;
    private final boolean anchoredStart;
    private final boolean anchoredEnd;
    /** For other patterns: a literal every match starts with (at the text start when anchored), or null. */
    private final String prefix;

    RuleRegex(String regex, boolean caseless, int slot) {
        this.pattern = Pattern.compile(regex, caseless ? Pattern.CASE_INSENSITIVE : 0);
        this.slot = slot;
        this.caseless = caseless;
        boolean plain = regex.indexOf('|') < 0 && !regex.startsWith("(?");
        this.anchoredStart = plain && regex.startsWith("^");
        this.glob = plain ? globPieces(regex, anchoredStart ? 1 : 0) : null;
        this.anchoredEnd = glob != null && regex.endsWith("$") && !regex.endsWith("\\$");
        this.prefix = glob == null && plain ? leadingLiteral(regex, anchoredStart ? 1 : 0, anchoredStart ? 1 : 2)
                : null;
    }

    /** Splits {@code ^?lit(.*lit)*$?} into its literals; null when the pattern has any other construct. */
    private static String[] globPieces(String regex, int from) {
        int end = regex.endsWith("$") && !regex.endsWith("\\$") ? regex.length() - 1 : regex.length();
        List<String> pieces = new ArrayList<>();
        StringBuilder piece = new StringBuilder();
        int i = from;
        while (i < end) {
            char c = regex.charAt(i);
            if (c == '.' && i + 1 < end && regex.charAt(i + 1) == '*') {
                pieces.add(piece.toString());
                piece.setLength(0);
                i += 2;
                if (i < end && regex.charAt(i) == '?') {
                    i++;
                }
                continue;
            }
            char literal;
            int width;
            if (c == '\\' && i + 1 < end && isEscapedPunctuation(regex.charAt(i + 1))) {
                literal = regex.charAt(i + 1);
                width = 2;
            } else if (isPlainLiteral(c)) {
                literal = c;
                width = 1;
            } else {
                return null;
            }
            if (i + width < end && isQuantifier(regex.charAt(i + width))) {
                return null;
            }
            piece.append(literal);
            i += width;
        }
        pieces.add(piece.toString());
        return pieces.toArray(new String[0]);
    }

    /** The literal run at the start of the pattern (minus a char a quantifier makes optional), if long enough. */
    private static String leadingLiteral(String regex, int from, int minLength) {
        int end = from;
        while (end < regex.length() && isPlainLiteral(regex.charAt(end))) {
            end++;
        }
        if (end < regex.length() && end > from && isQuantifier(regex.charAt(end))) {
            end--;
        }
        return end - from >= minLength ? regex.substring(from, end) : null;
    }

    private static boolean isPlainLiteral(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '_'
                || c == ',' || c == '=' || c == '`' || c == '@' || c == '\'' || c == '"' || c == ':' || c == ';'
                || c == '<' || c == '>' || c == '!' || c == '%' || c == '&' || c == '~' || c == '#';
    }

    private static boolean isEscapedPunctuation(char c) {
        return ".()[]{}*+?^$|\\/-".indexOf(c) >= 0;
    }

    private static boolean isQuantifier(char c) {
        return c == '*' || c == '?' || c == '+' || c == '{';
    }

    /**
     * Partial match (PCRE/RE2 semantics of ProxySQL's rule regexes) of this regex in {@code text}.
     *
     * @param lineBreaks whether {@code text} contains a line terminator (then '.*' shortcuts do not apply)
     */
    boolean find(QueryContext ctx, CompiledRules program, CharSequence text, boolean lineBreaks) {
        if (glob != null && !lineBreaks) {
            return globMatches(text);
        }
        if (prefix != null && !(anchoredStart ? regionMatches(text, 0, prefix) : indexOf(text, prefix, 0) >= 0)) {
            return false;
        }
        Matcher m = ctx.matcher(program, slot, pattern);
        m.reset(text);
        return m.find();
    }

    private boolean globMatches(CharSequence text) {
        String[] pieces = glob;
        int last = pieces.length - 1;
        if (last == 0) {
            String only = pieces[0];
            if (anchoredStart && anchoredEnd) {
                return text.length() == only.length() && regionMatches(text, 0, only);
            }
            if (anchoredStart) {
                return regionMatches(text, 0, only);
            }
            if (anchoredEnd) {
                return regionMatches(text, text.length() - only.length(), only);
            }
            return indexOf(text, only, 0) >= 0;
        }
        int pos = 0;
        int first = 0;
        if (anchoredStart) {
            if (!regionMatches(text, 0, pieces[0])) {
                return false;
            }
            pos = pieces[0].length();
            first = 1;
        }
        for (int i = first; i < last; i++) {
            int at = indexOf(text, pieces[i], pos);
            if (at < 0) {
                return false;
            }
            pos = at + pieces[i].length();
        }
        String tail = pieces[last];
        if (anchoredEnd) {
            int at = text.length() - tail.length();
            return at >= pos && regionMatches(text, at, tail);
        }
        return indexOf(text, tail, pos) >= 0;
    }

    private int indexOf(CharSequence text, String lit, int from) {
        int n = lit.length();
        if (n == 0) {
            return from <= text.length() ? from : -1;
        }
        if (text instanceof ByteChars bytes) {
            return indexOfBytes(bytes, lit, from);
        }
        int last = text.length() - n;
        char lower = foldLower(lit.charAt(0));
        char upper = foldUpper(lit.charAt(0));
        for (int i = from; i <= last; i++) {
            char c = text.charAt(i);
            if ((c == lower || c == upper) && regionMatches(text, i, lit)) {
                return i;
            }
        }
        return -1;
    }

    /** {@link #indexOf} over an ASCII byte view: the same comparisons without a call per character. */
    private int indexOfBytes(ByteChars text, String lit, int from) {
        byte[] b = text.bytes();
        int base = text.offset();
        int n = lit.length();
        int last = text.length() - n;
        int lower = foldLower(lit.charAt(0));
        int upper = foldUpper(lit.charAt(0));
        for (int i = from; i <= last; i++) {
            int c = b[base + i];
            if ((c == lower || c == upper) && regionMatchesBytes(b, base + i, lit)) {
                return i;
            }
        }
        return -1;
    }

    private boolean regionMatchesBytes(byte[] b, int at, String lit) {
        for (int k = 0, n = lit.length(); k < n; k++) {
            char c = (char) (b[at + k] & 0xFF);
            char l = lit.charAt(k);
            if (c != l && (!caseless || foldLower(c) != foldLower(l))) {
                return false;
            }
        }
        return true;
    }

    private boolean regionMatches(CharSequence text, int at, String lit) {
        int n = lit.length();
        if (at < 0 || at + n > text.length()) {
            return false;
        }
        if (text instanceof ByteChars bytes) {
            return regionMatchesBytes(bytes.bytes(), bytes.offset() + at, lit);
        }
        for (int k = 0; k < n; k++) {
            char c = text.charAt(at + k);
            char l = lit.charAt(k);
            if (c != l && (!caseless || foldLower(c) != foldLower(l))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Java's CASE_INSENSITIVE without UNICODE_CASE folds ASCII letters only; so do these (without it they are the
     * identity).
     */
    private char foldLower(char c) {
        return caseless && c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    private char foldUpper(char c) {
        return caseless && c >= 'a' && c <= 'z' ? (char) (c - ('a' - 'A')) : c;
    }

    /** Whether {@code text} has a character that {@code .} does not match (Java's line terminators). */
    static boolean hasLineBreak(CharSequence text) {
        if (text instanceof ByteChars bytes) {
            byte[] b = bytes.bytes();
            for (int i = bytes.offset(), end = i + bytes.length(); i < end; i++) {
                if (b[i] == '\n' || b[i] == '\r') {
                    return true;
                }
            }
            return false;
        }
        for (int i = 0, n = text.length(); i < n; i++) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return true;
            }
        }
        return false;
    }
}
