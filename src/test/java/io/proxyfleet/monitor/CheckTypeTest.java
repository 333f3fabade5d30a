package io.proxyfleet.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.protocol.client.QueryResult;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CheckTypeTest {
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "read_only; SELECT @@global.read_only read_only",
            "INNODB_READ_ONLY; SELECT @@global.innodb_read_only read_only",
            "super_read_only; SELECT @@global.super_read_only read_only",
            "Read_Only|innodb_read_only; SELECT @@global.read_only|@@global.innodb_read_only read_only",
            "read_only&innodb_read_only; SELECT @@global.read_only&@@global.innodb_read_only read_only"})
    void everyTableValueHasItsQuery(String value, String query) {
        assertThat(CheckType.parse(value).query()).isEqualTo(query);
    }

    @Test
    void unknownCheckTypeIsRefused() {
        assertThatThrownBy(() -> CheckType.parse("read_write")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readOnlyValuesAreReadAsNumbersOrWords() {
        assertThat(ReadOnlyChecks.parseReadOnly(rows("0"))).isFalse();
        assertThat(ReadOnlyChecks.parseReadOnly(rows("1"))).isTrue();
        assertThat(ReadOnlyChecks.parseReadOnly(rows("ON"))).isTrue();
        assertThat(ReadOnlyChecks.parseReadOnly(rows("OFF"))).isFalse();
        assertThatThrownBy(() -> ReadOnlyChecks.parseReadOnly(rows(null))).isInstanceOf(IllegalArgumentException.class);
    }

    private static QueryResult.Rows rows(String value) {
        return new QueryResult.Rows(List.of("read_only"), List.of(Collections.singletonList(value)));
    }
}
