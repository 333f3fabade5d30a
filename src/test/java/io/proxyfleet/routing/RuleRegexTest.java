package io.proxyfleet.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shortcuts must answer exactly what java.util.regex answers, for every pattern shape and text. */
class RuleRegexTest {
    private static final List<String> PATTERNS = List.of(
            "^SELECT", "^select", "SELECT", "^SELECT$", "FOR UPDATE$", "^SELECT.*FOR UPDATE$", "^SELECT .* FOR UPDATE",
            "^SELECT.*FROM t.*WHERE", ".*", "", "^$", "sbtest1 WHERE", "ab*c", "^ab+", "a.c", "^SELECT.*?id=\\?",
            "t\\.c", "FROM (a|b)", "^(?i)select", "x$", "^SELECT c FROM sbtest\\d+", "^.*\\$$", "\\(\\?\\)",
            "^INSERT INTO t1 .*VALUES", "UPDATE.*SET.*WHERE.*", "^SELECT.*FROM.*$");
    private static final List<String> TEXTS = List.of(
            "SELECT c FROM sbtest1 WHERE id=?", "select * from t where a=1 for update", "SELECT 1 FOR UPDATE",
            "SELECT 1 FOR UPDATE ", "SELECT\nx FOR UPDATE", "", "abbbc", "ac", "abc", "a\nc", "t.c", "tXc",
            "INSERT INTO t1 (a) VALUES (?)", "UPDATE t SET a=? WHERE b=?", "SELECT x FROM a", "cost $", "f(?)",
            "SELECT c FROM sbtest12 WHERE id=?", "SELECT c FROM t WHERE id=?", "FOR UPDATE", "select", "x",
            "SELECT c FROM t\r\nWHERE id=1", "SELECT 'é' FROM t WHERE x", "SELECT\u2028FROM");

    @Test
    void shortcutsAgreeWithTheRegexEngine() {
        QueryContext ctx = new QueryContext(new QueryDigest(DigestOptions.DEFAULTS));
        for (String p : PATTERNS) {
            for (boolean caseless : new boolean[] {false, true}) {
                RuleRegex rule = new RuleRegex(p, caseless, 0);
                // A program owns the matcher slots; a fresh one keeps slot 0 from reusing another pattern's matcher.
                CompiledRules program = new CompiledRules(new CompiledRule[0], 1, FastRoutingTable.EMPTY);
                Pattern reference = Pattern.compile(p, caseless ? Pattern.CASE_INSENSITIVE : 0);
                for (String t : TEXTS) {
                    boolean expected = reference.matcher(t).find();
                    assertThat(rule.find(ctx, program, t, RuleRegex.hasLineBreak(t)))
                            .as("/%s/%s on \"%s\"", p, caseless ? "i" : "", t)
                            .isEqualTo(expected);
                    if (t.chars().allMatch(c -> c < 128)) {
                        byte[] ascii = ("xx" + t + "yy").getBytes(StandardCharsets.US_ASCII);
                        ByteChars view = new ByteChars();
                        view.point(ascii, 2, ascii.length - 4);
                        assertThat(rule.find(ctx, program, view, RuleRegex.hasLineBreak(view)))
                                .as("/%s/%s on bytes of \"%s\"", p, caseless ? "i" : "", t)
                                .isEqualTo(expected);
                    }
                }
            }
        }
    }
}
