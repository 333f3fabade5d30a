package io.proxyfleet.routing;

/**
 * What the query processor decided for one query (ProxySQL's Query Processor Output). Every numeric field is
 * {@link #UNSET} (-1) and every text field {@code null} unless a rule, fast-routing entry or hint set it.
 *
 * <p>Mutable and reused: the session keeps one instance and {@link CompiledRules#evaluate} resets it for each
 * query, so routing allocates nothing on the common path. Owned by the session's event-loop thread.
 */
public final class RoutingDecision {
    /** The value of a field nothing has set. */
    public static final int UNSET = -1;

    int destinationHostgroup;
    int cacheTtl;
    int cacheEmptyResult;
    int cacheTimeout;
    int reconnect;
    int timeout;
    int retries;
    int delay;
    int nextQueryFlagIn;
    int mirrorFlagOut;
    int mirrorHostgroup;
    int stickyConn;
    int multiplex;
    int gtidFromHostgroup;
    int log;
    String errorMsg;
    String okMsg;
    String rewrittenQuery;
    int lastMatchedRuleId;
    int finalFlagIn;
    int maxLagMs;
    String minGtid;
    boolean createNewConnection;

    public RoutingDecision() {
        reset();
    }

    /** Clears every field back to "not set". */
    public void reset() {
        destinationHostgroup = UNSET;
        cacheTtl = UNSET;
        cacheEmptyResult = UNSET;
        cacheTimeout = UNSET;
        reconnect = UNSET;
        timeout = UNSET;
        retries = UNSET;
        delay = UNSET;
        nextQueryFlagIn = UNSET;
        mirrorFlagOut = UNSET;
        mirrorHostgroup = UNSET;
        stickyConn = UNSET;
        multiplex = UNSET;
        gtidFromHostgroup = UNSET;
        log = UNSET;
        errorMsg = null;
        okMsg = null;
        rewrittenQuery = null;
        lastMatchedRuleId = UNSET;
        finalFlagIn = 0;
        maxLagMs = UNSET;
        minGtid = null;
        createNewConnection = false;
    }

    /** Hostgroup the query must go to, or -1 to stay on the session's current/default hostgroup. */
    public int destinationHostgroup() {
        return destinationHostgroup;
    }

    /** Query cache TTL in milliseconds; a value > 0 enables caching of this query. */
    public int cacheTtl() {
        return cacheTtl;
    }

    /** 1/0 overrides {@code mysql-query_cache_stores_empty_result} for this query. */
    public int cacheEmptyResult() {
        return cacheEmptyResult;
    }

    /** Milliseconds to wait for another session filling the same cache entry. */
    public int cacheTimeout() {
        return cacheTimeout;
    }

    /** Parsed and stored like ProxySQL, which gives it no effect. */
    public int reconnect() {
        return reconnect;
    }

    /** Query timeout in milliseconds (else {@code mysql-default_query_timeout}). */
    public int timeout() {
        return timeout;
    }

    /** Re-executions on failure (else {@code mysql-query_retries_on_failure}). */
    public int retries() {
        return retries;
    }

    /** Milliseconds to hold the query before executing it (throttling). */
    public int delay() {
        return delay;
    }

    /** flagIN the session's following queries start evaluation with; {@link CompiledRules#evaluate} applies it. */
    public int nextQueryFlagIn() {
        return nextQueryFlagIn;
    }

    /** flagIN the mirror session evaluates the rules with (see {@link CompiledRules#evaluateMirror}). */
    public int mirrorFlagOut() {
        return mirrorFlagOut;
    }

    /** Hostgroup a mirror copy of the query runs on, or -1 for no mirroring. */
    public int mirrorHostgroup() {
        return mirrorHostgroup;
    }

    /** Parsed and stored like ProxySQL, which gives it no effect. */
    public int stickyConn() {
        return stickyConn;
    }

    /** 0 disables multiplexing on the connection, 1 re-enables it, 2 ignores this query's variables. */
    public int multiplex() {
        return multiplex;
    }

    /** Hostgroup whose GTID the chosen server must have executed (read-your-writes). */
    public int gtidFromHostgroup() {
        return gtidFromHostgroup;
    }

    /** 1: write the query to the events log, 0: don't. */
    public int log() {
        return log;
    }

    /** If set, answer the client with error 1148 and this text instead of running the query. */
    public String errorMsg() {
        return errorMsg;
    }

    /** If set, answer the client with an OK packet carrying this text instead of running the query. */
    public String okMsg() {
        return okMsg;
    }

    /** The query text to send after replace_pattern rewrites, or null if it was not rewritten. */
    public String rewrittenQuery() {
        return rewrittenQuery;
    }

    /** The rule_id of the last rule that matched, or -1. */
    public int lastMatchedRuleId() {
        return lastMatchedRuleId;
    }

    /** The flagIN in force when evaluation ended (after every flagOUT). */
    public int finalFlagIn() {
        return finalFlagIn;
    }

    /** From the max_lag_ms / min_epoch_ms hints: maximum replication lag allowed for this query, or -1. */
    public int maxLagMs() {
        return maxLagMs;
    }

    /** From the min_gtid hint: a GTID the chosen server must have executed, or null. */
    public String minGtid() {
        return minGtid;
    }

    /** From the create_new_connection=1 hint: open a new backend connection for this query. */
    public boolean createNewConnection() {
        return createNewConnection;
    }

    @Override
    public String toString() {
        return "RoutingDecision{hg=" + destinationHostgroup + ", rule=" + lastMatchedRuleId + ", flagIn=" + finalFlagIn
                + ", cacheTtl=" + cacheTtl + ", timeout=" + timeout + ", retries=" + retries + ", delay=" + delay
                + ", mirrorHg=" + mirrorHostgroup + ", mirrorFlagOut=" + mirrorFlagOut + ", nextFlagIn="
                + nextQueryFlagIn + ", multiplex=" + multiplex + ", error=" + errorMsg + ", ok=" + okMsg
                + ", rewritten=" + (rewrittenQuery != null) + "}";
    }
}
