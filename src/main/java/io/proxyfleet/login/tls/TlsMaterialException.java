package io.proxyfleet.login.tls;

/**
 * The TLS files in the data directory could not be generated, read or turned into a TLS context; the message
 * names the file and the reason, fit to show an administrator (for example as the error of
 * {@code PROXYSQL RELOAD TLS}).
 */
public final class TlsMaterialException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TlsMaterialException(String message, Throwable cause) {
        super(message, cause);
    }

    public TlsMaterialException(String message) {
        super(message);
    }
}
