package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * An OK packet (header 0x00), or the 0xFE OK that ends a result set under CLIENT_DEPRECATE_EOF.
 *
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html">OK_Packet</a>
 */
public record OkPacket(long affectedRows, long lastInsertId, int statusFlags, int warnings, String info) {

    public void writeTo(ByteBuf out, int sequenceId) {
        writeTo(out, sequenceId, Packets.OK);
    }

    /**
     * Writes the packet with the given header byte ({@link Packets#OK} or {@link Packets#EOF}). The info is a
     * length-encoded string with or without CLIENT_SESSION_TRACK: MySQL and MariaDB servers write it so, and
     * libmariadb (the mysql CLI) reads it so; raw text makes the CLI fail with 2027 "malformed packet".
     */
    public void writeTo(ByteBuf out, int sequenceId, int header) {
        int start = Packets.begin(out, sequenceId);
        out.writeByte(header);
        Lenenc.writeInt(out, affectedRows);
        Lenenc.writeInt(out, lastInsertId);
        out.writeShortLE(statusFlags);
        out.writeShortLE(warnings);
        if (info != null && !info.isEmpty()) {
            Lenenc.writeString(out, info);
        }
        Packets.finish(out, start);
    }

    /** Decodes a payload starting with 0x00 or 0xFE (the OK form, not a classic EOF). */
    public static OkPacket decode(ByteBuf payload) {
        if (!payload.isReadable()) {
            throw new ProtocolException("empty OK packet");
        }
        payload.skipBytes(1);
        long affected = Lenenc.readInt(payload);
        long insertId = Lenenc.readInt(payload);
        int status = payload.isReadable(2) ? payload.readUnsignedShortLE() : 0;
        int warnings = payload.isReadable(2) ? payload.readUnsignedShortLE() : 0;
        String info = payload.isReadable() ? readInfo(payload) : "";
        return new OkPacket(affected, insertId, status, warnings, info);
    }

    /**
     * Status flags of an OK-form packet whose payload starts at {@code index}, read without decoding the rest.
     * Returns 0 when the packet is too short to carry them.
     */
    public static int statusFlagsAt(ByteBuf buf, int index, int payloadLength) {
        int pos = index + 1;
        pos += Lenenc.encodedSize(buf.getUnsignedByte(pos));
        pos += Lenenc.encodedSize(buf.getUnsignedByte(pos));
        if (pos + 2 > index + payloadLength) {
            return 0;
        }
        return buf.getUnsignedShortLE(pos);
    }

    /** The info as servers write it (length-encoded); text that does not fit that form is taken whole. */
    private static String readInfo(ByteBuf payload) {
        int start = payload.readerIndex();
        try {
            long length = Lenenc.readInt(payload);
            if (length >= 0 && length <= payload.readableBytes()) {
                return payload.readCharSequence((int) length, StandardCharsets.UTF_8).toString();
            }
        } catch (ProtocolException notLengthEncoded) {
            // an old-style server's raw text: taken whole below
        }
        payload.readerIndex(start);
        return payload.readCharSequence(payload.readableBytes(), StandardCharsets.UTF_8).toString();
    }
}
