package io.proxyfleet.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogRowTest {
    @Test
    void connectAndPingRowsHaveFiveColumnsValueRowsSix() {
        HostPort server = new HostPort("db1", 3306);
        assertThat(new LogRow(LogRow.Table.PING, server, 10, 20, null, null).cells())
                .containsExactly("db1", 3306, 10L, 20L, null);
        assertThat(new LogRow(LogRow.Table.READ_ONLY, server, 10, 20, 1L, null).cells())
                .containsExactly("db1", 3306, 10L, 20L, 1L, null);
    }

    @Test
    void errorTextIsQuotedSoAnyServerMessageIsSafe() {
        LogRow row = new LogRow(LogRow.Table.REPLICATION_LAG, new HostPort("db1", 3306), 10, 0, null,
                "Access denied for user 'monitor'@'x'");

        assertThat(row.insertSql()).isEqualTo("INSERT OR REPLACE INTO monitor.mysql_server_replication_lag_log"
                + " VALUES ('db1', 3306, 10, 0, NULL, 'Access denied for user ''monitor''@''x''')");
    }
}
