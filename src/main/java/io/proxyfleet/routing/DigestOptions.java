package io.proxyfleet.routing;

import io.proxyfleet.config.MysqlVariables;
import io.proxyfleet.config.RuntimeConfig;

/**
 * The {@code mysql-query_digests_*} settings that shape a digest text. Immutable.
 *
 * @param lowercase           {@code query_digests_lowercase}: lowercase every copied character
 * @param noDigits            {@code query_digests_no_digits}: digits inside identifiers become {@code ?}
 * @param replaceNull         {@code query_digests_replace_null}: the {@code NULL} keyword becomes {@code ?}
 * @param keepComment         {@code query_digests_keep_comment}: {@code /* *}{@code /} comments stay in the text
 * @param maxDigestLength     {@code query_digests_max_digest_length}: the digest text (and hash input) is cut here
 * @param maxQueryLength      {@code query_digests_max_query_length}: only this many query bytes are read
 * @param groupingLimit       {@code query_digests_grouping_limit}: values kept in a list before {@code ...}
 * @param groupsGroupingLimit {@code query_digests_groups_grouping_limit}: collapsed groups kept before {@code ...}
 */
public record DigestOptions(
        boolean lowercase,
        boolean noDigits,
        boolean replaceNull,
        boolean keepComment,
        int maxDigestLength,
        int maxQueryLength,
        int groupingLimit,
        int groupsGroupingLimit) {

    /** ProxySQL 2.7's defaults. */
    public static final DigestOptions DEFAULTS = from(new RuntimeConfig.Variables(MysqlVariables.DEFAULTS, null));

    public DigestOptions {
        if (maxDigestLength < 1 || maxQueryLength < 1) {
            throw new IllegalArgumentException("digest and query length limits must be positive");
        }
        if (groupingLimit < 0 || groupsGroupingLimit < 0) {
            throw new IllegalArgumentException("grouping limits must not be negative");
        }
    }

    /** Reads the options from a runtime {@code mysql-*} variables module (names without the prefix). */
    public static DigestOptions from(RuntimeConfig.Variables mysql) {
        return new DigestOptions(
                mysql.getBoolean("query_digests_lowercase"),
                mysql.getBoolean("query_digests_no_digits"),
                mysql.getBoolean("query_digests_replace_null"),
                mysql.getBoolean("query_digests_keep_comment"),
                mysql.getInt("query_digests_max_digest_length"),
                mysql.getInt("query_digests_max_query_length"),
                mysql.getInt("query_digests_grouping_limit"),
                mysql.getInt("query_digests_groups_grouping_limit"));
    }

    public DigestOptions withLowercase(boolean value) {
        return new DigestOptions(value, noDigits, replaceNull, keepComment, maxDigestLength, maxQueryLength,
                groupingLimit, groupsGroupingLimit);
    }

    public DigestOptions withNoDigits(boolean value) {
        return new DigestOptions(lowercase, value, replaceNull, keepComment, maxDigestLength, maxQueryLength,
                groupingLimit, groupsGroupingLimit);
    }

    public DigestOptions withReplaceNull(boolean value) {
        return new DigestOptions(lowercase, noDigits, value, keepComment, maxDigestLength, maxQueryLength,
                groupingLimit, groupsGroupingLimit);
    }

    public DigestOptions withKeepComment(boolean value) {
        return new DigestOptions(lowercase, noDigits, replaceNull, value, maxDigestLength, maxQueryLength,
                groupingLimit, groupsGroupingLimit);
    }

    public DigestOptions withMaxDigestLength(int value) {
        return new DigestOptions(lowercase, noDigits, replaceNull, keepComment, value, maxQueryLength,
                groupingLimit, groupsGroupingLimit);
    }

    public DigestOptions withGrouping(int limit, int groupsLimit) {
        return new DigestOptions(lowercase, noDigits, replaceNull, keepComment, maxDigestLength, maxQueryLength,
                limit, groupsLimit);
    }
}
