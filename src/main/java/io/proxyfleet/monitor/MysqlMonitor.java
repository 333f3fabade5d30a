package io.proxyfleet.monitor;

import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerKey;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ProxySQL's Monitor module (reference §5.9, §5.10): connect, ping, read_only and replication-lag checks against
 * every backend, logged into the {@code monitor.mysql_server_*_log} tables, with the actions they drive:
 * <ul>
 *   <li>ping: {@code mysql-monitor_ping_max_failures} consecutive failures shun the server in every hostgroup
 *       (it stays shunned while pings fail, and recovers {@code mysql-shun_recovery_time_sec} after the last
 *       failure);</li>
 *   <li>read_only: moves servers between the writer and reader hostgroups of {@code mysql_replication_hostgroups}
 *       by publishing a new runtime server list; the module version is kept, so the move is runtime state and
 *       never a configuration change peers would pull (§4.4, §4.11);</li>
 *   <li>replication lag: {@link ServerStatus#SHUNNED_REPLICATION_LAG} after
 *       {@code mysql-monitor_replication_lag_count} checks above {@code max_replication_lag}, ONLINE again once the
 *       lag is back within it.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * Everything runs on virtual threads, never on a Netty event loop: one scheduler thread ({@code monitor}) wakes
 * every {@value #TICK_MILLIS} ms, re-reads the {@code mysql-monitor_*} variables from the current
 * {@link RuntimeConfig}, and starts one short-lived virtual thread per due check and server. A server whose
 * previous check of the same kind is still running is skipped for that round, so a hung server never piles up
 * threads. Per-server counters live in concurrent maps; status changes go through {@link ServerRuntime}'s
 * thread-safe setters and server moves through {@link ConfigHolder#update}. Public methods may be called from
 * any thread.
 */
public final class MysqlMonitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MysqlMonitor.class);
    static final long TICK_MILLIS = 50;
    /** Error prefixes that say the monitor user is misconfigured, not that the server is down (§5.9). */
    private static final List<String> NOT_A_HEARTBEAT_FAILURE = List.of("Access denied for user",
            "ProxySQL Error: Access denied for user", "Your password has expired.");
    private static final String PING_QUERY = "DO 1";

    /** The kinds of check, each with its own interval. */
    private enum Check { CONNECT, PING, READ_ONLY, REPLICATION_LAG }

    private final ConfigHolder holder;
    private final Hostgroups hostgroups;
    private final MonitorLogWriter log;
    private final MonitorConnections connections = new MonitorConnections();
    private final ReadOnlyChecks readOnly;
    private final ReplicationLagChecks lag;
    private volatile List<ReplicationHostgroup> replicationHostgroups = List.of();

    /** Consecutive failed pings per server. */
    private final Map<HostPort, Integer> pingFailures = new ConcurrentHashMap<>();
    /** Checks running right now, "kind/host:port", so a slow server is never checked twice at once. */
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

    private final Thread scheduler;
    private volatile boolean running = true;

    /**
     * Starts the monitor.
     *
     * @param logSink               runs the log writes and purges, one transaction per batch (the admin engine's
     *                              {@code runInTransaction} in a node)
     * @param runtimeServersChanged called on a check thread after the monitor published a new runtime server
     *                              list (the admin engine's {@code runtimeServersChanged} in a node); must not block
     */
    public MysqlMonitor(ConfigHolder holder, Hostgroups hostgroups, MonitorLogSink logSink,
                        Runnable runtimeServersChanged) {
        this.holder = holder;
        this.hostgroups = hostgroups;
        this.log = new MonitorLogWriter(logSink);
        this.readOnly = new ReadOnlyChecks(holder, connections, log, runtimeServersChanged,
                () -> replicationHostgroups);
        this.lag = new ReplicationLagChecks(connections, log);
        this.scheduler = Thread.ofVirtual().name("monitor").start(this::schedule);
    }

    /**
     * Replaces the runtime {@code mysql_replication_hostgroups}; called after every load of the servers module.
     * The next read_only round uses them.
     */
    public void replicationHostgroups(List<ReplicationHostgroup> pairs) {
        replicationHostgroups = List.copyOf(pairs);
    }

    public List<ReplicationHostgroup> replicationHostgroups() {
        return replicationHostgroups;
    }

    /** Checks of one kind (its log table) that succeeded or failed since start, for the Prometheus counters. */
    public long checks(LogRow.Table table, boolean ok) {
        return log.checks(table, ok);
    }

    // ---------------------------------------------------------------- scheduling

    private void schedule() {
        String lastSchedulingError = null;
        var nextDue = new EnumMap<Check, Long>(Check.class);
        long start = System.nanoTime();
        for (Check check : Check.values()) {
            nextDue.put(check, start);
        }
        while (running) {
            try {
                RuntimeConfig config = holder.current();
                MonitorSettings settings = MonitorSettings.from(config.mysqlVariables());
                if (settings.enabled()) {
                    long now = System.nanoTime();
                    for (Check check : Check.values()) {
                        Duration interval = interval(check, settings);
                        if (interval.isZero() || interval.isNegative() || now - nextDue.get(check) < 0) {
                            continue;
                        }
                        nextDue.put(check, now + interval.toNanos());
                        startRound(check, config, settings);
                    }
                }
                lastSchedulingError = null;
            } catch (RuntimeException e) {
                // A bad variable value must not kill the monitor; the next tick re-reads them. Logged once per
                // distinct failure, since the scheduler ticks every few milliseconds.
                String failure = e.toString();
                if (!failure.equals(lastSchedulingError)) {
                    LOG.error("Monitor scheduling failed, checks are paused: {}", failure, e);
                    lastSchedulingError = failure;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS));
        }
    }

    private static Duration interval(Check check, MonitorSettings s) {
        return switch (check) {
            case CONNECT -> s.connectInterval();
            case PING -> s.pingInterval();
            case READ_ONLY -> s.readOnlyInterval();
            case REPLICATION_LAG -> s.replicationLagInterval();
        };
    }

    private void startRound(Check check, RuntimeConfig config, MonitorSettings settings) {
        switch (check) {
            case CONNECT -> {
                for (HostPort server : monitoredServers(config)) {
                    launch(check, server, () -> connectCheck(server, settings));
                }
            }
            case PING -> {
                Set<HostPort> servers = monitoredServers(config);
                forgetRemoved(config, servers);
                for (HostPort server : servers) {
                    launch(check, server, () -> pingCheck(server, settings));
                }
            }
            case READ_ONLY -> {
                for (var e : readOnlyTargets(config, settings).entrySet()) {
                    HostPort server = e.getKey();
                    Set<CheckType> types = e.getValue();
                    List<ReplicationHostgroup> pairs = replicationHostgroups;
                    launch(check, server, () -> {
                        for (CheckType type : types) {
                            readOnly.check(server, type, pairs, settings);
                        }
                    });
                }
            }
            case REPLICATION_LAG -> {
                for (var e : lagTargets(config, settings).entrySet()) {
                    HostPort server = e.getKey();
                    List<ServerRuntime> rows = e.getValue();
                    launch(check, server, () -> lag.check(server, rows, settings));
                }
            }
        }
    }

    /** Drops connections and counters of servers that left the configuration, once per ping round. */
    private void forgetRemoved(RuntimeConfig config, Set<HostPort> servers) {
        connections.retainOnly(servers);
        pingFailures.keySet().retainAll(servers);
        readOnly.retainOnly(servers);
        Set<ServerKey> rows = new HashSet<>();
        for (MysqlServer row : config.servers().rows()) {
            rows.add(row.key());
        }
        lag.retainOnly(rows);
    }

    private void launch(Check check, HostPort server, Runnable work) {
        String key = check + "/" + server;
        if (!inFlight.add(key)) {
            return;
        }
        Thread.ofVirtual().name("monitor-" + check.name().toLowerCase() + "-" + server).start(() -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                LOG.error("Monitor {} check of {} failed unexpectedly", check, server, e);
            } finally {
                inFlight.remove(key);
            }
        });
    }

    /** Every distinct host:port not configured OFFLINE_HARD (ProxySQL's connect and ping target list). */
    private static Set<HostPort> monitoredServers(RuntimeConfig config) {
        var servers = new LinkedHashSet<HostPort>();
        for (MysqlServer row : config.servers().rows()) {
            if (row.status() != ServerStatus.OFFLINE_HARD) {
                servers.add(new HostPort(row.hostname(), row.port()));
            }
        }
        return servers;
    }

    /** Servers of a replication hostgroup pair that are not offline and still answer pings, with check types. */
    private Map<HostPort, Set<CheckType>> readOnlyTargets(RuntimeConfig config, MonitorSettings settings) {
        var targets = new LinkedHashMap<HostPort, Set<CheckType>>();
        for (ReplicationHostgroup pair : replicationHostgroups) {
            for (int hostgroup : new int[] {pair.writerHostgroup(), pair.readerHostgroup()}) {
                for (ServerRuntime server : hostgroups.hostgroup(config.servers(), hostgroup)) {
                    HostPort address = address(server);
                    if (isOffline(server) || missedHeartbeats(address, settings)) {
                        continue;
                    }
                    targets.computeIfAbsent(address, k -> new LinkedHashSet<>()).add(pair.checkType());
                }
            }
        }
        return targets;
    }

    /** Server rows with max_replication_lag > 0, grouped by host:port so each server is queried once. */
    private Map<HostPort, List<ServerRuntime>> lagTargets(RuntimeConfig config, MonitorSettings settings) {
        var targets = new LinkedHashMap<HostPort, List<ServerRuntime>>();
        for (ServerRuntime server : hostgroups.all(config.servers())) {
            HostPort address = address(server);
            if (server.config().maxReplicationLag() <= 0 || isOffline(server)
                    || missedHeartbeats(address, settings)) {
                continue;
            }
            targets.computeIfAbsent(address, k -> new ArrayList<>()).add(server);
        }
        return targets;
    }

    private static boolean isOffline(ServerRuntime server) {
        ServerStatus status = server.status();
        return status == ServerStatus.OFFLINE_SOFT || status == ServerStatus.OFFLINE_HARD;
    }

    /** A server shunned for missed pings gets no other checks until it answers again (§5.9). */
    private boolean missedHeartbeats(HostPort server, MonitorSettings settings) {
        return pingFailures.getOrDefault(server, 0) >= settings.pingMaxFailures();
    }

    private static HostPort address(ServerRuntime server) {
        return new HostPort(server.key().hostname(), server.key().port());
    }

    // ---------------------------------------------------------------- connect

    private void connectCheck(HostPort server, MonitorSettings settings) {
        long startUs = MonitorLogWriter.nowMicros();
        long t0 = System.nanoTime();
        try (BlockingMysqlClient client = BlockingMysqlClient.connect(BlockingMysqlClient.Options.of(server.host(),
                server.port(), settings.username(), settings.password(), settings.connectTimeout(),
                settings.connectTimeout()))) {
            log.add(new LogRow(LogRow.Table.CONNECT, server, startUs, CheckErrors.micros(t0), null, null),
                    settings.historyMillis());
        } catch (IOException e) {
            log.add(new LogRow(LogRow.Table.CONNECT, server, startUs, 0, null, CheckErrors.message(e)),
                    settings.historyMillis());
        }
    }

    // ---------------------------------------------------------------- ping

    private void pingCheck(HostPort server, MonitorSettings settings) {
        long startUs = MonitorLogWriter.nowMicros();
        MonitorConnections.Lease lease = null;
        try {
            lease = connections.borrow(server, MonitorConnections.Purpose.PING, settings, settings.pingTimeout());
            // Latency is the round trip of the ping alone; a reconnect must not look like a slow server.
            long pingStart = System.nanoTime();
            lease.client().execute(PING_QUERY);
            long latency = CheckErrors.micros(pingStart);
            connections.release(lease);
            log.add(new LogRow(LogRow.Table.PING, server, startUs, latency, null, null), settings.historyMillis());
            pingSucceeded(server, latency, settings);
        } catch (IOException e) {
            if (lease != null) {
                connections.discard(lease, e);
            }
            String error = CheckErrors.message(e);
            log.add(new LogRow(LogRow.Table.PING, server, startUs, 0, null, error), settings.historyMillis());
            pingFailed(server, error, settings);
        }
    }

    private void pingSucceeded(HostPort server, long latencyMicros, MonitorSettings settings) {
        Integer previous = pingFailures.remove(server);
        if (previous != null && previous >= settings.pingMaxFailures()) {
            LOG.info("Server {} answers pings again; it returns once shunned for {} s without errors", server,
                    settings.shunRecoveryTime().toSeconds());
        }
        long now = System.nanoTime();
        long recovery = settings.shunRecoveryTime().toNanos();
        for (ServerRuntime runtime : runtimesOf(server)) {
            runtime.pingLatencyMicros(latencyMicros);
            if (runtime.maybeRecover(now, recovery)) {
                LOG.info("Server {} in hostgroup {} is ONLINE again", server, runtime.key().hostgroupId());
            }
        }
    }

    private void pingFailed(HostPort server, String error, MonitorSettings settings) {
        if (NOT_A_HEARTBEAT_FAILURE.stream().anyMatch(error::startsWith)) {
            return;
        }
        int failures = pingFailures.merge(server, 1, Integer::sum);
        if (failures < settings.pingMaxFailures()) {
            return;
        }
        connections.closeServer(server);
        long now = System.nanoTime();
        boolean shunnedNow = false;
        for (ServerRuntime runtime : runtimesOf(server)) {
            shunnedNow |= runtime.shun(now);
        }
        if (shunnedNow) {
            LOG.error("Server {}:{} missed {} heartbeats, shunning it and killing all the connections. Disabling"
                    + " other checks until the node comes back online.", server.host(), server.port(), failures);
        }
    }

    /** The server's runtime objects in every hostgroup of the current configuration. */
    private List<ServerRuntime> runtimesOf(HostPort server) {
        var result = new ArrayList<ServerRuntime>();
        for (ServerRuntime runtime : hostgroups.all(holder.current().servers())) {
            if (runtime.key().port() == server.port() && runtime.key().hostname().equals(server.host())) {
                result.add(runtime);
            }
        }
        return result;
    }

    @Override
    public void close() {
        running = false;
        scheduler.interrupt();
        try {
            scheduler.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.close();
        connections.close();
    }
}
