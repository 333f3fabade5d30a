package io.proxyfleet.monitor;

import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.protocol.client.QueryResult;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read_only check (reference §5.9) and the hostgroup moves it drives (§5.10): the answer of each server is
 * applied with {@link ReadOnlyAction} inside {@link ConfigHolder#update}, and a changed list is published with the
 * module version it had, so the move is runtime state and never a configuration load (§4.4, §4.11); the
 * {@code runtimeServersChanged} hook then lets the admin re-hash the runtime {@code mysql_servers} checksum.
 * Called from the monitor's per-check virtual threads, several at once; the counters are a concurrent map.
 */
final class ReadOnlyChecks {
    private static final Logger LOG = LoggerFactory.getLogger(MysqlMonitor.class);

    private final ConfigHolder holder;
    private final MonitorConnections connections;
    private final MonitorLogWriter log;
    /** Consecutive read_only timeouts per server. */
    private final Map<HostPort, Integer> readOnlyTimeouts = new ConcurrentHashMap<>();
    private final Runnable runtimeServersChanged;
    /** The replication hostgroups that run now: a load can remove a pair while a check begun with it runs. */
    private final Supplier<List<ReplicationHostgroup>> currentPairs;

    ReadOnlyChecks(ConfigHolder holder, MonitorConnections connections, MonitorLogWriter log,
                   Runnable runtimeServersChanged, Supplier<List<ReplicationHostgroup>> currentPairs) {
        this.holder = holder;
        this.connections = connections;
        this.log = log;
        this.runtimeServersChanged = runtimeServersChanged;
        this.currentPairs = currentPairs;
    }

    /** Forgets the counters of servers no longer configured. */
    void retainOnly(Set<HostPort> servers) {
        readOnlyTimeouts.keySet().retainAll(servers);
    }

    /** Checks {@code server} with {@code type}'s query and applies the answer to the pairs using that type. */
    void check(HostPort server, CheckType type, List<ReplicationHostgroup> pairs, MonitorSettings settings) {
        long startUs = MonitorLogWriter.nowMicros();
        long t0 = System.nanoTime();
        MonitorConnections.Lease lease = null;
        Boolean readOnly;
        try {
            lease = connections.borrow(server, MonitorConnections.Purpose.READ_ONLY, settings,
                    settings.readOnlyTimeout());
            QueryResult.Rows rows = lease.client().select(type.query());
            connections.release(lease);
            lease = null;
            readOnly = parseReadOnly(rows);
            log.add(new LogRow(LogRow.Table.READ_ONLY, server, startUs, CheckErrors.micros(t0), readOnly ? 1L : 0L,
                    null), settings.historyMillis());
            readOnlyTimeouts.remove(server);
        } catch (IOException | IllegalArgumentException e) {
            if (lease != null && e instanceof IOException io) {
                connections.discard(lease, io);
            }
            log.add(new LogRow(LogRow.Table.READ_ONLY, server, startUs, 0, null, CheckErrors.message(e)),
                    settings.historyMillis());
            readOnly = afterReadOnlyError(server, e, settings);
        }
        if (readOnly != null) {
            readOnlyAction(server, type, readOnly, pairs, settings);
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

    private void readOnlyAction(HostPort server, CheckType type, boolean readOnly,
                                List<ReplicationHostgroup> allPairs, MonitorSettings settings) {
        List<ReplicationHostgroup> checked = allPairs.stream().filter(p -> p.checkType() == type).toList();
        if (checked.isEmpty()) {
            return;
        }
        var moved = new boolean[1];
        holder.update(config -> {
            // Only pairs still configured: a check that outlived the load removing its pair (a slow server, a
            // loaded machine) would otherwise put the old writer back into the reader hostgroup of the new list.
            List<ReplicationHostgroup> current = currentPairs.get();
            List<ReplicationHostgroup> pairs = checked.stream().filter(current::contains).toList();
            if (pairs.isEmpty()) {
                return config;
            }
            RuntimeConfig.Servers servers = config.servers();
            List<MysqlServer> next = ReadOnlyAction.apply(servers.rows(), pairs, server, readOnly,
                    settings.writerIsAlsoReader());
            if (next == servers.rows()) {
                return config;
            }
            moved[0] = true;
            // Same version: a monitor move is runtime state, not a configuration load (§4.4).
            return config.withServers(RuntimeConfig.Servers.of(next, servers.version()));
        });
        if (moved[0]) {
            LOG.info("read_only_action RO={} on server {}: moved between hostgroups {}", readOnly ? 1 : 0, server,
                    checked.stream().map(p -> p.writerHostgroup() + "/" + p.readerHostgroup()).toList());
            runtimeServersChanged.run();
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("read_only_action RO={} on server {} but no need to reconfigure", readOnly ? 1 : 0, server);
        }
    }
}
