package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Floods of unauthenticated connections against a node in its own process, whose resident memory is read from
 * /proc (the JVM's own numbers would miss direct buffers and native memory). While the flood connections are
 * still open, a normal client logs in and queries. Lives in this package because {@link NodeProcess} does.
 *
 * <p>Owned by the test thread; the flood is driven from it with non-blocking sockets, so no thread is started.
 */
@Tag("slow")
class PreLoginFloodTest {
    private static final String USER = "flood_user";
    private static final String PASSWORD = "flood-pw";
    private static final int CONNECTIONS = 2_000;
    /** What each flooding connection pushes behind its 16 MiB header, if the node keeps reading. */
    private static final int PUSH_PER_CONNECTION = 256 * 1024;
    private static final int PUSH_CHUNK = 16 * 1024;
    /**
     * How much the node's resident memory may grow over a flood. A connection refused from its header costs a
     * channel, a session and a few KiB of buffers until it is closed; 2,000 of them, and the JVM's own heap
     * growth, stay far below this.
     */
    private static final long RSS_GROWTH_BOUND_KIB = 96 * 1024;
    /**
     * A normal login and query during the flood, queued behind 2,000 connections: a few hundred milliseconds on
     * an idle node, seconds on a shared 2-core machine at load 20. Before the bounds, it did not finish at all.
     */
    private static final Duration LOGIN_BOUND = Duration.ofSeconds(10);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    private static final int CONNECT_TIMEOUT_MS = 5_000;

    @TempDir
    static Path tmp;
    private static NodeProcess node;

    @BeforeAll
    static void startNode() throws Exception {
        node = NodeProcess.startServing(tmp, "flood", MariaDb.shared(), USER, PASSWORD);
        normalClientQueries(); // the first login warms up the backend pool and the JIT before any baseline
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    /** Logs in through the traffic port and queries; returns how long it took. */
    private static Duration normalClientQueries() {
        long start = System.nanoTime();
        MysqlCli.Result r = node.traffic(USER, PASSWORD, "SELECT 'served'");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        assertThat(r.stdout().trim()).isEqualTo("served");
        return took;
    }

    /** VmRSS of the node, in KiB. */
    private static long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(node.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for the node");
    }

    @Test
    void connectionsAnnouncing16MiBLoginPacketsCostNothing() throws Exception {
        // A full 16 MiB header and the start of a HandshakeResponse41, then data for as long as the node reads.
        byte[] start = HexFormat.of().parseHex("ffffff0105a23e00ffffff00");
        flood(() -> ByteBuffer.wrap(start), PUSH_PER_CONNECTION);
    }

    @Test
    void connectionsSendingProblem8PacketsCostNothing() throws Exception {
        // Issue 10, problem 8: 60 bytes whose auth-response length is negative as an int64.
        byte[] packet = HexFormat.of().parseHex("38000001" + "0582a200" + "ffffff00" + "2d" + "00".repeat(23)
                + "726f6f7400" + "fe0000ff7fffffffff" + "78".repeat(9) + "00");
        assertThat(packet).hasSize(60);
        flood(() -> ByteBuffer.wrap(packet), 0);
    }

    /**
     * Opens {@link #CONNECTIONS} connections, sends {@code first} on each and then pushes up to {@code push} more
     * bytes where the node accepts them; while all are open, a normal client must log in and query within
     * {@link #LOGIN_BOUND}. Then every flood connection must be closed by the node, and its memory must not
     * have grown by more than {@link #RSS_GROWTH_BOUND_KIB}.
     */
    private static void flood(Supplier<ByteBuffer> first, int push) throws Exception {
        Duration idle = normalClientQueries();
        long baseline = rssKib();
        List<SocketChannel> flood = new ArrayList<>(CONNECTIONS);
        long peak = baseline;
        try {
            for (int i = 0; i < CONNECTIONS; i++) {
                SocketChannel ch = SocketChannel.open();
                flood.add(ch);
                ch.socket().connect(new InetSocketAddress("127.0.0.1", node.trafficPort), CONNECT_TIMEOUT_MS);
                ch.write(first.get());
                ch.configureBlocking(false);
            }
            peak = Math.max(peak, rssKib());
            pushWhileAccepted(flood, push);
            peak = Math.max(peak, rssKib());
            Duration login = normalClientQueries();
            peak = Math.max(peak, rssKib());
            // The figures for the record: the test's bounds are deliberately loose for a shared machine.
            System.out.printf("flood of %d: RSS baseline %d KiB, peak %d KiB (+%d KiB); login+query %d ms during"
                    + " the flood, %d ms before%n", CONNECTIONS, baseline, peak, peak - baseline, login.toMillis(),
                    idle.toMillis());
            assertThat(login).as("a normal client's login and query during the flood").isLessThan(LOGIN_BOUND);
            assertThat(peak - baseline).as("RSS growth in KiB (baseline %d KiB)", baseline)
                    .isLessThan(RSS_GROWTH_BOUND_KIB);
            int closed = 0;
            for (SocketChannel ch : flood) {
                closed += closedByNode(ch) ? 1 : 0;
            }
            assertThat(closed).as("flood connections closed by the node").isEqualTo(CONNECTIONS);
        } finally {
            for (SocketChannel ch : flood) {
                ch.close();
            }
        }
        normalClientQueries();
    }

    /**
     * Writes {@code push} bytes to every connection, chunk by chunk and round-robin, stopping on a connection
     * when the node closed it or stopped reading it (its socket buffers are full: back-pressure, not memory).
     */
    private static void pushWhileAccepted(List<SocketChannel> flood, int push) {
        ByteBuffer chunk = ByteBuffer.allocate(PUSH_CHUNK);
        List<SocketChannel> pushing = new ArrayList<>(flood);
        for (int sent = 0; sent < push && !pushing.isEmpty(); sent += PUSH_CHUNK) {
            pushing.removeIf(ch -> {
                chunk.clear();
                try {
                    return ch.write(chunk) < PUSH_CHUNK;
                } catch (IOException e) {
                    return true; // reset or broken pipe: the node closed it
                }
            });
        }
    }

    /** True when the node closes the connection (end of stream or reset) within {@link #CLOSE_TIMEOUT}. */
    private static boolean closedByNode(SocketChannel ch) throws IOException {
        ch.configureBlocking(true);
        ch.socket().setSoTimeout((int) CLOSE_TIMEOUT.toMillis());
        InputStream in = ch.socket().getInputStream();
        byte[] sink = new byte[PUSH_CHUNK];
        try {
            while (in.read(sink) >= 0) {
                // the greeting and the ERR: read past them to the close
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
