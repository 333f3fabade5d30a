package io.proxyfleet.protocol.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.proxyfleet.protocol.EofPacket;
import io.proxyfleet.protocol.Lenenc;
import io.proxyfleet.protocol.PacketDecoder;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ResponseTracker;
import io.proxyfleet.protocol.StatusFlags;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * The codec's per-packet hot paths: framing a socket read into packets ({@link PacketDecoder}) and following a
 * result set through {@link ResponseTracker}, on a buffer holding a 1,000-row result set of two short columns
 * (about 14 bytes a row), as a relay sees it. Reported per row.
 *
 * <p>Run: see docs/benchmarks.md ("JMH microbenchmarks").
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBenchmark {
    private static final int ROWS = 1000;

    private ByteBuf resultSet;
    private final ResponseTracker tracker = new ResponseTracker();
    private EmbeddedChannel channel;

    @Setup(Level.Trial)
    public void setUp() {
        resultSet = PooledByteBufAllocator.DEFAULT.directBuffer(64 * 1024);
        int seq = 1;
        int start = Packets.begin(resultSet, seq++);
        Lenenc.writeInt(resultSet, 2);
        Packets.finish(resultSet, start);
        for (String column : new String[] {"id", "name"}) {
            start = Packets.begin(resultSet, seq++);
            for (String part : new String[] {"def", "db", "t", "t", column, column}) {
                Lenenc.writeString(resultSet, part);
            }
            resultSet.writeByte(0x0c).writeShortLE(33).writeIntLE(64).writeByte(0xfd).writeShortLE(0).writeByte(0)
                    .writeShortLE(0);
            Packets.finish(resultSet, start);
        }
        new EofPacket(0, StatusFlags.AUTOCOMMIT).writeTo(resultSet, seq++);
        for (int row = 0; row < ROWS; row++) {
            start = Packets.begin(resultSet, seq++ & 0xFF);
            Lenenc.writeString(resultSet, Integer.toString(row));
            Lenenc.writeString(resultSet, "name-" + row);
            Packets.finish(resultSet, start);
        }
        new EofPacket(0, StatusFlags.AUTOCOMMIT).writeTo(resultSet, seq & 0xFF);
        channel = new EmbeddedChannel(new PacketDecoder());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        resultSet.release();
        channel.finishAndReleaseAll();
    }

    /** Frames the whole result set (one socket read) into packets, as retained slices. Time per packet. */
    @Benchmark
    @org.openjdk.jmh.annotations.OperationsPerInvocation(ROWS + 5)
    public void frame(Blackhole sink) {
        channel.writeInbound(resultSet.retainedDuplicate());
        ByteBuf packet;
        while ((packet = channel.readInbound()) != null) {
            sink.consume(packet.readableBytes());
            packet.release();
        }
    }

    /** Follows the result set packet by packet to its end, as the relay does. Time per packet. */
    @Benchmark
    @org.openjdk.jmh.annotations.OperationsPerInvocation(ROWS + 5)
    public ResponseTracker.Step track() {
        tracker.start(ResponseTracker.Expect.RESULT, false, false);
        int index = resultSet.readerIndex();
        int end = resultSet.writerIndex();
        ResponseTracker.Step step = ResponseTracker.Step.MORE;
        while (index < end) {
            step = tracker.onPacket(resultSet, index);
            index += Packets.HEADER_SIZE + Packets.payloadLength(resultSet, index);
        }
        return step;
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        new Runner(new CommandLineOptions(args.length == 0 ? new String[] {CodecBenchmark.class.getSimpleName()}
                : args)).run();
    }
}
