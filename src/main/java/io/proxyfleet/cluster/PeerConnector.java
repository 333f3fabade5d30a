package io.proxyfleet.cluster;

import io.proxyfleet.protocol.client.BlockingMysqlClient;

import java.io.IOException;
import java.time.Duration;

/** Opens an admin connection to a peer as the cluster user, over TLS when so configured. Safe from any thread. */
@FunctionalInterface
interface PeerConnector {
    /** ProxySQL's {@code MYSQL_OPT_CONNECT_TIMEOUT=1}. */
    Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    /**
     * ProxySQL sets no read timeout; we bound every read so a hung peer cannot stall its monitor forever. Per read,
     * not per result, so large tables still transfer.
     */
    Duration READ_TIMEOUT = Duration.ofSeconds(10);

    BlockingMysqlClient open(PeerAddress peer, ClusterSettings settings) throws IOException;

    /** Connects with the settings' cluster credentials and the timeouts above, without TLS. */
    static PeerConnector standard() {
        return (peer, settings) -> BlockingMysqlClient.connect(options(peer, settings));
    }

    /** Like {@link #standard()}, with TLS as {@code tls} says for each new connection. */
    static PeerConnector standard(ClusterTls tls) {
        return (peer, settings) -> BlockingMysqlClient.connect(options(peer, settings), tls.current());
    }

    private static BlockingMysqlClient.Options options(PeerAddress peer, ClusterSettings settings) {
        return BlockingMysqlClient.Options.of(peer.hostname(), peer.port(), settings.username(), settings.password(),
                CONNECT_TIMEOUT, READ_TIMEOUT);
    }
}
