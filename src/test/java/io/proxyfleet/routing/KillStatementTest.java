package io.proxyfleet.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class KillStatementTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "KILL 12|12|false",
            "kill connection 7;|7|false",
            "  Kill   Query\t42 ; |42|true",
            "KILL CONNECTION 0|0|false",
    })
    void parsesExactlyOnePlainKill(String sql, long id, boolean queryOnly) {
        assertThat(KillStatement.parse(sql)).isEqualTo(new KillStatement(id, queryOnly));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "KILL 999999; SELECT 12", // two statements: the last number is not the id
            "SELECT 12",
            "KILL",
            "KILL QUERY",
            "KILL QUERY ID 5", // MariaDB's query id form names a query, not a session
            "KILL HARD 5",
            "KILL USER app",
            "KILL 5 6",
            "KILL 5;;",
            "KILLX 5",
            "KILL QUERY5",
            "KILL 123456789012345678901234",
            "/* c */ KILL 5",
    })
    void leavesEverythingElseToTheBackend(String sql) {
        assertThat(KillStatement.parse(sql)).isNull();
    }
}
