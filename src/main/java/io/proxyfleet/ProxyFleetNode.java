package io.proxyfleet;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.admin.AdminListener;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.admin.ClusterPeerCertificates;
import io.proxyfleet.admin.NodeControl;
import io.proxyfleet.backend.BackendConnector;
import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.backend.Transport;
import io.proxyfleet.cluster.AdminClusterNode;
import io.proxyfleet.cluster.ClusterManager;
import io.proxyfleet.cluster.ClusterTls;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.QueryRule;
import io.proxyfleet.config.QueryRuleProgram;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.frontend.ClientSession;
import io.proxyfleet.frontend.SessionRegistry;
import io.proxyfleet.frontend.TrafficContext;
import io.proxyfleet.frontend.TrafficServer;
import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.monitor.MysqlMonitor;
import io.proxyfleet.monitor.ReplicationHostgroup;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.routing.RuleCompiler;
import io.proxyfleet.metrics.MetricSources;
import io.proxyfleet.metrics.NodeMetrics;
import io.proxyfleet.vip.HealthHandler;
import io.proxyfleet.vip.NodeHealth;
import io.proxyfleet.vip.RoleHandler;
import io.proxyfleet.vip.VipManager;
import io.proxyfleet.vip.VipSettings;
import io.proxyfleet.web.Access;
import io.proxyfleet.web.RestApiServer;
import io.proxyfleet.web.dashboard.WebDashboard;
import io.proxyfleet.web.RestRoutes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running ProxyFleet node: admin database, admin listener, traffic listener (and, on top, the cluster),
 * wired together. Started by one thread; {@link #close} may be called from any thread, once or more.
 */
public final class ProxyFleetNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyFleetNode.class);
    private static final int ER_SERVER_SHUTDOWN = 1053;
    /** How long shutdown waits for each traffic loop to tell its sessions; a stuck loop must not hold the exit. */
    private static final long QUEUED_TASKS_WAIT_MILLIS = 2_000;
    /** What MySQL and MariaDB tell their clients when they stop. */
    private static final ErrPacket SERVER_SHUTDOWN =
            new ErrPacket(ER_SERVER_SHUTDOWN, "08S01", "Server shutdown in progress");

    private final ConfigHolder config;
    private final EventLoopGroup trafficLoops;
    private final EventLoopGroup adminLoop;
    private final SessionRegistry sessions;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final TlsFiles tlsFiles;
    private volatile SslContext tls;
    private AdminEngine admin;
    private AdminListener adminListener;
    private volatile MysqlMonitor monitor;
    private ClusterManager cluster;
    private VipManager vip;
    private RestApiServer restApi;
    private volatile WebDashboard web;
    private TrafficContext trafficContext;
    private String trafficInterfaces;
    private NodeOptions options;
    private Hostgroups hostgroups;
    /** False while {@code -n} holds the traffic listener and monitor back. */
    private boolean modulesStarted;
    private final List<TrafficServer> traffic = new ArrayList<>();

    private ProxyFleetNode(ConfigHolder config, TlsFiles tlsFiles, EventLoopGroup trafficLoops,
                           EventLoopGroup adminLoop, SessionRegistry sessions) {
        this.config = config;
        this.tlsFiles = tlsFiles;
        this.tls = tlsFiles.serverContext();
        this.trafficLoops = trafficLoops;
        this.adminLoop = adminLoop;
        this.sessions = sessions;
    }

    /** Starts a node: opens the admin database (loading every module to runtime), then binds the listeners. */
    public static ProxyFleetNode start(NodeOptions options) {
        return start(options, RuleCompiler::compile);
    }

    static ProxyFleetNode start(NodeOptions options, Function<List<QueryRule>, QueryRuleProgram> ruleCompiler) {
        var timeline = new StartupTimeline();
        var config = new ConfigHolder(RuntimeConfig.empty());
        var hostgroups = Hostgroups.follow(config);
        var sessions = new SessionRegistry();
        // Generating the TLS files (first start) and building their context take about a second of CPU in a fresh
        // JVM: they run on a thread of their own while the admin database opens (issue 11, start-up).
        CompletableFuture<TlsFiles> tlsOpening = CompletableFuture.supplyAsync(() -> TlsFiles.open(options.dataDir()),
                task -> Thread.ofPlatform().daemon().name("proxyfleet-tls-files").start(task));
        EventLoopGroup adminLoop = new MultiThreadIoEventLoopGroup(1, Transport.defaultHandlerFactory());
        ProxyFleetNode node = null;
        try {
            // Traffic threads are sized from mysql-threads, which only the admin database knows: open it first.
            var pending = new PendingNode();
            var tlsRef = new java.util.concurrent.atomic.AtomicReference<ProxyFleetNode>();
            var context = TrafficContext.create(config, new BackendConnector(hostgroups), sessions,
                    () -> tlsRef.get() == null ? null : tlsRef.get().tlsContext(), options.dataDir());
            AdminEngine admin = AdminEngine.open(options.dataDir(), options.configFile(), options.initial(),
                    options.reload(), config, ruleCompiler, new NodeStats(config, hostgroups, sessions, context),
                    pending, options.uuid());
            admin.registerTableSource("stats_mysql_query_digest", context.digests()::rows);
            admin.registerTableSource("stats_mysql_query_digest_reset", context.digests()::rowsAndReset);
            admin.registerTableSource("stats_mysql_query_rules", () -> ruleHits(config));
            timeline.mark("admin database");
            RuntimeConfig cfg = config.current();
            EventLoopGroup trafficLoops = new MultiThreadIoEventLoopGroup(
                    Math.max(1, cfg.mysqlVariables().getInt("threads")), Transport.trafficHandlerFactory());
            timeline.mark("traffic event loops");
            TlsFiles tlsFiles = awaitTls(tlsOpening);
            timeline.mark("waiting for the TLS files");
            node = new ProxyFleetNode(config, tlsFiles, trafficLoops, adminLoop, sessions);
            node.admin = admin;
            node.trafficContext = context;
            pending.node = node;
            tlsRef.set(node);
            node.trafficInterfaces = cfg.mysqlVariables().get("interfaces");
            node.options = options;
            node.hostgroups = hostgroups;
            if (options.noStart()) {
                log.info("Started with -n: only the admin runs until PROXYSQL START");
            } else {
                node.startModules();
            }
            timeline.mark("traffic listener and monitor");
            node.adminListener = new AdminListener(adminLoop, admin, node::tlsContext,
                    () -> config.current().mysqlVariables().get("server_version"));
            node.adminListener.clusterPeerCertificates(
                    new ClusterPeerCertificates(() -> config.current().adminVariables(), node.tlsFiles));
            node.adminListener.reusePort(options.reusePort());
            node.adminListener.bind(cfg.adminVariables().get("mysql_ifaces"));
            if (options.adminSocket() != null) {
                node.adminListener.bindUnixSocket(options.adminSocket());
                log.info("Admin also listening on Unix socket {}", options.adminSocket());
            }
            timeline.mark("admin listener");
            node.cluster = new ClusterManager(new AdminClusterNode(admin, config, admin.syncInterfaces(), true),
                    new ClusterTls(() -> config.current().adminVariables(), options.dataDir()));
            node.cluster.registerStatsTables(admin);
            node.cluster.start();
            timeline.mark("cluster");
            ProxyFleetNode n = node;
            var sources = new MetricSources(context, hostgroups, admin, () -> n.monitor, () -> n.cluster,
                    trafficLoops, n::trafficPaused, timeline.startedNanos());
            var metrics = new NodeMetrics(sources);
            admin.registerPrometheus(metrics::text);
            node.restApi = new RestApiServer(config, admin::account);
            RestRoutes.register(node.restApi, sources, metrics);
            node.restApi.reconfigure();
            node.web = new WebDashboard(admin, config, node.cluster, node.tlsFiles, node::adminPort);
            node.web.apply();
            node.startVip(options, hostgroups, cfg);
            timeline.mark("metrics, REST API, web dashboard and VIP");
            log.info("ProxyFleet listening: traffic on {}, admin on {} (port {})",
                    options.noStart() ? "(not yet, -n)" : cfg.mysqlVariables().get("interfaces"),
                    cfg.adminVariables().get("mysql_ifaces"), node.adminPort());
            log.info("Start-up timeline: {}", timeline.summary());
            return node;
        } catch (Exception e) {
            if (node != null) {
                node.close();
            } else {
                adminLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            // Not left writing into a data directory that the caller may remove next.
            tlsOpening.handle((files, failure) -> null).join();
            throw new IllegalStateException("ProxyFleet failed to start: " + e.getMessage(), e);
        }
    }

    private static TlsFiles awaitTls(CompletableFuture<TlsFiles> opening) {
        try {
            return opening.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    /** The virtual IP (docs/vip.md), its admin tables, and the /health and /role endpoints. */
    private void startVip(NodeOptions options, Hostgroups hostgroups, RuntimeConfig cfg) {
        var health = new NodeHealth(config, hostgroups, () -> cluster, this::trafficOpen);
        vip = new VipManager(VipSettings.from(cfg.adminVariables()), options.dataDir(), health, sessions,
                this::pauseTraffic, this::trafficPortOrZero);
        admin.registerTableSource("stats_proxyfleet_vip", vip::vipRows);
        admin.registerTableSource("stats_proxyfleet_endpoints", vip::endpointRows);
        restApi.route("/health", Access.PUBLIC, new HealthHandler(health));
        restApi.route("/role", Access.PUBLIC, new RoleHandler(vip, health));
        vip.start();
    }

    private synchronized boolean trafficOpen() {
        return !traffic.isEmpty();
    }

    private static List<List<Object>> ruleHits(ConfigHolder config) {
        var rows = new ArrayList<List<Object>>();
        for (var hits : io.proxyfleet.routing.CompiledRules.of(config.current().queryRules().program()).hits()) {
            rows.add(List.of(hits.ruleId(), hits.hits()));
        }
        return rows;
    }

    /**
     * The traffic listener and, unless {@code -M}, the monitor: at start, or at {@code PROXYSQL START} after
     * {@code -n}.
     */
    private synchronized void startModules() throws InterruptedException {
        modulesStarted = true;
        bindTraffic();
        if (options.noMonitor()) {
            log.info("Started with -M: the backend monitor does not run");
        } else {
            startMonitor(hostgroups);
        }
    }

    /** PROXYSQL START: starts what {@code -n} held back; false when everything already runs. */
    private synchronized boolean startDeferred() {
        if (modulesStarted || closed.get()) {
            return false;
        }
        try {
            startModules();
            log.info("PROXYSQL START: traffic listening on {}", trafficInterfaces);
        } catch (Exception e) {
            log.error("PROXYSQL START failed: {}", e.getMessage());
        }
        return true;
    }

    // ---------------------------------------------------------------- monitor

    /**
     * Starts the backend monitor: it reads config from the holder, writes its logs through the admin engine, and
     * tells the engine when it moved servers so the runtime {@code mysql_servers} checksum follows (no new
     * version, §4.4).
     */
    private void startMonitor(Hostgroups hostgroups) {
        monitor = new MysqlMonitor(config, hostgroups, admin::runInTransaction, () ->
                admin.runtimeServersChanged().whenComplete((versions, failure) -> {
                    if (failure != null) {
                        log.error("Cannot re-hash runtime mysql_servers after a monitor move: {}", failure.toString());
                    }
                }));
        refreshReplicationHostgroups();
    }

    /**
     * Hands the runtime {@code mysql_replication_hostgroups} to the monitor. Called after every load of the
     * servers module; the query is queued behind the load on the admin thread, so it sees the loaded rows.
     */
    private void refreshReplicationHostgroups() {
        MysqlMonitor m = monitor;
        if (m == null) {
            return;
        }
        admin.runSql("SELECT writer_hostgroup, reader_hostgroup, check_type, comment"
                + " FROM runtime_mysql_replication_hostgroups").whenComplete((response, failure) -> {
                    try {
                        if (response instanceof AdminResponse.ResultSet rs) {
                            m.replicationHostgroups(ReplicationHostgroup.fromRows(rs.rows()));
                            return;
                        }
                        log.error("Cannot read runtime_mysql_replication_hostgroups for the monitor: {}",
                                failure != null ? failure : response);
                    } catch (IllegalArgumentException e) {
                        log.error("Invalid runtime_mysql_replication_hostgroups row for the monitor: {}",
                                e.getMessage());
                    }
                });
    }

    private synchronized void bindTraffic() throws InterruptedException {
        for (String iface : trafficInterfaces.split(";")) {
            HostPort hp = HostPort.parse(iface);
            traffic.add(TrafficServer.start(trafficContext, trafficLoops, hp.host(), hp.port(),
                    options.reusePort()));
        }
    }

    /** PROXYSQL PAUSE: stop accepting traffic connections; sessions already open go on. */
    private synchronized void pauseTraffic() {
        for (TrafficServer server : traffic) {
            server.close();
        }
        traffic.clear();
        if (!closed.get()) {
            log.info("Traffic listener paused: no new client connections are accepted");
        }
    }

    private synchronized boolean trafficPaused() {
        return traffic.isEmpty();
    }

    /** PROXYSQL RESUME: accept traffic connections again. */
    private synchronized void resumeTraffic() {
        if (!traffic.isEmpty() || closed.get() || !modulesStarted) {
            return;
        }
        try {
            bindTraffic();
            log.info("Traffic listener resumed on {}", trafficInterfaces);
        } catch (Exception e) {
            log.error("Cannot resume the traffic listener on {}: {}", trafficInterfaces, e.getMessage());
        }
    }

    private SslContext tlsContext() {
        return tls;
    }

    public ConfigHolder config() {
        return config;
    }

    public AdminEngine admin() {
        return admin;
    }

    /** The backend monitor (health checks and replication hostgroups). */
    public MysqlMonitor monitor() {
        return monitor;
    }

    /** The REST port (admin-restapi_*), where the metrics and REST routes register. */
    public RestApiServer restApi() {
        return restApi;
    }

    /** Port of the first traffic interface (useful when it was configured as port 0). */
    public int trafficPort() {
        return traffic.get(0).port();
    }

    /** The traffic port, or 0 while traffic is not started ({@code -n} until {@code PROXYSQL START}). */
    private synchronized int trafficPortOrZero() {
        return traffic.isEmpty() ? 0 : traffic.get(0).port();
    }

    public int adminPort() {
        return adminListener.port();
    }

    /** Blocks until the node is closed, by {@link #close} or by PROXYSQL SHUTDOWN. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("ProxyFleet shutting down");
        if (vip != null) {
            vip.close();
        }
        pauseTraffic();
        if (web != null) {
            web.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (restApi != null) {
            restApi.close();
        }
        if (adminListener != null) {
            adminListener.close();
        }
        for (ClientSession session : sessions.all()) {
            session.serverShutdown(SERVER_SHUTDOWN);
        }
        if (trafficLoops != null) {
            // A loop that shuts down closes its channels before it runs queued tasks: let the notices go out first.
            runQueuedTasks(trafficLoops);
            trafficLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        adminLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (monitor != null) {
            monitor.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (trafficContext != null) {
            trafficContext.eventsLog().close();
        }
        terminated.countDown();
    }

    /** Returns once every loop of {@code group} has run the tasks queued so far, or after a bounded wait. */
    private static void runQueuedTasks(EventLoopGroup group) {
        List<Future<?>> barriers = new ArrayList<>();
        for (EventExecutor loop : group) {
            // Each loop runs its tasks in order, so this one runs after everything queued before it.
            barriers.add(loop.submit(() -> { }));
        }
        for (Future<?> barrier : barriers) {
            barrier.awaitUninterruptibly(QUEUED_TASKS_WAIT_MILLIS);
        }
    }

    /** host:port of an interface variable. */
    record HostPort(String host, int port) {
        static HostPort parse(String text) {
            String trimmed = text.trim();
            int colon = trimmed.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("interface without a port: " + trimmed);
            }
            return new HostPort(trimmed.substring(0, colon), Integer.parseInt(trimmed.substring(colon + 1)));
        }
    }

    /**
     * The engine's handle on the node. It exists before the node does (the engine is opened first), so it
     * forwards to the node once set. Methods are called on the admin thread and hand real work to other threads.
     */
    private static final class PendingNode implements NodeControl {
        private volatile ProxyFleetNode node;

        @Override
        public void shutdown(boolean slow) {
            ProxyFleetNode n = node;
            if (n != null) {
                Thread.ofPlatform().name("proxyfleet-shutdown-command").start(n::close);
            }
        }

        @Override
        public boolean start() {
            ProxyFleetNode n = node;
            return n != null && n.startDeferred();
        }

        @Override
        public void pause() {
            ProxyFleetNode n = node;
            if (n != null) {
                n.pauseTraffic();
            }
        }

        @Override
        public void resume() {
            ProxyFleetNode n = node;
            if (n != null) {
                n.resumeTraffic();
            }
        }

        @Override
        public void drain() {
            ProxyFleetNode n = node;
            if (n != null && n.vip != null) {
                n.vip.drain();
            }
        }

        @Override
        public void undrain() {
            ProxyFleetNode n = node;
            if (n != null && n.vip != null) {
                n.vip.undrain();
                n.resumeTraffic();
            }
        }

        @Override
        public void flushLogs() {
            LogSetup.reopenFiles();
        }

        @Override
        public void reloadTls() {
            ProxyFleetNode n = node;
            if (n != null) {
                n.tls = n.tlsFiles.reload();
            }
        }

        @Override
        public boolean killConnection(long id) {
            ProxyFleetNode n = node;
            ClientSession session = n == null ? null : n.sessions.get(id);
            if (session == null) {
                return false;
            }
            session.kill();
            return true;
        }

        @Override
        public boolean killQuery(long id) {
            ProxyFleetNode n = node;
            ClientSession session = n == null ? null : n.sessions.get(id);
            if (session == null) {
                return false;
            }
            session.interruptQuery();
            return true;
        }

        @Override
        public void adminInterfacesChanged(String ifaces) {
            ProxyFleetNode n = node;
            if (n == null || n.adminListener == null) {
                return;
            }
            Thread.ofVirtual().name("admin-rebind").start(() -> {
                try {
                    n.adminListener.bind(ifaces);
                    log.info("Admin listener re-bound to {}", ifaces);
                } catch (Exception e) {
                    log.error("Cannot bind admin-mysql_ifaces {}: {}", ifaces, e.getMessage());
                }
            });
        }

        @Override
        public void flushQueryCache() {
            ProxyFleetNode n = node;
            if (n != null && n.trafficContext != null) {
                n.trafficContext.queryCache().flush();
            }
        }

        @Override
        public void clusterNotified(String announcedInterfaces) {
            ProxyFleetNode n = node;
            if (n != null && n.cluster != null) {
                n.cluster.checkNow(announcedInterfaces);
            }
        }

        @Override
        public void moduleLoaded(String module) {
            ProxyFleetNode n = node;
            if (n != null && module.equals("mysql_servers")) {
                n.refreshReplicationHostgroups();
            }
            if (n != null && n.restApi != null && module.equals("admin_variables")) {
                // Stopping the old port waits for its requests: not on the admin thread.
                Thread.ofVirtual().name("restapi-reconfigure").start(n.restApi::reconfigure);
            }
            if (n != null && n.cluster != null) {
                n.cluster.moduleLoaded(module);
            }
            if (n != null && n.web != null && module.equals("admin_variables")) {
                Thread.ofVirtual().name("web-dashboard-apply").start(n.web::apply);
            }
        }
    }
}
