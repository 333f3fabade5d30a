package io.proxyfleet.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacketsTest {
    private static final int MAX = Packets.MAX_PAYLOAD;

    /** One physical packet as read back from the wire: its declared length, sequence id and payload. */
    private record Frame(int length, int sequenceId, ByteBuf payload) {
    }

    private static List<Frame> frames(ByteBuf out) {
        List<Frame> frames = new ArrayList<>();
        int pos = out.readerIndex();
        while (pos < out.writerIndex()) {
            int length = Packets.payloadLength(out, pos);
            frames.add(new Frame(length, Packets.sequenceId(out, pos), out.slice(pos + Packets.HEADER_SIZE, length)));
            pos += Packets.HEADER_SIZE + length;
        }
        assertThat(pos).as("frames end exactly at the writer index").isEqualTo(out.writerIndex());
        return frames;
    }

    /** Writes a packet of {@code payload} bytes whose byte {@code i} is {@code i % 251}, then finishes it. */
    private static int writePacket(ByteBuf out, int sequenceId, int payload) {
        int start = Packets.begin(out, sequenceId);
        for (int i = 0; i < payload; i++) {
            out.writeByte(i % 251);
        }
        return Packets.finish(out, start);
    }

    private static void assertPayloadPattern(List<Frame> frames, int total) {
        int index = 0;
        for (Frame frame : frames) {
            for (int i = 0; i < frame.length(); i++, index++) {
                if (frame.payload().getUnsignedByte(i) != index % 251) {
                    throw new AssertionError("payload byte " + index + " corrupted");
                }
            }
        }
        assertThat(index).isEqualTo(total);
    }

    @Test
    void smallPayloadGetsItsLengthPatched() {
        ByteBuf out = Unpooled.buffer();
        try {
            out.writeByte(0x77); // the packet need not start at index 0
            int start = Packets.begin(out, 3);
            out.writeBytes(new byte[] {1, 2, 3});
            assertThat(Packets.finish(out, start)).isEqualTo(3);
            assertThat(Packets.payloadLength(out, 1)).isEqualTo(3);
            assertThat(Packets.sequenceId(out, 1)).isEqualTo(3);
            assertThat(out.readableBytes()).isEqualTo(1 + Packets.HEADER_SIZE + 3);
        } finally {
            out.release();
        }
    }

    @Test
    void emptyPayloadIsOnePacket() {
        ByteBuf out = Unpooled.buffer();
        try {
            assertThat(writePacket(out, 0, 0)).isZero();
            assertThat(frames(out)).extracting(Frame::length).containsExactly(0);
        } finally {
            out.release();
        }
    }

    @Test
    void payloadJustBelowTheLimitStaysOnePacket() {
        ByteBuf out = Unpooled.buffer(MAX + 16);
        try {
            assertThat(writePacket(out, 5, MAX - 1)).isEqualTo(5);
            List<Frame> frames = frames(out);
            assertThat(frames).extracting(Frame::length).containsExactly(MAX - 1);
            assertPayloadPattern(frames, MAX - 1);
        } finally {
            out.release();
        }
    }

    @Test
    void payloadOfExactlyTheLimitIsFollowedByAnEmptyPacket() {
        ByteBuf out = Unpooled.buffer(MAX + 16);
        try {
            assertThat(writePacket(out, 7, MAX)).isEqualTo(8);
            List<Frame> frames = frames(out);
            assertThat(frames).extracting(Frame::length).containsExactly(MAX, 0);
            assertThat(frames).extracting(Frame::sequenceId).containsExactly(7, 8);
            assertPayloadPattern(frames, MAX);
        } finally {
            out.release();
        }
    }

    @Test
    void largerPayloadIsSplitWithConsecutiveSequenceIdsThatWrap() {
        int total = MAX + 10;
        ByteBuf out = Unpooled.buffer(total + 16);
        try {
            assertThat(writePacket(out, 255, total)).isZero();
            List<Frame> frames = frames(out);
            assertThat(frames).extracting(Frame::length).containsExactly(MAX, 10);
            assertThat(frames).extracting(Frame::sequenceId).containsExactly(255, 0);
            assertPayloadPattern(frames, total);
        } finally {
            out.release();
        }
    }

    @Test
    void twiceTheLimitGivesTwoFullPacketsAndATrailingEmptyOne() {
        int total = 2 * MAX;
        ByteBuf out = Unpooled.buffer(total + 16);
        try {
            assertThat(writePacket(out, 1, total)).isEqualTo(3);
            List<Frame> frames = frames(out);
            assertThat(frames).extracting(Frame::length).containsExactly(MAX, MAX, 0);
            assertThat(frames).extracting(Frame::sequenceId).containsExactly(1, 2, 3);
            assertPayloadPattern(frames, total);
        } finally {
            out.release();
        }
    }

    @Test
    void splittingKeepsWhatPrecedesThePacket() {
        ByteBuf out = Unpooled.buffer(MAX + 64);
        try {
            out.writeBytes(new byte[] {9, 9, 9});
            int start = Packets.begin(out, 0);
            out.writeZero(MAX + 1);
            Packets.finish(out, start);
            assertThat(out.getByte(0)).isEqualTo((byte) 9);
            assertThat(out.getByte(2)).isEqualTo((byte) 9);
            assertThat(Packets.payloadLength(out, 3)).isEqualTo(MAX);
            assertThat(Packets.payloadLength(out, 3 + Packets.HEADER_SIZE + MAX)).isEqualTo(1);
            assertThat(out.readableBytes()).isEqualTo(3 + 2 * Packets.HEADER_SIZE + MAX + 1);
        } finally {
            out.release();
        }
    }
}
