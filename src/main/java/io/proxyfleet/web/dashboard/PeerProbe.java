package io.proxyfleet.web.dashboard;

import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.protocol.client.QueryResult;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * Asks every peer's admin port, once per round, whether it answers and which version it runs: one
 * {@code SELECT @@version} on a connection kept open between rounds and made again after a failure. This is the
 * "up or down" of the cluster view; what the peer reported for its modules comes from the cluster's own polling.
 *
 * <p>Threads: {@link #round} is called by the dashboard's sampler thread only, and runs each peer's query on a
 * virtual thread of its own that it joins before returning, so a slow peer costs one timeout, not one per peer.
 * {@link #connections} is only touched by those threads, one peer per thread. {@link #results} may be read by any
 * thread.
 */
final class PeerProbe implements AutoCloseable {
    /** As the cluster's own peer connections: ProxySQL's one-second connect timeout. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    private static final String VERSION_QUERY = "SELECT @@version";

    /** What the last round learned of one peer. */
    record Result(boolean up, String version, String error, long checkedAtMillis) {
    }

    /** Host and port of a peer's admin interface. */
    record Peer(String host, int port) {
        String key() {
            return host + ":" + port;
        }
    }

    private final Map<String, BlockingMysqlClient> connections = new ConcurrentHashMap<>();
    private final Map<String, Result> results = new ConcurrentHashMap<>();

    /** Probes {@code peers} with the cluster credentials; forgets peers no longer listed. */
    void round(List<Peer> peers, String user, String password) {
        Set<String> wanted = new HashSet<>();
        for (Peer p : peers) {
            wanted.add(p.key());
        }
        for (String gone : new ArrayList<>(connections.keySet())) {
            if (!wanted.contains(gone)) {
                closeQuietly(connections.remove(gone));
            }
        }
        results.keySet().retainAll(wanted);
        if (user == null || user.isEmpty()) {
            long now = System.currentTimeMillis();
            for (Peer p : peers) {
                results.put(p.key(), new Result(false, "", "admin-cluster_username is not set", now));
            }
            return;
        }
        // close() waits for every task: the round ends when the slowest peer answered or timed out.
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Peer p : peers) {
                threads.execute(() -> results.put(p.key(), probe(p, user, password)));
            }
        }
    }

    /** The last result per peer key ({@code host:port}). */
    Map<String, Result> results() {
        return new HashMap<>(results);
    }

    private Result probe(Peer peer, String user, String password) {
        long now = System.currentTimeMillis();
        BlockingMysqlClient client = connections.get(peer.key());
        try {
            if (client == null) {
                client = BlockingMysqlClient.connect(BlockingMysqlClient.Options.of(peer.host(), peer.port(), user,
                        password, CONNECT_TIMEOUT, READ_TIMEOUT));
                connections.put(peer.key(), client);
            }
            QueryResult.Rows rows = client.select(VERSION_QUERY);
            String version = rows.rows().isEmpty() ? "" : String.valueOf(rows.rows().getFirst().getFirst());
            return new Result(true, version, "", now);
        } catch (IOException | RuntimeException e) {
            closeQuietly(connections.remove(peer.key()));
            return new Result(false, "", String.valueOf(e.getMessage()), now);
        }
    }

    private static void closeQuietly(BlockingMysqlClient client) {
        if (client != null) {
            client.close();
        }
    }

    @Override
    public void close() {
        for (String key : new ArrayList<>(connections.keySet())) {
            closeQuietly(connections.remove(key));
        }
    }
}
