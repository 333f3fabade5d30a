package io.proxyfleet.routing;

/**
 * Applies the {@code key=value;...} hints of a query's first comment to a decision, after the rules, as ProxySQL
 * does (§5.3.5): hostgroup, query_timeout, cache_ttl, query_delay, query_retries, mirror, max_lag_ms,
 * min_epoch_ms, min_gtid, create_new_connection. Numeric values must start with a digit; unknown keys are
 * ignored. Stateless; runs on the session's thread.
 */
final class QueryHints {
    /** Replica lag bounds ProxySQL accepts for max_lag_ms / min_epoch_ms. */
    private static final long MAX_LAG_LIMIT_MS = 600_000;

    private QueryHints() {
    }

    static void apply(String comment, RoutingDecision out, QueryContext ctx) {
        int n = comment.length();
        int start = 0;
        while (start < n) {
            int end = comment.indexOf(';', start);
            if (end < 0) {
                end = n;
            }
            int eq = comment.indexOf('=', start);
            if (eq > start && eq < end) {
                applyPair(comment, start, eq, end, out, ctx);
            }
            start = end + 1;
        }
    }

    private static void applyPair(String c, int from, int eq, int to, RoutingDecision out, QueryContext ctx) {
        int ks = skipSpaces(c, from, eq);
        int ke = trimSpaces(c, ks, eq);
        int vs = skipSpaces(c, eq + 1, to);
        int ve = trimSpaces(c, vs, to);
        if (ks == ke || vs == ve) {
            return;
        }
        if (keyIs(c, ks, ke, "min_gtid")) {
            out.minGtid = c.substring(vs, ve);
            return;
        }
        char first = c.charAt(vs);
        if (first < '0' || first > '9') {
            return;
        }
        long value = leadingNumber(c, vs, ve);
        int clamped = (int) Math.min(Integer.MAX_VALUE, value);
        if (keyIs(c, ks, ke, "hostgroup")) {
            out.destinationHostgroup = clamped;
        } else if (keyIs(c, ks, ke, "query_timeout")) {
            out.timeout = clamped;
        } else if (keyIs(c, ks, ke, "cache_ttl")) {
            out.cacheTtl = clamped;
        } else if (keyIs(c, ks, ke, "query_delay")) {
            out.delay = clamped;
        } else if (keyIs(c, ks, ke, "query_retries")) {
            out.retries = clamped;
        } else if (keyIs(c, ks, ke, "mirror")) {
            out.mirrorHostgroup = clamped;
        } else if (keyIs(c, ks, ke, "max_lag_ms")) {
            if (value <= MAX_LAG_LIMIT_MS) {
                out.maxLagMs = clamped;
            }
        } else if (keyIs(c, ks, ke, "min_epoch_ms")) {
            long lag = ctx.nowMillis() - value;
            if (lag >= 0 && lag <= MAX_LAG_LIMIT_MS) {
                out.maxLagMs = (int) lag;
            }
        } else if (keyIs(c, ks, ke, "create_new_connection")) {
            out.createNewConnection = value == 1;
        }
    }

    private static boolean keyIs(String c, int from, int to, String key) {
        return to - from == key.length() && c.regionMatches(true, from, key, 0, key.length());
    }

    private static long leadingNumber(String c, int from, int to) {
        long v = 0;
        for (int i = from; i < to; i++) {
            char ch = c.charAt(i);
            if (ch < '0' || ch > '9') {
                break;
            }
            v = Math.min(Long.MAX_VALUE / 10 - 9, v) * 10 + (ch - '0');
        }
        return v;
    }

    private static int skipSpaces(String c, int from, int to) {
        while (from < to && c.charAt(from) == ' ') {
            from++;
        }
        return from;
    }

    private static int trimSpaces(String c, int from, int to) {
        while (to > from && c.charAt(to - 1) == ' ') {
            to--;
        }
        return to;
    }
}
