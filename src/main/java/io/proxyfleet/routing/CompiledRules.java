package io.proxyfleet.routing;

import io.proxyfleet.config.QueryRuleProgram;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * The runtime query-rule program (ProxySQL's {@code Query_Processor::process_mysql_query}): active rules in
 * rule_id order plus the fast-routing map, evaluated per query against a session's {@link QueryContext} into a
 * reused {@link RoutingDecision}.
 *
 * <p>Immutable except for the per-rule hit counters ({@link LongAdder}s, for {@code stats_mysql_query_rules});
 * one instance is shared by every event loop until the next {@code LOAD MYSQL QUERY RULES TO RUNTIME}.
 * Evaluation allocates nothing unless a rule rewrites the query, the first comment carries hints, or the digest
 * is new to this program (its match_digest outcomes are then computed once and cached, see
 * {@link DigestMatchCache}).
 */
public final class CompiledRules implements QueryRuleProgram {
    /** The program with no rules: every query keeps its session's default routing. */
    public static final CompiledRules EMPTY = new CompiledRules(new CompiledRule[0], 0, FastRoutingTable.EMPTY);

    /** Line-break state of the query text not computed yet. */
    private static final int UNKNOWN = -1;

    private final CompiledRule[] rules;
    private final LongAdder[] hits;
    private final int regexSlots;
    private final FastRoutingTable fastRouting;
    /** For each rule, the index of its match_digest in {@link #digestMatches}, or -1. */
    private final int[] digestIndex;
    private final DigestMatchCache digestMatches;

    CompiledRules(CompiledRule[] rules, int regexSlots, FastRoutingTable fastRouting) {
        this.rules = rules;
        this.regexSlots = regexSlots;
        this.fastRouting = fastRouting;
        this.hits = new LongAdder[rules.length];
        this.digestIndex = new int[rules.length];
        List<RuleRegex> digestRegexes = new ArrayList<>();
        for (int i = 0; i < rules.length; i++) {
            hits[i] = new LongAdder();
            digestIndex[i] = rules[i].matchDigest == null ? -1 : digestRegexes.size();
            if (rules[i].matchDigest != null) {
                digestRegexes.add(rules[i].matchDigest);
            }
        }
        this.digestMatches = new DigestMatchCache(digestRegexes.toArray(new RuleRegex[0]));
    }

    /** The compiled program inside a runtime config's query-rules module ({@link #EMPTY} before any LOAD). */
    public static CompiledRules of(QueryRuleProgram program) {
        return program instanceof CompiledRules compiled ? compiled : EMPTY;
    }

    /** Number of active rules. */
    public int size() {
        return rules.length;
    }

    /** Number of fast-routing entries. */
    public int fastRoutingSize() {
        return fastRouting.size();
    }

    int regexSlots() {
        return regexSlots;
    }

    /** Hit counters in rule_id order, as {@code stats_mysql_query_rules} lists them. */
    public List<RuleHits> hits() {
        List<RuleHits> result = new ArrayList<>(rules.length);
        for (int i = 0; i < rules.length; i++) {
            result.add(new RuleHits(rules[i].ruleId, hits[i].sum()));
        }
        return result;
    }

    /**
     * Evaluates the rules for the context's current query, then fast routing, then first-comment hints.
     * The evaluation starts at the flagIN an earlier query's rule set with next_query_flagIN, else 0; if a
     * matching rule sets next_query_flagIN, the context keeps it for the session's following queries.
     */
    public void evaluate(QueryContext ctx, RoutingDecision out) {
        out.reset();
        run(ctx, out, ctx.startFlagIn());
        String comment = ctx.digest().firstComment();
        if (comment != null) {
            QueryHints.apply(comment, out, ctx);
        }
        if (out.nextQueryFlagIn >= 0) {
            ctx.nextQueryFlagIn(out.nextQueryFlagIn);
        }
    }

    /**
     * Evaluates for a mirror session (the original query's {@link RoutingDecision#mirrorHostgroup()} and
     * {@link RoutingDecision#mirrorFlagOut()}): the destination starts as the mirror hostgroup; rules then run
     * from {@code mirrorFlagOut}, or are skipped entirely when it is -1. Hints are not applied and the context's
     * next_query_flagIN is left alone.
     */
    public void evaluateMirror(QueryContext ctx, int mirrorHostgroup, int mirrorFlagOut, RoutingDecision out) {
        out.reset();
        out.destinationHostgroup = mirrorHostgroup;
        if (mirrorFlagOut < 0) {
            return;
        }
        run(ctx, out, mirrorFlagOut);
    }

    private void run(QueryContext ctx, RoutingDecision out, int startFlagIn) {
        final CompiledRule[] rs = rules;
        int flagIn = startFlagIn;
        int restartsLeft = ctx.processorIterations();
        CharSequence query = ctx.queryText();
        int queryBreaks = UNKNOWN;
        DigestMatchCache.Entry digestOutcomes = null;
        CompiledRule lastExamined = null;
        int k = 0;
        while (k < rs.length) {
            CompiledRule r = rs[k];
            lastExamined = r;
            k++;
            if (r.flagIn != flagIn) {
                continue;
            }
            if (r.username != null && !r.username.equals(ctx.username())) {
                continue;
            }
            if (r.schemaname != null && !r.schemaname.equals(ctx.schemaname())) {
                continue;
            }
            if (r.clientAddr != null && ctx.clientAddr() != null && !r.clientAddrMatches(ctx.clientAddr())) {
                continue;
            }
            if (r.proxyAddr != null && ctx.proxyAddr() != null && !r.proxyAddr.equals(ctx.proxyAddr())) {
                continue;
            }
            if (r.proxyPort >= 0 && r.proxyPort != ctx.proxyPort()) {
                continue;
            }
            if (r.digest != 0 && ctx.digest().hash() != 0 && r.digest != ctx.digest().hash()) {
                continue;
            }
            if (r.matchDigest != null) {
                if (digestOutcomes == null) {
                    digestOutcomes = digestMatches.lookup(ctx, this);
                }
                if (digestOutcomes.matched(digestIndex[k - 1]) == r.negateMatchPattern) {
                    continue;
                }
            }
            if (r.matchPattern != null) {
                if (queryBreaks == UNKNOWN) {
                    queryBreaks = RuleRegex.hasLineBreak(query) ? 1 : 0;
                }
                if (r.matchPattern.find(ctx, this, query, queryBreaks == 1) == r.negateMatchPattern) {
                    continue;
                }
            }
            hits[k - 1].increment();
            out.lastMatchedRuleId = r.ruleId;
            boolean flagOutSet = false;
            if (r.weightedFlagOutIds != null) {
                flagIn = pickWeighted(r.weightedFlagOutIds, r.weightedFlagOutCumulative);
                flagOutSet = true;
            }
            if (r.flagOut >= 0) {
                flagIn = r.flagOut;
                flagOutSet = true;
            }
            applyActions(r, out);
            if (r.replace != null && !ctx.isPreparedStatement()) {
                String rewritten = r.replace.apply(ctx.matcher(this, r.matchPattern.slot, r.matchPattern.pattern),
                        query, r.global);
                if (rewritten != null) {
                    out.rewrittenQuery = rewritten;
                    query = rewritten;
                    queryBreaks = UNKNOWN;
                }
            }
            if (r.apply) {
                break;
            }
            // Like ProxySQL, any flagOUT (even to the same flag) restarts while iterations remain.
            if (flagOutSet && restartsLeft > 0) {
                restartsLeft--;
                k = 0;
            }
        }
        out.finalFlagIn = flagIn;
        // ProxySQL consults fast routing unless the last rule it looked at has apply=1 (matched or not).
        if (lastExamined == null || !lastExamined.apply) {
            int hg = fastRouting.lookup(ctx.username(), ctx.schemaname(), flagIn);
            if (hg >= 0) {
                out.destinationHostgroup = hg;
            }
        }
    }

    private static int pickWeighted(int[] ids, int[] cumulative) {
        int roll = ThreadLocalRandom.current().nextInt(cumulative[cumulative.length - 1]);
        for (int i = 0; i < ids.length; i++) {
            if (roll < cumulative[i]) {
                return ids[i];
            }
        }
        return ids[ids.length - 1];
    }

    private static void applyActions(CompiledRule r, RoutingDecision out) {
        if (r.destinationHostgroup >= 0) {
            out.destinationHostgroup = r.destinationHostgroup;
        }
        if (r.cacheTtl >= 0) {
            out.cacheTtl = r.cacheTtl;
        }
        if (r.cacheEmptyResult >= 0) {
            out.cacheEmptyResult = r.cacheEmptyResult;
        }
        if (r.cacheTimeout >= 0) {
            out.cacheTimeout = r.cacheTimeout;
        }
        if (r.reconnect >= 0) {
            out.reconnect = r.reconnect;
        }
        if (r.timeout >= 0) {
            out.timeout = r.timeout;
        }
        if (r.retries >= 0) {
            out.retries = r.retries;
        }
        if (r.delay >= 0) {
            out.delay = r.delay;
        }
        if (r.nextQueryFlagIn >= 0) {
            out.nextQueryFlagIn = r.nextQueryFlagIn;
        }
        if (r.mirrorFlagOut >= 0) {
            out.mirrorFlagOut = r.mirrorFlagOut;
        }
        if (r.mirrorHostgroup >= 0) {
            out.mirrorHostgroup = r.mirrorHostgroup;
        }
        if (r.errorMsg != null) {
            out.errorMsg = r.errorMsg;
        }
        if (r.okMsg != null) {
            out.okMsg = r.okMsg;
        }
        if (r.stickyConn >= 0) {
            out.stickyConn = r.stickyConn;
        }
        if (r.multiplex >= 0) {
            out.multiplex = r.multiplex;
        }
        if (r.gtidFromHostgroup >= 0) {
            out.gtidFromHostgroup = r.gtidFromHostgroup;
        }
        if (r.log >= 0) {
            out.log = r.log;
        }
    }
}
