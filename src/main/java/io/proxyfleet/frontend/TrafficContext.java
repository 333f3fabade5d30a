package io.proxyfleet.frontend;

import io.netty.handler.ssl.SslContext;
import io.proxyfleet.backend.BackendConnector;
import io.proxyfleet.config.ConfigHolder;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * What every client session of one node shares: the configuration, the backend connector, the session
 * registry, TLS and authentication caches. Thread-safe; built once per node.
 */
public record TrafficContext(ConfigHolder config, BackendConnector connector, SessionRegistry sessions,
                             Supplier<SslContext> tls, Sha2Cache sha2Cache, BackendPasswords backendPasswords,
                             AtomicLong connectionIds) {
}
