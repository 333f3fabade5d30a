package io.proxyfleet.backend;

import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The runtime servers of every hostgroup of one node, kept in step with the published {@code mysql_servers}
 * module, and the node's backend connection pools. A server keeps its {@link ServerRuntime} (counters, status,
 * pooled connections) across reloads as long as its (hostgroup, host, port) stays configured.
 *
 * <p>Read from any thread. The view is replaced under a lock by whichever thread first meets a newer server list:
 * normally the publishing thread, through its {@link ConfigHolder} subscription. It only ever moves forward (by
 * {@link RuntimeConfig.Servers#generation()}), so a caller still holding an older snapshot, such as a connect
 * attempt that keeps retrying, reads the newer view and never brings an old configuration back. When a server
 * becomes OFFLINE_HARD or leaves the configuration, its connections are cut at once.
 */
public final class Hostgroups {
    private record View(RuntimeConfig.Servers source, Map<Integer, ServerRuntime[]> byHostgroup,
                        Map<ServerKey, ServerRuntime> byKey) {
    }

    private static final ServerRuntime[] EMPTY = new ServerRuntime[0];

    private final BackendPools pools;
    private volatile View view = new View(null, Map.of(), Map.of());

    private Hostgroups(BackendPools pools) {
        this.pools = pools;
    }

    /**
     * The hostgroups of a node whose configuration {@code holder} publishes: they follow every publication, on
     * the publishing thread, so that status changes act before the publisher returns.
     */
    public static Hostgroups follow(ConfigHolder holder) {
        var hostgroups = new Hostgroups(new BackendPools(holder));
        holder.subscribe(config -> hostgroups.advance(config.servers()));
        hostgroups.advance(holder.current().servers());
        return hostgroups;
    }

    /** The node's backend connection pools, one per event loop. */
    public BackendPools pools() {
        return pools;
    }

    /** The servers of one hostgroup under {@code servers} or a newer configuration, in configuration order. */
    public ServerRuntime[] hostgroup(RuntimeConfig.Servers servers, int hostgroupId) {
        View current = view;
        if (servers.newerThan(current.source)) {
            current = advance(servers);
        }
        ServerRuntime[] group = current.byHostgroup.get(hostgroupId);
        return group == null ? EMPTY : group;
    }

    /** Every configured server, for stats tables and the monitor, under {@code servers} or a newer configuration. */
    public Collection<ServerRuntime> all(RuntimeConfig.Servers servers) {
        View current = view;
        if (servers.newerThan(current.source)) {
            current = advance(servers);
        }
        return current.byKey.values();
    }

    /**
     * Moves the view to {@code servers} if it is newer than the view, and cuts the connections of servers that
     * this made OFFLINE_HARD or removed.
     *
     * @return the view now in force
     */
    private View advance(RuntimeConfig.Servers servers) {
        List<ServerRuntime> toCut = new ArrayList<>();
        View next;
        synchronized (this) {
            View current = view;
            if (!servers.newerThan(current.source)) {
                return current;
            }
            var byKey = new HashMap<ServerKey, ServerRuntime>();
            var groups = new HashMap<Integer, List<ServerRuntime>>();
            for (MysqlServer server : servers.rows()) {
                ServerRuntime runtime = current.byKey.get(server.key());
                if (runtime == null) {
                    runtime = new ServerRuntime(server);
                } else if (!runtime.config().equals(server) && runtime.reconfigure(server)) {
                    toCut.add(runtime);
                }
                byKey.put(server.key(), runtime);
                groups.computeIfAbsent(server.hostgroupId(), k -> new ArrayList<>()).add(runtime);
            }
            for (Map.Entry<ServerKey, ServerRuntime> old : current.byKey.entrySet()) {
                if (!byKey.containsKey(old.getKey()) && old.getValue().retire()) {
                    toCut.add(old.getValue());
                }
            }
            var frozen = new HashMap<Integer, ServerRuntime[]>();
            groups.forEach((hg, list) -> frozen.put(hg, list.toArray(EMPTY)));
            next = new View(servers, Map.copyOf(frozen), Map.copyOf(byKey));
            view = next;
        }
        for (ServerRuntime server : toCut) {
            pools.cut(server);
        }
        return next;
    }
}
