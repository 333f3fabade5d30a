package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * An ERR packet: error code, SQLSTATE and message.
 *
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html">ERR_Packet</a>
 */
public record ErrPacket(int code, String sqlState, String message) {
    private static final int SQL_STATE_MARKER = '#';
    private static final int SQL_STATE_LENGTH = 5;
    /** The 0xFF header and the 2-byte error code. */
    private static final int ERR_HEADER_LENGTH = 3;

    public ErrPacket {
        if (sqlState == null || sqlState.length() != SQL_STATE_LENGTH) {
            throw new IllegalArgumentException("SQLSTATE must have 5 characters: " + sqlState);
        }
    }

    /** Writes the whole packet, header included. */
    public void writeTo(ByteBuf out, int sequenceId) {
        int start = Packets.begin(out, sequenceId);
        out.writeByte(Packets.ERR);
        out.writeShortLE(code);
        out.writeByte(SQL_STATE_MARKER);
        out.writeBytes(sqlState.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(message.getBytes(StandardCharsets.UTF_8));
        Packets.finish(out, start);
    }

    /** Decodes a payload that starts with 0xFF (protocol 4.1 form, SQLSTATE present). */
    public static ErrPacket decode(ByteBuf payload) {
        if (!payload.isReadable(ERR_HEADER_LENGTH)) {
            throw new ProtocolException("ERR packet of " + payload.readableBytes() + " bytes has no error code");
        }
        payload.skipBytes(1);
        int code = payload.readUnsignedShortLE();
        String state = "HY000";
        if (payload.isReadable(1 + SQL_STATE_LENGTH)
                && payload.getUnsignedByte(payload.readerIndex()) == SQL_STATE_MARKER) {
            payload.skipBytes(1);
            state = payload.readCharSequence(SQL_STATE_LENGTH, StandardCharsets.US_ASCII).toString();
        }
        String message = payload.readCharSequence(payload.readableBytes(), StandardCharsets.UTF_8).toString();
        return new ErrPacket(code, state, message);
    }
}
