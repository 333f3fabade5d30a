package io.proxyfleet.routing;

import io.proxyfleet.config.QueryRule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Turns {@code mysql_query_rules} (and {@code mysql_query_rules_fast_routing}) rows into a {@link CompiledRules}
 * program when rules are loaded to runtime: only active rules, in rule_id order, regexes compiled once.
 *
 * <p>Stateless; runs on the admin thread, never on an event loop (regex compilation is not free).
 */
public final class RuleCompiler {
    /** One {"id":N,"weight":W} entry of the attributes' flagOUTs array, keys in either order. */
    private static final Pattern FLAG_OUT_ENTRY = Pattern.compile("\\{([^{}]*)}");
    private static final Pattern FLAG_OUTS_ARRAY = Pattern.compile("\"flagOUTs\"\\s*:\\s*\\[([^\\]]*)]");
    private static final Pattern ID_FIELD = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
    private static final Pattern WEIGHT_FIELD = Pattern.compile("\"weight\"\\s*:\\s*(\\d+)");

    private RuleCompiler() {
    }

    /** Compiles the query rules alone (no fast-routing entries). */
    public static CompiledRules compile(List<QueryRule> rules) {
        return compile(rules, List.of());
    }

    /**
     * Compiles query rules and fast-routing entries.
     *
     * @throws IllegalArgumentException naming the rule_id when a regex, digest or replace_pattern is invalid, so
     *                                  that {@code LOAD MYSQL QUERY RULES TO RUNTIME} can be refused
     */
    public static CompiledRules compile(List<QueryRule> rules, List<FastRoutingRule> fastRouting) {
        List<QueryRule> active = new ArrayList<>();
        for (QueryRule rule : rules) {
            if (rule.active()) {
                active.add(rule);
            }
        }
        active.sort(Comparator.comparingInt(QueryRule::ruleId));
        CompiledRule[] compiled = new CompiledRule[active.size()];
        int slots = 0;
        for (int i = 0; i < compiled.length; i++) {
            QueryRule rule = active.get(i);
            try {
                compiled[i] = compileRule(rule, slots);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("rule_id " + rule.ruleId() + ": " + e.getMessage(), e);
            }
            slots += (compiled[i].matchDigest != null ? 1 : 0) + (compiled[i].matchPattern != null ? 1 : 0);
        }
        return new CompiledRules(compiled, slots, FastRoutingTable.of(fastRouting));
    }

