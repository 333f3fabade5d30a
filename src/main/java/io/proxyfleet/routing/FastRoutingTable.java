package io.proxyfleet.routing;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code mysql_query_rules_fast_routing} as a lookup (username, schemaname, flagIN) → hostgroup that allocates
 * nothing: two string-keyed maps and a sorted flag array. Immutable; shared by all sessions.
 */
final class FastRoutingTable {
    static final FastRoutingTable EMPTY = new FastRoutingTable(Map.of(), 0);

    private final Map<String, Map<String, Flags>> byUser;
    private final int size;

    private FastRoutingTable(Map<String, Map<String, Flags>> byUser, int size) {
        this.byUser = byUser;
        this.size = size;
    }

    /** Sorted flagIN values and their hostgroups. */
    private record Flags(int[] flagIns, int[] hostgroups) {
    }

    static FastRoutingTable of(List<FastRoutingRule> rules) {
        if (rules.isEmpty()) {
            return EMPTY;
        }
        Map<String, Map<String, TreeMap<Integer, Integer>>> staging = new HashMap<>();
        for (FastRoutingRule r : rules) {
            Integer previous = staging.computeIfAbsent(r.username(), k -> new HashMap<>())
                    .computeIfAbsent(r.schemaname(), k -> new TreeMap<>())
                    .put(r.flagIn(), r.destinationHostgroup());
            if (previous != null) {
                throw new IllegalArgumentException("duplicate fast routing entry (" + r.username() + ", "
                        + r.schemaname() + ", " + r.flagIn() + ")");
            }
        }
        Map<String, Map<String, Flags>> frozen = new HashMap<>();
        staging.forEach((user, schemas) -> {
            Map<String, Flags> bySchema = new HashMap<>();
            schemas.forEach((schema, flags) -> {
                int[] f = new int[flags.size()];
                int[] h = new int[flags.size()];
                int i = 0;
                for (var e : flags.entrySet()) {
                    f[i] = e.getKey();
                    h[i++] = e.getValue();
                }
                bySchema.put(schema, new Flags(f, h));
            });
            frozen.put(user, Map.copyOf(bySchema));
        });
        return new FastRoutingTable(Map.copyOf(frozen), rules.size());
    }

    /** The destination for (user, schema, flagIn), or -1. */
    int lookup(String username, String schemaname, int flagIn) {
        if (size == 0 || username == null || schemaname == null) {
            return RoutingDecision.UNSET;
        }
        Map<String, Flags> schemas = byUser.get(username);
        if (schemas == null) {
            return RoutingDecision.UNSET;
        }
        Flags flags = schemas.get(schemaname);
        if (flags == null) {
            return RoutingDecision.UNSET;
        }
        int i = Arrays.binarySearch(flags.flagIns(), flagIn);
        return i >= 0 ? flags.hostgroups()[i] : RoutingDecision.UNSET;
    }

    int size() {
        return size;
    }
}
