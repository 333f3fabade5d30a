package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A classic EOF packet (protocol 4.1): 0xFE, warnings, status flags.
 *
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_eof_packet.html">EOF_Packet</a>
 */
public record EofPacket(int warnings, int statusFlags) {
    public void writeTo(ByteBuf out, int sequenceId) {
        int start = Packets.begin(out, sequenceId);
        out.writeByte(Packets.EOF);
        out.writeShortLE(warnings);
        out.writeShortLE(statusFlags);
        Packets.finish(out, start);
    }

    /** Status flags of a classic EOF whose payload starts at {@code index}. */
    public static int statusFlagsAt(ByteBuf buf, int index, int payloadLength) {
        return payloadLength >= 5 ? buf.getUnsignedShortLE(index + 3) : 0;
    }
}
