package io.proxyfleet.frontend;

/**
 * A prepared statement as the client knows it: the id the proxy gave it, its SQL (to prepare it again on
 * whichever backend connection runs it), and the parameter types it last bound (to give them to a connection
 * that has not seen them, when the client sends an execute without types). Owned by the session's event loop.
 */
final class SessionStatement {
    final int id;
    final String sql;
    final int params;
    byte[] paramTypes;

    SessionStatement(int id, String sql, int params) {
        this.id = id;
        this.sql = sql;
        this.params = params;
    }
}
