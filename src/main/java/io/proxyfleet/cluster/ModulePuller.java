package io.proxyfleet.cluster;

import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.checksum.Checksums;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.protocol.client.MysqlErrorException;
import io.proxyfleet.protocol.client.QueryResult;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToLongFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls one module from a chosen peer (§4.10): a new admin connection, the module's §4.9 queries, the checksum of the
 * fetched rows recomputed with the same algorithm as §4.2, and — only if it equals what the peer advertised — the
 * hand-over to {@link LocalNode#apply}. Called from peer-monitor virtual threads; a per-module lock (variables
 * modules share one, as in ProxySQL) keeps two monitors from pulling the same module at once.
 */
final class ModulePuller {
    private static final Logger LOG = LoggerFactory.getLogger(ModulePuller.class);
    /** ProxySQL waits this long after a failed pull before its monitor goes on. */
    static final Duration FAILURE_PAUSE = Duration.ofSeconds(1);
    /**
     * Wire bytes one pull may read (beyond ProxySQL, which reads whatever a peer sends): a bound on the memory a
     * broken or hostile peer can make this node spend. 100,000 users are about 15 MiB.
     */
    static final long MAX_PULL_BYTES = 64L * 1024 * 1024;

    private final LocalNode node;
    private final PeerConnector connector;
    private final Duration failurePause;
    private final Map<ClusterModule, ReentrantLock> locks = new EnumMap<>(ClusterModule.class);
    private final Map<ClusterModule, LongAdder> successes = new EnumMap<>(ClusterModule.class);
    private final Map<ClusterModule, LongAdder> failures = new EnumMap<>(ClusterModule.class);
    private final LongAdder deltas = new LongAdder();
    private final LongAdder deltaFallbacks = new LongAdder();

    ModulePuller(LocalNode node, PeerConnector connector, Duration failurePause) {
        this.node = node;
        this.connector = connector;
        this.failurePause = failurePause;
        ReentrantLock variables = new ReentrantLock();
        for (ClusterModule m : ClusterModule.values()) {
            boolean isVariables = m == ClusterModule.ADMIN_VARIABLES || m == ClusterModule.MYSQL_VARIABLES;
            locks.put(m, isVariables ? variables : new ReentrantLock());
            successes.put(m, new LongAdder());
            failures.put(m, new LongAdder());
        }
    }

    /** One checksum the fetched rows must reproduce, and the epoch to adopt with it. */
    record Expected(ClusterModule module, String checksum, long epoch) {
    }

    /** One statement of a pull and the {@link PulledModule#tables()} key its rows go to. */
    private record Fetch(String table, String query) {
    }

    /** Everything that differs between modules. */
    private record Plan(String label, List<Fetch> fetches, List<Expected> expected,
                        List<ToLongFunction<Map<String, QueryResult.Rows>>> compute) {
    }

    /**
     * Pulls {@code expected.get(0).module()} from {@code peer}. For a servers pull with algorithm 1 {@code expected}
     * holds the v2 and the runtime checksums. Returns whether the module was applied.
     */
    boolean pull(PeerAddress peer, List<Expected> expected, ClusterSettings settings) {
        ClusterModule module = expected.getFirst().module();
        Plan plan = plan(module, expected);
        ReentrantLock lock = locks.get(module);
        boolean ok;
        lock.lock();
        try {
            ok = fetchVerifyApply(peer, module, plan, settings, node.deltaWorthwhile(module));
        } finally {
            lock.unlock();
        }
        (ok ? successes : failures).get(module).increment();
        if (!ok) {
            // Outside the lock: the lock is not fair, so a monitor pausing under it could keep a monitor whose
            // peer would succeed from pulling for as long as its own peer keeps failing.
            pause();
        }
        return ok;
    }

