package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Asks the peer to redo authentication with another plugin and a fresh scramble.
 *
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_switch_request.html">AuthSwitchRequest</a>
 */
public record AuthSwitchRequest(String pluginName, byte[] authData) {
    public void writeTo(ByteBuf out, int sequenceId) {
        int start = Packets.begin(out, sequenceId);
        out.writeByte(Packets.AUTH_SWITCH);
        Lenenc.writeNulString(out, pluginName);
        out.writeBytes(authData);
        out.writeByte(0);
        Packets.finish(out, start);
    }

    /** Decodes a payload that starts with 0xFE; the scramble is whatever the payload holds after the name. */
    public static AuthSwitchRequest decode(ByteBuf payload) {
        if (!payload.isReadable()) {
            throw new ProtocolException("empty auth switch request");
        }
        payload.skipBytes(1);
        String plugin = Lenenc.readNulString(payload);
        int length = payload.readableBytes();
        // The scramble is NUL-terminated on the wire; the NUL is not part of it.
        if (length > 0 && payload.getByte(payload.writerIndex() - 1) == 0) {
            length--;
        }
        byte[] data = new byte[length];
        payload.readBytes(data);
        payload.skipBytes(payload.readableBytes());
        return new AuthSwitchRequest(plugin, data);
    }
}
