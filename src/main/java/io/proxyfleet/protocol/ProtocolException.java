package io.proxyfleet.protocol;

/**
 * Bytes that break the MySQL protocol. The connection they arrived on can no longer be trusted: the owner sends
 * an ERR when it still can, and closes it.
 */
public class ProtocolException extends RuntimeException {
    public ProtocolException(String message) {
        super(message);
    }
}
