package io.proxyfleet.frontend;

import io.proxyfleet.stats.EventsLog;
import io.proxyfleet.cache.QueryCache;
import io.proxyfleet.login.Sha2Cache;
import io.netty.handler.ssl.SslContext;
import io.proxyfleet.backend.BackendConnector;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.stats.CommandCounters;
import io.proxyfleet.stats.ErrorStats;
import io.proxyfleet.stats.QueryDigestStats;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * What every client session of one node shares: the configuration, the backend connector, the session
 * registry, TLS and authentication caches. Thread-safe; built once per node.
 */
public record TrafficContext(ConfigHolder config, BackendConnector connector, SessionRegistry sessions,
                             Supplier<SslContext> tls, Sha2Cache sha2Cache, BackendPasswords backendPasswords,
                             AtomicLong connectionIds, QueryDigestStats digests, CommandCounters commands,
                             QueryCache queryCache, ErrorStats errors, EventsLog eventsLog) {

    /** A context with fresh caches and statistics, as one node has. */
    public static TrafficContext create(ConfigHolder config, BackendConnector connector, SessionRegistry sessions,
                                        Supplier<SslContext> tls) {
        return create(config, connector, sessions, tls, null);
    }

    /** As above, with the events log's relative file names resolved in {@code dataDir}. */
    public static TrafficContext create(ConfigHolder config, BackendConnector connector, SessionRegistry sessions,
                                        Supplier<SslContext> tls, java.nio.file.Path dataDir) {
        return new TrafficContext(config, connector, sessions, tls, new Sha2Cache(), new BackendPasswords(),
                new AtomicLong(), new QueryDigestStats(), new CommandCounters(), new QueryCache(), new ErrorStats(),
                new EventsLog(dataDir));
    }
}
