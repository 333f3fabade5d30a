package io.proxyfleet.backend;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.RuntimeConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The runtime servers of every hostgroup, kept in step with the published {@code mysql_servers} module. A
 * server keeps its {@link ServerRuntime} (counters, status, pooled connections) across reloads as long as its
 * (hostgroup, host, port) stays configured. Read from any event loop; rebuilt under a lock when the module
 * changes.
 */
public final class Hostgroups {
    private record View(RuntimeConfig.Servers source, Map<Integer, ServerRuntime[]> byHostgroup,
                        Map<io.proxyfleet.config.ServerKey, ServerRuntime> byKey) {
    }

    private volatile View view = new View(null, Map.of(), Map.of());

    /** The servers of one hostgroup under the given configuration, in configuration order. */
    public ServerRuntime[] hostgroup(RuntimeConfig.Servers servers, int hostgroupId) {
        View current = view;
        if (current.source != servers) {
            current = rebuild(servers);
        }
        ServerRuntime[] group = current.byHostgroup.get(hostgroupId);
        return group == null ? EMPTY : group;
    }

    private static final ServerRuntime[] EMPTY = new ServerRuntime[0];

    private synchronized View rebuild(RuntimeConfig.Servers servers) {
        View current = view;
        if (current.source == servers) {
            return current;
        }
        var byKey = new HashMap<io.proxyfleet.config.ServerKey, ServerRuntime>();
        var groups = new HashMap<Integer, List<ServerRuntime>>();
        for (MysqlServer server : servers.rows()) {
            ServerRuntime runtime = current.byKey.get(server.key());
            if (runtime == null) {
                runtime = new ServerRuntime(server);
            } else if (!runtime.config().equals(server)) {
                runtime.reconfigure(server);
            }
            byKey.put(server.key(), runtime);
            groups.computeIfAbsent(server.hostgroupId(), k -> new ArrayList<>()).add(runtime);
        }
        var frozen = new HashMap<Integer, ServerRuntime[]>();
        groups.forEach((hg, list) -> frozen.put(hg, list.toArray(EMPTY)));
        View next = new View(servers, Map.copyOf(frozen), Map.copyOf(byKey));
        view = next;
        return next;
    }

    /** Every configured server, for stats tables. Reflects the last configuration a session used. */
    public Collection<ServerRuntime> all(RuntimeConfig.Servers servers) {
        if (view.source != servers) {
            rebuild(servers);
        }
        return view.byKey.values();
    }
}
