package io.proxyfleet.routing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rule's compiled {@code match_digest} or {@code match_pattern} with a cheap literal pre-check. Most real rules
 * start with a literal ({@code ^SELECT}, {@code ^INSERT INTO t}, {@code FOR UPDATE}); the pre-check rejects
 * non-matching queries without entering the regex engine, and answers alone when the whole pattern is such a
 * literal. The pre-check is only ever a necessary condition, so results are exactly the regex's.
 *
 * <p>Immutable and shared by all sessions; matchers come from the session's {@link QueryContext}.
 */
final class RuleRegex {
    final Pattern pattern;
    /** Index of this regex's matcher in each session's matcher array. */
    final int slot;
    private final boolean caseless;
    private final boolean anchored;
    /** A literal every match must contain (at the start when anchored); null when none could be proven. */
    private final String literal;
    /** The whole pattern is {@link #literal} (plus the anchor): the pre-check is the answer. */
    private final boolean literalOnly;

    RuleRegex(String regex, boolean caseless, int slot) {
        this.pattern = Pattern.compile(regex, caseless ? Pattern.CASE_INSENSITIVE : 0);
        this.slot = slot;
        this.caseless = caseless;
        boolean canPrefilter = regex.indexOf('|') < 0 && !regex.startsWith("(?");
        boolean anchor = canPrefilter && regex.startsWith("^");
        int from = anchor ? 1 : 0;
        int end = from;
        while (end < regex.length() && isPlainLiteral(regex.charAt(end))) {
            end++;
        }
        boolean whole = end == regex.length();
        if (!whole && end > from && isQuantifier(regex.charAt(end))) {
            // "abc*" only guarantees "ab".
            end--;
        }
        int minLength = anchor ? 1 : 2;
        if (canPrefilter && end - from >= minLength) {
            this.anchored = anchor;
            this.literal = regex.substring(from, end);
            this.literalOnly = whole;
        } else {
            this.anchored = false;
            this.literal = null;
            this.literalOnly = false;
        }
    }

    private static boolean isPlainLiteral(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '_'
                || c == ',' || c == '=' || c == '`' || c == '@' || c == '\'' || c == '"' || c == ':' || c == ';';
    }

    private static boolean isQuantifier(char c) {
        return c == '*' || c == '?' || c == '+' || c == '{';
    }

    /** Partial match (PCRE/RE2 semantics of ProxySQL's rule regexes) of this regex in {@code text}. */
    boolean find(QueryContext ctx, CompiledRules program, CharSequence text) {
        if (literal != null) {
            boolean present = anchored ? regionMatches(text, 0) : contains(text);
            if (!present) {
                return false;
            }
            if (literalOnly) {
                return true;
            }
        }
        Matcher m = ctx.matcher(program, slot, pattern);
        m.reset(text);
        return m.find();
    }

    private boolean contains(CharSequence text) {
        int last = text.length() - literal.length();
        char first = literal.charAt(0);
        for (int i = 0; i <= last; i++) {
            if (same(text.charAt(i), first) && regionMatches(text, i)) {
                return true;
            }
        }
        return false;
    }

    private boolean regionMatches(CharSequence text, int at) {
        int n = literal.length();
        if (at + n > text.length()) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if (!same(text.charAt(at + k), literal.charAt(k))) {
                return false;
            }
        }
        return true;
    }

    /** Java's CASE_INSENSITIVE without UNICODE_CASE folds ASCII only; so does this. */
    private boolean same(char a, char b) {
        if (a == b) {
            return true;
        }
        return caseless && a < 128 && b < 128 && (a | 0x20) == (b | 0x20) && Character.isLetter(a);
    }
}
