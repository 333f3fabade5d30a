package io.proxyfleet.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.FastThreadLocal;
import io.proxyfleet.backend.BackendConnection;
import io.proxyfleet.backend.BackendConnector;
import io.proxyfleet.backend.BackendCredentials;
import io.proxyfleet.cache.QueryCache;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.routing.CompiledRules;
import io.proxyfleet.routing.KillStatement;
import io.proxyfleet.routing.QueryClassifier;
import io.proxyfleet.routing.QueryContext;
import io.proxyfleet.routing.ReadOnlySelect;
import io.proxyfleet.routing.RoutingDecision;
import io.proxyfleet.routing.SessionVariable;
import io.proxyfleet.routing.SetStatement;
import io.proxyfleet.routing.SetStatementParser;
import io.proxyfleet.stats.CommandCounters;
import io.proxyfleet.stats.EventsLog;
import io.proxyfleet.stats.QueryDigestStats;
import io.proxyfleet.stats.SqlCommand;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;

/**
 * The query processor of one client session: digest, query rules, the query cache, tracked SETs, KILL, pins,
 * rewrite and mirror. It decides; the session carries the decision out, so that the session stays the only
 * writer to the client and the only owner of its state machine. The common path allocates nothing beyond a new
 * digest's entry. Owned by the session's event loop.
 */
final class QueryRouter {
    private static final int ER_QUERY_RULE_ERROR = 1148;
    private static final int ER_LOCKED_HOSTGROUP = 9006;
    private static final int KILL_COMMAND = CommandCounters.COMMANDS.indexOf("KILL");
    static final int SELECT_COMMAND = CommandCounters.COMMANDS.indexOf("SELECT");
    private static final byte[] NO_BYTES = new byte[0];
    /** One digest-table lookup key per event loop, so that counting a known digest allocates nothing. */
    private static final FastThreadLocal<QueryDigestStats.Probe> DIGEST_PROBE = new FastThreadLocal<>() {
        @Override
        protected QueryDigestStats.Probe initialValue() {
            return new QueryDigestStats.Probe();
        }
    };

    /** What the session does with a COM_QUERY. The common outcome, {@link #FORWARD}, is a shared constant. */
    sealed interface Outcome {
    }

    /** Send it to {@link Command#hostgroup}, after {@link Command#delayMillis}. */
    record Forward() implements Outcome {
    }

    /** The session already answered (a KILL of a proxy session). */
    record Answered() implements Outcome {
    }

    /** Answer OK with {@code info} (a rule's OK_msg, or null). */
    record AnswerOk(String info) implements Outcome {
    }

    /** Answer with a cached result set, as it was recorded. */
    record AnswerCached(byte[] response) implements Outcome {
    }

    record Reject(ErrPacket error) implements Outcome {
    }

    static final Outcome FORWARD = new Forward();
    static final Outcome ANSWERED = new Answered();
    static final Outcome OK = new AnswerOk(null);

    /** What the router needs to know of its session, read at the moment of each query. */
    interface Session {
        MysqlUser user();

        String schema();

        int capabilities();

        /** The hostgroup of the backend the session holds, or -1. */
        int heldHostgroup();

        BackendCredentials backendCredentials();

        /** Answers a KILL of a proxy session; false when the id is none, so the backend gets the statement. */
        boolean killLocally(KillStatement kill);
    }

    private final TrafficContext context;
    private final Session session;
    private final SessionPins pins;
    private final SessionVariables variables;
    private final Channel channel;
    private final long sessionId;
    private final String clientAddress;
    private QueryContext queryContext;
    private RoutingDecision decision;
    private byte[] queryBytes = NO_BYTES;
    private int lockedHostgroup = -1;

    QueryRouter(TrafficContext context, Session session, SessionPins pins, SessionVariables variables, Channel channel,
                long sessionId, String clientAddress) {
        this.context = context;
        this.session = session;
        this.pins = pins;
        this.variables = variables;
        this.channel = channel;
        this.sessionId = sessionId;
        this.clientAddress = clientAddress;
    }

