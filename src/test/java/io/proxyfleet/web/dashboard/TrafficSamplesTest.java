package io.proxyfleet.web.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.web.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The chart's ring of rates and the JSON it is sent as. */
class TrafficSamplesTest {
    @Test
    void ratesComeFromCountDifferencesOverRealElapsedTime() {
        TrafficSamples samples = new TrafficSamples();
        samples.record(1_000, 10_000);
        assertThat(samples.points()).as("the first count is only a base").isEmpty();
        samples.record(1_500, 12_000);
        samples.record(1_500, 13_000);
        samples.record(200, 14_000);
        samples.record(230, 14_500);
        assertThat(samples.points()).containsExactly(Map.of("t", 12_000L, "qps", 250.0),
                Map.of("t", 13_000L, "qps", 0.0), Map.of("t", 14_500L, "qps", 60.0));
        assertThat(samples.total()).isEqualTo(230);
    }

    @Test
    void theRingKeepsTheLastFiveMinutesOldestFirst() {
        TrafficSamples samples = new TrafficSamples();
        for (int i = 0; i <= TrafficSamples.CAPACITY + 10; i++) {
            samples.record(i * 10L, i * 1_000L);
        }
        List<Object> points = samples.points();
        assertThat(points).hasSize(TrafficSamples.CAPACITY);
        assertThat(((Map<?, ?>) points.getFirst()).get("t")).isEqualTo(11_000L);
        assertThat(((Map<?, ?>) points.getLast()).get("t")).isEqualTo((TrafficSamples.CAPACITY + 10) * 1_000L);
        assertThat(points).allSatisfy(p -> assertThat(((Map<?, ?>) p).get("qps")).isEqualTo(10.0));
    }

    @Test
    void jsonEscapesWhatCouldBreakAStringOrAPage() {
        assertThat(Json.write(Map.of("q", "SELECT \"a\"\\b\n</script>\u0001")))
                .isEqualTo("{\"q\":\"SELECT \\\"a\\\"\\\\b\\n\\u003c/script>\\u0001\"}");
        assertThat(Json.write(List.of(1, 2L, 2.5, true, Double.NaN))).isEqualTo("[1,2,2.5,true,null]");
        assertThat(Json.write(java.util.Collections.singletonMap("x", null))).isEqualTo("{\"x\":null}");
    }
}
