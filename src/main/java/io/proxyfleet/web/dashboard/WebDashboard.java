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
import io.proxyfleet.web.HttpListener;
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
 * <p>Threads: {@link #apply} and {@link #close} are serialized by its {@link HttpListener} and may block (bind,
 * stop, reading the TLS files), so the wiring calls them on its start-up thread or a virtual thread, never on an
 * event loop or the admin thread. Requests run on a pool of {@link #HANDLER_THREADS} platform threads with a bounded queue; a
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
    private final HttpListener listener;

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
        this.listener = new HttpListener("web dashboard", "web_enabled", "web_port", config, this::start, log);
    }

    /** Starts, stops or re-binds the server to match the runtime admin variables. */
    public void apply() {
        listener.apply();
    }

    /** The bound port, or -1 while the dashboard is off. */
    public int port() {
        return listener.port();
    }

    private HttpListener.Running start(String host, int port) throws IOException {
        var context = JdkServerTls.serverContext(tlsFiles);
        HttpsServer server = HttpsServer.create(new InetSocketAddress(host, port), BACKLOG);
        server.setHttpsConfigurator(new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters ssl = context.getDefaultSSLParameters();
                ssl.setProtocols(TlsFiles.PROTOCOLS.toArray(String[]::new));
                params.setSSLParameters(ssl);
            }
        });
        ThreadPoolExecutor handlers = HttpListeners.boundedWorkers(HANDLER_THREADS, QUEUED_REQUESTS, "web-dashboard");
        server.setExecutor(handlers);
        server.createContext("/", new DashboardHandler(auth, queries, cluster, traffic));
        try {
            server.start();
        } catch (RuntimeException e) {
            handlers.shutdownNow();
            throw e;
        }
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("web-dashboard-sampler").daemon(true).unstarted(r));
        sampler.scheduleWithFixedDelay(this::sample, 0, SAMPLE_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        return new HttpListener.Running(server.getAddress().getPort(), () -> stop(server, handlers, sampler));
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

    private void stop(HttpsServer server, ThreadPoolExecutor handlers, ScheduledExecutorService sampler) {
        sampler.shutdownNow();
        awaitQuietly(sampler);
        server.stop(STOP_DELAY_SECONDS);
        handlers.shutdown();
        awaitQuietly(handlers);
        probe.close();
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
    public void close() {
        listener.close();
    }
}
