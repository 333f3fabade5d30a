package io.proxyfleet.routing;

import java.util.Objects;

/**
 * One row of {@code mysql_query_rules_fast_routing}: queries of {@code username} on {@code schemaname} that end
 * rule evaluation with {@code flagIn} go to {@code destinationHostgroup}. Immutable.
 */
public record FastRoutingRule(String username, String schemaname, int flagIn, int destinationHostgroup,
                              String comment) {
    public FastRoutingRule {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(schemaname, "schemaname");
        if (destinationHostgroup < 0) {
            throw new IllegalArgumentException("destination_hostgroup must be >= 0");
        }
        comment = comment == null ? "" : comment;
    }
}
