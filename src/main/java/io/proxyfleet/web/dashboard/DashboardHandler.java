package io.proxyfleet.web.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.proxyfleet.admin.AdminAccount;
import io.proxyfleet.web.Access;
import io.proxyfleet.web.HttpAuth;
import io.proxyfleet.web.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every request of the dashboard: authentication, then the static assets (read once from the class path), the
 * JSON documents the page polls, and the admin-only variables page. Errors are a status code with a one-line
 * text body saying what to do.
 *
 * <p>Threads: runs on the server's small handler pool, never on a traffic event loop; the only blocking is a wait
 * of at most {@link AdminQueries#TIMEOUT_SECONDS} on the admin engine. Holds no per-request state.
 */
final class DashboardHandler implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(DashboardHandler.class);
    private static final String ADMIN_PREFIX = "/admin/";
    private static final String API_ADMIN_PREFIX = "/api/admin/";
    private static final String NO_CREDENTIALS_HINT = ": log in with the admin-stats_credentials or"
            + " admin-admin_credentials user";
    private static final int TOP_DIGESTS = 15;
    /** Variables whose values are passwords: shown masked even to admins, as the page may be left open. */
    private static final Set<String> SECRET_VARIABLES = Set.of("admin-admin_credentials",
            "admin-stats_credentials", "admin-cluster_password", "mysql-monitor_password");
    private static final Map<String, String> ASSETS = Map.of(
            "/", "index.html", "/index.html", "index.html", "/app.js", "app.js", "/app.css", "app.css");

    private final HttpAuth auth;
    private final AdminQueries queries;
    private final ClusterView cluster;
    private final TrafficSamples traffic;
    private final Map<String, byte[]> assets = new LinkedHashMap<>();

    DashboardHandler(HttpAuth auth, AdminQueries queries, ClusterView cluster, TrafficSamples traffic) {
        this.auth = auth;
        this.queries = queries;
        this.cluster = cluster;
        this.traffic = traffic;
        for (String file : Set.copyOf(ASSETS.values())) {
            assets.put(file, resource(file));
        }
    }

    private static byte[] resource(String file) {
        try (InputStream in = DashboardHandler.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("dashboard asset missing from the jar: " + file);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read dashboard asset " + file, e);
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            serve(exchange);
        } catch (IOException e) {
            log.debug("Web dashboard: client went away: {}", e.getMessage());
        } catch (RuntimeException e) {
            log.error("Web dashboard: request {} failed", exchange.getRequestURI(), e);
            text(exchange, 500, "500 Internal Server Error: " + e.getMessage());
        }
    }

    private void serve(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        Access access = path.startsWith(ADMIN_PREFIX) || path.startsWith(API_ADMIN_PREFIX)
                ? Access.ADMIN : Access.STATS;
        HttpAuth.Verdict verdict = auth.check(access, exchange);
        if (verdict instanceof HttpAuth.Verdict.Unauthorized(String reason, boolean stale)) {
            exchange.getResponseHeaders().add("WWW-Authenticate", auth.digestChallenge(stale));
            text(exchange, 401, "401 Unauthorized: " + (reason.equals(HttpAuth.NO_CREDENTIALS)
                    ? reason + NO_CREDENTIALS_HINT : reason));
            return;
        }
        // A known user learns that the dashboard only reads before whether the page is theirs to see.
        if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
            exchange.getResponseHeaders().add("Allow", "GET, HEAD");
            text(exchange, 405, "405 Method Not Allowed: the dashboard only reads; change the configuration on"
                    + " the admin port");
            return;
        }
        if (verdict instanceof HttpAuth.Verdict.Forbidden(AdminAccount stats)) {
            text(exchange, 403, "403 Forbidden: " + path + " needs a user of admin-admin_credentials; '"
                    + stats.username() + "' is a user of admin-stats_credentials");
            return;
        }
        AdminAccount account = ((HttpAuth.Verdict.Allowed) verdict).account();
        try {
            route(exchange, path, account);
        } catch (AdminQueries.Unavailable e) {
            text(exchange, 503, "503 Service Unavailable: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            text(exchange, 503, "503 Service Unavailable: the dashboard is stopping");
        }
    }

    private void route(HttpExchange exchange, String path, AdminAccount account)
            throws IOException, AdminQueries.Unavailable, InterruptedException {
        String asset = ASSETS.get(path);
        if (asset != null) {
            send(exchange, 200, contentType(asset), assets.get(asset));
            return;
        }
        switch (path) {
            case "/api/whoami" -> json(exchange, Map.of("user", account.username(),
                    "role", account.role().name().toLowerCase(Locale.ROOT)));
            case "/api/cluster" -> json(exchange, cluster.snapshot());
            case "/api/backends" -> json(exchange, Map.of("servers", queries.rows(BACKENDS)));
            case "/api/traffic" -> json(exchange, traffic());
            case "/api/admin/variables" -> json(exchange, Map.of("variables", variables()));
            case "/admin/variables" -> send(exchange, 200, "text/html; charset=utf-8",
                    variablesPage(variables()).getBytes(StandardCharsets.UTF_8));
            default -> text(exchange, 404, "404 Not Found: " + path + " (the dashboard is at /)");
        }
    }

    private static final String BACKENDS = "SELECT p.hostgroup, p.srv_host, p.srv_port, p.status, p.ConnUsed,"
            + " p.ConnFree, p.ConnOK, p.ConnERR, p.MaxConnUsed, p.Queries, p.Bytes_data_sent, p.Bytes_data_recv,"
            + " p.Latency_us, r.max_connections, r.weight, r.comment FROM stats_mysql_connection_pool p"
            + " LEFT JOIN runtime_mysql_servers r ON r.hostgroup_id = p.hostgroup AND r.hostname = p.srv_host"
            + " AND r.port = p.srv_port ORDER BY p.hostgroup, p.srv_host, p.srv_port";
    private static final String DIGESTS = "SELECT hostgroup, schemaname, username, digest, digest_text,"
            + " count_star, sum_time, min_time, max_time, last_seen FROM stats_mysql_query_digest"
            + " ORDER BY count_star DESC, sum_time DESC LIMIT " + TOP_DIGESTS;
    private static final String RULES = "SELECT s.rule_id, s.hits, r.active, r.match_digest, r.match_pattern,"
            + " r.destination_hostgroup, r.comment FROM stats_mysql_query_rules s"
            + " LEFT JOIN runtime_mysql_query_rules r ON r.rule_id = s.rule_id ORDER BY s.rule_id";
    private static final String VARIABLES = "SELECT variable_name, variable_value FROM runtime_global_variables"
            + " ORDER BY variable_name";

    private Map<String, Object> traffic() throws AdminQueries.Unavailable, InterruptedException {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("totalQueries", traffic.total());
        out.put("samples", traffic.points());
        out.put("digests", queries.rows(DIGESTS));
        out.put("rules", queries.rows(RULES));
        return out;
    }

    private List<Map<String, Object>> variables() throws AdminQueries.Unavailable, InterruptedException {
        List<Map<String, Object>> rows = queries.rows(VARIABLES);
        for (Map<String, Object> row : rows) {
            if (SECRET_VARIABLES.contains(String.valueOf(row.get("variable_name")))) {
                row.put("variable_value", "********");
            }
        }
        return rows;
    }

    private static String variablesPage(List<Map<String, Object>> rows) {
        StringBuilder html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                + "<title>ProxyFleet runtime variables</title><link rel=\"stylesheet\" href=\"/app.css\"></head>"
                + "<body><header><h1>Runtime variables</h1><a href=\"/\">back to the dashboard</a></header>"
                + "<main><table id=\"variables\"><thead><tr><th>variable_name</th><th>variable_value</th></tr>"
                + "</thead><tbody>");
        for (Map<String, Object> row : rows) {
            html.append("<tr><td>").append(escape(row.get("variable_name"))).append("</td><td>")
                    .append(escape(row.get("variable_value"))).append("</td></tr>");
        }
        return html.append("</tbody></table></main></body></html>").toString();
    }

    private static String escape(Object value) {
        String s = String.valueOf(value);
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static String contentType(String asset) {
        if (asset.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        }
        return asset.endsWith(".css") ? "text/css; charset=utf-8" : "text/html; charset=utf-8";
    }

    private static void json(HttpExchange exchange, Object body) throws IOException {
        send(exchange, 200, "application/json", Json.write(body).getBytes(StandardCharsets.UTF_8));
    }

    private static void text(HttpExchange exchange, int status, String message) throws IOException {
        send(exchange, status, "text/plain; charset=utf-8", (message + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", type);
        headers.set("Cache-Control", "no-store");
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("Content-Security-Policy", "default-src 'self'");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
