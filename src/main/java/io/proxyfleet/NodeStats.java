package io.proxyfleet;

import io.proxyfleet.admin.RuntimeStatsSource;
import io.proxyfleet.backend.BackendConnection;
import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.frontend.ClientSession;
import io.proxyfleet.frontend.SessionRegistry;
import io.proxyfleet.frontend.TrafficContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the rows of the stats_* tables from the live node when the admin reads them. Runs on the admin
 * thread; reads counters and session fields that other threads update, accepting that a row is a snapshot of
 * values read one after another.
 */
final class NodeStats implements RuntimeStatsSource {
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
        long now = System.nanoTime();
        for (ClientSession session : sessions.all()) {
            String user = session.username();
            if (user == null) {
                continue;
            }
            BackendConnection backend = session.backend();
            var row = new ArrayList<Object>();
            row.add(0);
            row.add(session.id());
            row.add(user);
            row.add(session.schema());
            row.add(session.clientAddress());
            row.add(0);
            row.add(backend == null ? -1 : backend.server().key().hostgroupId());
            row.add("");
            row.add(0);
            row.add(backend == null ? "" : backend.server().key().hostname());
            row.add(backend == null ? 0 : backend.server().key().port());
            String command = session.commandName();
            row.add(command.equals("Sleep") ? "Sleep" : "Query");
            long since = command.equals("Sleep") ? session.loginNanos() : session.commandStartNanos();
            row.add(TimeUnit.NANOSECONDS.toMillis(now - since));
            row.add("");
            row.add(session.statusFlags());
            row.add("");
            rows.add(row);
        }
        return rows;
    }

    @Override
    public List<List<Object>> commandsCounters() {
        return traffic.commands().rows();
    }

    @Override
    public List<List<Object>> global() {
        long uptime = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNanos);
        int active = 0;
        for (ClientSession session : sessions.all()) {
            if (session.inTransaction()) {
                active++;
            }
        }
        var rows = new ArrayList<List<Object>>();
        rows.add(List.of("ProxySQL_Uptime", uptime));
        rows.add(List.of("Active_Transactions", active));
        rows.add(List.of("Client_Connections_connected", sessions.size()));
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
