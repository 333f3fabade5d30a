package io.proxyfleet.protocol.client;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * MySQL packet framing over blocking streams: 3-byte little-endian length, 1-byte sequence id, payload; payloads
 * of 0xFFFFFF bytes or more are split and reassembled. Confined to the thread that owns the client.
 */
final class PacketIo {
    static final int MAX_CHUNK = 0xFFFFFF;
    private static final int HEADER = 4;

    private InputStream in;
    private OutputStream out;
    private final int maxPayload;
    private int sequence;

    PacketIo(InputStream in, OutputStream out, int maxPayload) {
        this.in = new BufferedInputStream(in);
        this.out = new BufferedOutputStream(out);
        this.maxPayload = maxPayload;
    }

    /**
     * Continues on other streams (the TLS socket after an SSL request), keeping the sequence id. Nothing may be
     * buffered at that point: the server sends nothing between the SSL request and the TLS handshake.
     */
    void switchStreams(InputStream in, OutputStream out) {
        this.in = new BufferedInputStream(in);
        this.out = new BufferedOutputStream(out);
    }

    /** A new command starts a new sequence. */
    void resetSequence() {
        sequence = 0;
    }

    /**
     * Reads one logical payload. Each header is checked against what is left of {@code maxPayload} before its
     * bytes are read, and a chunk's array grows only as its bytes arrive, so a lying header costs nothing.
     */
    byte[] read() throws IOException {
        byte[] first = readChunk(maxPayload);
        if (first.length < MAX_CHUNK) {
            return first;
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream(first.length);
        all.writeBytes(first);
        byte[] chunk;
        do {
            chunk = readChunk(maxPayload - all.size());
            all.writeBytes(chunk);
        } while (chunk.length == MAX_CHUNK);
        return all.toByteArray();
    }

    private byte[] readChunk(int limit) throws IOException {
        byte[] header = in.readNBytes(HEADER);
        if (header.length < HEADER) {
            throw new EOFException("connection closed by server");
        }
        int length = (header[0] & 0xFF) | (header[1] & 0xFF) << 8 | (header[2] & 0xFF) << 16;
        if (length > limit) {
            throw new MysqlProtocolException("packet larger than the " + maxPayload + " bytes limit");
        }
        sequence = ((header[3] & 0xFF) + 1) & 0xFF;
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
            throw new EOFException("connection closed by server in the middle of a packet");
        }
        return payload;
    }

    void write(byte[] payload) throws IOException {
        int pos = 0;
        int remaining = payload.length;
        while (true) {
            int n = Math.min(remaining, MAX_CHUNK);
            out.write(n & 0xFF);
            out.write((n >>> 8) & 0xFF);
            out.write((n >>> 16) & 0xFF);
            out.write(sequence);
            sequence = (sequence + 1) & 0xFF;
            out.write(payload, pos, n);
            pos += n;
            remaining -= n;
            // A payload that is an exact multiple of the chunk size ends with an empty packet.
            if (n < MAX_CHUNK) {
                break;
            }
        }
        out.flush();
    }
}
