package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The client's answer to the handshake (protocol 4.1). The same layout, cut after the filler, is the SSLRequest a
 * client sends before switching to TLS.
 *
 * @param database {@code null} unless CLIENT_CONNECT_WITH_DB
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html">HandshakeResponse41</a>
 */
public record HandshakeResponse41(int capabilities, int maxPacketSize, int collation, String username,
                                  byte[] authResponse, String database, String authPluginName,
                                  Map<String, String> attributes) {
    private static final int FILLER = 23;
    /** Length of an SSLRequest payload: capabilities, max packet, collation and filler. */
    public static final int SSL_REQUEST_LENGTH = 32;
    /**
     * Connection attributes kept from one response. Client libraries send a dozen or two (client name, version,
     * OS, program name); the rest of a longer list is skipped.
     */
    public static final int MAX_CONNECT_ATTRIBUTES = 128;

    public void writeTo(ByteBuf out, int sequenceId) {
        int start = Packets.begin(out, sequenceId);
        out.writeIntLE(capabilities);
        out.writeIntLE(maxPacketSize);
        out.writeByte(collation);
        out.writeZero(FILLER);
        Lenenc.writeNulString(out, username);
        if ((capabilities & Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
            Lenenc.writeBytes(out, authResponse);
        } else {
            out.writeByte(authResponse.length);
            out.writeBytes(authResponse);
        }
        if ((capabilities & Capabilities.CONNECT_WITH_DB) != 0) {
            Lenenc.writeNulString(out, database == null ? "" : database);
        }
        if ((capabilities & Capabilities.PLUGIN_AUTH) != 0) {
            Lenenc.writeNulString(out, authPluginName);
        }
        if ((capabilities & Capabilities.CONNECT_ATTRS) != 0) {
            writeAttributes(out, attributes);
        }
        Packets.finish(out, start);
    }

    private static void writeAttributes(ByteBuf out, Map<String, String> attributes) {
        ByteBuf pairs = out.alloc().heapBuffer(64);
        try {
            attributes.forEach((key, value) -> {
                Lenenc.writeString(pairs, key);
                Lenenc.writeString(pairs, value);
            });
            Lenenc.writeInt(out, pairs.readableBytes());
            out.writeBytes(pairs);
        } finally {
            pairs.release();
        }
    }

    /** Writes the SSLRequest that precedes the TLS handshake. */
    public static void writeSslRequest(ByteBuf out, int sequenceId, int capabilities, int maxPacketSize,
                                       int collation) {
        int start = Packets.begin(out, sequenceId);
        out.writeIntLE(capabilities);
        out.writeIntLE(maxPacketSize);
        out.writeByte(collation);
        out.writeZero(FILLER);
        Packets.finish(out, start);
    }

    /** True when this payload is an SSLRequest rather than a full response. */
    public static boolean isSslRequest(ByteBuf payload) {
        return payload.readableBytes() == SSL_REQUEST_LENGTH
                && (payload.getIntLE(payload.readerIndex()) & Capabilities.SSL) != 0;
    }

    /**
     * Decodes a client's response. Every length in it is checked against the bytes of this payload before
     * anything is allocated, so the payload's own size (which the frame decoder bounds before login) bounds the
     * work and memory spent on it.
     *
     * @throws ProtocolException when the payload is not a well-formed response
     */
    public static HandshakeResponse41 decode(ByteBuf payload) {
        if (payload.readableBytes() < SSL_REQUEST_LENGTH) {
            throw new ProtocolException("handshake response too short");
        }
        int capabilities = payload.readIntLE();
        if ((capabilities & Capabilities.PROTOCOL_41) == 0) {
            throw new ProtocolException("client does not speak protocol 4.1");
        }
        int maxPacket = payload.readIntLE();
        int collation = payload.readUnsignedByte();
        payload.skipBytes(FILLER);
        String user = Lenenc.readNulString(payload);
        byte[] auth;
        if ((capabilities & Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
            auth = Lenenc.readBytes(payload);
        } else if ((capabilities & Capabilities.SECURE_CONNECTION) != 0) {
            if (!payload.isReadable()) {
                throw new ProtocolException("auth response length missing");
            }
            int length = payload.readUnsignedByte();
            if (length > payload.readableBytes()) {
                throw new ProtocolException("auth response overruns the packet");
            }
            auth = new byte[length];
            payload.readBytes(auth);
        } else {
            auth = Lenenc.readNulString(payload).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        String db = null;
        if ((capabilities & Capabilities.CONNECT_WITH_DB) != 0 && payload.isReadable()) {
            db = Lenenc.readNulString(payload);
        }
        String plugin = null;
        if ((capabilities & Capabilities.PLUGIN_AUTH) != 0 && payload.isReadable()) {
            plugin = Lenenc.readNulString(payload);
        }
        Map<String, String> attrs = Map.of();
        if ((capabilities & Capabilities.CONNECT_ATTRS) != 0 && payload.isReadable()) {
            attrs = readAttributes(payload);
        }
        return new HandshakeResponse41(capabilities, maxPacket, collation, user, auth, db, plugin, attrs);
    }

    /**
     * Reads the connection attributes: a length-prefixed block of key/value string pairs. Pairs past
     * {@link #MAX_CONNECT_ATTRIBUTES} are checked for form but not kept, so that a block of many one-byte pairs
     * cannot turn a small packet into a large map.
     */
    private static Map<String, String> readAttributes(ByteBuf payload) {
        ByteBuf block = payload.readSlice(Lenenc.readLength(payload));
        var attrs = new LinkedHashMap<String, String>();
        while (block.isReadable()) {
            if (attrs.size() < MAX_CONNECT_ATTRIBUTES) {
                attrs.put(Lenenc.readString(block), Lenenc.readString(block));
            } else {
                block.skipBytes(Lenenc.readLength(block));
                block.skipBytes(Lenenc.readLength(block));
            }
        }
        return Collections.unmodifiableMap(attrs);
    }

    @Override
    public String toString() {
        return "HandshakeResponse41[user=" + username + ", db=" + database + ", plugin=" + authPluginName + "]";
    }
}
