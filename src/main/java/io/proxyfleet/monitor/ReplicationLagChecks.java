package io.proxyfleet.monitor;

import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.config.ServerKey;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.protocol.client.QueryResult;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replication-lag check (reference §5.1.2, §5.9): {@code SHOW SLAVE STATUS} once per server, then ProxySQL's
 * {@code replication_lag_action} on every row of that server with {@code max_replication_lag > 0}. Called from
 * the monitor's per-check virtual threads; the counters are a concurrent map and statuses change through
 * {@link ServerRuntime}'s thread-safe setter.
 */
final class ReplicationLagChecks {
    private static final Logger LOG = LoggerFactory.getLogger(MysqlMonitor.class);
    private static final String SLAVE_STATUS_QUERY = "SHOW SLAVE STATUS";
    private static final String LAG_COLUMN = "Seconds_Behind_Master";

    private final MonitorConnections connections;
    private final MonitorLogWriter log;
    /** Consecutive lag checks above max_replication_lag per server row. */
    private final Map<ServerKey, Integer> lagCounts = new ConcurrentHashMap<>();

    ReplicationLagChecks(MonitorConnections connections, MonitorLogWriter log) {
        this.connections = connections;
        this.log = log;
    }

    /** Forgets the counters of rows no longer configured. */
    void retainOnly(Set<ServerKey> rows) {
        lagCounts.keySet().retainAll(rows);
    }

    /** Reads the lag of {@code server} once and applies it to each of its rows with max_replication_lag. */
    void check(HostPort server, List<ServerRuntime> rows, MonitorSettings settings) {
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
        } catch (IOException e) {
            if (lease != null) {
                connections.discard(lease, e);
            }
            log.add(new LogRow(LogRow.Table.REPLICATION_LAG, server, startUs, 0, null, CheckErrors.message(e)),
                    settings.historyMillis());
            return;
        } catch (NumberFormatException e) {
            log.add(new LogRow(LogRow.Table.REPLICATION_LAG, server, startUs, 0, null,
                    "unexpected " + LAG_COLUMN + ": " + e.getMessage()), settings.historyMillis());
            return;
        }
        log.add(new LogRow(LogRow.Table.REPLICATION_LAG, server, startUs, CheckErrors.micros(t0),
                lag == null ? null : lag.longValue(), null), settings.historyMillis());
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
                if (count >= settings.replicationLagCount() && row.replicationLag(true)) {
                    LOG.warn("Shunning server {}:{} from HG {} with replication lag of {} second, count number: '{}'",
                            key.hostname(), key.port(), key.hostgroupId(), lag, count);
                } else if (count < settings.replicationLagCount()) {
                    LOG.info("Not shunning server {}:{} from HG {} with replication lag of {} second, count number:"
                            + " '{}' < replication_lag_count: '{}'", key.hostname(), key.port(), key.hostgroupId(),
                            lag, count, settings.replicationLagCount());
                }
            } else {
                lagCounts.remove(key);
            }
        } else if (lag <= max && row.replicationLag(false)) {
            lagCounts.remove(key);
            LOG.warn("Re-enabling server {}:{} from HG {} with replication lag of {} second", key.hostname(),
                    key.port(), key.hostgroupId(), lag);
        }
    }
}
