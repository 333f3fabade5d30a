package io.proxyfleet.monitor;

import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerKey;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.config.checksum.Checksums;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.protocol.client.MysqlErrorException;
import io.proxyfleet.protocol.client.QueryResult;
import java.io.IOException;
import java.net.SocketTimeoutException;
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
    private static final String SLAVE_STATUS_QUERY = "SHOW SLAVE STATUS";
    private static final String LAG_COLUMN = "Seconds_Behind_Master";

    /** The kinds of check, each with its own interval. */
    private enum Check { CONNECT, PING, READ_ONLY, REPLICATION_LAG }

    /** The runtime {@code mysql_servers} identity after the monitor changed the server list. */
    public record RuntimeServersChange(String checksum, long epoch) {
    }

    private final ConfigHolder holder;
    private final Hostgroups hostgroups;
    private final MonitorLogWriter log;
    private final MonitorConnections connections = new MonitorConnections();
    private volatile List<ReplicationHostgroup> replicationHostgroups = List.of();
    private volatile RuntimeServersChange lastRuntimeChange;

    /** Consecutive failed pings per server. */
    private final Map<HostPort, Integer> pingFailures = new ConcurrentHashMap<>();
    /** Consecutive read_only timeouts per server. */
    private final Map<HostPort, Integer> readOnlyTimeouts = new ConcurrentHashMap<>();
    /** Consecutive lag checks above max_replication_lag per server row. */
    private final Map<ServerKey, Integer> lagCounts = new ConcurrentHashMap<>();
    /** Checks running right now, "kind/host:port", so a slow server is never checked twice at once. */
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

    private final Thread scheduler;
    private volatile boolean running = true;

    /**
     * Starts the monitor.
     *
     * @param logSink runs the log writes and purges, one transaction per batch (the admin engine's
     *                {@code runInTransaction} in a node)
     */
    public MysqlMonitor(ConfigHolder holder, Hostgroups hostgroups, MonitorLogSink logSink) {
        this.holder = holder;
        this.hostgroups = hostgroups;
        this.log = new MonitorLogWriter(logSink);
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

    /** The last change the monitor made to the runtime server list, or null if it made none yet. */
    public RuntimeServersChange lastRuntimeServersChange() {
        return lastRuntimeChange;
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
                    launch(check, server, () -> {
                        for (CheckType type : types) {
                            readOnlyCheck(server, type, settings);
                        }
                    });
                }
            }
            case REPLICATION_LAG -> {
                for (var e : lagTargets(config, settings).entrySet()) {
                    HostPort server = e.getKey();
                    List<ServerRuntime> rows = e.getValue();
                    launch(check, server, () -> lagCheck(server, rows, settings));
                }
            }
        }
    }

    /** Drops connections and counters of servers that left the configuration, once per ping round. */
    private void forgetRemoved(RuntimeConfig config, Set<HostPort> servers) {
        connections.retainOnly(servers);
        pingFailures.keySet().retainAll(servers);
        readOnlyTimeouts.keySet().retainAll(servers);
        Set<ServerKey> rows = new HashSet<>();
        for (MysqlServer row : config.servers().rows()) {
            rows.add(row.key());
        }
        lagCounts.keySet().retainAll(rows);
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
            log.add(new LogRow(LogRow.Table.CONNECT, server, startUs, micros(t0), null, null),
                    settings.historyMillis());
        } catch (IOException e) {
            log.add(new LogRow(LogRow.Table.CONNECT, server, startUs, 0, null, message(e)),
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
            long latency = micros(pingStart);
            connections.release(lease);
            log.add(new LogRow(LogRow.Table.PING, server, startUs, latency, null, null), settings.historyMillis());
            pingSucceeded(server, latency, settings);
        } catch (IOException e) {
            if (lease != null) {
                connections.discard(lease, e);
            }
            String error = message(e);
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
            ServerStatus before = runtime.status();
            runtime.maybeRecover(now, recovery);
            if (before != runtime.status()) {
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
            ServerStatus before = runtime.status();
            runtime.shun(now);
            shunnedNow |= before != ServerStatus.SHUNNED && runtime.status() == ServerStatus.SHUNNED;
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

    // ---------------------------------------------------------------- read_only

    private void readOnlyCheck(HostPort server, CheckType type, MonitorSettings settings) {
        long startUs = MonitorLogWriter.nowMicros();
        long t0 = System.nanoTime();
        MonitorConnections.Lease lease = null;
        Boolean readOnly;
        try {
            lease = connections.borrow(server, MonitorConnections.Purpose.READ_ONLY, settings,
                    settings.readOnlyTimeout());
            QueryResult.Rows rows = lease.client().select(type.query());
            connections.release(lease);
            readOnly = parseReadOnly(rows);
            log.add(new LogRow(LogRow.Table.READ_ONLY, server, startUs, micros(t0), readOnly ? 1L : 0L, null),
                    settings.historyMillis());
            readOnlyTimeouts.remove(server);
        } catch (IOException | IllegalArgumentException e) {
            if (lease != null) {
                if (e instanceof IOException io) {
                    connections.discard(lease, io);
                } else {
                    connections.release(lease);
                }
            }
            log.add(new LogRow(LogRow.Table.READ_ONLY, server, startUs, 0, null, message(e)),
                    settings.historyMillis());
            readOnly = afterReadOnlyError(server, e, settings);
        }
        if (readOnly != null) {
            readOnlyAction(server, type, readOnly, settings);
        }
    }

    /**
     * A failed check moves nothing, except that {@code monitor_read_only_max_timeout_count} consecutive timeouts
     * make the server count as read-only, so no writes go to a server that stopped answering in time.
     */
    private Boolean afterReadOnlyError(HostPort server, Exception e, MonitorSettings settings) {
        if (!(e instanceof SocketTimeoutException)) {
            return null;
        }
        int timeouts = readOnlyTimeouts.merge(server, 1, Integer::sum);
        LOG.error("Timeout on read_only check for {} after {}ms. If the server is overloaded, increase"
                + " mysql-monitor_read_only_timeout.", server, settings.readOnlyTimeout().toMillis());
        return timeouts >= settings.readOnlyMaxTimeoutCount() ? Boolean.TRUE : null;
    }

    /** read_only as the server printed it: 0/1, or OFF/ON on servers that answer with words. */
    static boolean parseReadOnly(QueryResult.Rows rows) {
        if (rows.rows().isEmpty() || rows.rows().getFirst().isEmpty() || rows.rows().getFirst().getFirst() == null) {
            throw new IllegalArgumentException("read_only check returned no value");
        }
        String value = rows.rows().getFirst().getFirst().trim();
        return switch (value.toUpperCase()) {
            case "0", "OFF" -> false;
            case "1", "ON" -> true;
            default -> throw new IllegalArgumentException("unexpected read_only value " + value);
        };
    }

    private void readOnlyAction(HostPort server, CheckType type, boolean readOnly, MonitorSettings settings) {
        List<ReplicationHostgroup> pairs = replicationHostgroups.stream().filter(p -> p.checkType() == type).toList();
        if (pairs.isEmpty()) {
            return;
        }
        var moved = new RuntimeServersChange[1];
        holder.update(config -> {
            RuntimeConfig.Servers servers = config.servers();
            List<MysqlServer> next = ReadOnlyAction.apply(servers.rows(), pairs, server, readOnly,
                    settings.writerIsAlsoReader());
            if (next == servers.rows()) {
                return config;
            }
            // Same version: a monitor move is runtime state, not a configuration load peers should pull.
            moved[0] = new RuntimeServersChange(runtimeChecksum(next), System.currentTimeMillis() / 1000);
            return config.withServers(RuntimeConfig.Servers.of(next, servers.version()));
        });
        if (moved[0] != null) {
            lastRuntimeChange = moved[0];
            LOG.info("read_only_action RO={} on server {}: moved between hostgroups {}; checksum for table"
                    + " mysql_servers is {}", readOnly ? 1 : 0, server, pairs.stream().map(p -> p.writerHostgroup()
                    + "/" + p.readerHostgroup()).toList(), moved[0].checksum());
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("read_only_action RO={} on server {} but no need to reconfigure", readOnly ? 1 : 0, server);
        }
    }

    /**
     * ProxySQL's runtime {@code mysql_servers} checksum (§4.2): OFFLINE_HARD rows left out, shunned rows counted
     * as ONLINE, in hostgroup/host/port order.
     */
    static String runtimeChecksum(List<MysqlServer> rows) {
        var text = new ArrayList<List<String>>();
        for (MysqlServer s : rows) {
            if (s.status() == ServerStatus.OFFLINE_HARD) {
                continue;
            }
            String status = s.status() == ServerStatus.OFFLINE_SOFT ? "OFFLINE_SOFT" : "ONLINE";
            text.add(List.of(Integer.toString(s.hostgroupId()), s.hostname(), Integer.toString(s.port()),
                    Integer.toString(s.gtidPort()), status, Integer.toString(s.weight()),
                    Integer.toString(s.compression()), Integer.toString(s.maxConnections()),
                    Integer.toString(s.maxReplicationLag()), s.useSsl() ? "1" : "0",
                    Integer.toString(s.maxLatencyMs()), s.comment()));
        }
        return Checksums.format(Checksums.rawChecksum(text));
    }

    // ---------------------------------------------------------------- replication lag

    private void lagCheck(HostPort server, List<ServerRuntime> rows, MonitorSettings settings) {
        long startUs = MonitorLogWriter.nowMicros();
        long t0 = System.nanoTime();
        MonitorConnections.Lease lease = null;
        Integer lag;
        try {
            lease = connections.borrow(server, MonitorConnections.Purpose.REPLICATION_LAG, settings,
                    settings.replicationLagTimeout());
            QueryResult.Rows status = lease.client().select(SLAVE_STATUS_QUERY);
            connections.release(lease);
            lag = lagOf(server, status, settings);
            log.add(new LogRow(LogRow.Table.REPLICATION_LAG, server, startUs, micros(t0),
                    lag == null ? null : lag.longValue(), null), settings.historyMillis());
        } catch (IOException e) {
            if (lease != null) {
                connections.discard(lease, e);
            }
            log.add(new LogRow(LogRow.Table.REPLICATION_LAG, server, startUs, 0, null, message(e)),
                    settings.historyMillis());
            return;
        }
        if (lag != null) {
            for (ServerRuntime row : rows) {
                lagAction(row, lag, settings);
            }
        }
    }

    /**
     * Seconds_Behind_Master, with NULL (replication stopped or broken) replaced by
     * {@code mysql-monitor_slave_lag_when_null}; null when the server is no replica at all.
     */
    private static Integer lagOf(HostPort server, QueryResult.Rows status, MonitorSettings settings) {
        int column = status.columnIndex(LAG_COLUMN);
        if (status.rows().isEmpty() || column < 0) {
            return null;
        }
        String value = status.rows().getFirst().get(column);
        if (value == null) {
            LOG.warn("Replication lag on server {}:{} is NULL, using value {}", server.host(), server.port(),
                    settings.slaveLagWhenNull());
            return settings.slaveLagWhenNull();
        }
        return Integer.parseInt(value.trim());
    }

    /** ProxySQL's {@code replication_lag_action}: shun after N checks over the limit, re-enable within it. */
    private void lagAction(ServerRuntime row, int lag, MonitorSettings settings) {
        int max = row.config().maxReplicationLag();
        var key = row.key();
        if (row.status() == ServerStatus.ONLINE) {
            if (lag > max) {
                int count = lagCounts.merge(key, 1, Integer::sum);
                if (count >= settings.replicationLagCount()) {
                    row.status(ServerStatus.SHUNNED_REPLICATION_LAG);
                    LOG.warn("Shunning server {}:{} from HG {} with replication lag of {} second, count number: '{}'",
                            key.hostname(), key.port(), key.hostgroupId(), lag, count);
                } else {
                    LOG.info("Not shunning server {}:{} from HG {} with replication lag of {} second, count number:"
                            + " '{}' < replication_lag_count: '{}'", key.hostname(), key.port(), key.hostgroupId(),
                            lag, count, settings.replicationLagCount());
                }
            } else {
                lagCounts.remove(key);
            }
        } else if (row.status() == ServerStatus.SHUNNED_REPLICATION_LAG && lag <= max) {
            row.status(ServerStatus.ONLINE);
            lagCounts.remove(key);
            LOG.warn("Re-enabling server {}:{} from HG {} with replication lag of {} second", key.hostname(),
                    key.port(), key.hostgroupId(), lag);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static long micros(long startNanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos));
    }

    /** The error text as the log tables show it: the server's own message for ERR packets. */
    private static String message(Exception e) {
        if (e instanceof MysqlErrorException err) {
            return err.serverMessage();
        }
        if (e instanceof SocketTimeoutException) {
            return "timeout: " + e.getMessage();
        }
        String text = e.getMessage();
        return text == null ? e.getClass().getSimpleName() : text;
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
