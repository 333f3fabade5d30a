package io.proxyfleet.backend;

import io.proxyfleet.config.ServerKey;

/**
 * What makes two backend connections interchangeable: the server, the user they logged in as, the capability
 * flags that change the wire format of results, the handshake collation, and the character set the session
 * chose later with SET NAMES ({@code charsetState}, empty when none), which is costly to undo on a shared
 * connection.
 */
public record PoolKey(ServerKey server, String username, int formatCapabilities, int collation,
                      String charsetState) {
}
