package io.proxyfleet.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.cluster.ClusterManager;
import io.proxyfleet.cluster.PeerChecksumStatus;
import io.proxyfleet.cluster.PeerMetrics;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.metrics.MetricSources;
import io.proxyfleet.metrics.NodeMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The routes of the REST port: {@code /metrics} (public, as ProxySQL's) and the JSON API operators script
 * against: node status, checksums, peers and their sync state (stats credentials), and the runtime
 * configuration per module (admin credentials: it holds passwords). Handlers run on the REST workers; what only
 * the admin thread may read is asked for with a deadline. Stateless apart from the sources.
 */
public final class RestRoutes {
    static final String CONFIG_PREFIX = "/api/config/";
    private static final int OK = 200;
    private static final int NOT_FOUND = 404;
    private static final int METHOD_NOT_ALLOWED = 405;
    private static final int UNAVAILABLE = 503;
    private static final long ADMIN_DEADLINE_SECONDS = 5;
    private static final String JSON = "application/json";
    private static final int NO_BODY = -1;

    /** One runtime table of a module, and the query that reads it. */
    private record TableQuery(String table, String sql) {
        static TableQuery all(String table) {
            return new TableQuery(table, "SELECT * FROM " + table);
        }

        static TableQuery variables(String prefix) {
            return new TableQuery("runtime_global_variables", "SELECT * FROM runtime_global_variables"
                    + " WHERE variable_name LIKE '" + prefix + "%' ORDER BY variable_name");
        }
    }

    /** The runtime tables that make up each module, as {@code runtime_checksums_values} names the modules. */
    private static final Map<String, List<TableQuery>> MODULE_QUERIES = modules();

    private final MetricSources sources;
    private final NodeMetrics metrics;

    private RestRoutes(MetricSources sources, NodeMetrics metrics) {
        this.sources = sources;
        this.metrics = metrics;
    }

    /** Registers every route on {@code server}. */
    public static void register(RestApiServer server, MetricSources sources, NodeMetrics metrics) {
        var routes = new RestRoutes(sources, metrics);
        server.route("/metrics", Access.PUBLIC, get(routes::metrics));
        server.route("/api/status", Access.STATS, get(routes::status));
        server.route("/api/checksums", Access.STATS, get(routes::checksums));
        server.route("/api/peers", Access.STATS, get(routes::peers));
        server.route("/api/config", Access.ADMIN, get(routes::configIndex));
        server.route(CONFIG_PREFIX, Access.ADMIN, get(routes::config));
        ScriptRoutes.register(server, sources.admin());
    }

    private static Map<String, List<TableQuery>> modules() {
        var m = new LinkedHashMap<String, List<TableQuery>>();
        m.put("mysql_users", List.of(TableQuery.all("runtime_mysql_users")));
        m.put("mysql_servers", List.of(TableQuery.all("runtime_mysql_servers"),
                TableQuery.all("runtime_mysql_replication_hostgroups")));
        m.put("mysql_query_rules", List.of(TableQuery.all("runtime_mysql_query_rules"),
                TableQuery.all("runtime_mysql_query_rules_fast_routing")));
        m.put("mysql_variables", List.of(TableQuery.variables("mysql-")));
        m.put("admin_variables", List.of(TableQuery.variables("admin-")));
        m.put("proxysql_servers", List.of(TableQuery.all("runtime_proxysql_servers")));
        m.put("scheduler", List.of(TableQuery.all("runtime_scheduler")));
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Only GET (and HEAD, which {@link RestApiServer#respond} answers without a body). */
    private static HttpHandler get(HttpHandler handler) {
        return exchange -> {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                RestApiServer.respond(exchange, METHOD_NOT_ALLOWED, "text/plain", method + " not allowed\n");
                return;
            }
            handler.handle(exchange);
        };
    }

    /** Rendered before the headers go out, so a failed scrape is a 500 rather than a cut-off body. */
    private void metrics(HttpExchange exchange) throws IOException {
        byte[] body = metrics.text().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", NodeMetrics.CONTENT_TYPE);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(OK, head ? NO_BODY : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private void status(HttpExchange exchange) throws IOException {
        var body = new LinkedHashMap<String, Object>();
        var admin = sources.traffic().config().current().adminVariables();
        body.put("version", admin.get("version"));
        body.put("uuid", sources.admin().nodeUuid());
        body.put("uptime_seconds", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - sources.startedNanos()));
        body.put("client_connections", sources.traffic().sessions().size());
        body.put("traffic_paused", sources.listenerPaused().getAsBoolean());
        body.put("global_checksum", Long.toString(sources.admin().globalChecksum()));
        ClusterManager cluster = sources.cluster().get();
        body.put("peers", cluster == null ? 0 : cluster.metricsStatus().size());
        json(exchange, OK, body);
    }

    private void checksums(HttpExchange exchange) throws IOException {
        var modules = new ArrayList<Object>();
        for (var e : sources.admin().moduleVersions().entrySet()) {
            modules.add(module(e.getKey(), e.getValue()));
        }
        json(exchange, OK, Map.of("global_checksum", Long.toString(sources.admin().globalChecksum()),
                "modules", modules));
    }

    private static Map<String, Object> module(String name, ModuleVersion v) {
        var m = new LinkedHashMap<String, Object>();
        m.put("name", name);
        m.put("version", v.version());
        m.put("epoch", v.epoch());
        m.put("checksum", v.checksum());
        return m;
    }

    /** Each peer with what it last reported per module and whether that matches this node. */
    private void peers(HttpExchange exchange) throws IOException {
        ClusterManager cluster = sources.cluster().get();
        var peers = new LinkedHashMap<String, Map<String, Object>>();
        if (cluster != null) {
            for (PeerMetrics m : cluster.metricsStatus()) {
                var peer = new LinkedHashMap<String, Object>();
                peer.put("hostname", m.hostname());
                peer.put("port", m.port());
                peer.put("weight", m.weight());
                peer.put("comment", m.comment());
                peer.put("uptime_seconds", m.uptimeS());
                peer.put("queries", m.queries());
                peer.put("client_connections_connected", m.clientConnectionsConnected());
                peer.put("response_time_ms", m.responseTimeMs());
                peer.put("last_check_ms", m.lastCheckMs());
                peer.put("in_sync", true);
                peer.put("modules", new ArrayList<Object>());
                peers.put(m.hostname() + ":" + m.port(), peer);
            }
            Map<String, ModuleVersion> own = sources.admin().moduleVersions();
            for (PeerChecksumStatus c : cluster.checksumsStatus()) {
                Map<String, Object> peer = peers.get(c.hostname() + ":" + c.port());
                if (peer == null) {
                    continue;
                }
                ModuleVersion mine = own.get(c.name());
                boolean inSync = c.updatedAt() != 0 && mine != null && mine.checksum().equals(c.checksum());
                var module = module(c.name(), new ModuleVersion(c.version(), c.epoch(), c.checksum()));
                module.put("in_sync", inSync);
                module.put("diff_check", c.diffCheck());
                module.put("changed_at", c.changedAt());
                module.put("updated_at", c.updatedAt());
                @SuppressWarnings("unchecked")
                var modules = (List<Object>) peer.get("modules");
                modules.add(module);
                if (!inSync) {
                    peer.put("in_sync", false);
                }
            }
        }
        json(exchange, OK, Map.of("peers", new ArrayList<>(peers.values())));
    }

    private void configIndex(HttpExchange exchange) throws IOException {
        json(exchange, OK, Map.of("modules", new ArrayList<>(MODULE_QUERIES.keySet())));
    }

    private void config(HttpExchange exchange) throws IOException {
        String name = exchange.getRequestURI().getPath().substring(CONFIG_PREFIX.length());
        List<TableQuery> queries = MODULE_QUERIES.get(name);
        if (queries == null) {
            json(exchange, NOT_FOUND, Map.of("error", "unknown module '" + name + "'",
                    "modules", new ArrayList<>(MODULE_QUERIES.keySet())));
            return;
        }
        var tables = new LinkedHashMap<String, Object>();
        for (TableQuery query : queries) {
            AdminResponse response;
            try {
                response = sources.admin().runSql(query.sql()).get(ADMIN_DEADLINE_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException e) {
                json(exchange, UNAVAILABLE, Map.of("error", "the admin module did not answer: " + e));
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (!(response instanceof AdminResponse.ResultSet rs)) {
                json(exchange, UNAVAILABLE, Map.of("error", String.valueOf(response)));
                return;
            }
            tables.put(query.table(), rows(rs));
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("module", name);
        ModuleVersion v = sources.admin().moduleVersions().get(name);
        if (v != null) {
            body.putAll(module(name, v));
        }
        body.put("tables", tables);
        json(exchange, OK, body);
    }

    private static List<Object> rows(AdminResponse.ResultSet rs) {
        var rows = new ArrayList<Object>(rs.rows().size());
        for (List<String> row : rs.rows()) {
            var object = new LinkedHashMap<String, Object>();
            for (int i = 0; i < rs.columns().size(); i++) {
                object.put(rs.columns().get(i), row.get(i));
            }
            rows.add(object);
        }
        return rows;
    }

    private static void json(HttpExchange exchange, int status, Object body) throws IOException {
        RestApiServer.respond(exchange, status, JSON, Json.write(body) + "\n");
    }
}