    private boolean fetchVerifyApply(PeerAddress peer, ClusterModule module, Plan plan, ClusterSettings settings,
                                     boolean tryDelta) {
        String label = plan.label();
        LOG.info("Cluster: Fetching {} from peer {} started. Expected checksum: {}", label, peer,
                plan.expected().getFirst().checksum());
        Map<String, QueryResult.Rows> tables = new LinkedHashMap<>();
        QueryResult.Rows delta = null;
        try (BlockingMysqlClient client = connector.open(peer, settings)) {
            client.limitResultBytes(MAX_PULL_BYTES);
            delta = tryDelta ? fetchDelta(client, peer, module, label) : null;
            if (delta == null) {
                for (Fetch f : plan.fetches()) {
                    tables.put(f.table(), client.select(f.query()));
                }
            }
        } catch (Exception e) {
            LOG.error("Cluster: Fetching {} from peer {} failed: {}", label, peer, e.getMessage());
            return false;
        }
        if (delta != null) {
            if (applyDelta(peer, module, plan, settings, delta)) {
                return true;
            }
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
            deltaFallbacks.increment();
            return fetchVerifyApply(peer, module, plan, settings, false);
        }
        LOG.info("Cluster: Fetching {} from peer {} completed", label, peer);
        List<PulledModule.Adopted> adopt = new ArrayList<>();
        for (int i = 0; i < plan.expected().size(); i++) {
            Expected exp = plan.expected().get(i);
            String computed;
            try {
                computed = Checksums.format(plan.compute().get(i).applyAsLong(tables));
            } catch (RuntimeException e) {
                // rows a checksum cannot even be computed from (a missing table, a number that is not one)
                LOG.error("Cluster: Fetching {} from peer {} failed: unusable rows: {}", label, peer, e.toString());
                return false;
            }
            LOG.info("Cluster: Computed checksum for {} from peer {} : {}", labelOf(exp.module()), peer, computed);
            if (!computed.equals(exp.checksum())) {
                if (exp.module() == ClusterModule.MYSQL_QUERY_RULES) {
                    LOG.error("Cluster: Fetching {} from peer {} failed because of mismatching checksum. Expected: {}"
                            + " , Computed: {}", labelOf(exp.module()), peer, exp.checksum(), computed);
                } else {
                    LOG.error("Cluster: Fetching {} from peer {} failed: Checksum changed from {} to {}",
                            labelOf(exp.module()), peer, exp.checksum(), computed);
                }
                return false;
            }
            adopt.add(new PulledModule.Adopted(exp.module().checksumName(), exp.checksum(), exp.epoch()));
        }
        for (Map.Entry<String, QueryResult.Rows> t : tables.entrySet()) {
            if (LOG.isDebugEnabled()) {
                LOG.debug("Dumping fetched '{}': {}", t.getKey(), t.getValue().rows());
            }
        }
        boolean save = settings.saveToDisk(module);
        LOG.info("Cluster: Loading to runtime {} from peer {}", label, peer);
        try {
            node.apply(new PulledModule(module, peer, tables, adopt, save));
        } catch (Exception e) {
            LOG.error("Cluster: Loading to runtime {} from peer {} failed: {}", label, peer, e.toString());
            return false;
        }
        if (save) {
            LOG.info("Cluster: Saving to disk {} from peer {}", label, peer);
        } else {
            LOG.info("Cluster: NOT saving to disk {} from peer {}", label, peer);
        }
        return true;
    }

