package io.proxyfleet.stats;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ProxySQL's events log (mysql-eventslog_filename): one JSON object a line per logged query, as ProxySQL writes
 * with mysql-eventslog_format=2. Queries are logged when a rule sets {@code log=1}, or, with
 * mysql-eventslog_default_log=1, when no rule says otherwise. Event loops only enqueue; a daemon thread of its
 * own writes the file, and a full queue drops events (counted) rather than block traffic.
 */
public final class EventsLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventsLog.class);
    private static final int QUEUE_CAPACITY = 65_536;

    /** One logged query. */
    public record Event(long threadId, String username, String schemaname, String client, int hostgroup, String server,
                 long startMicros, long endMicros, long rowsAffected, long rowsSent, String digest, String query) {
        /** An event started with only the session's side known, completed with where it ran and what it did. */
        public static Event started(long threadId, String username, String schemaname, String client,
                                    long startMicros, String digest, String query) {
            return new Event(threadId, username, schemaname, client, -1, "", startMicros, startMicros, 0, 0, digest,
                    query);
        }

        public Event finished(int hostgroupId, String serverAddress, long durationMicros, long affected, long sent) {
            return new Event(threadId, username, schemaname, client, hostgroupId, serverAddress, startMicros,
                    startMicros + durationMicros, affected, sent, digest, query);
        }
    }

    private final Path baseDir;
    private final BlockingQueue<Event> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final LongAdder dropped = new LongAdder();
    private final Thread writer;
    private volatile String fileName = "";
    private volatile boolean closed;

    public EventsLog(Path baseDir) {
        this.baseDir = baseDir;
        this.writer = Thread.ofPlatform().daemon().name("proxyfleet-eventslog").unstarted(this::drain);
        writer.start();
    }

    /** Applies mysql-eventslog_filename (empty: no log). Relative names live in the data directory. */
    public void fileName(String name) {
        this.fileName = name == null ? "" : name.trim();
    }

    public boolean enabled() {
        return !fileName.isEmpty();
    }

    public void add(Event event) {
        if (!queue.offer(event)) {
            dropped.increment();
        }
    }

    private void drain() {
        BufferedWriter out = null;
        String openName = "";
        try {
            while (!closed || !queue.isEmpty()) {
                Event event = queue.poll(200, TimeUnit.MILLISECONDS);
                String wanted = fileName;
                if (!wanted.equals(openName)) {
                    closeQuietly(out);
                    out = wanted.isEmpty() ? null : open(wanted);
                    openName = wanted;
                }
                if (event != null && out != null) {
                    out.write(toJson(event));
                    out.newLine();
                }
                if (out != null && (event == null || queue.isEmpty())) {
                    out.flush();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.error("Events log {} stopped: {}", openName, e.getMessage());
        } finally {
            closeQuietly(out);
        }
    }

    private BufferedWriter open(String name) throws IOException {
        Path file = baseDir == null ? Path.of(name) : baseDir.resolve(name);
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    private static void closeQuietly(BufferedWriter out) {
        if (out == null) {
            return;
        }
        try {
            out.close();
        } catch (IOException e) {
            log.debug("Closing the events log: {}", e.toString());
        }
    }

    public static String toJson(Event e) {
        var sb = new StringBuilder(256);
        sb.append("{\"client\":").append(quote(e.client()))
                .append(",\"digest\":").append(quote(e.digest()))
                .append(",\"duration_us\":").append(e.endMicros() - e.startMicros())
                .append(",\"endtime_timestamp_us\":").append(e.endMicros())
                .append(",\"event\":\"COM_QUERY\"")
                .append(",\"hostgroup_id\":").append(e.hostgroup())
                .append(",\"query\":").append(quote(e.query()))
                .append(",\"rows_affected\":").append(e.rowsAffected())
                .append(",\"rows_sent\":").append(e.rowsSent())
                .append(",\"schemaname\":").append(quote(e.schemaname()))
                .append(",\"server\":").append(quote(e.server()))
                .append(",\"starttime_timestamp_us\":").append(e.startMicros())
                .append(",\"thread_id\":").append(e.threadId())
                .append(",\"username\":").append(quote(e.username()))
                .append('}');
        return sb.toString();
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        var sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Events dropped because the writer fell behind. */
    public long dropped() {
        return dropped.sum();
    }

    @Override
    public void close() {
        closed = true;
        try {
            writer.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
