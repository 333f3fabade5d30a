package io.proxyfleet.admin;

import io.proxyfleet.config.ProxySqlVariables;

/**
 * Which values a global variable accepts: ProxySQL's own variables as ProxySQL checks them
 * ({@link ProxySqlVariables}); ProxyFleet's own by their default: booleans accept {@code true|false|1|0} (stored
 * as {@code true}/{@code false}), integers accept integers, anything else any text. Stateless.
 */
final class VariableRules {
    private static final ProxySqlVariables.Check BOOL = new ProxySqlVariables.Bool();
    private static final ProxySqlVariables.Check INT = new ProxySqlVariables.Int(Long.MIN_VALUE, Long.MAX_VALUE);
    private static final ProxySqlVariables.Check TEXT = new ProxySqlVariables.Text(false);

    private VariableRules() {
    }

    /**
     * The value to store for {@code fullName} ({@code mysql-threads}) when a user asked for {@code value}, or
     * {@code null} when the value is not acceptable.
     */
    static String accept(String fullName, String value, String defaultValue) {
        if (value == null) {
            return null;
        }
        return check(fullName, defaultValue).accept(value);
    }

    private static ProxySqlVariables.Check check(String fullName, String defaultValue) {
        ProxySqlVariables.Spec spec = ProxySqlVariables.ALL.get(fullName);
        if (spec != null) {
            return spec.check();
        }
        if (defaultValue.equals("true") || defaultValue.equals("false")) {
            return BOOL;
        }
        return INT.accept(defaultValue) != null ? INT : TEXT;
    }
}
