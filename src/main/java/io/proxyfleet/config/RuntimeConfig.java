package io.proxyfleet.config;

import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of everything loaded to runtime. A new instance is published atomically by
 * {@link ConfigHolder} on every {@code LOAD ... TO RUNTIME} (or cluster pull); sessions read it once per command
 * and never mutate it.
 */
public record RuntimeConfig(
        Users users,
        Servers servers,
        QueryRules queryRules,
        Peers peers,
        Variables mysqlVariables,
        Variables adminVariables) {

    /** The snapshot a node starts from before anything is loaded. */
    public static RuntimeConfig empty() {
        return new RuntimeConfig(
                Users.of(List.of(), ModuleVersion.NONE),
                Servers.of(List.of(), ModuleVersion.NONE),
                new QueryRules(List.of(), QueryRuleProgram.EMPTY, ModuleVersion.NONE),
                new Peers(List.of(), ModuleVersion.NONE),
                new Variables(MysqlVariables.DEFAULTS, ModuleVersion.NONE),
                new Variables(AdminVariables.DEFAULTS, ModuleVersion.NONE));
    }

    public RuntimeConfig withUsers(Users next) {
        return new RuntimeConfig(next, servers, queryRules, peers, mysqlVariables, adminVariables);
    }

    public RuntimeConfig withServers(Servers next) {
        return new RuntimeConfig(users, next, queryRules, peers, mysqlVariables, adminVariables);
    }

    public RuntimeConfig withQueryRules(QueryRules next) {
        return new RuntimeConfig(users, servers, next, peers, mysqlVariables, adminVariables);
    }

    public RuntimeConfig withPeers(Peers next) {
        return new RuntimeConfig(users, servers, queryRules, next, mysqlVariables, adminVariables);
    }

    public RuntimeConfig withMysqlVariables(Variables next) {
        return new RuntimeConfig(users, servers, queryRules, peers, next, adminVariables);
    }

    public RuntimeConfig withAdminVariables(Variables next) {
        return new RuntimeConfig(users, servers, queryRules, peers, mysqlVariables, next);
    }

    /** The runtime {@code mysql_users} module with lookup maps for authentication. */
    public record Users(List<MysqlUser> rows, Map<String, MysqlUser> frontend, Map<String, MysqlUser> backend,
                        ModuleVersion version) {
        public Users {
            rows = List.copyOf(rows);
            frontend = Map.copyOf(frontend);
            backend = Map.copyOf(backend);
        }

        /** Builds the lookup maps from rows; inactive rows are kept in {@code rows} but never authenticate. */
        public static Users of(List<MysqlUser> rows, ModuleVersion version) {
            var front = new java.util.ArrayList<Map.Entry<String, MysqlUser>>();
            var back = new java.util.ArrayList<Map.Entry<String, MysqlUser>>();
            for (MysqlUser user : rows) {
                if (!user.active()) {
                    continue;
                }
                if (user.frontend()) {
                    front.add(Map.entry(user.username(), user));
                }
                if (user.backend()) {
                    back.add(Map.entry(user.username(), user));
                }
            }
            // main's keys make each name unique per map: the immutable maps are then built once, not copied from a
            // HashMap (at 100,000 users that copy was a third of a load); other lists keep "the last row wins".
            return new Users(rows, lookup(front), lookup(back), version);
        }

        @SuppressWarnings("unchecked")
        private static Map<String, MysqlUser> lookup(List<Map.Entry<String, MysqlUser>> entries) {
            try {
                return Map.ofEntries(entries.toArray(new Map.Entry[0]));
            } catch (IllegalArgumentException duplicate) {
                var last = new java.util.HashMap<String, MysqlUser>();
                entries.forEach(e -> last.put(e.getKey(), e.getValue()));
                return last;
            }
        }
    }

    /**
     * The runtime {@code mysql_servers} module, grouped by hostgroup in configuration order.
     *
     * @param generation orders server lists by publication. The module version cannot: a monitor move between
     *                   hostgroups and a runtime-only cluster pull publish new rows under the same version (§4.4).
     *                   Every publication builds its list inside {@link ConfigHolder#update}, which is serialised,
     *                   so a later publication always carries a larger generation.
     */
    public record Servers(List<MysqlServer> rows, Map<Integer, List<MysqlServer>> byHostgroup, ModuleVersion version,
                          long generation) {
        private static final java.util.concurrent.atomic.AtomicLong GENERATIONS =
                new java.util.concurrent.atomic.AtomicLong();

        public Servers {
            rows = List.copyOf(rows);
            byHostgroup = Map.copyOf(byHostgroup);
        }

        /** True when this list was published after {@code other}. */
        public boolean newerThan(Servers other) {
            return other == null || generation > other.generation;
        }

        public static Servers of(List<MysqlServer> rows, ModuleVersion version) {
            var groups = new java.util.TreeMap<Integer, List<MysqlServer>>();
            for (MysqlServer server : rows) {
                groups.computeIfAbsent(server.hostgroupId(), k -> new java.util.ArrayList<>()).add(server);
            }
            var frozen = new java.util.HashMap<Integer, List<MysqlServer>>();
            groups.forEach((hg, list) -> frozen.put(hg, List.copyOf(list)));
            return new Servers(rows, frozen, version, GENERATIONS.incrementAndGet());
        }

        /** Servers of one hostgroup, or an empty list. */
        public List<MysqlServer> hostgroup(int hostgroupId) {
            return byHostgroup.getOrDefault(hostgroupId, List.of());
        }
    }

    /** The runtime {@code mysql_query_rules} module: the rows and their compiled program. */
    public record QueryRules(List<QueryRule> rows, QueryRuleProgram program, ModuleVersion version) {
        public QueryRules {
            rows = List.copyOf(rows);
        }
    }

    /** The runtime {@code proxysql_servers} module: the cluster peers. */
    public record Peers(List<ProxySqlServer> rows, ModuleVersion version) {
        public Peers {
            rows = List.copyOf(rows);
        }
    }

    /** A runtime variables module ({@code mysql-*} or {@code admin-*}), names without their prefix. */
    public record Variables(Map<String, String> values, ModuleVersion version) {
        public Variables {
            values = Map.copyOf(values);
        }

        public String get(String name) {
            String value = values.get(name);
            if (value == null) {
                throw new IllegalArgumentException("unknown variable " + name);
            }
            return value;
        }

        public int getInt(String name) {
            return Integer.parseInt(get(name).trim());
        }

        public long getLong(String name) {
            return Long.parseLong(get(name).trim());
        }

        /** ProxySQL booleans are written "true"/"false" but "1"/"0" are accepted too. */
        public boolean getBoolean(String name) {
            String v = get(name).trim();
            return v.equalsIgnoreCase("true") || v.equals("1");
        }
    }
}
