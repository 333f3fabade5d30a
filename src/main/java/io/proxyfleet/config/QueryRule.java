package io.proxyfleet.config;

/**
 * One row of {@code mysql_query_rules}. Nullable columns are boxed and {@code null} means "not set",
 * exactly as the SQLite column is NULL. Immutable.
 */
public record QueryRule(
        int ruleId,
        boolean active,
        String username,
        String schemaname,
        int flagIn,
        String clientAddr,
        String proxyAddr,
        Integer proxyPort,
        String digest,
        String matchDigest,
        String matchPattern,
        boolean negateMatchPattern,
        String reModifiers,
        Integer flagOut,
        String replacePattern,
        Integer destinationHostgroup,
        Integer cacheTtl,
        Integer cacheEmptyResult,
        Integer cacheTimeout,
        Integer reconnect,
        Integer timeout,
        Integer retries,
        Integer delay,
        Integer nextQueryFlagIn,
        Integer mirrorFlagOut,
        Integer mirrorHostgroup,
        String errorMsg,
        String okMsg,
        Integer stickyConn,
        Integer multiplex,
        Integer gtidFromHostgroup,
        Integer log,
        boolean apply,
        String attributes,
        String comment) {

    public QueryRule {
        attributes = attributes == null ? "" : attributes;
    }
}
