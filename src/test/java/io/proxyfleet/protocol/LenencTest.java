package io.proxyfleet.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class LenencTest {

    /** Each boundary with the exact bytes the MySQL protocol documentation prescribes for it. */
    static Stream<Arguments> boundaries() {
        return Stream.of(
                Arguments.of(0L, "00"),
                Arguments.of(250L, "fa"),
                Arguments.of(251L, "fcfb00"),
                Arguments.of(65535L, "fcffff"),
                Arguments.of(65536L, "fd000001"),
                Arguments.of(16777215L, "fdffffff"),
                Arguments.of(16777216L, "fe0000000100000000"),
                Arguments.of(Long.MAX_VALUE, "feffffffffffffff7f"));
    }

    @ParameterizedTest(name = "{0} encodes as {1}")
    @MethodSource("boundaries")
    void writesTheDocumentedBytesAndReadsThemBack(long value, String hex) {
        ByteBuf buf = Unpooled.buffer();
        try {
            Lenenc.writeInt(buf, value);
            assertThat(ByteBufUtil.hexDump(buf)).isEqualTo(hex);
            assertThat(Lenenc.sizeOf(value)).isEqualTo(hex.length() / 2);
            assertThat(Lenenc.encodedSize(buf.getUnsignedByte(0))).isEqualTo(hex.length() / 2);
            assertThat(Lenenc.getInt(buf, 0)).isEqualTo(value);
            assertThat(buf.readerIndex()).isZero();
            assertThat(Lenenc.readInt(buf)).isEqualTo(value);
            assertThat(buf.isReadable()).isFalse();
        } finally {
            buf.release();
        }
    }

    @ParameterizedTest(name = "{0} read at an offset")
    @MethodSource("boundaries")
    void getIntReadsAtAnOffsetWithoutMovingTheReader(long value, String hex) {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeBytes(new byte[] {1, 2, 3});
            Lenenc.writeInt(buf, value);
            buf.writeByte(0x55);
            assertThat(Lenenc.getInt(buf, 3)).isEqualTo(value);
            assertThat(buf.readerIndex()).isZero();
        } finally {
            buf.release();
        }
    }

    @Test
    void nullAndErrPrefixesAreNotIntegers() {
        for (int prefix : new int[] {0xFB, 0xFF}) {
            ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {(byte) prefix, 0, 0, 0, 0, 0, 0, 0, 0});
            assertThatThrownBy(() -> Lenenc.readInt(buf)).isInstanceOf(ProtocolException.class);
            assertThatThrownBy(() -> Lenenc.getInt(buf, 0)).isInstanceOf(ProtocolException.class);
        }
    }

    @Test
    void stringsRoundTripAcrossThePrefixBoundary() {
        for (int length : new int[] {0, 250, 251, 65535, 65536}) {
            byte[] value = "x".repeat(length).getBytes(StandardCharsets.UTF_8);
            ByteBuf buf = Unpooled.buffer();
            try {
                Lenenc.writeBytes(buf, value);
                assertThat(buf.readableBytes()).isEqualTo(Lenenc.sizeOf(length) + length);
                assertThat(Lenenc.readBytes(buf)).isEqualTo(value);
            } finally {
                buf.release();
            }
        }
    }

    /** Lengths that are negative as an int64 or too large for an int: refused before anything is allocated. */
    @ParameterizedTest(name = "length {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"fe0000ff7fffffffff", "feffffffffffffffff",
            "fe0000000001000000", "fe0000008000000000", "fdffffff", "fc0001"})
    void aLengthBeyondThePacketIsRefusedAsUnsigned(String hex) {
        ByteBuf buf = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex + "616263"));
        assertThatThrownBy(() -> Lenenc.readBytes(buf.duplicate())).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("overruns");
        assertThatThrownBy(() -> Lenenc.readString(buf.duplicate())).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> Lenenc.readLength(buf.duplicate())).isInstanceOf(ProtocolException.class);
    }

    @ParameterizedTest(name = "truncated {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", "fc", "fc01", "fd0102", "fe01020304050607"})
    void aTruncatedIntegerIsAProtocolError(String hex) {
        ByteBuf buf = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
        assertThatThrownBy(() -> Lenenc.readInt(buf)).isInstanceOf(ProtocolException.class);
    }

    @Test
    void aStringLongerThanThePacketIsRefused() {
        ByteBuf buf = Unpooled.buffer();
        try {
            Lenenc.writeInt(buf, 300);
            buf.writeBytes(new byte[10]);
            assertThatThrownBy(() -> Lenenc.readBytes(buf)).isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("300");
        } finally {
            buf.release();
        }
    }

    @Test
    void nullableCellsUse0xFbForNull() {
        ByteBuf buf = Unpooled.buffer();
        try {
            Lenenc.writeNullableString(buf, null);
            Lenenc.writeNullableString(buf, "");
            Lenenc.writeNullableString(buf, "é");
            assertThat(ByteBufUtil.hexDump(buf)).isEqualTo("fb" + "00" + "02c3a9");
            assertThat(Lenenc.readNullableString(buf)).isNull();
            assertThat(Lenenc.readNullableString(buf)).isEmpty();
            assertThat(Lenenc.readNullableString(buf)).isEqualTo("é");
        } finally {
            buf.release();
        }
    }

    @Test
    void nulStringsStopAtTheTerminatorOrTheEnd() {
        ByteBuf buf = Unpooled.copiedBuffer("root\0rest", StandardCharsets.UTF_8);
        try {
            assertThat(Lenenc.readNulString(buf)).isEqualTo("root");
            assertThat(Lenenc.readNulString(buf)).isEqualTo("rest");
            assertThat(buf.isReadable()).isFalse();
        } finally {
            buf.release();
        }
    }
}
