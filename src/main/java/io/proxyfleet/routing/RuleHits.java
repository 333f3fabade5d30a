package io.proxyfleet.routing;

/** One row of {@code stats_mysql_query_rules}: how many queries a runtime rule matched. Immutable. */
public record RuleHits(int ruleId, long hits) {
}
