package io.proxyfleet.monitor;

import java.util.Locale;

/**
 * {@code mysql_replication_hostgroups.check_type}: which variable(s) decide that a server is read-only, and the
 * query the read_only check sends for it (reference §5.9). The query always names its column {@code read_only}.
 */
public enum CheckType {
    READ_ONLY("read_only", "SELECT @@global.read_only read_only"),
    INNODB_READ_ONLY("innodb_read_only", "SELECT @@global.innodb_read_only read_only"),
    SUPER_READ_ONLY("super_read_only", "SELECT @@global.super_read_only read_only"),
    READ_ONLY_OR_INNODB_READ_ONLY("read_only|innodb_read_only",
            "SELECT @@global.read_only|@@global.innodb_read_only read_only"),
    READ_ONLY_AND_INNODB_READ_ONLY("read_only&innodb_read_only",
            "SELECT @@global.read_only&@@global.innodb_read_only read_only");

    private final String text;
    private final String query;

    CheckType(String text, String query) {
        this.text = text;
        this.query = query;
    }

    /** The value as written in the table. */
    public String text() {
        return text;
    }

    /** The statement the read_only check runs. */
    public String query() {
        return query;
    }

    /** Parses a table value case-insensitively, as the table's CHECK constraint accepts it. */
    public static CheckType parse(String value) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (CheckType type : values()) {
            if (type.text.equals(wanted)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown check_type " + value);
    }
}
