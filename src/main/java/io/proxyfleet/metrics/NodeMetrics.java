package io.proxyfleet.metrics;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A node's Prometheus metrics: ProxySQL's families wherever ProxyFleet has the same quantity, and its own under
 * {@code proxyfleet_}. Everything is read when scraped, from the sources the {@code stats_*} tables use, so the
 * query path does no extra work. Other parts of the node may add collectors to {@link #registry()}; their
 * families follow the node's in each scrape.
 *
 * <p>Thread-safe: scrapes may run concurrently (REST workers, the admin thread for
 * {@code SHOW PROMETHEUS METRICS}); a scrape waits at most about a second for event loops that do not answer.
 */
public final class NodeMetrics {
    /** Prometheus' text format 0.0.4, which ProxySQL serves too. */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final MetricSources sources;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    public NodeMetrics(MetricSources sources) {
        this.sources = sources;
    }

    /** Further collectors, written after the node's own families. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** The node's own families, in batches the text writer accepts (see {@link Families#build}). */
    List<MetricSnapshots> collect() {
        var f = new Families();
        TrafficFigures.collect(sources, f);
        BackendFigures.collect(sources, f);
        ClusterFigures.collect(sources, f);
        LoopFigures.collect(sources, f);
        return f.build();
    }

    /** Writes one scrape in the text format. */
    public void write(OutputStream out) throws IOException {
        for (MetricSnapshots batch : collect()) {
            writer.write(out, batch, EscapingScheme.ALLOW_UTF8);
        }
        writer.write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    }

    /** One scrape as text, for {@code SHOW PROMETHEUS METRICS}. */
    public String text() {
        var out = new ByteArrayOutputStream();
        try {
            write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
