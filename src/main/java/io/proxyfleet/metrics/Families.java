package io.proxyfleet.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Collects the data points of one scrape, grouped into families by name, and builds the client library's
 * snapshots from them. Names are given as exposed (counters with their {@code _total}, as ProxySQL names them).
 * Owned by the scraping thread; one instance per scrape.
 */
final class Families {
    private static final String TOTAL = "_total";

    private enum Kind { COUNTER, GAUGE, HISTOGRAM }

    private record Family(Kind kind, String help, List<Object> points) {
    }

    private final Map<String, Family> families = new LinkedHashMap<>();
    private final List<MetricSnapshot> infos = new ArrayList<>();

    /** One counter point; {@code labels} are name, value pairs. */
    void counter(String name, String help, double value, String... labels) {
        family(name, Kind.COUNTER, help).points().add(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of(labels)).value(value).build());
    }

    /** One gauge point; {@code labels} are name, value pairs. */
    void gauge(String name, String help, double value, String... labels) {
        family(name, Kind.GAUGE, help).points().add(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                .labels(Labels.of(labels)).value(value).build());
    }

    /** Declares a family that may have no points in this scrape, so its HELP and TYPE still appear. */
    void declareCounter(String name, String help) {
        family(name, Kind.COUNTER, help);
    }

    void histogram(String name, String help, HistogramSnapshot.HistogramDataPointSnapshot point) {
        family(name, Kind.HISTOGRAM, help).points().add(point);
    }

    /** An info family ({@code <name>_info ... 1}). */
    void info(String name, String help, String... labels) {
        infos.add(InfoSnapshot.builder().name(name).help(help)
                .dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder().labels(Labels.of(labels)).build()).build());
    }

    private Family family(String name, Kind kind, String help) {
        Family f = families.computeIfAbsent(name, n -> new Family(kind, help, new ArrayList<>()));
        if (f.kind() != kind) {
            throw new IllegalStateException(name + " is a " + f.kind() + ", not a " + kind);
        }
        return f;
    }

    /**
     * The families in batches that the client library accepts one by one: ProxySQL has a gauge and a counter
     * that differ only by {@code _total} ({@code proxysql_connpool_conns} and {@code proxysql_connpool_conns_total}),
     * which the library counts as one family, so the second goes into a later batch. The text format has no
     * header or trailer, so the batches are written one after another.
     */
    List<MetricSnapshots> build() {
        List<List<MetricSnapshot>> batches = new ArrayList<>();
        List<Set<String>> names = new ArrayList<>();
        for (var e : families.entrySet()) {
            place(snapshot(e.getKey(), e.getValue()), baseName(e.getKey()), batches, names);
        }
        for (MetricSnapshot info : infos) {
            place(info, info.getMetadata().getPrometheusName(), batches, names);
        }
        var out = new ArrayList<MetricSnapshots>(batches.size());
        for (List<MetricSnapshot> batch : batches) {
            out.add(new MetricSnapshots(batch));
        }
        return out;
    }

    private static void place(MetricSnapshot snapshot, String base, List<List<MetricSnapshot>> batches,
                              List<Set<String>> names) {
        int i = 0;
        while (i < batches.size() && names.get(i).contains(base)) {
            i++;
        }
        if (i == batches.size()) {
            batches.add(new ArrayList<>());
            names.add(new HashSet<>());
        }
        batches.get(i).add(snapshot);
        names.get(i).add(base);
    }

    private static String baseName(String name) {
        return name.endsWith(TOTAL) ? name.substring(0, name.length() - TOTAL.length()) : name;
    }

    private static MetricSnapshot snapshot(String name, Family f) {
        return switch (f.kind()) {
            case COUNTER -> {
                var b = CounterSnapshot.builder().name(name).help(f.help());
                f.points().forEach(p -> b.dataPoint((CounterSnapshot.CounterDataPointSnapshot) p));
                yield b.build();
            }
            case GAUGE -> {
                var b = GaugeSnapshot.builder().name(name).help(f.help());
                f.points().forEach(p -> b.dataPoint((GaugeSnapshot.GaugeDataPointSnapshot) p));
                yield b.build();
            }
            case HISTOGRAM -> {
                var b = HistogramSnapshot.builder().name(name).help(f.help());
                f.points().forEach(p -> b.dataPoint((HistogramSnapshot.HistogramDataPointSnapshot) p));
                yield b.build();
            }
        };
    }
}