    /**
     * Asks a ProxyFleet peer for the rows changed since the checksum this node runs ({@link ClusterQueries#DELTA});
     * null, so that the whole table is fetched on the same connection, when the peer is not ProxyFleet (it is never
     * sent anything ProxyFleet-only), this node has nothing loaded, or the peer cannot answer (an unknown base).
     *
     * @throws IOException the connection failed: the pull fails, as a whole-table fetch would
     */
    private QueryResult.Rows fetchDelta(BlockingMysqlClient client, PeerAddress peer, ClusterModule module,
                                        String label) throws IOException {
        ModuleVersion own = node.checksums().get(module.checksumName());
        if (own == null || own.version() == 0 || own.checksum().isEmpty()) {
            return null;
        }
        if (!isProxyFleet(client)) {
            return null;
        }
        try {
            QueryResult.Rows delta = client.select(ClusterQueries.DELTA + module.checksumName() + " FROM "
                    + own.checksum());
            LOG.info("Cluster: Fetching {} from peer {} as a delta since {}: {} changed rows", label, peer,
                    own.checksum(), delta.rows().size());
            return delta;
        } catch (MysqlErrorException e) {
            deltaFallbacks.increment();
            LOG.info("Cluster: peer {} has no delta of {} since {} ({}); fetching the whole table", peer, label,
                    own.checksum(), e.getMessage());
            return null;
        }
    }

    /** Applies a fetched delta; false (logged) when it is refused, and nothing changed then. */
    private boolean applyDelta(PeerAddress peer, ClusterModule module, Plan plan, ClusterSettings settings,
                               QueryResult.Rows delta) {
        Expected exp = plan.expected().getFirst();
        boolean save = settings.saveToDisk(module);
        LOG.info("Cluster: Loading to runtime {} from peer {} (delta)", plan.label(), peer);
        try {
            node.applyDelta(new PulledModule(module, peer, Map.of(module.checksumName(), delta),
                    List.of(new PulledModule.Adopted(module.checksumName(), exp.checksum(), exp.epoch())), save));
        } catch (InterruptedException e) {
            // the monitor is closing: no fallback to start
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            LOG.error("Cluster: Loading to runtime {} from peer {} as a delta failed: {}; fetching the whole table",
                    plan.label(), peer, e.toString());
            return false;
        }
        deltas.increment();
        LOG.info("Cluster: {} from peer {} applied as a delta of {} rows; {} to disk", plan.label(), peer,
                delta.rows().size(), save ? "saved" : "NOT saved");
        return true;
    }

    /** Pulls applied as a delta ({@code mysql_users} from ProxyFleet peers). */
    long deltaPulls() {
        return deltas.sum();
    }

    /** Deltas that were not available or were refused, each followed by a whole-table fetch. */
    long deltaFallbacks() {
        return deltaFallbacks.sum();
    }

    /** Whether the peer on {@code client} is a ProxyFleet node ({@link ClusterQueries#PROXYFLEET_PROBE}). */
    static boolean isProxyFleet(BlockingMysqlClient client) throws IOException {
        QueryResult.Rows probe = client.select(ClusterQueries.PROXYFLEET_PROBE);
        return !probe.rows().isEmpty() && "1".equals(probe.rows().getFirst().getFirst());
    }