    /** Decides what happens to COM_QUERY {@code c}; fills in its hostgroup, limits, records and pins. */
    Outcome route(Command c, RuntimeConfig cfg) {
        MysqlUser user = session.user();
        String schema = session.schema();
        ByteBuf first = c.first();
        int payload = first.readerIndex() + Packets.HEADER_SIZE + 1;
        int length = Packets.payloadLength(first, first.readerIndex()) - 1;
        c.sqlIndex = SqlCommand.classify(first, payload, payload + length);
        c.pendingSchema = UseStatement.schemaOf(first, payload, payload + length);
        int held = session.heldHostgroup();
        if (user.fastForward()) {
            c.hostgroup = held >= 0 ? held : user.defaultHostgroup();
            return FORWARD;
        }
        QueryProcessing processing = QueryProcessing.current(cfg.mysqlVariables());
        QueryContext qc = queryContext(processing, user);
        int digestLength = Math.min(length, processing.maxQueryLength());
        boolean whole = digestLength == length && c.packetCount() == 1;
        if (queryBytes.length < digestLength) {
            queryBytes = new byte[Math.max(digestLength, 256)];
        }
        first.getBytes(payload, queryBytes, 0, digestLength);
        qc.schema(schema);
        qc.query(queryBytes, 0, digestLength);
        RoutingDecision rules = decision();
        CompiledRules.of(cfg.queryRules().program()).evaluate(qc, rules);
        if (rules.errorMsg() != null) {
            return new Reject(new ErrPacket(ER_QUERY_RULE_ERROR, "42000", rules.errorMsg()));
        }
        if (rules.okMsg() != null) {
            return new AnswerOk(rules.okMsg());
        }
        c.ruleTimeoutMillis = rules.timeout();
        c.ruleRetries = rules.retries();
        int hostgroup = rules.destinationHostgroup() >= 0 ? rules.destinationHostgroup() : user.defaultHostgroup();
        if (held >= 0 && pins.keepsBackend(processing.multiplexing())) {
            hostgroup = held;
        }
        if (lockedHostgroup >= 0 && hostgroup != lockedHostgroup) {
            return new Reject(new ErrPacket(ER_LOCKED_HOSTGROUP, "HY000", "ProxySQL Error: connection is locked to"
                    + " hostgroup " + lockedHostgroup + " but trying to reach hostgroup " + hostgroup));
        }
        c.hostgroup = hostgroup;
        if (processing.digestsEnabled()) {
            c.digest = context.digests().entry(DIGEST_PROBE.get().set(hostgroup, schema, user.username(),
                    processing.trackHostname() ? clientAddress : "", qc.digest()));
        }
        if (rules.cacheTtl() > 0 && c.sqlIndex == SELECT_COMMAND && whole) {
            byte[] cached = lookUpOrCapture(c, cfg, user, schema, length);
            if (cached != null) {
                return new AnswerCached(cached);
            }
        }
        if (!processing.eventsLogFile().isEmpty()
                && (rules.log() == 1 || rules.log() < 0 && processing.eventsLogByDefault())) {
            context.eventsLog().fileName(processing.eventsLogFile());
            c.log(EventsLog.Event.started(sessionId, user.username(), schema, clientAddress,
                    System.currentTimeMillis() * 1000, qc.digest().hashString(), qc.queryString()));
        }
        int flags = processing.classifier().classify(qc.digest());
        if (c.sqlIndex == KILL_COMMAND && whole && session.killLocally(KillStatement.parse(qc.queryText()))) {
            return ANSWERED;
        }
        if ((flags & QueryClassifier.SET_STATEMENT) != 0 && onSet(c, qc, hostgroup, held, processing)) {
            return OK;
        }
        if ((flags & QueryClassifier.UNLOCK_TABLES) != 0) {
            pins.remove(QueryClassifier.LOCK_TABLES);
        }
        if ((flags & QueryClassifier.TRANSACTION_END) != 0) {
            pins.remove(QueryClassifier.SAVEPOINT);
        }
        int pinning = flags & QueryClassifier.PINNING;
        if (rules.multiplex() == 2) {
            pinning &= ~QueryClassifier.USER_VARIABLE;
        } else if (rules.multiplex() == 0 || rules.multiplex() == 1) {
            pins.set(SessionPins.NO_MULTIPLEX_RULE, rules.multiplex() == 0);
        }
        pins.add(pinning);
        c.readOnly = whole && c.sqlIndex == SELECT_COMMAND && pinning == 0
                && ReadOnlySelect.isReadOnly(qc.queryText(), digestLength);
        if (rules.rewrittenQuery() != null) {
            rewrite(c, rules.rewrittenQuery());
        }
        if (rules.mirrorHostgroup() >= 0 && c.packetCount() == 1) {
            mirror(cfg, rules.mirrorHostgroup(), c, schema);
        }
        c.delayMillis = rules.delay() > 0 ? rules.delay() : processing.defaultQueryDelay();
        return FORWARD;
    }

