package io.proxyfleet.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacketDecoderTest {

    /** A stream of packets of assorted sizes, the empty packet included; returns each packet's hex. */
    private static List<String> samplePackets(ByteBuf stream) {
        List<String> packets = new ArrayList<>();
        int[] sizes = {1, 0, 5, 300, 2, 0, 70};
        int sequenceId = 0;
        for (int size : sizes) {
            int start = stream.writerIndex();
            int begun = Packets.begin(stream, sequenceId++);
            for (int i = 0; i < size; i++) {
                stream.writeByte(i * 7 + size);
            }
            Packets.finish(stream, begun);
            packets.add(ByteBufUtil.hexDump(stream, start, stream.writerIndex() - start));
        }
        return packets;
    }

    /** The packets emitted so far, each as hex; a backend decoder's batches are split at their headers. */
    private static List<String> drain(EmbeddedChannel channel) {
        List<String> out = new ArrayList<>();
        ByteBuf packet;
        while ((packet = channel.readInbound()) != null) {
            try {
                while (packet.isReadable()) {
                    int total = Packets.HEADER_SIZE + Packets.payloadLength(packet, packet.readerIndex());
                    out.add(ByteBufUtil.hexDump(packet, packet.readerIndex(), total));
                    packet.skipBytes(total);
                }
            } finally {
                packet.release();
            }
        }
        return out;
    }

    @Test
    void oneByteAtATimeYieldsEveryWholePacketWithItsHeader() {
        ByteBuf stream = Unpooled.buffer();
        List<String> expected = samplePackets(stream);
        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder());
        List<String> decoded = new ArrayList<>();
        try {
            while (stream.isReadable()) {
                channel.writeInbound(stream.readRetainedSlice(1));
                decoded.addAll(drain(channel));
            }
            assertThat(decoded).containsExactlyElementsOf(expected);
            assertThat(channel.finish()).isFalse();
        } finally {
            stream.release();
        }
    }

    @Test
    void everySplitPointYieldsTheSamePackets() {
        ByteBuf stream = Unpooled.buffer();
        List<String> expected = samplePackets(stream);
        try {
            for (int split = 0; split <= stream.readableBytes(); split++) {
                EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder());
                channel.writeInbound(stream.retainedSlice(0, split));
                List<String> decoded = new ArrayList<>(drain(channel));
                channel.writeInbound(stream.retainedSlice(split, stream.readableBytes() - split));
                decoded.addAll(drain(channel));
                assertThat(decoded).as("split at %d", split).containsExactlyElementsOf(expected);
                assertThat(channel.finish()).isFalse();
            }
        } finally {
            stream.release();
        }
    }

    @Test
    void aBackendReadYieldsItsWholePacketsAsOneSliceAndKeepsThePartialOne() {
        ByteBuf stream = Unpooled.buffer();
        samplePackets(stream);
        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder());
        try {
            // The first three packets (5 + 4 + 9 bytes) and 2 bytes of the fourth.
            channel.writeInbound(stream.retainedSlice(0, 20));
            ByteBuf batch = channel.readInbound();
            assertThat(batch.readableBytes()).isEqualTo(18);
            batch.release();
            assertThat((Object) channel.readInbound()).isNull();
        } finally {
            channel.finishAndReleaseAll();
            stream.release();
        }
    }

    @Test
    void partialPacketIsHeldUntilItsLastByteArrives() {
        ByteBuf stream = Unpooled.buffer();
        samplePackets(stream);
        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder());
        try {
            // Header of the first packet plus nothing of its 1-byte payload: no output yet.
            channel.writeInbound(stream.retainedSlice(0, Packets.HEADER_SIZE));
            assertThat(drain(channel)).isEmpty();
            channel.writeInbound(stream.retainedSlice(Packets.HEADER_SIZE, 1));
            assertThat(drain(channel)).hasSize(1);
        } finally {
            channel.finishAndReleaseAll();
            stream.release();
        }
    }

    @Test
    void maximumSizePacketAndItsEmptyFollowerArriveSeparately() {
        ByteBuf stream = Unpooled.buffer(Packets.MAX_PAYLOAD + 64);
        int start = Packets.begin(stream, 0);
        stream.writeZero(Packets.MAX_PAYLOAD);
        Packets.finish(stream, start);
        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder());
        try {
            int chunk = 1 << 16;
            List<Integer> lengths = new ArrayList<>();
            while (stream.isReadable()) {
                channel.writeInbound(stream.readRetainedSlice(Math.min(chunk, stream.readableBytes())));
                drain(channel).forEach(hex -> lengths.add(hex.length() / 2));
            }
            assertThat(lengths).containsExactly(Packets.HEADER_SIZE + Packets.MAX_PAYLOAD, Packets.HEADER_SIZE);
        } finally {
            channel.finishAndReleaseAll();
            stream.release();
        }
    }

    /** A header announcing {@code length} bytes with sequence id {@code sequenceId}, and a few payload bytes. */
    private static ByteBuf headerOnly(int length, int sequenceId) {
        ByteBuf buf = Unpooled.buffer();
        buf.writeMediumLE(length);
        buf.writeByte(sequenceId);
        buf.writeBytes(new byte[] {0x05, (byte) 0xA2, 0x3E, 0});
        return buf;
    }

    /** The ERR the decoder wrote: code and sequence id. */
    private static int[] errorWritten(EmbeddedChannel channel) {
        ByteBuf err = channel.readOutbound();
        try {
            assertThat((int) err.getUnsignedByte(Packets.HEADER_SIZE)).isEqualTo(Packets.ERR);
            return new int[] {err.getUnsignedShortLE(Packets.HEADER_SIZE + 1), Packets.sequenceId(err, 0)};
        } finally {
            err.release();
        }
    }

    @Test
    void beforeLoginAHeaderAboveTheBoundIsRefusedWithBadHandshakeAndTheChannelCloses() {
        EmbeddedChannel channel = new EmbeddedChannel(PacketDecoder.beforeLogin());
        channel.writeInbound(headerOnly(PacketDecoder.PRE_LOGIN_MAX_PAYLOAD + 1, 1));
        assertThat(drain(channel)).isEmpty();
        assertThat(errorWritten(channel)).containsExactly(1043, 2);
        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();
    }

    @Test
    void beforeLoginAPacketOfExactlyTheBoundPasses() {
        EmbeddedChannel channel = new EmbeddedChannel(PacketDecoder.beforeLogin());
        ByteBuf stream = Unpooled.buffer();
        int start = Packets.begin(stream, 1);
        stream.writeZero(PacketDecoder.PRE_LOGIN_MAX_PAYLOAD);
        Packets.finish(stream, start);
        channel.writeInbound(stream);
        assertThat(drain(channel)).hasSize(1);
        assertThat((Object) channel.readOutbound()).isNull();
        assertThat(channel.isOpen()).isTrue();
        channel.finishAndReleaseAll();
    }

    @Test
    void afterLoginTheBoundIsMaxAllowedPacketOverTheWholeMultiPacketPayload() {
        PacketDecoder decoder = PacketDecoder.beforeLogin();
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        decoder.afterLogin(Packets.MAX_PAYLOAD + 100L);
        ByteBuf stream = Unpooled.buffer(Packets.MAX_PAYLOAD + 64);
        stream.writeMediumLE(Packets.MAX_PAYLOAD);
        stream.writeByte(0);
        stream.writeZero(Packets.MAX_PAYLOAD);
        channel.writeInbound(stream);
        assertThat(drain(channel)).hasSize(1);
        // The continuation would bring the payload to 16 MiB + 101 bytes: refused from its header.
        channel.writeInbound(headerOnly(101, 1));
        assertThat(drain(channel)).isEmpty();
        assertThat(errorWritten(channel)).containsExactly(1153, 2);
        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();
    }

    @Test
    void afterLoginAPayloadWithinTheBoundStartsTheCountAfresh() {
        PacketDecoder decoder = PacketDecoder.beforeLogin();
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        decoder.afterLogin(PacketDecoder.PRE_LOGIN_MAX_PAYLOAD * 2L);
        ByteBuf stream = Unpooled.buffer();
        for (int i = 0; i < 3; i++) {
            int start = Packets.begin(stream, 0);
            stream.writeZero(PacketDecoder.PRE_LOGIN_MAX_PAYLOAD + 1);
            Packets.finish(stream, start);
        }
        channel.writeInbound(stream);
        assertThat(drain(channel)).hasSize(3);
        assertThat(channel.isOpen()).isTrue();
        channel.finishAndReleaseAll();
    }

    @Test
    void aBoundRaisedWhileHandlingAPacketAppliesToThePipelinedNextOne() {
        PacketDecoder decoder = PacketDecoder.beforeLogin();
        List<Integer> lengths = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel(decoder, new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                ByteBuf packet = (ByteBuf) msg;
                lengths.add(packet.readableBytes() - Packets.HEADER_SIZE);
                packet.release();
                decoder.afterLogin(1L << 20); // the login packet logs the client in
            }
        });
        ByteBuf stream = Unpooled.buffer();
        for (int length : new int[] {10, PacketDecoder.PRE_LOGIN_MAX_PAYLOAD + 1}) {
            int start = Packets.begin(stream, 1);
            stream.writeZero(length);
            Packets.finish(stream, start);
        }
        channel.writeInbound(stream);
        assertThat(lengths).containsExactly(10, PacketDecoder.PRE_LOGIN_MAX_PAYLOAD + 1);
        assertThat(channel.isOpen()).isTrue();
        channel.finishAndReleaseAll();
    }
}
