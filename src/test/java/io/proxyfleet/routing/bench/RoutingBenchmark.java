package io.proxyfleet.routing.bench;

import io.proxyfleet.config.QueryRule;
import io.proxyfleet.routing.CompiledRules;
import io.proxyfleet.routing.DigestOptions;
import io.proxyfleet.routing.QueryContext;
import io.proxyfleet.routing.QueryDigest;
import io.proxyfleet.routing.RoutingDecision;
import io.proxyfleet.routing.RuleCompiler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.CommandLineOptionException;

/**
 * Per-query cost of the query processor on an event loop: digest alone, and digest plus evaluation of 100 rules.
 *
 * <ul>
 *   <li>{@code flat100}: 100 rules at flagIN 0, each with a regex (anchored literals, {@code .*} chains,
 *       unanchored literals, and real regexes with classes and groups, on digest and on query text); only
 *       the last one matches, so every rule's filters and regex are examined.</li>
 *   <li>{@code chain100}: a typical layout: 30 rules for other users, one rule sending user {@code app} to
 *       flagIN 10, 60 regex rules at flagIN 10 (one near the end matches with apply=1), 9 rules at another
 *       flagIN that are never reached.</li>
 * </ul>
 *
 * <p>Run with {@code main} (JMH options may be passed as arguments, e.g. {@code RoutingBenchmark -bm sample}) or
 * {@code org.openjdk.jmh.Main}. On a shared, oversubscribed machine prefer sample mode and read the p0.50 line:
 * the average then mostly measures time spent descheduled.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RoutingBenchmark {
    private static final byte[] POINT_SELECT =
            "SELECT c FROM sbtest1 WHERE id=4242".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LONG_SELECT = ("SELECT id, name, email FROM users WHERE id IN (1,2,3,4,5,6,7,8,9,10) "
            + "AND status = 'active' /* app:web-7 */ ORDER BY created_at DESC LIMIT 20").getBytes(StandardCharsets.US_ASCII);

    private QueryDigest digest;
    private QueryContext ctx;
    private RoutingDecision out;
    private CompiledRules flat100;
    private CompiledRules chain100;

    @Setup
    public void setUp() {
        digest = new QueryDigest(DigestOptions.DEFAULTS);
        ctx = new QueryContext(digest);
        ctx.session("app", "10.0.0.7", "10.0.0.1", 6033);
        ctx.schema("sbtest");
        out = new RoutingDecision();
        flat100 = RuleCompiler.compile(flatRules());
        chain100 = RuleCompiler.compile(chainRules());
        ctx.query(POINT_SELECT, 0, POINT_SELECT.length);
        flat100.evaluate(ctx, out);
        check(out.destinationHostgroup() == 2, "flat100 must end on rule 100");
        chain100.evaluate(ctx, out);
        check(out.destinationHostgroup() == 3, "chain100 must end on its matching rule");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }

    /** Digest of a 35-byte point select. */
    @Benchmark
    public long digestPointSelect() {
        digest.compute(POINT_SELECT, 0, POINT_SELECT.length);
        return digest.hash();
    }

    /** Digest of a 150-byte select with an IN list, a string and a comment. */
    @Benchmark
    public long digestLongSelect() {
        digest.compute(LONG_SELECT, 0, LONG_SELECT.length);
        return digest.hash();
    }

    /** Digest plus 100 flat regex rules, all examined. */
    @Benchmark
    public int digestAndFlat100Rules() {
        ctx.query(POINT_SELECT, 0, POINT_SELECT.length);
        flat100.evaluate(ctx, out);
        return out.destinationHostgroup();
    }

    /** Digest plus 100 rules laid out with a username filter and a flagIN chain. */
    @Benchmark
    public int digestAndChain100Rules() {
        ctx.query(POINT_SELECT, 0, POINT_SELECT.length);
        chain100.evaluate(ctx, out);
        return out.destinationHostgroup();
    }

    /** Same as {@link #digestAndFlat100Rules} for the longer query. */
    @Benchmark
    public int digestLongAndFlat100Rules() {
        ctx.query(LONG_SELECT, 0, LONG_SELECT.length);
        flat100.evaluate(ctx, out);
        return out.destinationHostgroup();
    }

    private static QueryRule rule(int id, String user, int flagIn, String matchDigest, String matchPattern,
                                  Integer flagOut, Integer hostgroup, boolean apply) {
        return new QueryRule(id, true, user, null, flagIn, null, null, null, null, matchDigest, matchPattern, false,
                "CASELESS", flagOut, null, hostgroup, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, apply, "", null);
    }

    /** A regex of one of four shapes that does not match the benchmark queries. */
    private static String nonMatching(int i) {
        return switch (i % 5) {
            case 0 -> "^INSERT INTO sbtest" + i;
            case 1 -> "^SELECT.*FROM sbtest" + i + " WHERE.*FOR UPDATE$";
            case 2 -> "FROM orders" + i + " WHERE";
            case 3 -> "^SELECT\\s+\\w+\\s+FROM\\s+t" + i + "\\b";
            default -> "^(UPDATE|DELETE)\\s.*sbtest" + i;
        };
    }

    private static List<QueryRule> flatRules() {
        List<QueryRule> rules = new ArrayList<>();
        for (int i = 1; i < 100; i++) {
            boolean onQueryText = i % 3 == 0;
            String re = nonMatching(i);
            rules.add(rule(i, null, 0, onQueryText ? null : re, onQueryText ? re : null, null, 1, true));
        }
        rules.add(rule(100, null, 0, "^SELECT c FROM sbtest\\d+ WHERE id=\\?$", null, null, 2, true));
        return rules;
    }

    private static List<QueryRule> chainRules() {
        List<QueryRule> rules = new ArrayList<>();
        int id = 1;
        for (int i = 0; i < 30; i++) {
            rules.add(rule(id++, "report" + i, 0, nonMatching(i), null, null, 1, true));
        }
        rules.add(rule(id++, "app", 0, null, null, 10, null, false));
        for (int i = 0; i < 60; i++) {
            boolean last = i == 55;
            String re = last ? "^SELECT c FROM sbtest" : nonMatching(i);
            rules.add(rule(id++, null, 10, re, null, null, last ? 3 : 1, true));
        }
        for (int i = 0; i < 9; i++) {
            rules.add(rule(id++, null, 20, nonMatching(i), null, null, 4, true));
        }
        return rules;
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        String[] withDefault = args.length == 0 ? new String[] {RoutingBenchmark.class.getSimpleName()} : args;
        new Runner(new CommandLineOptions(withDefault)).run();
    }
}
