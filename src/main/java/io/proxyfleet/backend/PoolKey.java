package io.proxyfleet.backend;

import io.proxyfleet.config.ServerKey;

/**
 * What makes two backend connections interchangeable: the server, the user they logged in as, the capability
 * flags that change the wire format of results, and the handshake collation, which is the baseline of the
 * connection's character set variables. Whatever a session changed later (SET NAMES included) is brought in line
 * by the session's alignment SET before each use.
 */
public record PoolKey(ServerKey server, String username, int formatCapabilities, int collation) {
}
