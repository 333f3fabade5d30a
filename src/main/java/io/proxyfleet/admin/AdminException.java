package io.proxyfleet.admin;

/**
 * An admin command was refused; the message is what the client sees after {@code ProxySQL Admin Error: }.
 * Thrown and caught on the admin thread only.
 */
final class AdminException extends Exception {
    AdminException(String message) {
        super(message);
    }

    AdminException(String message, Throwable cause) {
        super(message, cause);
    }
}
