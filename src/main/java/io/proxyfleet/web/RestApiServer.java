package io.proxyfleet.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.proxyfleet.admin.AdminAccount;
import io.proxyfleet.config.ConfigHolder;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST port ({@code admin-restapi_enabled}, {@code admin-restapi_port}, on the host of the first
 * {@code admin-mysql_ifaces} entry), as ProxySQL's: {@code /metrics} and the REST routes others register with
 * {@link #route}. Requests run on a small bounded pool of its own, never on a traffic event loop; when the pool
 * and its queue are full the JDK server closes the new connection.
 *
 * <p>Threads: {@link #route} from any thread, at any time; {@link #reconfigure} and {@link #close} are serialized
 * by its {@link HttpListener} (callers run them off the admin thread, since stopping waits for requests in flight).
 */
public final class RestApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RestApiServer.class);
    private static final int WORKERS = 2;
    private static final int QUEUED_REQUESTS = 64;
    private static final int BACKLOG = 64;
    /** Seconds a stop waits for requests in flight before closing their connections. */
    private static final int STOP_GRACE_SECONDS = 1;
    /** Seconds a client may take to send its request: a slow one must not hold one of the few workers. */
    private static final String MAX_REQUEST_SECONDS = "10";
    private static final int NOT_FOUND = 404;
    private static final int UNAUTHORIZED = 401;
    private static final int FORBIDDEN = 403;
    private static final int INTERNAL_ERROR = 500;
    /** {@link HttpExchange#getResponseCode} before headers are sent, and the length that means "no body". */
    private static final int NONE = -1;

    static {
        // Read once by the JDK server when it first starts; a value given on the command line wins.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", MAX_REQUEST_SECONDS);
        }
    }

    private record Route(Access access, HttpHandler handler) {
    }

    private final HttpAuth auth;
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final HttpListener listener;

    /**
     * @param accounts the admin-port login of a user name ({@code AdminEngine::account}): admin and stats
     *                 credentials from the runtime admin variables
     */
    public RestApiServer(ConfigHolder config, Function<String, Optional<AdminAccount>> accounts) {
        this.auth = new HttpAuth(accounts);
        this.listener = new HttpListener("REST API", "restapi_enabled", "restapi_port", config, this::start, log);
    }

    /**
     * Serves {@code path} to callers with {@code access}. A path ending in {@code /} also serves every path
     * below it (the longest registered prefix wins); other paths must match exactly. Registering a path again
     * replaces its route.
     */
    public void route(String path, Access access, HttpHandler handler) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("route path must start with /: " + path);
        }
        routes.put(path, new Route(access, handler));
    }

    /** The bound port, or -1 while the REST API is off (disabled, or its port could not be bound). */
    public int port() {
        return listener.port();
    }

    /**
     * Follows the runtime admin variables: starts, stops, or re-binds when the port or the admin interface
     * changed. A port that cannot be bound is logged and leaves the REST API off; the node goes on serving.
     */
    public void reconfigure() {
        listener.apply();
    }

    private HttpListener.Running start(String host, int wanted) throws IOException {
        ThreadPoolExecutor workers = HttpListeners.boundedWorkers(WORKERS, QUEUED_REQUESTS, "restapi-" + wanted);
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(host, wanted), BACKLOG);
            server.setExecutor(workers);
            server.createContext("/", this::dispatch);
            server.start();
            return new HttpListener.Running(server.getAddress().getPort(), () -> {
                server.stop(STOP_GRACE_SECONDS);
                workers.shutdownNow();
            });
        } catch (IOException | RuntimeException e) {
            workers.shutdownNow();
            throw e;
        }
    }

    @Override
    public void close() {
        listener.close();
    }

    // ---------------------------------------------------------------- requests (on a worker thread)

    private void dispatch(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            Route route = find(path);
            if (route == null) {
                respond(exchange, NOT_FOUND, "text/plain", "no such route: " + path + "\n");
                return;
            }
            if (route.access() == Access.PUBLIC) {
                handle(exchange, route, path);
                return;
            }
            switch (auth.check(route.access(), exchange)) {
                case HttpAuth.Verdict.Allowed allowed -> handle(exchange, route, path);
                case HttpAuth.Verdict.Unauthorized no -> {
                    exchange.getResponseHeaders().add("WWW-Authenticate", auth.digestChallenge(no.stale()));
                    exchange.getResponseHeaders().add("WWW-Authenticate", HttpAuth.basicChallenge());
                    respond(exchange, UNAUTHORIZED, "text/plain", "401 Unauthorized: " + no.reason()
                            + " (use admin-admin_credentials" + (route.access() == Access.STATS
                                    ? " or admin-stats_credentials" : "") + ")\n");
                }
                case HttpAuth.Verdict.Forbidden no -> respond(exchange, FORBIDDEN, "text/plain",
                        "403 Forbidden: user '" + no.account().username() + "' has stats access only; " + path
                                + " needs admin-admin_credentials\n");
            }
        }
    }

    private void handle(HttpExchange exchange, Route route, String path) throws IOException {
        try {
            route.handler().handle(exchange);
        } catch (IOException e) {
            log.debug("REST client went away during {}: {}", path, e.toString());
        } catch (RuntimeException e) {
            log.warn("REST route {} failed: {}", path, e.toString(), e);
            if (exchange.getResponseCode() == NONE) {
                respond(exchange, INTERNAL_ERROR, "text/plain", "500 Internal Server Error: " + e + "\n");
            }
        }
    }

    private Route find(String path) {
        Route exact = routes.get(path);
        if (exact != null) {
            return exact;
        }
        String best = null;
        for (String prefix : routes.keySet()) {
            if (prefix.endsWith("/") && path.startsWith(prefix) && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return best == null ? null : routes.get(best);
    }

    /** Sends a whole response; for handlers' use too. */
    public static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType + "; charset=utf-8");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? NONE : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