    private void pause() {
        try {
            Thread.sleep(failurePause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Successful and failed pulls per module ({@code proxysql_cluster_pulled_total}). */
    long pulled(ClusterModule module, boolean success) {
        return (success ? successes : failures).get(module).sum();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Per-module plans

    static String labelOf(ClusterModule m) {
        return switch (m) {
            case ADMIN_VARIABLES -> "Admin Variables";
            case MYSQL_VARIABLES -> "MySQL Variables";
            case MYSQL_QUERY_RULES -> "MySQL Query Rules";
            case MYSQL_USERS -> "MySQL Users";
            case MYSQL_SERVERS_V2 -> "MySQL Servers v2";
            case MYSQL_SERVERS -> "MySQL Servers";
            case PROXYSQL_SERVERS -> "ProxySQL Servers";
        };
    }

    private Plan plan(ClusterModule module, List<Expected> expected) {
        String label = labelOf(module);
        return switch (module) {
            case ADMIN_VARIABLES, MYSQL_VARIABLES -> new Plan(label,
                    List.of(new Fetch("global_variables", ClusterQueries.variables(module, node.syncInterfaces()))),
                    expected, List.of(t -> raw(t, "global_variables")));
            case PROXYSQL_SERVERS -> new Plan(label,
                    List.of(new Fetch("proxysql_servers", ClusterQueries.PROXYSQL_SERVERS)),
                    expected, List.of(t -> raw(t, "proxysql_servers")));
            case MYSQL_QUERY_RULES -> new Plan(label,
                    List.of(new Fetch("mysql_query_rules", ClusterQueries.QUERY_RULES),
                            new Fetch("mysql_query_rules_fast_routing", ClusterQueries.QUERY_RULES_FAST_ROUTING)),
                    expected, List.of(t -> Checksums.queryRules(raw(t, "mysql_query_rules"),
                            raw(t, "mysql_query_rules_fast_routing"))));
            case MYSQL_USERS -> new Plan(label, List.of(new Fetch("mysql_users", ClusterQueries.USERS)),
                    expected, List.of(t -> Checksums.mysqlUsers(users(t.get("mysql_users")))));
            case MYSQL_SERVERS -> new Plan(label,
                    List.of(new Fetch("runtime_mysql_servers", ClusterQueries.RUNTIME_SERVERS)),
                    expected, List.of(t -> raw(t, "runtime_mysql_servers")));
            case MYSQL_SERVERS_V2 -> serversV2Plan(label, expected);
        };
    }

    private static final List<Fetch> SERVERS_V2_FETCHES = List.of(
            new Fetch("mysql_servers", ClusterQueries.SERVERS_V2),
            new Fetch("mysql_replication_hostgroups", ClusterQueries.REPLICATION_HOSTGROUPS),
            new Fetch("mysql_group_replication_hostgroups", ClusterQueries.GROUP_REPLICATION_HOSTGROUPS),
            new Fetch("mysql_galera_hostgroups", ClusterQueries.GALERA_HOSTGROUPS),
            new Fetch("mysql_aws_aurora_hostgroups", ClusterQueries.AURORA_HOSTGROUPS),
            new Fetch("mysql_hostgroup_attributes", ClusterQueries.HOSTGROUP_ATTRIBUTES),
            new Fetch("mysql_servers_ssl_params", ClusterQueries.SERVERS_SSL_PARAMS));

    private static Plan serversV2Plan(String label, List<Expected> expected) {
        List<Fetch> fetches = new ArrayList<>(SERVERS_V2_FETCHES);
        List<ToLongFunction<Map<String, QueryResult.Rows>>> compute = new ArrayList<>();
        compute.add(t -> {
            long[] hashes = new long[SERVERS_V2_FETCHES.size()];
            for (int i = 0; i < hashes.length; i++) {
                hashes[i] = raw(t, SERVERS_V2_FETCHES.get(i).table());
            }
            return Checksums.mysqlServersV2(hashes);
        });
        if (expected.size() > 1) {
            fetches.add(new Fetch("runtime_mysql_servers", ClusterQueries.RUNTIME_SERVERS));
            compute.add(t -> raw(t, "runtime_mysql_servers"));
        }
        return new Plan(label, fetches, expected, compute);
    }

    private static long raw(Map<String, QueryResult.Rows> tables, String table) {
        return Checksums.rawChecksum(tables.get(table).rows());
    }

    /** Fetched {@code runtime_mysql_users} rows (13 columns of §4.9) as the users they describe; all are active. */
    static List<MysqlUser> users(QueryResult.Rows rows) {
        List<MysqlUser> users = new ArrayList<>(rows.rows().size());
        for (List<String> r : rows.rows()) {
            users.add(new MysqlUser(r.get(0), r.get(1), true, bool(r.get(2)), Integer.parseInt(r.get(3)), r.get(4),
                    bool(r.get(5)), bool(r.get(6)), bool(r.get(7)), bool(r.get(8)), bool(r.get(9)),
                    Integer.parseInt(r.get(10)), r.get(11), r.get(12)));
        }
        return users;
    }

    private static boolean bool(String cell) {
        return cell != null && !cell.isEmpty() && !cell.equals("0");
    }
}