    private static CompiledRule compileRule(QueryRule r, int firstSlot) {
        boolean caseless = false;
        boolean global = false;
        if (r.reModifiers() != null) {
            for (String token : r.reModifiers().split(",")) {
                String t = token.trim().toUpperCase(Locale.ROOT);
                caseless |= t.equals("CASELESS");
                global |= t.equals("GLOBAL");
            }
        }
        int slot = firstSlot;
        RuleRegex matchDigest = null;
        if (r.matchDigest() != null) {
            matchDigest = regex("match_digest", r.matchDigest(), caseless, slot++);
        }
        RuleRegex matchPattern = null;
        if (r.matchPattern() != null) {
            matchPattern = regex("match_pattern", r.matchPattern(), caseless, slot);
        }
        ReplaceTemplate replace = null;
        if (r.replacePattern() != null) {
            if (matchPattern == null) {
                throw new IllegalArgumentException("replace_pattern needs a match_pattern");
            }
            replace = ReplaceTemplate.parse(r.replacePattern(), matchPattern.pattern.matcher("").groupCount());
        }
        long digest = notEmpty(r.digest()) ? parseDigest(r.digest()) : 0;
        int[] actions = new int[CompiledRule.Action.COUNT];
        actions[CompiledRule.Action.DESTINATION_HOSTGROUP] = orUnset(r.destinationHostgroup());
        actions[CompiledRule.Action.CACHE_TTL] = orUnset(r.cacheTtl());
        actions[CompiledRule.Action.CACHE_EMPTY_RESULT] = orUnset(r.cacheEmptyResult());
        actions[CompiledRule.Action.CACHE_TIMEOUT] = orUnset(r.cacheTimeout());
        actions[CompiledRule.Action.RECONNECT] = orUnset(r.reconnect());
        actions[CompiledRule.Action.TIMEOUT] = orUnset(r.timeout());
        actions[CompiledRule.Action.RETRIES] = orUnset(r.retries());
        actions[CompiledRule.Action.DELAY] = orUnset(r.delay());
        actions[CompiledRule.Action.NEXT_QUERY_FLAG_IN] = orUnset(r.nextQueryFlagIn());
        actions[CompiledRule.Action.MIRROR_FLAG_OUT] = orUnset(r.mirrorFlagOut());
        actions[CompiledRule.Action.MIRROR_HOSTGROUP] = orUnset(r.mirrorHostgroup());
        actions[CompiledRule.Action.STICKY_CONN] = orUnset(r.stickyConn());
        actions[CompiledRule.Action.MULTIPLEX] = orUnset(r.multiplex());
        actions[CompiledRule.Action.GTID_FROM_HOSTGROUP] = orUnset(r.gtidFromHostgroup());
        actions[CompiledRule.Action.LOG] = orUnset(r.log());
        int[][] weighted = weightedFlagOuts(r.attributes());
        return new CompiledRule(r.ruleId(), emptyToNull(r.username()), emptyToNull(r.schemaname()), r.flagIn(),
                emptyToNull(r.clientAddr()), emptyToNull(r.proxyAddr()), orUnset(r.proxyPort()), digest,
                matchDigest, matchPattern, r.negateMatchPattern(), global, replace, orUnset(r.flagOut()),
                weighted == null ? null : weighted[0], weighted == null ? null : weighted[1], actions,
                r.errorMsg(), r.okMsg(), r.apply());
    }

    private static RuleRegex regex(String column, String regex, boolean caseless, int slot) {
        try {
            return new RuleRegex(regex, caseless, slot);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid " + column + " regex '" + regex + "': "
                    + e.getDescription(), e);
        }
    }

    /** ProxySQL reads the column with strtoull(…, 0): "0x…" hex (as shown in stats), or decimal. */
    static long parseDigest(String text) {
        String t = text.trim();
        try {
            if (t.startsWith("0x") || t.startsWith("0X")) {
                return Long.parseUnsignedLong(t.substring(2), 16);
            }
            return Long.parseUnsignedLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid digest '" + text + "'", e);
        }
    }

    /** Parses {"flagOUTs":[{"id":N,"weight":W},…]} into ids and cumulative weights; null when absent. */
    private static int[][] weightedFlagOuts(String attributes) {
        if (attributes == null || attributes.isEmpty()) {
            return null;
        }
        Matcher array = FLAG_OUTS_ARRAY.matcher(attributes);
        if (!array.find()) {
            return null;
        }
        List<int[]> entries = new ArrayList<>();
        Matcher entry = FLAG_OUT_ENTRY.matcher(array.group(1));
        while (entry.find()) {
            Matcher id = ID_FIELD.matcher(entry.group(1));
            Matcher weight = WEIGHT_FIELD.matcher(entry.group(1));
            if (id.find() && weight.find()) {
                int w = Integer.parseInt(weight.group(1));
                if (w > 0) {
                    entries.add(new int[] {Integer.parseInt(id.group(1)), w});
                }
            }
        }
        if (entries.isEmpty()) {
            return null;
        }
        int[] ids = new int[entries.size()];
        int[] cumulative = new int[entries.size()];
        int sum = 0;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = entries.get(i)[0];
            sum += entries.get(i)[1];
            cumulative[i] = sum;
        }
        return new int[][] {ids, cumulative};
    }

    private static int orUnset(Integer value) {
        return value == null ? RoutingDecision.UNSET : value;
    }

    private static boolean notEmpty(String s) {
        return s != null && !s.isEmpty();
    }

    private static String emptyToNull(String s) {
        return notEmpty(s) ? s : null;
    }
}
