package io.proxyfleet.routing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Computes a query's digest text, 64-bit digest and first comment the way ProxySQL's tokenizer does (the staged
 * {@code c_tokenizer}): literals become {@code ?}, comments go, whitespace collapses, then spaces and signs around
 * values are squeezed and long value lists and repeated groups are collapsed to {@code ...}.
 *
 * <p>One instance is reused for every query of a session (or of an event loop): it keeps its work buffers, so
 * {@link #compute(byte[], int, int)} allocates nothing unless the query has a {@code /* *}{@code /} comment (the
 * first one is returned as a {@code String}) or is larger than any seen before. Results stay valid until the next
 * call. Not thread-safe: owned by the thread that owns the session.
 *
 * <p>Known simplification: ProxySQL fills a buffer of {@code max_query_length} bytes and compresses it again
 * whenever it overflows; this class compresses the whole query in one pass and then cuts the text at
 * {@code min(maxQueryLength, maxDigestLength)}. Results are identical whenever the compressed text fits; when it
 * does not, the cut may fall a few characters differently (ProxySQL's own tests call those ends approximate).
 * Its work buffers grow with the largest query seen (up to 1 MiB; beyond that they are released after the query).
 */
public final class QueryDigest {
    /** ProxySQL's FIRST_COMMENT_MAX_LENGTH minus its terminator. */
    static final int FIRST_COMMENT_MAX = 1023;
    private static final int INITIAL_CAPACITY = 512;
    /** Work buffers larger than this are dropped after the query that needed them (bulk INSERTs). */
    private static final int RETAINED_CAPACITY = 1 << 20;
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    private static final byte ELLIPSIS_DOT = '.';

    /**
     * Bytes stage 1 must look at closely: comment starts, quotes, digits, the N of NULL and whitespace. Every
     * other byte is copied as it is, which is most of any query.
     */
    private static final boolean[] STAGE1_SPECIAL = new boolean[256];

    static {
        for (char c : "/#-'\"nN \t\n\r0123456789".toCharArray()) {
            STAGE1_SPECIAL[c] = true;
        }
    }

    private DigestOptions options;
    private byte[] bufA = new byte[INITIAL_CAPACITY];
    private byte[] bufB = new byte[INITIAL_CAPACITY];
    /** Whichever of bufA/bufB holds the final text. */
    private byte[] text = bufA;
    private int textLength;
    private boolean textAscii = true;
    private long hash;
    private String firstComment;
    private String textString;
    private final ByteChars textView = new ByteChars();

    public QueryDigest(DigestOptions options) {
        this.options = options;
    }

    /** Changes the options for the following queries (after {@code LOAD MYSQL VARIABLES TO RUNTIME}). */
    public void options(DigestOptions next) {
        this.options = next;
    }

    public DigestOptions options() {
        return options;
    }

    /** Digests {@code query[off, off+len)}, the query bytes as the client sent them. */
    public void compute(byte[] query, int off, int len) {
        // Stage 1 never grows the text (literals shrink to '?', comments to at most one space), except that a
        // kept comment gains a space: at most one byte per 4-byte "/**/".
        ensureCapacity(options.keepComment() ? len + len / 4 + 8 : len + 2);
        int m = stageLiterals(query, off, len, bufA);
        m = stageSpaces(bufA, m, bufB);
        byte[] src = bufB;
        byte[] dst = bufA;
        // Grouping only ever rewrites runs of "?,"; most queries have none and skip both passes.
        if (options.groupingLimit() > 0 && hasValueList(src, m)) {
            m = stageGrouping(src, m, dst);
            byte[] t = src;
            src = dst;
            dst = t;
            if (options.groupsGroupingLimit() > 0) {
                m = stageGroups(src, m, dst);
                t = src;
                src = dst;
                dst = t;
            }
        }
        m = trimEnd(src, m);
        textLength = Math.min(m, Math.min(options.maxQueryLength(), options.maxDigestLength()));
        text = src;
        textAscii = ByteChars.isAscii(src, 0, textLength);
        textString = null;
        hash = DigestHash.hash64(src, 0, textLength, 0);
        if (bufA.length > RETAINED_CAPACITY) {
            // The text is at most max_digest_length long: keep it, let the big buffers go.
            bufA = Arrays.copyOf(src, Math.max(INITIAL_CAPACITY, textLength));
            bufB = new byte[bufA.length];
            text = bufA;
        }
    }

    /** Convenience for callers that hold the query as a string (admin, tests); encodes it as UTF-8. */
    public void compute(String query) {
        byte[] b = query.getBytes(StandardCharsets.UTF_8);
        compute(b, 0, b.length);
    }

    /** The 64-bit digest: SpookyHash V2 Hash64 of the digest text with seed 0. */
    public long hash() {
        return hash;
    }

    /** The digest as {@code stats_mysql_query_digest} shows it: {@code 0x} and 16 upper-case hex digits. */
    public String hashString() {
        return toHexString(hash);
    }

    /** Formats a digest as ProxySQL prints it ({@code 0x%016llX}). */
    public static String toHexString(long digest) {
        byte[] out = new byte[18];
        out[0] = '0';
        out[1] = 'x';
        for (int i = 0; i < 16; i++) {
            out[17 - i] = HEX[(int) (digest >>> (4 * i)) & 0xF];
        }
        return new String(out, StandardCharsets.US_ASCII);
    }

    /**
     * The digest text as a char sequence, without copying when it is ASCII. Valid until the next compute; use
     * {@link #textString()} to keep it.
     */
    public CharSequence text() {
        if (textAscii) {
            textView.point(text, 0, textLength);
            return textView;
        }
        return textString();
    }

    /** The digest text as a string (allocated on first call per query, then cached). */
    public String textString() {
        if (textString == null) {
            textString = new String(text, 0, textLength, textAscii ? StandardCharsets.ISO_8859_1
                    : StandardCharsets.UTF_8);
        }
        return textString;
    }

    /** Length in bytes of the digest text. */
    public int textLength() {
        return textLength;
    }

    /** The buffer holding the digest text in {@code [0, textLength())}; overwritten by the next compute. */
    byte[] textBytes() {
        return text;
    }

    /** The first {@code /* *}{@code /} comment's content (whitespace turned to spaces), or null if none. */
    public String firstComment() {
        return firstComment;
    }

    private void ensureCapacity(int needed) {
        if (bufA.length < needed) {
            int size = Math.max(needed, bufA.length * 2);
            bufA = Arrays.copyOf(bufA, size);
            bufB = Arrays.copyOf(bufB, size);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Character classes (bytes >= 0x80 are "token" characters, as in ProxySQL)
    // ---------------------------------------------------------------------------------------------------------

    /** A character that can be part of a name: letters, digits, '$' and '_'. */
    private static boolean isWordChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '$' || c == '_';
    }

    private static boolean isSpace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isHexDigit(int c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static boolean isArithmetic(int c) {
        return c == '+' || c == '-' || c == '*' || c == '/' || c == '%';
    }

    private static int lower(int c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }

    /**
     * The byte at {@code x} of a buffer compressed in place from {@code s} into {@code out}: positions already
     * rewritten ({@code x < w}) hold output, the rest still hold input.
     */
    private static int inPlace(byte[] s, byte[] out, int w, int x) {
        return (x < w ? out[x] : s[x]) & 0xFF;
    }

    /** {@code s[i]} or 0 past the end, standing in for the C string terminator. */
    private static int at(byte[] s, int m, int i) {
        return i < m ? s[i] & 0xFF : 0;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Stage 1: literals, comments, whitespace
    // ---------------------------------------------------------------------------------------------------------

    private int stageLiterals(byte[] q, int off, int n, byte[] out) {
        final boolean lowercase = options.lowercase();
        final boolean replaceNull = options.replaceNull();
        final int end = off + n;
        firstComment = null;
        boolean firstCommentSeen = false;
        int w = 0;
        int prev = 0;
        int i = off;
        while (i < end) {
            int c = q[i] & 0xFF;
            if (!STAGE1_SPECIAL[c]) {
                out[w++] = (byte) (lowercase ? lower(c) : c);
                prev = c;
                i++;
                continue;
            }
            int rem = end - i;
            if (c == '/' && rem > 2 && q[i + 1] == '*') {
                int close = findCommentEnd(q, i, end);
                if (!firstCommentSeen && close > 0) {
                    firstCommentSeen = true;
                    firstComment = commentText(q, i, close);
                }
                w = emitComment(q, i, close, end, out, w);
                if (w > 0 && out[w - 1] != ' ') {
                    out[w++] = ' ';
                }
                prev = ' ';
                i = close > 0 ? close + 1 : end;
                continue;
            }
            if (c == '#') {
                i = lineCommentEnd(q, rem >= 2 ? i + 1 : i, end);
                prev = ' ';
                continue;
            }
            if (c == '-' && rem > 2 && q[i + 1] == '-' && isSpace(q[i + 2]) && (prev != '-' || i == off)) {
                i = lineCommentEnd(q, rem >= 4 ? i + 3 : i, end);
                prev = ' ';
                continue;
            }
            if (c == '\'' || c == '"') {
                int close = stringEnd(q, i, end);
                if (close < 0) {
                    // An unterminated string swallows the rest of the query and leaves nothing behind.
                    i = end;
                    continue;
                }
                out[w++] = '?';
                prev = 0;
                i = close + 1;
                continue;
            }
            if (isDigit(c) && !isWordChar(prev)) {
                int tokenEnd = numberEnd(q, i, end);
                // When the number runs to the end of the query ProxySQL judges it without its last character.
                int judgedEnd = tokenEnd == end && tokenEnd - i > 1 ? tokenEnd - 1 : tokenEnd;
                if (isNumberLiteral(q, i, judgedEnd)) {
                    out[w++] = '?';
                    prev = '?';
                } else {
                    for (int k = i; k < tokenEnd; k++) {
                        int ch = q[k] & 0xFF;
                        out[w++] = (byte) (lowercase ? lower(ch) : ch);
                    }
                    prev = q[tokenEnd - 1] & 0xFF;
                }
                i = tokenEnd;
                continue;
            }
            if (replaceNull && (c == 'n' || c == 'N') && !isWordChar(prev) && isNullKeyword(q, i, end)) {
                out[w++] = '?';
                prev = '?';
                i += 4;
                continue;
            }
            if (isSpace(c)) {
                if (w == 0) {
                    i++;
                    continue;
                }
                if (isSpace(prev)) {
                    if (out[w - 1] != ' ') {
                        out[w++] = ' ';
                    }
                    prev = ' ';
                    i++;
                    continue;
                }
                out[w++] = ' ';
            } else {
                out[w++] = (byte) (lowercase ? lower(c) : c);
            }
            prev = c;
            i++;
        }
        return w;
    }

    /** Index of the '/' closing the comment opened at {@code start}, or -1 if it is never closed. */
    private static int findCommentEnd(byte[] q, int start, int end) {
        for (int j = start + 3; j < end; j++) {
            if (q[j] == '/' && q[j - 1] == '*') {
                return j;
            }
        }
        return -1;
    }

    private static String commentText(byte[] q, int start, int close) {
        int from = start + 2 + (q[start + 2] == '!' ? 1 : 0);
        int to = Math.max(from, close - 1);
        int len = Math.min(to - from, FIRST_COMMENT_MAX);
        byte[] copy = Arrays.copyOfRange(q, from, from + len);
        for (int k = 0; k < copy.length; k++) {
            if (isSpace(copy[k])) {
                copy[k] = ' ';
            }
        }
        return new String(copy, StandardCharsets.UTF_8);
    }

    /**
     * Writes what a comment leaves in the digest: the whole comment with keep_comment, the body of an executable
     * {@code /*!NNNNN ... *}{@code /} comment without its version annotation, otherwise nothing.
     */
    private int emitComment(byte[] q, int start, int close, int end, byte[] out, int w) {
        boolean executable = start + 2 < end && q[start + 2] == '!';
        if (close < 0 || !(executable || options.keepComment())) {
            return w;
        }
        int bodyFrom = start + 2 + (executable ? 1 : 0);
        int bodyTo = close - 1;
        int k = bodyFrom;
        // Like ProxySQL, a comment made only of version-annotation characters leaves nothing behind.
        while (k < bodyTo && (q[k] == '/' || q[k] == '*' || q[k] == '!' || q[k] == ' ' || isDigit(q[k]))) {
            k++;
        }
        if (k == bodyTo) {
            return w;
        }
        if (options.keepComment()) {
            out[w++] = '/';
            out[w++] = '*';
            for (int j = bodyFrom; j <= close; j++) {
                out[w++] = q[j];
            }
            return w;
        }
        for (; k < bodyTo; k++) {
            out[w++] = q[k];
        }
        if (out[w - 1] != ' ') {
            out[w++] = ' ';
        }
        return w;
    }

    /** Index just after a '#' or '-- ' comment whose body starts at {@code from}: its newline is consumed too. */
    private static int lineCommentEnd(byte[] q, int from, int end) {
        int k = from;
        while (k < end - 1 && q[k] != '\n' && q[k] != '\r') {
            k++;
        }
        return k + 1;
    }

    /**
     * Index of the quote closing the string opened at {@code start}, or -1. Backslash escapes and doubled quotes
     * are honoured the way ProxySQL pairs them (a pair is judged on the previous character only).
     */
    private static int stringEnd(byte[] q, int start, int end) {
        int delim = q[start];
        int prev = delim;
        for (int k = start + 1; k < end; k++) {
            int ch = q[k];
            if (k > start + 1 && ((prev == '\\' && (ch == '\\' || ch == delim)) || (prev == delim && ch == delim))) {
                prev = 'X';
                continue;
            }
            if (ch == delim && (k == end - 1 || q[k + 1] != delim)) {
                return k;
            }
            prev = ch;
        }
        return -1;
    }

    /** End of a token that starts with a digit: word characters, '.', and a sign right after an exponent 'e'. */
    private static int numberEnd(byte[] q, int start, int end) {
        int k = start + 1;
        while (k < end) {
            int ch = q[k] & 0xFF;
            boolean floatChar = ch == '.' || ((ch == '+' || ch == '-') && lower(q[k - 1]) == 'e');
            if (!isWordChar(ch) && !floatChar) {
                break;
            }
            k++;
        }
        return k;
    }

    /** Whether {@code q[from, to)} is a number: digits with '.', 'e' and exponent signs, or 0x and hex digits. */
    private static boolean isNumberLiteral(byte[] q, int from, int to) {
        boolean hex = false;
        for (int k = from; k < to; k++) {
            int ch = q[k] & 0xFF;
            boolean floatChar = ch == '.' || lower(ch) == 'e'
                    || (k > from && lower(q[k - 1]) == 'e' && (ch == '+' || ch == '-'));
            if (k == from + 1 && q[from] == '0' && (ch == 'x' || ch == 'X')) {
                hex = true;
            } else if (!hex && !isDigit(ch) && !floatChar) {
                return false;
            } else if (hex && !isHexDigit(ch)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isNullKeyword(byte[] q, int i, int end) {
        int rem = end - i;
        if (rem < 4) {
            return false;
        }
        boolean word = lower(q[i]) == 'n' && lower(q[i + 1]) == 'u' && lower(q[i + 2]) == 'l'
                && lower(q[i + 3]) == 'l';
        return word && (rem == 4 || !isWordChar(q[i + 4] & 0xFF));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Stage 2: spaces around '(' ')' ',' and operators, signs of lone values, digits in names
    // ---------------------------------------------------------------------------------------------------------

    private int stageSpaces(byte[] s, int m, byte[] out) {
        final boolean noDigits = options.noDigits();
        final boolean keepComment = options.keepComment();
        int w = 0;
        for (int i = 0; i < m; i++) {
            int c = s[i] & 0xFF;
            if (c != ' ' && c != '+' && c != '-') {
                if (noDigits && isDigit(c)) {
                    if (w > 0 && out[w - 1] != '?') {
                        out[w++] = '?';
                    }
                } else {
                    out[w++] = (byte) c;
                }
                continue;
            }
            // ProxySQL compresses in place, so what it sees to the left may already be output, not input.
            int lc = i > 0 ? inPlace(s, out, w, i - 1) : '0';
            int llc = i > 1 ? inPlace(s, out, w, i - 2) : '0';
            if (c == ' ') {
                int rc = at(s, m, i + 1);
                boolean drop;
                if (lc == '(' || rc == ')') {
                    drop = true;
                } else if ((isArithmetic(lc) && rc == '?') || lc == ',' || rc == ',') {
                    drop = !(keepComment && llc == '*' && lc == '/');
                } else {
                    drop = isArithmetic(rc) && lc == '?';
                }
                if (!drop) {
                    out[w++] = ' ';
                }
            } else {
                int rc = at(s, m, i + 1);
                boolean drop;
                if (lc == ' ') {
                    drop = isWordChar(llc) || (llc != '?' && llc != ')' && (rc == '?' || rc == ' '));
                } else {
                    drop = !isWordChar(lc) && lc != '?' && lc != ')' && (rc == '?' || rc == ' ');
                }
                if (!drop) {
                    out[w++] = (byte) c;
                }
            }
        }
        return w;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Stage 3: long value lists inside parentheses -> (?,?,?,...)
    // ---------------------------------------------------------------------------------------------------------

    private int stageGrouping(byte[] s, int m, byte[] out) {
        final int limit = options.groupingLimit();
        final int last = m - 1;
        boolean inParens = false;
        int w = 0;
        int i = 0;
        while (i <= last) {
            if (inParens && i < last - limit * 2 && startsValueList(s, m, i)
                    && !isArithmetic(inPlace(s, out, w, i - 1))) {
                int count = 0;
                int p = i;
                int broken = 0;
                while (p < last && broken == 0) {
                    if (s[p] == '?' && s[p + 1] == ',') {
                        p += 2;
                        count++;
                    } else {
                        broken = at(s, m, p + 1) == ')' ? 2 : 1;
                    }
                }
                int span = broken == 2 ? count * 2 + 1 : count * 2;
                if (span >= limit * 2 + 3) {
                    for (int k = 0; k < limit; k++) {
                        out[w++] = '?';
                        out[w++] = ',';
                    }
                    out[w++] = ELLIPSIS_DOT;
                    out[w++] = ELLIPSIS_DOT;
                    out[w++] = ELLIPSIS_DOT;
                    i = broken == 2 ? p + 1 : p - 1;
                } else {
                    for (int k = 0; k < count; k++) {
                        out[w++] = '?';
                        out[w++] = ',';
                    }
                    i = p;
                }
            } else {
                // Only copied characters can open or close a candidate list; collapsed ones never are parentheses.
                byte c = s[i++];
                out[w++] = c;
                if (c == '(') {
                    inParens = true;
                } else if (c == ')') {
                    inParens = false;
                }
            }
        }
        return w;
    }

    /** "?,?," or "?,?)"; the caller also requires no operator before it, so "?+?,?" does not start a list. */
    private static boolean startsValueList(byte[] s, int m, int i) {
        return s[i] == '?' && at(s, m, i + 1) == ',' && at(s, m, i + 2) == '?'
                && (at(s, m, i + 3) == ',' || at(s, m, i + 3) == ')');
    }

    // ---------------------------------------------------------------------------------------------------------
    // Stage 4: runs of collapsed groups -> (?,?,?,...),(?,?,?,...),...
    // ---------------------------------------------------------------------------------------------------------

    private int stageGroups(byte[] s, int m, byte[] out) {
        final int limit = options.groupingLimit();
        final int groups = options.groupsGroupingLimit();
        final int last = m - 1;
        // "(" + "?," * limit + "..." + ")" + ","
        final int size = 1 + limit * 2 + 3 + 1 + 1;
        int w = 0;
        int i = 0;
        while (i <= last) {
            boolean fits = i <= last - size * (groups + 1) + 2;
            if (fits && s[i] == '(' && at(s, m, i + 1) == '?' && at(s, m, i + 2) == ',') {
                int p = i;
                int found = 0;
                while (p + (size - 2) <= last && isCollapsedGroup(s, m, p, limit)) {
                    p += size - 1;
                    if (at(s, m, p) == ',') {
                        p++;
                    }
                    found++;
                }
                if (found > groups) {
                    int keep = size * groups;
                    System.arraycopy(s, i, out, w, keep);
                    w += keep;
                    out[w++] = ELLIPSIS_DOT;
                    out[w++] = ELLIPSIS_DOT;
                    out[w++] = ELLIPSIS_DOT;
                    i = p;
                }
            }
            if (i > last) {
                break;
            }
            out[w++] = s[i++];
        }
        return w;
    }

    /** Whether a stage-3 collapsed group "(?,?,?,...)" starts at {@code p}. */
    private static boolean isCollapsedGroup(byte[] s, int m, int p, int limit) {
        int groupLen = 1 + limit * 2 + 3 + 1;
        if (p + groupLen > m || s[p] != '(' || s[p + groupLen - 1] != ')') {
            return false;
        }
        for (int k = 1; k < groupLen - 1; k++) {
            int expected = k > limit * 2 ? '.' : (k % 2 == 1 ? '?' : ',');
            if (s[p + k] != expected) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasValueList(byte[] s, int m) {
        for (int i = 1; i < m; i++) {
            if (s[i] == ',' && s[i - 1] == '?') {
                return true;
            }
        }
        return false;
    }

    /** Trailing spaces and semicolons go; the first character always stays. */
    private static int trimEnd(byte[] s, int m) {
        int k = m;
        while (k > 1 && (s[k - 1] == ' ' || s[k - 1] == ';')) {
            k--;
        }
        return k;
    }
}
