package io.proxyfleet.metrics;

import io.netty.channel.EventLoopGroup;
import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.cluster.ClusterManager;
import io.proxyfleet.frontend.TrafficContext;
import io.proxyfleet.monitor.MysqlMonitor;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Where a scrape reads a node's figures: the same objects the {@code stats_*} tables are filled from. Nothing here
 * is written for the metrics' sake, so a query pays nothing for them. Immutable; the parts that exist only once
 * the node has started (monitor, cluster) are suppliers that may return null.
 *
 * @param startedNanos {@link System#nanoTime} when the node started, for the uptime
 * @param listenerPaused whether {@code PROXYSQL PAUSE} stopped the traffic listener
 */
public record MetricSources(TrafficContext traffic, Hostgroups hostgroups, AdminEngine admin,
                            Supplier<MysqlMonitor> monitor, Supplier<ClusterManager> cluster,
                            EventLoopGroup trafficLoops, BooleanSupplier listenerPaused, long startedNanos) {
}