    /**
     * The cached response of this exact query for this user and schema, or null; then the response is recorded
     * on its way to the client, up to the cache's size.
     */
    private byte[] lookUpOrCapture(Command c, RuntimeConfig cfg, MysqlUser user, String schema, int length) {
        QueryCache.Key key = QueryCache.key(user.username(), schema,
                session.capabilities() & BackendConnection.FORMAT_CAPABILITIES, queryBytes, length);
        byte[] cached = context.queryCache().get(key, queryBytes, System.currentTimeMillis());
        if (cached != null) {
            return cached;
        }
        int emptyRule = decision().cacheEmptyResult();
        boolean storeEmpty = emptyRule == 1
                || emptyRule < 0 && cfg.mysqlVariables().getBoolean("query_cache_stores_empty_result");
        long maxBytes = cfg.mysqlVariables().getLong("query_cache_size_MB") * 1024 * 1024;
        c.captureForCache(channel.alloc(), key, Arrays.copyOf(queryBytes, length), decision().cacheTtl(),
                storeEmpty, maxBytes);
        return null;
    }

    /**
     * A SET of session variables the proxy tracks is answered here and replayed lazily on whichever backend
     * connection runs the next query. Any other SET runs on the backend, which then stays with the session.
     *
     * @return true when the statement was fully handled here
     */
    private boolean onSet(Command c, QueryContext qc, int hostgroup, int held, QueryProcessing processing) {
        SetStatement parsed = SetStatementParser.parse(qc.queryText());
        if (parsed instanceof SetStatement.Assignments assignments && assignments.allTracked()
                && sessionScoped(assignments)) {
            if (held >= 0 || (session.capabilities() & Capabilities.SESSION_TRACK) != 0) {
                // The connection stays with the session (a transaction, say): the SET must take effect there now,
                // e.g. SET autocommit=1 commits. A client that tracks session state gets the server's own report
                // of the change in the OK. It is recorded once the backend accepts it.
                c.pendingVariables = assignments.variables();
                return false;
            }
            apply(assignments.variables());
            return true;
        }
        if (parsed instanceof SetStatement.Assignments assignments) {
            c.pendingVariables = assignments.variables(); // its tracked session variables, once the backend says OK
        }
        pins.add(SessionPins.UNTRACKED_SET);
        if (parsed instanceof SetStatement.Unparsable && processing.lockOnUnparsableSet()) {
            lockedHostgroup = hostgroup;
            pins.add(SessionPins.HOSTGROUP_LOCK);
        }
        return false;
    }

    /** Records tracked variables the client set (answered here, or accepted by the backend). */
    void apply(List<SessionVariable> assigned) {
        variables.apply(assigned, session.schema());
        pins.set(SessionPins.AUTOCOMMIT_OFF, !variables.autocommit());
    }

    private static boolean sessionScoped(SetStatement.Assignments assignments) {
        for (SessionVariable variable : assignments.variables()) {
            if (variable.scope() != SessionVariable.Scope.SESSION) {
                return false;
            }
        }
        return true;
    }

    private void rewrite(Command c, String query) {
        c.replaceFirst(Packets.textCommand(channel.alloc(), Commands.QUERY, query));
    }

    private void mirror(RuntimeConfig cfg, int mirrorHostgroup, Command c, String schema) {
        int formatCaps = session.capabilities() & BackendConnection.FORMAT_CAPABILITIES;
        var request = new BackendConnector.Request(mirrorHostgroup, session.backendCredentials(), schema, formatCaps,
                variables.backendCollation());
        MirrorQuery.start(context, channel.eventLoop(), cfg, request, c.first().retainedDuplicate());
    }

    private QueryContext queryContext(QueryProcessing processing, MysqlUser user) {
        if (queryContext == null) {
            queryContext = new QueryContext(processing.digest());
            String local = channel.localAddress() instanceof InetSocketAddress l ? l.getAddress().getHostAddress() : null;
            int port = channel.localAddress() instanceof InetSocketAddress l ? l.getPort() : -1;
            queryContext.session(user.username(), clientAddress, local, port);
        }
        return queryContext;
    }

    private RoutingDecision decision() {
        if (decision == null) {
            decision = new RoutingDecision();
        }
        return decision;
    }

    /** COM_RESET_CONNECTION, COM_CHANGE_USER: the hostgroup lock and the flagIN chain start over. */
    void reset() {
        lockedHostgroup = -1;
        if (queryContext != null) {
            queryContext.nextQueryFlagIn(RoutingDecision.UNSET);
        }
    }
}
