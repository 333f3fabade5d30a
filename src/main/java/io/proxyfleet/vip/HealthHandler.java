package io.proxyfleet.vip;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /health}: 200 when this node serves traffic ({@link NodeHealth}), 503 otherwise, with a JSON body
 * naming the reason, for load balancers and Kubernetes readiness probes. Runs on the REST server's worker pool.
 */
public final class HealthHandler implements HttpHandler {
    static final int OK = 200;
    static final int UNAVAILABLE = 503;
    private final NodeHealth health;

    public HealthHandler(NodeHealth health) {
        this.health = health;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        NodeHealth.Health h = health.check();
        String body = "{\"ready\":" + h.ready() + ",\"in_sync\":" + h.inSync() + ",\"reason\":\""
                + json(h.reason()) + "\"}\n";
        send(exchange, h.ready() ? OK : UNAVAILABLE, body);
    }

    static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Escapes a string for a JSON string literal. */
    static String json(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < ' ') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
