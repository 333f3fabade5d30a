package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;

/**
 * The server's initial handshake, protocol version 10.
 *
 * @param authData the 20-byte scramble (nonce) the client hashes its password with
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html">Handshake V10</a>
 */
public record HandshakeV10(String serverVersion, long connectionId, byte[] authData, int capabilities, int collation,
                           int statusFlags, String authPluginName) {
    public static final int PROTOCOL_VERSION = 10;
    private static final int AUTH_DATA_PART1 = 8;
    private static final int RESERVED = 10;
    /** The second scramble part is padded to at least this many bytes, its NUL included. */
    private static final int AUTH_DATA_PART2_MIN = 13;

    public void writeTo(ByteBuf out, int sequenceId) {
        int start = Packets.begin(out, sequenceId);
        out.writeByte(PROTOCOL_VERSION);
        Lenenc.writeNulString(out, serverVersion);
        out.writeIntLE((int) connectionId);
        out.writeBytes(authData, 0, AUTH_DATA_PART1);
        out.writeByte(0);
        out.writeShortLE(capabilities & 0xFFFF);
        out.writeByte(collation);
        out.writeShortLE(statusFlags);
        out.writeShortLE(capabilities >>> 16);
        out.writeByte(authData.length + 1);
        out.writeZero(RESERVED);
        out.writeBytes(authData, AUTH_DATA_PART1, authData.length - AUTH_DATA_PART1);
        out.writeByte(0);
        Lenenc.writeNulString(out, authPluginName);
        Packets.finish(out, start);
    }

    public static HandshakeV10 decode(ByteBuf payload) {
        int protocol = payload.readUnsignedByte();
        if (protocol != PROTOCOL_VERSION) {
            throw new ProtocolException("unsupported handshake protocol version " + protocol);
        }
        String version = Lenenc.readNulString(payload);
        long connectionId = payload.readUnsignedIntLE();
        byte[] part1 = new byte[AUTH_DATA_PART1];
        payload.readBytes(part1);
        payload.skipBytes(1);
        int capabilities = payload.readUnsignedShortLE();
        int collation = payload.readUnsignedByte();
        int status = payload.readUnsignedShortLE();
        capabilities |= payload.readUnsignedShortLE() << 16;
        int authDataLength = payload.readUnsignedByte();
        payload.skipBytes(RESERVED);
        byte[] authData = part1;
        if ((capabilities & Capabilities.SECURE_CONNECTION) != 0) {
            int part2Length = Math.max(AUTH_DATA_PART2_MIN, authDataLength - AUTH_DATA_PART1);
            byte[] part2 = new byte[part2Length];
            payload.readBytes(part2);
            // The last byte of part 2 is a NUL terminator, not scramble.
            authData = new byte[AUTH_DATA_PART1 + part2Length - 1];
            System.arraycopy(part1, 0, authData, 0, AUTH_DATA_PART1);
            System.arraycopy(part2, 0, authData, AUTH_DATA_PART1, part2Length - 1);
        }
        String plugin = (capabilities & Capabilities.PLUGIN_AUTH) != 0 && payload.isReadable()
                ? Lenenc.readNulString(payload) : AuthPlugins.NATIVE_PASSWORD;
        return new HandshakeV10(version, connectionId, authData, capabilities, collation, status, plugin);
    }

    @Override
    public String toString() {
        return "HandshakeV10[" + serverVersion + ", id=" + connectionId + ", plugin=" + authPluginName + "]";
    }

}
