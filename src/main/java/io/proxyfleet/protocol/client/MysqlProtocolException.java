package io.proxyfleet.protocol.client;

import java.io.IOException;

/** The peer sent bytes this client cannot understand, or asked for something it does not support. Immutable. */
public final class MysqlProtocolException extends IOException {
    public MysqlProtocolException(String message) {
        super(message);
    }
}
