package io.proxyfleet;

import io.proxyfleet.admin.RuntimeStatsSource;
import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.frontend.ClientSession;
import io.proxyfleet.frontend.SessionRegistry;
import io.proxyfleet.frontend.SessionSnapshot;
import io.proxyfleet.frontend.TrafficContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Builds the rows of the stats_* tables from the live node when the admin reads them. Runs on the admin
 * thread; reads counters that other threads update (a row is a snapshot of values read one after another), and
 * sessions only through snapshots their own loops take.
 */
final class NodeStats implements RuntimeStatsSource {
    private static final long SNAPSHOT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final ConfigHolder config;
    private final Hostgroups hostgroups;
    private final SessionRegistry sessions;
    private final long startedNanos = System.nanoTime();

    private final TrafficContext traffic;

    NodeStats(ConfigHolder config, Hostgroups hostgroups, SessionRegistry sessions, TrafficContext traffic) {
        this.config = config;
        this.hostgroups = hostgroups;
        this.sessions = sessions;
        this.traffic = traffic;
    }

    @Override
    public List<List<Object>> connectionPool() {
        var rows = new ArrayList<List<Object>>();
        for (ServerRuntime server : hostgroups.all(config.current().servers())) {
            rows.add(List.of(server.key().hostgroupId(), server.key().hostname(), server.key().port(),
                    server.status().name(), server.usedConnections(), server.freeConnections(), server.connectOk(),
                    server.connectErrors(), server.usedConnections(), server.queries(), 0, server.bytesSent(),
                    server.bytesReceived(), server.pingLatencyMicros()));
        }
        return rows;
    }

    @Override
    public io.proxyfleet.config.ServerStatus liveStatus(io.proxyfleet.config.MysqlServer server) {
        for (ServerRuntime runtime : hostgroups.hostgroup(config.current().servers(), server.hostgroupId())) {
            if (runtime.key().equals(server.key())) {
                return runtime.status();
            }
        }
        return server.status();
    }

    @Override
    public List<List<Object>> processlist() {
        var rows = new ArrayList<List<Object>>();
        for (SessionSnapshot session : snapshots()) {
            var row = new ArrayList<Object>();
            row.add(0);
            row.add(session.id());
            row.add(session.username());
            row.add(session.schema());
            row.add(session.clientAddress());
            row.add(0);
            row.add(session.hostgroup());
            row.add("");
            row.add(0);
            row.add(session.serverHost());
            row.add(session.serverPort());
            row.add(session.command());
            row.add(session.timeMillis());
            row.add("");
            row.add(session.statusFlags());
            row.add("");
            rows.add(row);
        }
        return rows;
    }

    /**
     * Every logged-in session as its own event loop sees it. A loop that does not answer in time (stuck, or
     * shutting down) leaves its sessions out rather than holding up the admin.
     */
    private List<SessionSnapshot> snapshots() {
        var pending = new ArrayList<CompletableFuture<SessionSnapshot>>();
        for (ClientSession session : sessions.all()) {
            pending.add(session.snapshot());
        }
        long deadline = System.nanoTime() + SNAPSHOT_TIMEOUT_NANOS;
        var result = new ArrayList<SessionSnapshot>(pending.size());
        for (CompletableFuture<SessionSnapshot> future : pending) {
            try {
                SessionSnapshot snapshot = future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (snapshot != null) {
                    result.add(snapshot);
                }
            } catch (TimeoutException | ExecutionException e) {
                // left out: see the method comment
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return result;
    }

    @Override
    public List<List<Object>> commandsCounters() {
        return traffic.commands().rows();
    }

    @Override
    public List<List<Object>> global() {
        long uptime = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNanos);
        int active = 0;
        for (SessionSnapshot session : snapshots()) {
            if (session.inTransaction()) {
                active++;
            }
        }
        var rows = new ArrayList<List<Object>>();
        rows.add(List.of("ProxySQL_Uptime", uptime));
        rows.add(List.of("Active_Transactions", active));
        rows.add(List.of("Client_Connections_connected", sessions.size()));
        // Peers read these two for stats_proxysql_servers_metrics (Queries, Client_Connections_created).
        rows.add(List.of("Client_Connections_created", traffic.connectionIds().get()));
        rows.add(List.of("Questions", traffic.commands().questions()));
        rows.add(List.of("Servers_table_version", config.current().servers().version().version()));
        rows.addAll(traffic.queryCache().globalRows());
        return rows;
    }

    @Override
    public List<List<Object>> users() {
        var rows = new ArrayList<List<Object>>();
        for (MysqlUser user : config.current().users().frontend().values()) {
            rows.add(List.of(user.username(), sessions.userSessions(user.username()), user.maxConnections()));
        }
        return rows;
    }

    @Override
    public List<List<Object>> errors() {
        return traffic.errors().rows();
    }

    @Override
    public List<List<Object>> freeConnections() {
        return hostgroups.pools().freeConnectionRows();
    }
}
