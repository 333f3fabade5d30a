package io.proxyfleet.routing;

/**
 * One active {@code mysql_query_rules} row, ready to evaluate: empty filters dropped, regexes compiled, NULL
 * actions turned into -1. Immutable and shared by all sessions.
 */
final class CompiledRule {
    final int ruleId;
    final String username;
    final String schemaname;
    final int flagIn;
    final String clientAddr;
    /** Length of the prefix before '%' in client_addr, or -1 for an exact match. */
    final int clientAddrWildcard;
    final String proxyAddr;
    final int proxyPort;
    /** The digest filter; 0 means none (ProxySQL ignores a zero digest). */
    final long digest;
    final RuleRegex matchDigest;
    final RuleRegex matchPattern;
    final boolean negateMatchPattern;
    final boolean global;
    final ReplaceTemplate replace;
    final int flagOut;
    /** Weighted flagOUTs from the attributes JSON: ids and cumulative weights; null when none. */
    final int[] weightedFlagOutIds;
    final int[] weightedFlagOutCumulative;
    final int destinationHostgroup;
    final int cacheTtl;
    final int cacheEmptyResult;
    final int cacheTimeout;
    final int reconnect;
    final int timeout;
    final int retries;
    final int delay;
    final int nextQueryFlagIn;
    final int mirrorFlagOut;
    final int mirrorHostgroup;
    final String errorMsg;
    final String okMsg;
    final int stickyConn;
    final int multiplex;
    final int gtidFromHostgroup;
    final int log;
    final boolean apply;

    CompiledRule(int ruleId, String username, String schemaname, int flagIn, String clientAddr, String proxyAddr,
                 int proxyPort, long digest, RuleRegex matchDigest, RuleRegex matchPattern,
                 boolean negateMatchPattern, boolean global, ReplaceTemplate replace, int flagOut,
                 int[] weightedFlagOutIds, int[] weightedFlagOutCumulative, int[] actions, String errorMsg,
                 String okMsg, boolean apply) {
        this.ruleId = ruleId;
        this.username = username;
        this.schemaname = schemaname;
        this.flagIn = flagIn;
        this.clientAddr = clientAddr;
        this.clientAddrWildcard = clientAddr == null ? -1 : clientAddr.indexOf('%');
        this.proxyAddr = proxyAddr;
        this.proxyPort = proxyPort;
        this.digest = digest;
        this.matchDigest = matchDigest;
        this.matchPattern = matchPattern;
        this.negateMatchPattern = negateMatchPattern;
        this.global = global;
        this.replace = replace;
        this.flagOut = flagOut;
        this.weightedFlagOutIds = weightedFlagOutIds;
        this.weightedFlagOutCumulative = weightedFlagOutCumulative;
        this.destinationHostgroup = actions[Action.DESTINATION_HOSTGROUP];
        this.cacheTtl = actions[Action.CACHE_TTL];
        this.cacheEmptyResult = actions[Action.CACHE_EMPTY_RESULT];
        this.cacheTimeout = actions[Action.CACHE_TIMEOUT];
        this.reconnect = actions[Action.RECONNECT];
        this.timeout = actions[Action.TIMEOUT];
        this.retries = actions[Action.RETRIES];
        this.delay = actions[Action.DELAY];
        this.nextQueryFlagIn = actions[Action.NEXT_QUERY_FLAG_IN];
        this.mirrorFlagOut = actions[Action.MIRROR_FLAG_OUT];
        this.mirrorHostgroup = actions[Action.MIRROR_HOSTGROUP];
        this.stickyConn = actions[Action.STICKY_CONN];
        this.multiplex = actions[Action.MULTIPLEX];
        this.gtidFromHostgroup = actions[Action.GTID_FROM_HOSTGROUP];
        this.log = actions[Action.LOG];
        this.errorMsg = errorMsg;
        this.okMsg = okMsg;
        this.apply = apply;
    }

    /** Whether the session's client address passes this rule's client_addr filter. */
    boolean clientAddrMatches(String addr) {
        if (clientAddrWildcard < 0) {
            return clientAddr.equals(addr);
        }
        return addr.regionMatches(0, clientAddr, 0, clientAddrWildcard);
    }

    /** Indexes of the integer action columns in the array the compiler builds. */
    static final class Action {
        static final int DESTINATION_HOSTGROUP = 0;
        static final int CACHE_TTL = 1;
        static final int CACHE_EMPTY_RESULT = 2;
        static final int CACHE_TIMEOUT = 3;
        static final int RECONNECT = 4;
        static final int TIMEOUT = 5;
        static final int RETRIES = 6;
        static final int DELAY = 7;
        static final int NEXT_QUERY_FLAG_IN = 8;
        static final int MIRROR_FLAG_OUT = 9;
        static final int MIRROR_HOSTGROUP = 10;
        static final int STICKY_CONN = 11;
        static final int MULTIPLEX = 12;
        static final int GTID_FROM_HOSTGROUP = 13;
        static final int LOG = 14;
        static final int COUNT = 15;

        private Action() {
        }
    }
}
