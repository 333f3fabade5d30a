package io.proxyfleet.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Prometheus server (Debian's {@code prometheus}) started for one test with a throwaway configuration and
 * data directory, listening on a free loopback port, scraping the given targets every {@link #SCRAPE_INTERVAL}.
 * Values are read back through its HTTP API ({@code /api/v1/query}). Owned by the test thread that started it.
 */
public final class PrometheusServer implements AutoCloseable {
    public static final Duration SCRAPE_INTERVAL = Duration.ofSeconds(1);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final long STOP_WAIT_SECONDS = 10;
    private static final int OK = 200;
    private static final long POLL_MILLIS = 100;
    /** One vector sample of a query answer: its labels and its value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "\\{\"metric\":\\{([^}]*)\\},\"value\":\\[[0-9.e+]+,\"([^\"]*)\"\\]\\}");
    private static final Pattern LABEL = Pattern.compile("\"([^\"]+)\":\"([^\"]*)\"");

    /** One sample of an instant query. */
    public record Sample(Map<String, String> labels, double value) {
    }

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();

    private PrometheusServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts Prometheus scraping {@code targets} ({@code host:port}, path {@code /metrics}) as job
     * {@code proxyfleet}; returns once it is ready.
     */
    public static PrometheusServer start(Path dir, List<String> targets) throws IOException, InterruptedException {
        Path binary = Executables.require("prometheus", "prometheus");
        Files.createDirectories(dir);
        Path config = dir.resolve("prometheus.yml");
        var quoted = new ArrayList<String>();
        for (String t : targets) {
            quoted.add("'" + t + "'");
        }
        long seconds = SCRAPE_INTERVAL.toSeconds();
        Files.writeString(config, """
                global:
                  scrape_interval: %ds
                  scrape_timeout: %ds
                scrape_configs:
                  - job_name: proxyfleet
                    metrics_path: /metrics
                    static_configs:
                      - targets: [%s]
                """.formatted(seconds, seconds, String.join(", ", quoted)));
        int port = FreePorts.loopback();
        Path log = dir.resolve("prometheus.log");
        Process process = new ProcessBuilder(binary.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        var server = new PrometheusServer(process, port, log);
        try {
            server.awaitReady();
        } catch (IOException | RuntimeException | InterruptedException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void awaitReady() throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("prometheus exited: " + Files.readString(log));
            }
            try {
                if (get("/-/ready").statusCode() == OK) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
        throw new IllegalStateException("prometheus not ready after " + START_TIMEOUT + ": " + Files.readString(log));
    }

    private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The samples of an instant PromQL query, evaluated now. */
    public List<Sample> query(String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        if (r.statusCode() != OK || !r.body().contains("\"resultType\":\"vector\"")) {
            throw new IllegalStateException("query " + promql + " failed: " + r.statusCode() + " " + r.body());
        }
        var samples = new ArrayList<Sample>();
        Matcher m = SAMPLE.matcher(r.body());
        while (m.find()) {
            var labels = new LinkedHashMap<String, String>();
            Matcher l = LABEL.matcher(m.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            samples.add(new Sample(labels, Double.parseDouble(m.group(2))));
        }
        return samples;
    }

    /** The value of {@code promql} for one target ({@code instance} label), or NaN when it has none. */
    public double value(String promql, String instance) throws IOException, InterruptedException {
        for (Sample s : query(promql)) {
            if (instance.equals(s.labels().get("instance"))) {
                return s.value();
            }
        }
        return Double.NaN;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
        }
        http.close();
    }
}
