package io.proxyfleet.routing;

import static io.proxyfleet.routing.RuleBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.config.QueryRule;
import io.proxyfleet.config.QueryRuleProgram;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CompiledRulesTest {
    private long now = 1_700_000_000_000L;
    private QueryContext ctx;
    private final RoutingDecision out = new RoutingDecision();

    @BeforeEach
    void session() {
        ctx = new QueryContext(new QueryDigest(DigestOptions.DEFAULTS), () -> now);
        ctx.session("app", "10.0.0.7", "192.168.1.1", 6033);
        ctx.schema("shop");
    }

    private RoutingDecision route(CompiledRules program, String sql) {
        ctx.query(sql);
        program.evaluate(ctx, out);
        return out;
    }

    private static CompiledRules compile(RuleBuilder... rules) {
        List<QueryRule> rows = new ArrayList<>();
        for (RuleBuilder r : rules) {
            rows.add(r.build());
        }
        return RuleCompiler.compile(rows);
    }

    @Test
    void readWriteSplitRoutesByFirstMatchingApplyRule() {
        CompiledRules p = compile(
                rule(1).matchDigest("^SELECT .* FOR UPDATE$").hostgroup(1).apply(),
                rule(2).matchDigest("^SELECT").hostgroup(2).apply());
        assertThat(route(p, "SELECT * FROM t WHERE id = 1 FOR UPDATE").destinationHostgroup()).isEqualTo(1);
        assertThat(route(p, "select c from t where id = 7").destinationHostgroup()).isEqualTo(2);
        assertThat(out.lastMatchedRuleId()).isEqualTo(2);
        assertThat(route(p, "UPDATE t SET c = 1").destinationHostgroup()).isEqualTo(RoutingDecision.UNSET);
        assertThat(p.hits()).containsExactly(new RuleHits(1, 1), new RuleHits(2, 1));
    }

    @Test
    void onlyActiveRulesInRuleIdOrder() {
        CompiledRules p = compile(
                rule(20).matchDigest("^SELECT").hostgroup(20).apply(),
                rule(10).matchDigest("^SELECT").hostgroup(10).apply(),
                rule(5).inactive().matchDigest("^SELECT").hostgroup(5).apply());
        assertThat(p.size()).isEqualTo(2);
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(10);
        assertThat(p.hits()).extracting(RuleHits::ruleId).containsExactly(10, 20);
    }

    @Test
    void invalidRegexIsRefusedNamingTheRule() {
        assertThatThrownBy(() -> compile(rule(1).matchDigest("^SELECT"), rule(42).matchPattern("SELECT (")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rule_id 42")
                .hasMessageContaining("match_pattern");
        assertThatThrownBy(() -> compile(rule(7).digest("0xNOTHEX")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rule_id 7");
        assertThatThrownBy(() -> compile(rule(8).matchPattern("a(b)").replacePattern("\\2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rule_id 8");
    }

    @Test
    void laterMatchingRulesOverwriteEveryActionTheySet() {
        CompiledRules p = compile(
                rule(1).matchDigest("^SELECT").hostgroup(1).cacheTtl(1000).timeout(50).retries(2).delay(5)
                        .cacheEmptyResult(1).cacheTimeout(30).reconnect(0).stickyConn(1).multiplex(0)
                        .gtidFromHostgroup(1).log(1).mirrorHostgroup(9).mirrorFlagOut(3),
                rule(2).matchDigest("FROM t").hostgroup(2).timeout(70).errorMsg("blocked"),
                rule(3).matchDigest("^INSERT").okMsg("ignored"));
        RoutingDecision d = route(p, "SELECT * FROM t");
        assertThat(d.destinationHostgroup()).isEqualTo(2);
        assertThat(d.timeout()).isEqualTo(70);
        assertThat(d.errorMsg()).isEqualTo("blocked");
        assertThat(d.okMsg()).isNull();
        assertThat(d.cacheTtl()).isEqualTo(1000);
        assertThat(d.cacheEmptyResult()).isEqualTo(1);
        assertThat(d.cacheTimeout()).isEqualTo(30);
        assertThat(d.retries()).isEqualTo(2);
        assertThat(d.delay()).isEqualTo(5);
        assertThat(d.reconnect()).isZero();
        assertThat(d.stickyConn()).isEqualTo(1);
        assertThat(d.multiplex()).isZero();
        assertThat(d.gtidFromHostgroup()).isEqualTo(1);
        assertThat(d.log()).isEqualTo(1);
        assertThat(d.mirrorHostgroup()).isEqualTo(9);
        assertThat(d.mirrorFlagOut()).isEqualTo(3);
        assertThat(route(p, "INSERT INTO t VALUES (1)").okMsg()).isEqualTo("ignored");
        assertThat(out.timeout()).isEqualTo(RoutingDecision.UNSET);
    }

    @Test
    void sessionFilters() {
        CompiledRules p = compile(
                rule(1).username("other").hostgroup(1).apply(),
                rule(2).schemaname("archive").hostgroup(2).apply(),
                rule(3).proxyPort(6034).hostgroup(3).apply(),
                rule(4).proxyAddr("127.0.0.1").hostgroup(4).apply(),
                rule(5).clientAddr("10.0.1.%").hostgroup(5).apply(),
                rule(6).clientAddr("10.0.0.%").username("app").schemaname("shop").hostgroup(6).apply());
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(6);
        ctx.schema("archive");
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(2);
        ctx.schema("shop");
        ctx.session("other", "10.0.0.7", "192.168.1.1", 6033);
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(1);
        ctx.session("app", "10.0.0.7", "192.168.1.1", 6034);
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(3);
        ctx.session("app", "10.0.0.7", "127.0.0.1", 6033);
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(4);
    }

    @Test
    void clientAddrExactWildcardAndUnknown() {
        CompiledRules p = compile(
                rule(1).clientAddr("10.0.0.7").hostgroup(1).apply(),
                rule(2).clientAddr("%").hostgroup(2).apply());
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(1);
        ctx.session("app", "10.0.0.70", null, 6033);
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(2);
        ctx.session("app", null, null, 6033);
        // Unknown client address (Unix socket): the filter does not apply, so the first rule matches.
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(1);
    }

    @Test
    void digestFilterComparesTheDigestOfTheQuery() {
        QueryDigest d = new QueryDigest(DigestOptions.DEFAULTS);
        d.compute("SELECT c FROM t WHERE id = 99");
        CompiledRules p = compile(rule(1).digest(d.hashString()).hostgroup(5).apply());
        assertThat(route(p, "SELECT c FROM t WHERE id = 1").destinationHostgroup()).isEqualTo(5);
        assertThat(route(p, "SELECT c FROM t WHERE id IN (1)").destinationHostgroup()).isEqualTo(-1);
    }

    @Test
    void matchDigestSeesDigestTextAndMatchPatternSeesQueryText() {
        CompiledRules p = compile(
                rule(1).matchDigest("id = 42").hostgroup(1).apply(),
                rule(2).matchPattern("id = 42").hostgroup(2).apply(),
                rule(3).matchDigest("id = \\?").hostgroup(3).apply());
        assertThat(route(p, "SELECT * FROM t WHERE id = 42").destinationHostgroup()).isEqualTo(2);
        assertThat(route(p, "SELECT * FROM t WHERE id = 43").destinationHostgroup()).isEqualTo(3);
    }

    @Test
    void caselessIsAModifierNotTheDefaultOfTheEngine() {
        CompiledRules p = compile(
                rule(1).matchDigest("^select").reModifiers("").hostgroup(1).apply(),
                rule(2).matchDigest("^select").reModifiers(" caseless , GLOBAL").hostgroup(2).apply());
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(2);
        assertThat(route(p, "select 1").destinationHostgroup()).isEqualTo(1);
    }

    @Test
    void negateInvertsBothRegexTests() {
        CompiledRules p = compile(
                rule(1).matchDigest("^SELECT").negate().hostgroup(1).apply(),
                rule(2).matchPattern("FOR UPDATE").negate().hostgroup(2).apply());
        assertThat(route(p, "UPDATE t SET a = 1").destinationHostgroup()).isEqualTo(1);
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(2);
        assertThat(route(p, "SELECT 1 FOR UPDATE").destinationHostgroup()).isEqualTo(-1);
    }

    @Test
    void replacePatternRewritesFirstOrAllAndLaterRulesSeeTheRewrite() {
        CompiledRules p = compile(
                rule(1).matchPattern("(\\w+)_old").replacePattern("\\1_new"),
                rule(2).matchPattern("tbl_new").hostgroup(7));
        RoutingDecision d = route(p, "SELECT * FROM tbl_old JOIN tbl_old2_old");
        assertThat(d.rewrittenQuery()).isEqualTo("SELECT * FROM tbl_new JOIN tbl_old2_old");
        assertThat(d.destinationHostgroup()).isEqualTo(7);
        String digestBefore = ctx.digest().textString();
        assertThat(digestBefore).isEqualTo("SELECT * FROM tbl_old JOIN tbl_old2_old");

        CompiledRules global = compile(rule(1).matchPattern("(\\w+)_old").replacePattern("$\\1\\\\").reModifiers("CASELESS,GLOBAL"));
        assertThat(route(global, "SELECT a_old, B_OLD").rewrittenQuery()).isEqualTo("SELECT $a\\, $B\\");

        ctx.preparedStatement(true);
        assertThat(route(p, "SELECT * FROM tbl_old").rewrittenQuery()).isNull();
        ctx.preparedStatement(false);
        assertThat(route(p, "SELECT 1").rewrittenQuery()).isNull();
    }

    @Test
    void flagOutChainsSelectTheNextRulesAndApplyStops() {
        CompiledRules p = compile(
                rule(1).username("app").flagOut(100),
                rule(2).matchDigest("^SELECT").hostgroup(2).apply(),
                rule(3).flagIn(100).matchDigest("^SELECT").hostgroup(30).apply(),
                rule(4).flagIn(100).hostgroup(40));
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(30);
        assertThat(out.finalFlagIn()).isEqualTo(100);
        assertThat(route(p, "DELETE FROM t").destinationHostgroup()).isEqualTo(40);
        assertThat(p.hits()).extracting(RuleHits::hits).containsExactly(2L, 0L, 1L, 1L);
    }

    @Test
    void processorIterationsRestartFromTheFirstRuleAfterAFlagChange() {
        CompiledRules p = compile(
                rule(1).flagIn(5).hostgroup(50).apply(),
                rule(2).matchDigest("^SELECT").flagOut(5));
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(-1);
        ctx.processorIterations(1);
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(50);
        assertThat(p.hits()).extracting(RuleHits::hits).containsExactly(1L, 2L);
    }

    @Test
    void aFlagOutToTheSameFlagRestartsUntilIterationsRunOut() {
        CompiledRules p = compile(rule(1).matchDigest("^SELECT").flagOut(0).retries(1));
        ctx.processorIterations(3);
        route(p, "SELECT 1");
        assertThat(p.hits()).extracting(RuleHits::hits).containsExactly(4L);
    }

    @Test
    void nextQueryFlagInHoldsForFollowingQueriesUntilARuleChangesIt() {
        CompiledRules p = compile(
                rule(1).matchDigest("^BEGIN").nextQueryFlagIn(7).apply(),
                rule(2).flagIn(7).matchDigest("^COMMIT").nextQueryFlagIn(0).hostgroup(71).apply(),
                rule(3).flagIn(7).hostgroup(70).apply(),
                rule(4).hostgroup(1).apply());
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(1);
        assertThat(route(p, "BEGIN").nextQueryFlagIn()).isEqualTo(7);
        assertThat(ctx.nextQueryFlagIn()).isEqualTo(7);
        assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(70);
        assertThat(route(p, "SELECT 2").destinationHostgroup()).isEqualTo(70);
        assertThat(route(p, "COMMIT").destinationHostgroup()).isEqualTo(71);
        assertThat(route(p, "SELECT 3").destinationHostgroup()).isEqualTo(1);
    }

    @Test
    void mirrorSessionsStartAtTheMirrorFlagOutAndSkipRulesWithoutOne() {
        CompiledRules p = compile(
                rule(1).matchDigest("^SELECT").mirrorFlagOut(9).mirrorHostgroup(3).hostgroup(1).apply(),
                rule(2).flagIn(9).hostgroup(99).apply());
        RoutingDecision original = route(p, "SELECT /* hostgroup=4 */ 1");
        assertThat(original.destinationHostgroup()).isEqualTo(4);
        RoutingDecision mirror = new RoutingDecision();
        p.evaluateMirror(ctx, original.mirrorHostgroup(), original.mirrorFlagOut(), mirror);
        assertThat(mirror.destinationHostgroup()).isEqualTo(99);
        p.evaluateMirror(ctx, original.mirrorHostgroup(), RoutingDecision.UNSET, mirror);
        assertThat(mirror.destinationHostgroup()).isEqualTo(3);
        assertThat(mirror.lastMatchedRuleId()).isEqualTo(-1);
    }

    @Test
    void fastRoutingAppliesUnlessTheLastExaminedRuleHasApply() {
        List<FastRoutingRule> fast = List.of(
                new FastRoutingRule("app", "shop", 0, 11, ""),
                new FastRoutingRule("app", "shop", 3, 13, ""));
        CompiledRules noRules = RuleCompiler.compile(List.of(), fast);
        assertThat(route(noRules, "SELECT 1").destinationHostgroup()).isEqualTo(11);

        CompiledRules flagging = RuleCompiler.compile(List.of(rule(1).matchDigest("^SELECT").flagOut(3).hostgroup(1).build()), fast);
        assertThat(route(flagging, "SELECT 1").destinationHostgroup()).isEqualTo(13);
        ctx.schema("other");
        assertThat(route(flagging, "SELECT 1").destinationHostgroup()).isEqualTo(1);
        ctx.schema("shop");

        // The last rule has apply=1 and does not match: ProxySQL still skips fast routing.
        CompiledRules quirk = RuleCompiler.compile(List.of(rule(1).matchDigest("^INSERT").hostgroup(2).apply().build()), fast);
        assertThat(route(quirk, "SELECT 1").destinationHostgroup()).isEqualTo(-1);
        assertThatThrownBy(() -> RuleCompiler.compile(List.of(), List.of(fast.get(0), fast.get(0))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void firstCommentHintsOverrideRules() {
        CompiledRules p = compile(rule(1).hostgroup(1).timeout(5).cacheTtl(10).retries(1).delay(1));
        RoutingDecision d = route(p, "/* hostgroup=2; query_timeout=3000 ;cache_ttl=500;query_delay=7;"
                + "query_retries=3;mirror=8;min_gtid=3E11FA47-71CA-11E1-9E33-C80AA9429562:23;create_new_connection=1 */"
                + " SELECT 1");
        assertThat(d.destinationHostgroup()).isEqualTo(2);
        assertThat(d.timeout()).isEqualTo(3000);
        assertThat(d.cacheTtl()).isEqualTo(500);
        assertThat(d.delay()).isEqualTo(7);
        assertThat(d.retries()).isEqualTo(3);
        assertThat(d.mirrorHostgroup()).isEqualTo(8);
        assertThat(d.minGtid()).isEqualTo("3E11FA47-71CA-11E1-9E33-C80AA9429562:23");
        assertThat(d.createNewConnection()).isTrue();

        assertThat(route(p, "SELECT /* hostgroup=abc */ 1").destinationHostgroup()).isEqualTo(1);
        assertThat(route(p, "SELECT /* max_lag_ms=700000 */ 1").maxLagMs()).isEqualTo(-1);
        assertThat(route(p, "SELECT /* max_lag_ms=1500 */ 1").maxLagMs()).isEqualTo(1500);
        assertThat(route(p, "SELECT /* min_epoch_ms=" + (now - 2500) + " */ 1").maxLagMs()).isEqualTo(2500);
        assertThat(route(p, "SELECT 1 /* first */ /* hostgroup=9 */").destinationHostgroup()).isEqualTo(1);
    }

    @Test
    void weightedFlagOutsFromAttributesPickAFlag() {
        CompiledRules p = compile(
                rule(1).attributes("{\"flagOUTs\":[{\"id\":4,\"weight\":1},{\"weight\":0,\"id\":5}]}"),
                rule(2).flagIn(4).hostgroup(44).apply(),
                rule(3).flagIn(5).hostgroup(55).apply());
        for (int i = 0; i < 20; i++) {
            assertThat(route(p, "SELECT 1").destinationHostgroup()).isEqualTo(44);
        }
    }

    @Test
    void literalPrefilterAgreesWithTheRegex() {
        CompiledRules p = compile(
                rule(1).matchDigest("^SELECT c FROM").reModifiers("").hostgroup(1).apply(),
                rule(2).matchDigest("ab*c").hostgroup(2).apply(),
                rule(3).matchDigest("sbtest1 WHERE").hostgroup(3).apply());
        assertThat(route(p, "SELECT c FROM x").destinationHostgroup()).isEqualTo(1);
        assertThat(route(p, "select c FROM x").destinationHostgroup()).isEqualTo(-1);
        assertThat(route(p, "SELECT ac").destinationHostgroup()).isEqualTo(2);
        assertThat(route(p, "SELECT * FROM SBTEST1 where id=1").destinationHostgroup()).isEqualTo(3);
        assertThat(route(p, "SELECT * FROM SBTEST1").destinationHostgroup()).isEqualTo(-1);
    }

    @Test
    void nonAsciiQueriesAreMatchedAsText() {
        CompiledRules p = compile(rule(1).matchPattern("nom = 'Zoë'").hostgroup(1).apply());
        assertThat(route(p, "SELECT * FROM t WHERE nom = 'Zoë'").destinationHostgroup()).isEqualTo(1);
        byte[] bytes = "SELECT * FROM t WHERE nom = 'Zoë'".getBytes(StandardCharsets.UTF_8);
        ctx.query(bytes, 0, bytes.length);
        p.evaluate(ctx, out);
        assertThat(out.destinationHostgroup()).isEqualTo(1);
    }

    @Test
    void cachedDigestOutcomesStayExactAcrossManyDigests() {
        CompiledRules p = compile(
                rule(1).matchDigest("^SELECT a").hostgroup(1).apply(),
                rule(2).matchDigest("^SELECT b").negate().hostgroup(2).apply(),
                rule(3).hostgroup(3));
        for (int i = 0; i < 10_000; i++) {
            assertThat(route(p, "SELECT a" + i + " FROM t").destinationHostgroup()).isEqualTo(1);
            assertThat(route(p, "SELECT b" + i + " FROM t").destinationHostgroup()).isEqualTo(3);
            assertThat(route(p, "SELECT c" + i + " FROM t").destinationHostgroup()).isEqualTo(2);
        }
        assertThat(p.hits()).extracting(RuleHits::hits).containsExactly(10_000L, 10_000L, 10_000L);
    }

    @Test
    void emptyProgramFromTheConfigMarker() {
        assertThat(CompiledRules.of(QueryRuleProgram.EMPTY)).isSameAs(CompiledRules.EMPTY);
        assertThat(route(CompiledRules.EMPTY, "SELECT 1").destinationHostgroup()).isEqualTo(-1);
    }

    @Test
    void evaluationAllocatesNothingOnTheCommonPath() {
        CompiledRules p = compile(
                rule(1).username("app").flagOut(1),
                rule(2).flagIn(1).matchDigest("^SELECT .* FOR UPDATE").hostgroup(1).apply(),
                rule(3).flagIn(1).matchPattern("sbtest\\d+ WHERE").hostgroup(2).apply());
        byte[] q = "SELECT c FROM sbtest1 WHERE id=42".getBytes(StandardCharsets.US_ASCII);
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 20_000; i++) {
            ctx.query(q, 0, q.length);
            p.evaluate(ctx, out);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            ctx.query(q, 0, q.length);
            p.evaluate(ctx, out);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(out.destinationHostgroup()).isEqualTo(2);
        assertThat(allocated).as("bytes allocated by 10k evaluations").isLessThan(10_000L);
    }
}
