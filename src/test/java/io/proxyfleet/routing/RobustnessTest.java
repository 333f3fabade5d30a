package io.proxyfleet.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlVariables;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Whatever bytes a client sends, the per-query code must not throw: it runs on an event loop. */
class RobustnessTest {
    private static final List<String> FRAGMENTS = List.of(
            "SELECT", " ", "  ", "\n", "\t", "/*", "*/", "/*!", "40101", "#", "--", "-- ", "-", "+", "'", "\"", "\\",
            "''", "(", ")", "?", ",", "1", "0x1F", "1.5e-3", "NULL", "null", "@", "@@", "SET", "=", ":=", "a_1",
            "IN", "VALUES", "(1,2,3,4,5)", "`", ";", "é", "...", "*", "%", "e", "E", "N'x'", "COLLATE", "NAMES");

    @Test
    void randomInputNeverBreaksDigestClassifierOrSetParser() {
        Random random = new Random(42);
        QueryClassifier classifier = new QueryClassifier(MysqlVariables.DEFAULTS.get("keep_multiplexing_variables"));
        DigestOptions[] options = {
                DigestOptions.DEFAULTS,
                DigestOptions.DEFAULTS.withKeepComment(true).withNoDigits(true).withReplaceNull(true),
                DigestOptions.DEFAULTS.withLowercase(true).withGrouping(1, 1).withMaxDigestLength(16),
                DigestOptions.DEFAULTS.withGrouping(0, 0)};
        for (int round = 0; round < 20_000; round++) {
            StringBuilder sb = new StringBuilder();
            int parts = random.nextInt(30);
            for (int p = 0; p < parts; p++) {
                sb.append(FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
            }
            byte[] bytes = round % 5 == 0 ? randomBytes(random) : sb.toString().getBytes(StandardCharsets.UTF_8);
            DigestOptions o = options[round % options.length];
            QueryDigest digest = new QueryDigest(o);
            digest.compute(bytes, 0, bytes.length);
            assertThat(digest.textLength()).isLessThanOrEqualTo(o.maxDigestLength());
            classifier.classify(digest);
            SetStatementParser.parse(digest.text());
            SetStatementParser.parse(new String(bytes, StandardCharsets.UTF_8));
        }
    }

    @Test
    void randomQueriesNeverBreakRuleEvaluation() {
        CompiledRules rules = RuleCompiler.compile(List.of(
                RuleBuilder.rule(1).matchPattern("(\\w+)\\s*=\\s*(\\?|'[^']*')").replacePattern("\\1 = \\2")
                        .reModifiers("CASELESS,GLOBAL").build(),
                RuleBuilder.rule(2).matchDigest("^SELECT.*FROM").flagOut(3).build(),
                RuleBuilder.rule(3).flagIn(3).matchPattern("").negate().hostgroup(1).build(),
                RuleBuilder.rule(4).flagIn(3).matchDigest("IN \\(\\?").hostgroup(2).apply().build()),
                List.of(new FastRoutingRule("u", "s", 3, 5, "")));
        QueryContext ctx = new QueryContext(new QueryDigest(DigestOptions.DEFAULTS));
        ctx.session("u", "10.0.0.1", null, 6033);
        ctx.schema("s");
        ctx.processorIterations(2);
        RoutingDecision out = new RoutingDecision();
        Random random = new Random(7);
        List<String> hints = List.of("/* hostgroup=99999999999999 */", "/* min_epoch_ms=1;max_lag_ms=x */",
                "/*;;=;=1;hostgroup=;*/", "/* min_gtid= ; query_timeout=-5 */", "");
        for (int round = 0; round < 5_000; round++) {
            StringBuilder sb = new StringBuilder(hints.get(random.nextInt(hints.size())));
            int parts = random.nextInt(25);
            for (int p = 0; p < parts; p++) {
                sb.append(FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
            }
            ctx.query(sb.toString());
            rules.evaluate(ctx, out);
            assertThat(out.finalFlagIn()).isIn(0, 3);
        }
    }

    @Test
    void keptCommentsNeverOverflowTheWorkBuffer() {
        QueryDigest digest = new QueryDigest(DigestOptions.DEFAULTS.withKeepComment(true));
        digest.compute("/*a*/".repeat(300));
        assertThat(digest.textString()).startsWith("/*a*/ /*a*/ /*a*/");
        digest.compute("SELECT/*x*/1/**/");
        assertThat(digest.textString()).isEqualTo("SELECT/*x*/ ?");
    }

    private static byte[] randomBytes(Random random) {
        byte[] b = new byte[random.nextInt(64)];
        random.nextBytes(b);
        return b;
    }
}
