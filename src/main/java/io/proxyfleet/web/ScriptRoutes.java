package io.proxyfleet.web;

import com.sun.net.httpserver.HttpExchange;
import io.proxyfleet.admin.AdminEngine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ProxySQL's {@code restapi_routes}: {@code GET|POST /sync/<uri>} runs the route's script with the request's
 * parameters as one JSON argument and answers with the script's JSON output. Made safe: the script is started
 * directly (no shell, so nothing in the request is interpreted), with the parameters as a single argument; it
 * must be an absolute path to an executable file; it runs at most {@link #MAX_SCRIPT_MILLIS} (or the route's
 * shorter {@code timeout_ms}) and is killed with its children after that; its output is capped at
 * {@link #MAX_OUTPUT_BYTES}; one script runs at a time, so the other REST worker stays free for scrapes. Unlike
 * ProxySQL, the routes need admin credentials. Handlers run on the REST workers.
 */
final class ScriptRoutes {
    static final String PREFIX = "/sync/";
    static final long MAX_SCRIPT_MILLIS = 30_000;
    static final int MAX_OUTPUT_BYTES = 1 << 20;
    private static final int MAX_INPUT_BYTES = 64 * 1024;
    private static final int READ_BUFFER_BYTES = 8192;
    private static final Pattern URI_SEGMENT = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final long ADMIN_DEADLINE_SECONDS = 5;
    private static final long KILL_WAIT_SECONDS = 5;
    private static final int OK = 200;
    private static final int BAD_REQUEST = 400;
    private static final int FAILED_DEPENDENCY = 424;
    private static final int UNAVAILABLE = 503;
    private static final Logger log = LoggerFactory.getLogger(ScriptRoutes.class);

    private final AdminEngine admin;
    private final Semaphore running = new Semaphore(1);

    private ScriptRoutes(AdminEngine admin) {
        this.admin = admin;
    }

    static void register(RestApiServer server, AdminEngine admin) {
        server.route(PREFIX, Access.ADMIN, new ScriptRoutes(admin)::handle);
    }

    /** A route of {@code runtime_restapi_routes}. */
    private record Route(String script, long timeoutMillis) {
    }

    private void handle(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String uri = exchange.getRequestURI().getPath().substring(PREFIX.length());
        if (!method.equals("GET") && !method.equals("POST")) {
            error(exchange, BAD_REQUEST, "in", "HTTP method " + method + " is not implemented");
            return;
        }
        if (!URI_SEGMENT.matcher(uri).matches()) {
            error(exchange, BAD_REQUEST, "in", "The script for method [" + method + "] and route [" + PREFIX + uri
                    + "] was not found.");
            return;
        }
        String params = method.equals("GET") ? queryJson(exchange.getRequestURI().getRawQuery())
                : readBounded(exchange.getRequestBody(), MAX_INPUT_BYTES);
        if (params == null || params.isBlank()) {
            error(exchange, BAD_REQUEST, "in", params == null ? "Parameters larger than " + MAX_INPUT_BYTES
                    + " bytes" : "Empty parameters");
            return;
        }
        if (!JsonCheck.isValid(params)) {
            error(exchange, BAD_REQUEST, "in", "Error parsing input JSON parameters");
            return;
        }
        Route route = find(method, uri);
        if (route == null) {
            error(exchange, BAD_REQUEST, "in", "The script for method [" + method + "] and route [" + PREFIX + uri
                    + "] was not found.");
            return;
        }
        if (!running.tryAcquire()) {
            error(exchange, UNAVAILABLE, "out", "Another script is running; try again");
            return;
        }
        try {
            run(exchange, route, params);
        } finally {
            running.release();
        }
    }

    private Route find(String method, String uri) {
        try {
            List<List<String>> rows = admin.queryRows("SELECT script, timeout_ms FROM runtime_restapi_routes"
                    + " WHERE active = 1 AND uri = ? AND UPPER(method) = ?", uri, method)
                    .get(ADMIN_DEADLINE_SECONDS, TimeUnit.SECONDS);
            if (rows.size() == 1) {
                return new Route(rows.getFirst().get(0), Long.parseLong(rows.getFirst().get(1)));
            }
        } catch (TimeoutException | ExecutionException | NumberFormatException e) {
            log.warn("Cannot read runtime_restapi_routes for {} {}: {}", method, uri, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    private void run(HttpExchange exchange, Route route, String params) throws IOException {
        Path script = Path.of(route.script());
        if (!script.isAbsolute() || !Files.isRegularFile(script) || !Files.isExecutable(script)) {
            error(exchange, FAILED_DEPENDENCY, "out", "Script " + route.script()
                    + " is not an absolute path to an executable file");
            return;
        }
        long timeout = Math.min(route.timeoutMillis(), MAX_SCRIPT_MILLIS);
        Process process = new ProcessBuilder(List.of(script.toString(), params))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        var stdout = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().name("restapi-script-output").start(() -> drain(process, stdout));
        boolean finished;
        try {
            finished = process.waitFor(timeout, TimeUnit.MILLISECONDS);
            if (!finished) {
                kill(process);
            }
            reader.join(TimeUnit.SECONDS.toMillis(KILL_WAIT_SECONDS));
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            return;
        }
        String output;
        synchronized (stdout) {
            output = stdout.size() > MAX_OUTPUT_BYTES ? null : stdout.toString(StandardCharsets.UTF_8);
        }
        if (!finished) {
            log.warn("REST script {} timed out after {} ms", route.script(), timeout);
            error(exchange, FAILED_DEPENDENCY, "out", "Script execution timed out");
        } else if (output == null) {
            error(exchange, FAILED_DEPENDENCY, "out", "Script output larger than " + MAX_OUTPUT_BYTES + " bytes");
        } else if (process.exitValue() != 0) {
            log.warn("REST script {} exited with code {}", route.script(), process.exitValue());
            error(exchange, FAILED_DEPENDENCY, "out", "Script failed to be executed", "error_code",
                    Integer.toString(process.exitValue()));
        } else if (output.isBlank() || !JsonCheck.isValid(output)) {
            error(exchange, FAILED_DEPENDENCY, "out", output.isBlank()
                    ? "Script response is empty, only valid JSONs are accepted"
                    : "Script response is not valid JSON", "script_stdout", output);
        } else {
            RestApiServer.respond(exchange, OK, "application/json", output);
        }
    }

    /** Reads the script's output up to one byte past the cap; past it, kills the script. */
    private static void drain(Process process, ByteArrayOutputStream sink) {
        byte[] buffer = new byte[READ_BUFFER_BYTES];
        try (InputStream in = process.getInputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (sink) {
                    sink.write(buffer, 0, Math.min(n, MAX_OUTPUT_BYTES + 1 - sink.size()));
                    if (sink.size() > MAX_OUTPUT_BYTES) {
                        kill(process);
                        return;
                    }
                }
            }
        } catch (IOException e) {
            // the script died or was killed: what was read stands
        }
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** The query string as a JSON object of strings, as ProxySQL passes GET parameters; null when too long. */
    static String queryJson(String rawQuery) {
        var params = new LinkedHashMap<String, Object>();
        if (rawQuery != null) {
            if (rawQuery.length() > MAX_INPUT_BYTES) {
                return null;
            }
            for (String pair : rawQuery.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : pair.substring(eq + 1);
                params.put(URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value,
                        StandardCharsets.UTF_8));
            }
        }
        return Json.write(params);
    }

    private static String readBounded(InputStream in, int max) throws IOException {
        byte[] body = in.readNBytes(max + 1);
        return body.length > max ? null : new String(body, StandardCharsets.UTF_8);
    }

    private static void error(HttpExchange exchange, int status, String type, String message, String... extra)
            throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", type);
        body.put("error", message);
        for (int k = 0; k + 1 < extra.length; k += 2) {
            body.put(extra[k], extra[k + 1]);
        }
        RestApiServer.respond(exchange, status, "application/json", Json.write(body) + "\n");
    }
}
