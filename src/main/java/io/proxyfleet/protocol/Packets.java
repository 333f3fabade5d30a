package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Framing of MySQL packets: a 3-byte little-endian payload length, a 1-byte sequence id, then the payload.
 * Payloads of {@link #MAX_PAYLOAD} bytes or more are split; a packet of exactly that length is always followed
 * by another (possibly empty) one.
 *
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html">Packets</a>
 */
public final class Packets {
    public static final int HEADER_SIZE = 4;
    public static final int MAX_PAYLOAD = 0xFFFFFF;

    /** First payload byte of an OK packet. */
    public static final int OK = 0x00;
    /** First payload byte of an EOF packet, and of the OK that replaces it under CLIENT_DEPRECATE_EOF. */
    public static final int EOF = 0xFE;
    /** First payload byte of an ERR packet. */
    public static final int ERR = 0xFF;
    /** First payload byte of a LOCAL INFILE request. */
    public static final int LOCAL_INFILE = 0xFB;
    /** First payload byte of an auth-more-data packet during authentication. */
    public static final int AUTH_MORE_DATA = 0x01;
    /** First payload byte of an auth switch request during authentication. */
    public static final int AUTH_SWITCH = 0xFE;
    /** A classic EOF packet's payload is always shorter than this; a longer 0xFE packet is a row. */
    public static final int EOF_MAX_PAYLOAD = 9;

    private Packets() {
    }

    /** Payload length of the packet whose header starts at {@code index}. */
    public static int payloadLength(ByteBuf buf, int index) {
        return buf.getUnsignedMediumLE(index);
    }

    public static int sequenceId(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + 3);
    }

    /** A one-packet command whose payload is the command byte and {@code text} in UTF-8 (COM_QUERY, COM_STMT_PREPARE). */
    public static ByteBuf textCommand(ByteBufAllocator alloc, int command, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf out = alloc.buffer(HEADER_SIZE + 1 + bytes.length);
        int start = begin(out, 0);
        out.writeByte(command);
        out.writeBytes(bytes);
        finish(out, start);
        return out;
    }

    /** Writes a header with a zero length to be patched by {@link #finish}; returns the header's index. */
    public static int begin(ByteBuf out, int sequenceId) {
        int start = out.writerIndex();
        out.writeMediumLE(0);
        out.writeByte(sequenceId);
        return start;
    }

    /**
     * Patches the length of a packet begun at {@code start}. Payloads that reached {@link #MAX_PAYLOAD} are split
     * into several packets in place, with consecutive sequence ids.
     *
     * @return the sequence id of the last packet written
     */
    public static int finish(ByteBuf out, int start) {
        int payload = out.writerIndex() - start - HEADER_SIZE;
        int sequenceId = out.getUnsignedByte(start + 3);
        if (payload < MAX_PAYLOAD) {
            out.setMediumLE(start, payload);
            return sequenceId;
        }
        return split(out, start, payload, sequenceId);
    }

    private static int split(ByteBuf out, int start, int payload, int firstSequenceId) {
        // Rare (only payloads of 16 MiB or more that the proxy builds itself), so clarity beats zero-copy here.
        byte[] body = new byte[payload];
        out.getBytes(start + HEADER_SIZE, body);
        out.writerIndex(start);
        int sequenceId = firstSequenceId;
        int offset = 0;
        while (true) {
            int chunk = Math.min(MAX_PAYLOAD, payload - offset);
            out.writeMediumLE(chunk);
            out.writeByte(sequenceId);
            out.writeBytes(body, offset, chunk);
            offset += chunk;
            if (chunk < MAX_PAYLOAD) {
                return sequenceId;
            }
            sequenceId = (sequenceId + 1) & 0xFF;
        }
    }
}
