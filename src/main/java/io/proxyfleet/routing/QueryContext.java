package io.proxyfleet.routing;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The per-session input of the query processor: who is asking (user, schema, addresses), the current query and
 * its digest, and the flagIN a previous query's rule asked the following ones to start with.
 *
 * <p>Mutable and reused for every query of one session, so evaluation allocates nothing on the common path: the
 * query bytes are viewed, not copied, and regex matchers are created once per rule and reset per query. Owned by
 * the session's event-loop thread; never share one between sessions. The {@link QueryDigest} it is given may be
 * shared by all sessions of one event loop, because a query is digested and evaluated without yielding.
 */
public final class QueryContext {
    private final QueryDigest digest;
    private final LongSupplier clockMillis;
    private final ByteChars queryView = new ByteChars();

    private String username;
    private String schemaname;
    private String clientAddr;
    private String proxyAddr;
    private int proxyPort = -1;
    private int processorIterations;
    private int nextQueryFlagIn = RoutingDecision.UNSET;
    private boolean preparedStatement;

    private byte[] queryBytes = new byte[0];
    private int queryOffset;
    private int queryLength;
    private boolean queryAscii = true;
    private String queryString;

    private CompiledRules matchersOwner;
    private Matcher[] matchers;

    /** A context whose time (for the {@code min_epoch_ms} hint) is the system clock. */
    public QueryContext(QueryDigest digest) {
        this(digest, System::currentTimeMillis);
    }

    public QueryContext(QueryDigest digest, LongSupplier clockMillis) {
        this.digest = Objects.requireNonNull(digest, "digest");
        this.clockMillis = Objects.requireNonNull(clockMillis, "clockMillis");
    }

    /**
     * Sets who the session is. {@code clientAddr}/{@code proxyAddr} may be null when unknown (Unix socket); rules
     * filtering on an unknown address are then not filtered by it, as in ProxySQL.
     */
    public void session(String user, String clientAddress, String proxyAddress, int proxyListenPort) {
        this.username = user;
        this.clientAddr = clientAddress;
        this.proxyAddr = proxyAddress;
        this.proxyPort = proxyListenPort;
    }

    /** The session's current schema (after {@code USE} / {@code COM_INIT_DB}). */
    public void schema(String schema) {
        this.schemaname = schema;
    }

    /** {@code mysql-query_processor_iterations}: how many times a flagOUT may restart evaluation from rule 1. */
    public void processorIterations(int iterations) {
        this.processorIterations = Math.max(0, iterations);
    }

    /** Marks the current query as a prepared-statement execution: replace_pattern does not rewrite those. */
    public void preparedStatement(boolean value) {
        this.preparedStatement = value;
    }

    /**
     * Sets the current query to {@code bytes[off, off+len)} (UTF-8 as received) and digests it. The bytes are
     * not copied: leave them untouched until the query has been evaluated.
     */
    public void query(byte[] bytes, int off, int len) {
        this.queryBytes = bytes;
        this.queryOffset = off;
        this.queryLength = len;
        this.queryAscii = ByteChars.isAscii(bytes, off, len);
        this.queryString = null;
        digest.compute(bytes, off, len);
    }

    /** Convenience for tests and the admin: the query as a string. */
    public void query(String sql) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        query(b, 0, b.length);
        this.queryString = sql;
    }

    /** The digest of the current query. */
    public QueryDigest digest() {
        return digest;
    }

    /** The current query as characters (a view over the bytes when they are ASCII). */
    public CharSequence queryText() {
        if (queryAscii && queryString == null) {
            queryView.point(queryBytes, queryOffset, queryLength);
            return queryView;
        }
        return queryString();
    }

    /** The current query as a string, decoded once. */
    public String queryString() {
        if (queryString == null) {
            queryString = new String(queryBytes, queryOffset, queryLength,
                    queryAscii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
        }
        return queryString;
    }

    public String username() {
        return username;
    }

    public String schemaname() {
        return schemaname;
    }

    public String clientAddr() {
        return clientAddr;
    }

    public String proxyAddr() {
        return proxyAddr;
    }

    public int proxyPort() {
        return proxyPort;
    }

    int processorIterations() {
        return processorIterations;
    }

    boolean isPreparedStatement() {
        return preparedStatement;
    }

    long nowMillis() {
        return clockMillis.getAsLong();
    }

    /** The flagIN the session's queries start with, or -1 for 0 (no rule has set next_query_flagIN yet). */
    public int nextQueryFlagIn() {
        return nextQueryFlagIn;
    }

    /**
     * Sets the flagIN the session's following queries start with. Evaluation does this when a matching rule sets
     * next_query_flagIN; as in ProxySQL it then holds for every later query until a rule sets another value.
     */
    public void nextQueryFlagIn(int flagIn) {
        this.nextQueryFlagIn = flagIn;
    }

    /** The flagIN this query's evaluation starts with. */
    int startFlagIn() {
        return nextQueryFlagIn >= 0 ? nextQueryFlagIn : 0;
    }

    /** This session's reusable matcher for regex slot {@code slot} of {@code program}. */
    Matcher matcher(CompiledRules program, int slot, Pattern pattern) {
        if (matchersOwner != program) {
            matchersOwner = program;
            matchers = new Matcher[program.regexSlots()];
        }
        Matcher m = matchers[slot];
        if (m == null) {
            m = pattern.matcher("");
            matchers[slot] = m;
        }
        return m;
    }
}
