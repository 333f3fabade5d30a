package io.proxyfleet.protocol.client;

import java.io.IOException;

/**
 * The server answered with an ERR packet. It is an {@link IOException} so that callers which treat "the query did
 * not work" uniformly (cluster, monitor) need one catch, while those that care can read the code and SQLSTATE.
 *
 * <p>Immutable.
 */
public final class MysqlErrorException extends IOException {
    private final int code;
    private final String sqlState;
    private final String serverMessage;

    public MysqlErrorException(int code, String sqlState, String serverMessage) {
        super(code + " (" + sqlState + "): " + serverMessage);
        this.code = code;
        this.sqlState = sqlState;
        this.serverMessage = serverMessage;
    }

    /** MySQL error number, e.g. 1045. */
    public int code() {
        return code;
    }

    /** Five-character SQLSTATE, {@code HY000} when the server sent none. */
    public String sqlState() {
        return sqlState;
    }

    /** The server's message text, without code or state. */
    public String serverMessage() {
        return serverMessage;
    }
}
