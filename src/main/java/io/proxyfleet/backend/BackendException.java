package io.proxyfleet.backend;

/** A backend could not be reached or refused us; carries the MySQL error to give the client. */
public final class BackendException extends RuntimeException {
    private final int code;
    private final String sqlState;

    public BackendException(int code, String sqlState, String message) {
        super(message, null, false, false);
        this.code = code;
        this.sqlState = sqlState;
    }

    public int code() {
        return code;
    }

    public String sqlState() {
        return sqlState;
    }
}
