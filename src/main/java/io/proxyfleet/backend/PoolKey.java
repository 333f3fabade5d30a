package io.proxyfleet.backend;

import io.proxyfleet.config.ServerKey;

/**
 * What makes two backend connections interchangeable: the server, the user they logged in as, the capability
 * flags that change the wire format of results, and the connection collation.
 */
public record PoolKey(ServerKey server, String username, int formatCapabilities, int collation) {
}
