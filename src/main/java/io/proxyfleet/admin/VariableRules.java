package io.proxyfleet.admin;

import java.util.Locale;

/**
 * Which values a global variable accepts, inferred from its default: booleans accept {@code true|false|1|0}
 * (stored as {@code true}/{@code false}), integers accept integers, everything else accepts any text except that
 * the listener and credential lists may not be empty. Stateless.
 */
final class VariableRules {

    private VariableRules() {
    }

    /**
     * The value to store for {@code name} when a user asked for {@code value}, or {@code null} when the value is
     * not acceptable.
     */
    static String accept(String name, String value, String defaultValue) {
        if (value == null) {
            return null;
        }
        String trimmed = value.trim();
        if (defaultValue.equals("true") || defaultValue.equals("false")) {
            return switch (trimmed.toLowerCase(Locale.ROOT)) {
                case "true", "1" -> "true";
                case "false", "0" -> "false";
                default -> null;
            };
        }
        if (isInteger(defaultValue)) {
            return isInteger(trimmed) ? trimmed : null;
        }
        if (trimmed.isEmpty() && (name.equals("admin_credentials") || name.equals("mysql_ifaces")
                || name.equals("interfaces"))) {
            return null;
        }
        return value;
    }

    private static boolean isInteger(String text) {
        if (text.isEmpty()) {
            return false;
        }
        try {
            Long.parseLong(text);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
