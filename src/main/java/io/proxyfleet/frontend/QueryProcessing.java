package io.proxyfleet.frontend;

import io.netty.util.concurrent.FastThreadLocal;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.routing.DigestOptions;
import io.proxyfleet.routing.QueryClassifier;
import io.proxyfleet.routing.QueryDigest;

/**
 * Per-event-loop and per-configuration helpers of the query path: one {@link QueryDigest} per loop (a query is
 * digested and evaluated without yielding, so sessions of one loop can share it), and the digest options and
 * classifier derived from the current {@code mysql-*} variables. Each loop thread touches only its own state.
 */
final class QueryProcessing {
    private static final FastThreadLocal<QueryProcessing> PER_LOOP = new FastThreadLocal<>() {
        @Override
        protected QueryProcessing initialValue() {
            return new QueryProcessing();
        }
    };

    private final QueryDigest digest = new QueryDigest(DigestOptions.DEFAULTS);
    private RuntimeConfig.Variables source;
    private QueryClassifier classifier = new QueryClassifier("");
    private boolean multiplexing;
    private boolean digestsEnabled;
    private boolean trackHostname;
    private int maxQueryLength;
    private int autoIncrementDelay;
    private boolean lockOnUnparsableSet;
    private int queryRetries;
    private long defaultQueryTimeout;
    private int maxStatementsPerConnection;
    private String eventsLogFile;
    private long defaultQueryDelay;
    private boolean eventsLogByDefault;

    private QueryProcessing() {
    }

    /** The calling loop's instance, refreshed for {@code variables} if they changed since its last use. */
    static QueryProcessing current(RuntimeConfig.Variables variables) {
        QueryProcessing p = PER_LOOP.get();
        if (p.source != variables) {
            p.refresh(variables);
        }
        return p;
    }

    private void refresh(RuntimeConfig.Variables variables) {
        digest.options(DigestOptions.from(variables));
        classifier = new QueryClassifier(variables.get("keep_multiplexing_variables"),
                variables.getBoolean("keep_multiplexing_on_system_variable_reads"));
        multiplexing = variables.getBoolean("multiplexing");
        digestsEnabled = variables.getBoolean("query_digests");
        trackHostname = variables.getBoolean("query_digests_track_hostname");
        maxQueryLength = variables.getInt("query_digests_max_query_length");
        autoIncrementDelay = variables.getInt("auto_increment_delay_multiplex");
        lockOnUnparsableSet = variables.getInt("set_query_lock_on_hostgroup") == 1;
        queryRetries = variables.getInt("query_retries_on_failure");
        defaultQueryTimeout = variables.getLong("default_query_timeout");
        maxStatementsPerConnection = variables.getInt("max_stmts_per_connection");
        eventsLogFile = variables.get("eventslog_filename").trim();
        defaultQueryDelay = variables.getLong("default_query_delay");
        eventsLogByDefault = variables.getInt("eventslog_default_log") == 1;
        source = variables;
    }

    QueryDigest digest() {
        return digest;
    }

    QueryClassifier classifier() {
        return classifier;
    }

    boolean multiplexing() {
        return multiplexing;
    }

    boolean digestsEnabled() {
        return digestsEnabled;
    }

    boolean trackHostname() {
        return trackHostname;
    }

    int maxQueryLength() {
        return maxQueryLength;
    }

    int autoIncrementDelay() {
        return autoIncrementDelay;
    }

    boolean lockOnUnparsableSet() {
        return lockOnUnparsableSet;
    }

    int queryRetries() {
        return queryRetries;
    }

    /** mysql-eventslog_filename, empty when the events log is off. */
    String eventsLogFile() {
        return eventsLogFile;
    }

    long defaultQueryDelay() {
        return defaultQueryDelay;
    }

    boolean eventsLogByDefault() {
        return eventsLogByDefault;
    }

    int maxStatementsPerConnection() {
        return maxStatementsPerConnection;
    }

    long defaultQueryTimeout() {
        return defaultQueryTimeout;
    }
}
