package io.proxyfleet.web.dashboard;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.cluster.ClusterManager;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.login.tls.JdkServerTls;
import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.web.HttpAuth;
import io.proxyfleet.web.HttpListeners;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's web dashboard (ProxySQL's {@code admin-web_enabled} / {@code admin-web_port}): an HTTPS server with
 * the node's own certificate, on the host of the first {@code admin-mysql_ifaces} entry, behind the admin
 * credentials. {@link #apply} follows the runtime admin variables: it starts, stops or moves the server. A port
 * that cannot be bound is logged and leaves the dashboard off; the rest of the node is not affected.
 *
 * <p>Threads: {@link #apply} and {@link #close} are synchronized and may block (bind, stop, reading the TLS
 * files), so the wiring calls them on its start-up thread or a virtual thread, never on an event loop or the
 * admin thread. Requests run on a pool of {@link #HANDLER_THREADS} platform threads with a bounded queue; a
 * sampler thread reads the query count and probes the peers once a second while the dashboard is on.
 */
public final class WebDashboard implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebDashboard.class);
    private static final int HANDLER_THREADS = 4;
    private static final int QUEUED_REQUESTS = 64;
    private static final int BACKLOG = 32;
    private static final long SAMPLE_PERIOD_MILLIS = 1000;
    /** Requests in flight get this long to finish when the dashboard stops or moves. */
    private static final int STOP_DELAY_SECONDS = 1;
    private static final String QUESTIONS = "SELECT SUM(Total_cnt) FROM stats_mysql_commands_counters";

    private final ConfigHolder config;
    private final TlsFiles tlsFiles;
    private final HttpAuth auth;
    private final AdminQueries queries;
    private final ClusterView cluster;
    private final TrafficSamples traffic = new TrafficSamples();
    private final PeerProbe probe = new PeerProbe();
    private HttpsServer server;
    private ThreadPoolExecutor handlers;
    private ScheduledExecutorService sampler;
    private String boundAddress = "";
    private boolean closed;

    /**
     * @param adminPort the port this node's admin listens on, to recognise itself in {@code proxysql_servers}
     */
    public WebDashboard(AdminEngine admin, ConfigHolder config, ClusterManager clusterManager, TlsFiles tlsFiles,
                        IntSupplier adminPort) {
        this.config = config;
        this.tlsFiles = tlsFiles;
        this.auth = new HttpAuth(admin::account);
        this.queries = new AdminQueries(admin);
        this.cluster = new ClusterView(new ClusterView.Sources(() -> config.current().peers().rows(),
                clusterManager::checksumsStatus, clusterManager::metricsStatus, admin::moduleVersions,
                () -> config.current().adminVariables().get("version"), () -> adminHost(config.current()),
                adminPort, System.currentTimeMillis()));
    }

    /** Starts, stops or re-binds the server to match the runtime admin variables. */
    public synchronized void apply() {
        if (closed) {
            return;
        }
        RuntimeConfig.Variables admin = config.current().adminVariables();
        boolean enabled = admin.getBoolean("web_enabled");
        String host = adminHost(config.current());
        String address = host + ":" + admin.get("web_port");
        if (enabled && server != null && address.equals(boundAddress)) {
            return;
        }
        stop();
        if (!enabled) {
            return;
        }
        try {
            start(host, admin.getInt("web_port"));
            boundAddress = address;
            log.info("Web dashboard listening on https://{}/", address);
        } catch (IOException | RuntimeException e) {
            stop();
            HttpListeners.logCannotListen(log, "web dashboard", "admin-web_port", host, admin.get("web_port"), e);
        }
    }

    /** The bound port, or -1 while the dashboard is off. */
    public synchronized int port() {
        return server == null ? -1 : server.getAddress().getPort();
    }

    private void start(String host, int port) throws IOException {
        var context = JdkServerTls.serverContext(tlsFiles);
        HttpsServer s = HttpsServer.create(new InetSocketAddress(host, port), BACKLOG);
        s.setHttpsConfigurator(new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters ssl = context.getDefaultSSLParameters();
                ssl.setProtocols(TlsFiles.PROTOCOLS.toArray(String[]::new));
                params.setSSLParameters(ssl);
            }
        });
        handlers = HttpListeners.boundedWorkers(HANDLER_THREADS, QUEUED_REQUESTS, "web-dashboard");
        s.setExecutor(handlers);
        s.createContext("/", new DashboardHandler(auth, queries, cluster, traffic));
        server = s;
        s.start();
        sampler = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("web-dashboard-sampler").daemon(true).unstarted(r));
        sampler.scheduleWithFixedDelay(this::sample, 0, SAMPLE_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Runs on the sampler thread: one rate sample, one probe round, one cluster view. */
    private void sample() {
        try {
            traffic.record(queries.number(QUESTIONS), System.currentTimeMillis());
        } catch (AdminQueries.Unavailable e) {
            log.debug("Web dashboard: no query count this second: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            RuntimeConfig.Variables admin = config.current().adminVariables();
            probe.round(cluster.peersToProbe(), admin.get("cluster_username"), admin.get("cluster_password"));
            cluster.refresh(probe.results());
        } catch (RuntimeException e) {
            // A failed round must not end the schedule: the next second tries again.
            log.error("Web dashboard: cluster view refresh failed", e);
        }
    }

    private void stop() {
        if (sampler != null) {
            sampler.shutdownNow();
            awaitQuietly(sampler);
            sampler = null;
        }
        if (server != null) {
            server.stop(STOP_DELAY_SECONDS);
            server = null;
            log.info("Web dashboard stopped on {}", boundAddress);
        }
        if (handlers != null) {
            handlers.shutdown();
            awaitQuietly(handlers);
            handlers = null;
        }
        probe.close();
        boundAddress = "";
    }

    private static void awaitQuietly(ExecutorService executor) {
        try {
            if (!executor.awaitTermination(AdminQueries.TIMEOUT_SECONDS + 1, TimeUnit.SECONDS)) {
                log.warn("Web dashboard: a thread did not stop in time");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The host of the first admin interface: the dashboard is exposed exactly where the admin port is. */
    private static String adminHost(RuntimeConfig config) {
        return HttpListeners.adminHost(config.adminVariables().get("mysql_ifaces"));
    }

    @Override
    public synchronized void close() {
        closed = true;
        stop();
    }
}
