package io.proxyfleet.frontend;

import io.proxyfleet.routing.QueryClassifier;

/**
 * Why a client session keeps its backend connection, as one bitmask. It answers the two questions every decision
 * about a session's backend asks: "does the backend hold state this session created?" ({@link #holdsServerState})
 * and "must the connection stay with the session?" ({@link #keepsBackend}). Pool release, retries, the
 * OFFLINE_HARD cut, max_transaction_time and state-loss reporting all ask here, and nowhere else.
 *
 * <p>Bits below 16 are {@link QueryClassifier}'s pinning flags, kept at their values so that
 * stats_mysql_processlist.status_flags reads the same as before. Owned by the session's event loop.
 */
final class SessionPins {
    /** The backend reported SERVER_STATUS_IN_TRANS. */
    static final int TRANSACTION = 1 << 16;
    /** An execute opened a cursor that later fetches read from this connection. */
    static final int CURSOR = 1 << 17;
    /** COM_STMT_SEND_LONG_DATA was sent: the backend holds it until the execute. */
    static final int LONG_DATA = 1 << 18;
    /** A SET the proxy does not track ran on the backend. */
    static final int UNTRACKED_SET = 1 << 19;

    /** A rule with multiplex=0 matched. */
    static final int NO_MULTIPLEX_RULE = 1 << 21;
    /** An unparsable SET locked the session to its hostgroup (mysql-set_query_lock_on_hostgroup). */
    static final int HOSTGROUP_LOCK = 1 << 22;
    /** mysql-auto_increment_delay_multiplex: keep the connection a few queries after an insert id. */
    static final int INSERT_ID_DELAY = 1 << 23;
    /** autocommit=0: the next statement opens a transaction on whichever connection runs it. */
    static final int AUTOCOMMIT_OFF = 1 << 24;

    /** State that exists only on the backend connection: losing the connection loses it. */
    private static final int SERVER_STATE = QueryClassifier.PINNING | TRANSACTION | CURSOR | LONG_DATA | UNTRACKED_SET;

    private int bits;

    boolean holdsServerState() {
        return (bits & SERVER_STATE) != 0;
    }

    /** True while anything at all ties the connection to the session; without multiplexing it always stays. */
    boolean keepsBackend(boolean multiplexing) {
        return bits != 0 || !multiplexing;
    }

    boolean has(int pin) {
        return (bits & pin) != 0;
    }

    void set(int pin, boolean on) {
        bits = on ? bits | pin : bits & ~pin;
    }

    void add(int pins) {
        bits |= pins;
    }

    void remove(int pins) {
        bits &= ~pins;
    }

    /** The backend is gone, and with it everything it held; the session's own settings stay. */
    void backendLost() {
        bits &= ~SERVER_STATE;
    }

    void clear() {
        bits = 0;
    }

    /** For stats_mysql_processlist.status_flags. */
    int bits() {
        return bits;
    }
}
