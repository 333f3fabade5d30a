package io.proxyfleet.admin;

/** The admin engine cannot start: unreadable config file (the message names the line) or unusable database. */
public final class AdminStartupException extends Exception {
    public AdminStartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
