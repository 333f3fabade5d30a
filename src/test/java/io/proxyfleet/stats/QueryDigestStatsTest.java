package io.proxyfleet.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class QueryDigestStatsTest {

    @Test
    void theTableStopsGrowingAtItsBoundAndCountsTheRestTogether() {
        var stats = new QueryDigestStats();
        int extra = 5;
        for (int i = 0; i < QueryDigestStats.MAX_ENTRIES + extra; i++) {
            stats.entry(new QueryDigestStats.Key(0, "db", "u", "", i), () -> "SELECT ?").record(10, 0, 1);
        }
        List<List<Object>> rows = stats.rows();
        assertThat(rows).hasSize(QueryDigestStats.MAX_ENTRIES + 1);
        assertThat(rows).filteredOn(r -> QueryDigestStats.OVERFLOW_TEXT.equals(r.get(5)))
                .singleElement().satisfies(r -> assertThat(r.get(6)).isEqualTo((long) extra));
    }
}
