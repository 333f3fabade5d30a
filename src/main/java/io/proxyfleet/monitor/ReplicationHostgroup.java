package io.proxyfleet.monitor;

import java.util.ArrayList;
import java.util.List;

/**
 * One runtime row of {@code mysql_replication_hostgroups}: servers answering read_only=0 belong in
 * {@code writerHostgroup}, the others in {@code readerHostgroup}. Immutable; shared freely between threads.
 */
public record ReplicationHostgroup(int writerHostgroup, int readerHostgroup, CheckType checkType, String comment) {
    public ReplicationHostgroup {
        if (writerHostgroup < 0 || readerHostgroup < 0 || writerHostgroup == readerHostgroup) {
            throw new IllegalArgumentException("writer and reader hostgroups must be distinct and >= 0: "
                    + writerHostgroup + ", " + readerHostgroup);
        }
        comment = comment == null ? "" : comment;
    }

    /**
     * Rows of {@code runtime_mysql_replication_hostgroups} as text, in the column order writer_hostgroup,
     * reader_hostgroup, check_type, comment.
     *
     * @throws IllegalArgumentException a row the table's constraints would not have accepted
     */
    public static List<ReplicationHostgroup> fromRows(List<? extends List<String>> rows) {
        var pairs = new ArrayList<ReplicationHostgroup>(rows.size());
        for (List<String> row : rows) {
            pairs.add(new ReplicationHostgroup(Integer.parseInt(row.get(0).trim()), Integer.parseInt(row.get(1).trim()),
                    CheckType.parse(row.get(2)), row.get(3)));
        }
        return List.copyOf(pairs);
    }
}
