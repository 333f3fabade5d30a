package io.proxyfleet.monitor;

import io.proxyfleet.config.RuntimeConfig;
import java.time.Duration;

/**
 * The {@code mysql-monitor_*} variables (and the two shunning variables the monitor needs), read once from a
 * runtime snapshot at the start of every scheduler tick, so that {@code LOAD MYSQL VARIABLES TO RUNTIME} takes
 * effect at the next check. Immutable.
 *
 * @param historyMillis how long log rows are kept: {@code monitor_history}, raised to at least
 *                      {@code ping_interval * (ping_max_failures + 1)} as ProxySQL does, so the shunning
 *                      decision always has its pings at hand
 */
public record MonitorSettings(
        boolean enabled,
        String username,
        String password,
        long historyMillis,
        Duration connectInterval,
        Duration connectTimeout,
        Duration pingInterval,
        Duration pingTimeout,
        int pingMaxFailures,
        Duration readOnlyInterval,
        Duration readOnlyTimeout,
        int readOnlyMaxTimeoutCount,
        Duration replicationLagInterval,
        Duration replicationLagTimeout,
        int replicationLagCount,
        int slaveLagWhenNull,
        boolean writerIsAlsoReader,
        Duration shunRecoveryTime) {

    /** Reads the settings from the runtime {@code mysql-*} variables. */
    public static MonitorSettings from(RuntimeConfig.Variables mysql) {
        long pingInterval = mysql.getLong("monitor_ping_interval");
        int pingMaxFailures = mysql.getInt("monitor_ping_max_failures");
        long history = Math.max(mysql.getLong("monitor_history"), pingInterval * (pingMaxFailures + 1L));
        return new MonitorSettings(
                mysql.getBoolean("monitor_enabled"),
                mysql.get("monitor_username"),
                mysql.get("monitor_password"),
                history,
                millis(mysql, "monitor_connect_interval"),
                millis(mysql, "monitor_connect_timeout"),
                Duration.ofMillis(pingInterval),
                millis(mysql, "monitor_ping_timeout"),
                pingMaxFailures,
                millis(mysql, "monitor_read_only_interval"),
                millis(mysql, "monitor_read_only_timeout"),
                mysql.getInt("monitor_read_only_max_timeout_count"),
                millis(mysql, "monitor_replication_lag_interval"),
                millis(mysql, "monitor_replication_lag_timeout"),
                mysql.getInt("monitor_replication_lag_count"),
                mysql.getInt("monitor_slave_lag_when_null"),
                mysql.getBoolean("monitor_writer_is_also_reader"),
                Duration.ofSeconds(mysql.getLong("shun_recovery_time_sec")));
    }

    private static Duration millis(RuntimeConfig.Variables mysql, String name) {
        return Duration.ofMillis(mysql.getLong(name));
    }
}
