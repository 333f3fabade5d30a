package io.proxyfleet.routing;

import io.proxyfleet.config.QueryRule;

/** Test helper: a mysql_query_rules row with ProxySQL's column defaults (active, CASELESS), set fluently. */
final class RuleBuilder {
    private final int ruleId;
    private boolean active = true;
    private String username;
    private String schemaname;
    private int flagIn;
    private String clientAddr;
    private String proxyAddr;
    private Integer proxyPort;
    private String digest;
    private String matchDigest;
    private String matchPattern;
    private boolean negate;
    private String reModifiers = "CASELESS";
    private Integer flagOut;
    private String replacePattern;
    private Integer destinationHostgroup;
    private Integer cacheTtl;
    private Integer cacheEmptyResult;
    private Integer cacheTimeout;
    private Integer reconnect;
    private Integer timeout;
    private Integer retries;
    private Integer delay;
    private Integer nextQueryFlagIn;
    private Integer mirrorFlagOut;
    private Integer mirrorHostgroup;
    private String errorMsg;
    private String okMsg;
    private Integer stickyConn;
    private Integer multiplex;
    private Integer gtidFromHostgroup;
    private Integer log;
    private boolean apply;
    private String attributes = "";

    private RuleBuilder(int ruleId) {
        this.ruleId = ruleId;
    }

    static RuleBuilder rule(int ruleId) {
        return new RuleBuilder(ruleId);
    }

    RuleBuilder inactive() { active = false; return this; }
    RuleBuilder username(String v) { username = v; return this; }
    RuleBuilder schemaname(String v) { schemaname = v; return this; }
    RuleBuilder flagIn(int v) { flagIn = v; return this; }
    RuleBuilder clientAddr(String v) { clientAddr = v; return this; }
    RuleBuilder proxyAddr(String v) { proxyAddr = v; return this; }
    RuleBuilder proxyPort(int v) { proxyPort = v; return this; }
    RuleBuilder digest(String v) { digest = v; return this; }
    RuleBuilder matchDigest(String v) { matchDigest = v; return this; }
    RuleBuilder matchPattern(String v) { matchPattern = v; return this; }
    RuleBuilder negate() { negate = true; return this; }
    RuleBuilder reModifiers(String v) { reModifiers = v; return this; }
    RuleBuilder flagOut(int v) { flagOut = v; return this; }
    RuleBuilder replacePattern(String v) { replacePattern = v; return this; }
    RuleBuilder hostgroup(int v) { destinationHostgroup = v; return this; }
    RuleBuilder cacheTtl(int v) { cacheTtl = v; return this; }
    RuleBuilder cacheEmptyResult(int v) { cacheEmptyResult = v; return this; }
    RuleBuilder cacheTimeout(int v) { cacheTimeout = v; return this; }
    RuleBuilder reconnect(int v) { reconnect = v; return this; }
    RuleBuilder timeout(int v) { timeout = v; return this; }
    RuleBuilder retries(int v) { retries = v; return this; }
    RuleBuilder delay(int v) { delay = v; return this; }
    RuleBuilder nextQueryFlagIn(int v) { nextQueryFlagIn = v; return this; }
    RuleBuilder mirrorFlagOut(int v) { mirrorFlagOut = v; return this; }
    RuleBuilder mirrorHostgroup(int v) { mirrorHostgroup = v; return this; }
    RuleBuilder errorMsg(String v) { errorMsg = v; return this; }
    RuleBuilder okMsg(String v) { okMsg = v; return this; }
    RuleBuilder stickyConn(int v) { stickyConn = v; return this; }
    RuleBuilder multiplex(int v) { multiplex = v; return this; }
    RuleBuilder gtidFromHostgroup(int v) { gtidFromHostgroup = v; return this; }
    RuleBuilder log(int v) { log = v; return this; }
    RuleBuilder apply() { apply = true; return this; }
    RuleBuilder attributes(String v) { attributes = v; return this; }

    QueryRule build() {
        return new QueryRule(ruleId, active, username, schemaname, flagIn, clientAddr, proxyAddr, proxyPort, digest,
                matchDigest, matchPattern, negate, reModifiers, flagOut, replacePattern, destinationHostgroup,
                cacheTtl, cacheEmptyResult, cacheTimeout, reconnect, timeout, retries, delay, nextQueryFlagIn,
                mirrorFlagOut, mirrorHostgroup, errorMsg, okMsg, stickyConn, multiplex, gtidFromHostgroup, log,
                apply, attributes, null);
    }
}
