package io.proxyfleet.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.ServerStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadOnlyActionTest {
    private static final int WRITER = 10;
    private static final int READER = 20;
    private static final List<ReplicationHostgroup> PAIR =
            List.of(new ReplicationHostgroup(WRITER, READER, CheckType.READ_ONLY, ""));
    private static final HostPort PRIMARY = new HostPort("db1", 3306);
    private static final HostPort REPLICA = new HostPort("db2", 3306);

    private static MysqlServer row(int hostgroup, HostPort server) {
        return new MysqlServer(hostgroup, server.host(), server.port(), 0, ServerStatus.ONLINE, 7, 0, 100, 5, false,
                0, "note");
    }

    private static List<String> keys(List<MysqlServer> rows) {
        return rows.stream().map(r -> r.hostgroupId() + ":" + r.hostname()).toList();
    }

    @Test
    void writerIsAlsoReaderCopiesTheWriterIntoTheReaderHostgroupWithItsAttributes() {
        List<MysqlServer> rows = List.of(row(WRITER, PRIMARY), row(READER, REPLICA));

        List<MysqlServer> next = ReadOnlyAction.apply(rows, PAIR, PRIMARY, false, true);

        assertThat(keys(next)).containsExactly("10:db1", "20:db1", "20:db2");
        assertThat(next.get(1)).isEqualTo(new MysqlServer(READER, "db1", 3306, 0, ServerStatus.ONLINE, 7, 0, 100, 5,
                false, 0, "note"));
    }

    @Test
    void nothingToDoReturnsTheSameListSoNothingIsPublished() {
        List<MysqlServer> rows = List.of(row(WRITER, PRIMARY), row(READER, PRIMARY), row(READER, REPLICA));

        assertThat(ReadOnlyAction.apply(rows, PAIR, PRIMARY, false, true)).isSameAs(rows);
        assertThat(ReadOnlyAction.apply(rows, PAIR, REPLICA, true, true)).isSameAs(rows);
    }

    @Test
    void readOnlyServerLeavesTheWriterHostgroup() {
        List<MysqlServer> rows = List.of(row(WRITER, PRIMARY), row(READER, PRIMARY), row(READER, REPLICA));

        assertThat(keys(ReadOnlyAction.apply(rows, PAIR, PRIMARY, true, true))).containsExactly("20:db1", "20:db2");
    }

    @Test
    void readOnlyWriterWithoutReaderCopyIsMovedToTheReaderHostgroup() {
        List<MysqlServer> rows = List.of(row(WRITER, PRIMARY));

        assertThat(keys(ReadOnlyAction.apply(rows, PAIR, PRIMARY, true, false))).containsExactly("20:db1");
    }

    @Test
    void failoverPromotesTheReplicaAndDemotesThePrimary() {
        List<MysqlServer> rows = List.of(row(WRITER, PRIMARY), row(READER, PRIMARY), row(READER, REPLICA));

        List<MysqlServer> afterReplica = ReadOnlyAction.apply(rows, PAIR, REPLICA, false, true);
        List<MysqlServer> afterPrimary = ReadOnlyAction.apply(afterReplica, PAIR, PRIMARY, true, true);

        assertThat(keys(afterPrimary)).containsExactly("10:db2", "20:db1", "20:db2");
    }

    @Test
    void writerNotAlsoReaderIsRemovedFromTheReaderHostgroup() {
        List<MysqlServer> rows = List.of(row(READER, PRIMARY), row(READER, REPLICA));

        assertThat(keys(ReadOnlyAction.apply(rows, PAIR, PRIMARY, false, false))).containsExactly("10:db1", "20:db2");
    }

    @Test
    void serversOutsideTheReplicationHostgroupsAreNeverTouched() {
        List<MysqlServer> rows = List.of(row(1, PRIMARY), row(READER, REPLICA));

        assertThat(ReadOnlyAction.apply(rows, PAIR, PRIMARY, false, true)).isSameAs(rows);
    }

    @Test
    void offlineHardLeftoverInTheWriterHostgroupIsReplacedByTheReaderRow() {
        MysqlServer leftover = new MysqlServer(WRITER, "db2", 3306, 0, ServerStatus.OFFLINE_HARD, 1, 0, 1000, 0,
                false, 0, "");
        List<MysqlServer> rows = List.of(leftover, row(READER, REPLICA));

        List<MysqlServer> next = ReadOnlyAction.apply(rows, PAIR, REPLICA, false, true);

        assertThat(next).containsExactly(row(WRITER, REPLICA), row(READER, REPLICA));
    }
}
