package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Length-encoded integers and strings. Every length read here comes from the peer and is treated as hostile: it
 * is an unsigned 64-bit value, checked against the bytes actually present before anything is allocated, so a
 * packet can never make us allocate more than its own size. Stateless.
 *
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_dt_integers.html">Integers</a>
 */
public final class Lenenc {
    /** Prefix of a 2-byte integer. */
    public static final int PREFIX_2 = 0xFC;
    /** Prefix of a 3-byte integer. */
    public static final int PREFIX_3 = 0xFD;
    /** Prefix of an 8-byte integer. */
    public static final int PREFIX_8 = 0xFE;
    /** In a text row, a NULL column. */
    public static final int NULL_VALUE = 0xFB;

    private Lenenc() {
    }

    /**
     * Reads a length-encoded integer. 0xFB (NULL) and 0xFF (ERR) are not integers here. The 8-byte form is
     * unsigned: values of 2^63 and more come back negative, so compare them with {@link Long#compareUnsigned}.
     *
     * @throws ProtocolException when the prefix is not an integer prefix, or the integer is cut short
     */
    public static long readInt(ByteBuf in) {
        if (!in.isReadable()) {
            throw new ProtocolException("length-encoded integer missing at the end of the packet");
        }
        int first = in.readUnsignedByte();
        if (first < NULL_VALUE) {
            return first;
        }
        if (!in.isReadable(encodedSize(first) - 1)) {
            throw new ProtocolException("length-encoded integer cut short by the end of the packet");
        }
        return switch (first) {
            case PREFIX_2 -> in.readUnsignedShortLE();
            case PREFIX_3 -> in.readUnsignedMediumLE();
            case PREFIX_8 -> in.readLongLE();
            default -> throw new ProtocolException("invalid length-encoded integer prefix 0x" + Integer.toHexString(first));
        };
    }

    /** Reads a length-encoded integer at {@code index} without moving the reader index; see {@link #readInt}. */
    public static long getInt(ByteBuf in, int index) {
        int first = in.getUnsignedByte(index);
        if (first < NULL_VALUE) {
            return first;
        }
        return switch (first) {
            case PREFIX_2 -> in.getUnsignedShortLE(index + 1);
            case PREFIX_3 -> in.getUnsignedMediumLE(index + 1);
            case PREFIX_8 -> in.getLongLE(index + 1);
            default -> throw new ProtocolException("invalid length-encoded integer prefix 0x" + Integer.toHexString(first));
        };
    }

    /** Number of bytes the integer starting with {@code first} occupies, prefix included. */
    public static int encodedSize(int first) {
        if (first < NULL_VALUE) {
            return 1;
        }
        return switch (first) {
            case PREFIX_2 -> 3;
            case PREFIX_3 -> 4;
            case PREFIX_8 -> 9;
            default -> 1;
        };
    }

    public static int sizeOf(long value) {
        if (value >= 0 && value < NULL_VALUE) {
            return 1;
        } else if (value >= 0 && value <= 0xFFFF) {
            return 3;
        } else if (value >= 0 && value <= 0xFFFFFF) {
            return 4;
        }
        return 9;
    }

    public static void writeInt(ByteBuf out, long value) {
        if (value >= 0 && value < NULL_VALUE) {
            out.writeByte((int) value);
        } else if (value >= 0 && value <= 0xFFFF) {
            out.writeByte(PREFIX_2);
            out.writeShortLE((int) value);
        } else if (value >= 0 && value <= 0xFFFFFF) {
            out.writeByte(PREFIX_3);
            out.writeMediumLE((int) value);
        } else {
            out.writeByte(PREFIX_8);
            out.writeLongLE(value);
        }
    }

    public static void writeBytes(ByteBuf out, byte[] value) {
        writeInt(out, value.length);
        out.writeBytes(value);
    }

    public static void writeString(ByteBuf out, String value) {
        writeBytes(out, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes a text-protocol cell: NULL as 0xFB, anything else as a length-encoded UTF-8 string. */
    public static void writeNullableString(ByteBuf out, String value) {
        if (value == null) {
            out.writeByte(NULL_VALUE);
        } else {
            writeString(out, value);
        }
    }

    /**
     * Reads the length of something that follows in the same packet (a string, a block of attributes), checked
     * as an unsigned value against the bytes that are actually left, so that it can size an allocation.
     *
     * @throws ProtocolException when the length exceeds what the packet still holds
     */
    public static int readLength(ByteBuf in) {
        long length = readInt(in);
        if (Long.compareUnsigned(length, in.readableBytes()) > 0) {
            throw new ProtocolException("length " + Long.toUnsignedString(length) + " overruns the "
                    + in.readableBytes() + " bytes left in the packet");
        }
        return (int) length;
    }

    public static byte[] readBytes(ByteBuf in) {
        byte[] value = new byte[readLength(in)];
        in.readBytes(value);
        return value;
    }

    public static String readString(ByteBuf in) {
        int length = readLength(in);
        return in.readCharSequence(length, StandardCharsets.UTF_8).toString();
    }

    /** Reads a text-protocol cell: 0xFB is NULL. */
    public static String readNullableString(ByteBuf in) {
        if (in.isReadable() && in.getUnsignedByte(in.readerIndex()) == NULL_VALUE) {
            in.skipBytes(1);
            return null;
        }
        return readString(in);
    }

    /** Reads a NUL-terminated string; a missing terminator takes the rest of the buffer. */
    public static String readNulString(ByteBuf in) {
        int end = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) 0);
        if (end < 0) {
            String rest = in.toString(StandardCharsets.UTF_8);
            in.readerIndex(in.writerIndex());
            return rest;
        }
        String value = in.toString(in.readerIndex(), end - in.readerIndex(), StandardCharsets.UTF_8);
        in.readerIndex(end + 1);
        return value;
    }

    public static void writeNulString(ByteBuf out, String value) {
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        out.writeByte(0);
    }
}
