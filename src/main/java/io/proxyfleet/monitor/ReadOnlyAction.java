package io.proxyfleet.monitor;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.ServerStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * ProxySQL's {@code read_only_action} (reference §5.10) as a pure function over the runtime server rows: a server
 * answering read_only=0 must be in the writer hostgroup (and, with {@code mysql-monitor_writer_is_also_reader},
 * in the reader hostgroup too), a server answering read_only=1 only in the reader hostgroup. Copies keep every
 * attribute of the row they come from. No state; callable from any thread.
 */
public final class ReadOnlyAction {
    /** The order ProxySQL keeps runtime servers in, and the one the admin loads them in. */
    static final Comparator<MysqlServer> ROW_ORDER = Comparator.comparingInt(MysqlServer::hostgroupId)
            .thenComparing(MysqlServer::hostname).thenComparingInt(MysqlServer::port);

    private ReadOnlyAction() {
    }

    /**
     * The rows after applying one read_only result of {@code server} to every pair in {@code pairs}.
     *
     * @return {@code rows} itself (same instance) when nothing needs to change, so callers can skip publishing;
     *         otherwise a new list in {@link #ROW_ORDER}
     */
    public static List<MysqlServer> apply(List<MysqlServer> rows, List<ReplicationHostgroup> pairs, HostPort server,
                                          boolean readOnly, boolean writerIsAlsoReader) {
        List<MysqlServer> result = rows;
        for (ReplicationHostgroup pair : pairs) {
            result = applyPair(result, pair, server, readOnly, writerIsAlsoReader);
        }
        if (result == rows) {
            return rows;
        }
        var sorted = new ArrayList<>(result);
        sorted.sort(ROW_ORDER);
        return List.copyOf(sorted);
    }

    private static List<MysqlServer> applyPair(List<MysqlServer> rows, ReplicationHostgroup pair, HostPort server,
                                               boolean readOnly, boolean writerIsAlsoReader) {
        MysqlServer writer = find(rows, pair.writerHostgroup(), server);
        MysqlServer reader = find(rows, pair.readerHostgroup(), server);
        if (writer == null && reader == null) {
            return rows;
        }
        var next = new ArrayList<>(rows);
        boolean changed = false;
        if (readOnly) {
            if (writer != null) {
                if (reader == null) {
                    next.add(moved(writer, pair.readerHostgroup()));
                }
                next.remove(writer);
                changed = true;
            }
        } else {
            // An OFFLINE_HARD copy in the writer hostgroup is a leftover: the reader's row replaces it.
            boolean writerUsable = writer != null && writer.status() != ServerStatus.OFFLINE_HARD;
            MysqlServer template = writerUsable ? writer : reader;
            if (!writerUsable && reader != null) {
                if (writer != null) {
                    next.remove(writer);
                }
                next.add(moved(reader, pair.writerHostgroup()));
                changed = true;
            }
            if (writerIsAlsoReader && reader == null) {
                next.add(moved(template, pair.readerHostgroup()));
                changed = true;
            } else if (!writerIsAlsoReader && reader != null && (writerUsable || changed)) {
                next.remove(reader);
                changed = true;
            }
        }
        return changed ? next : rows;
    }

    private static MysqlServer find(List<MysqlServer> rows, int hostgroup, HostPort server) {
        for (MysqlServer row : rows) {
            if (row.hostgroupId() == hostgroup && row.port() == server.port()
                    && row.hostname().equals(server.host())) {
                return row;
            }
        }
        return null;
    }

    private static MysqlServer moved(MysqlServer row, int hostgroup) {
        return new MysqlServer(hostgroup, row.hostname(), row.port(), row.gtidPort(), row.status(), row.weight(),
                row.compression(), row.maxConnections(), row.maxReplicationLag(), row.useSsl(), row.maxLatencyMs(),
                row.comment());
    }
}
