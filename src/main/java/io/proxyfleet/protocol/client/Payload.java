package io.proxyfleet.protocol.client;

import java.nio.charset.StandardCharsets;

/** A cursor over one packet payload, reading MySQL's little-endian and length-encoded types. Thread-confined. */
final class Payload {
    static final int NULL_CELL = 0xFB;
    private final byte[] b;
    private int pos;

    Payload(byte[] b) {
        this.b = b;
    }

    int remaining() {
        return b.length - pos;
    }

    int u8() throws MysqlProtocolException {
        need(1);
        return b[pos++] & 0xFF;
    }

    int peek() throws MysqlProtocolException {
        need(1);
        return b[pos] & 0xFF;
    }

    int u16() throws MysqlProtocolException {
        need(2);
        int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    long u32() throws MysqlProtocolException {
        need(4);
        long v = (b[pos] & 0xFFL) | (b[pos + 1] & 0xFFL) << 8 | (b[pos + 2] & 0xFFL) << 16 | (b[pos + 3] & 0xFFL) << 24;
        pos += 4;
        return v;
    }

    long lenenc() throws MysqlProtocolException {
        int first = u8();
        return switch (first) {
            case 0xFC -> u16();
            case 0xFD -> {
                need(3);
                long v = (b[pos] & 0xFFL) | (b[pos + 1] & 0xFFL) << 8 | (b[pos + 2] & 0xFFL) << 16;
                pos += 3;
                yield v;
            }
            case 0xFE -> {
                need(8);
                long v = 0;
                for (int i = 0; i < 8; i++) {
                    v |= (b[pos + i] & 0xFFL) << (8 * i);
                }
                pos += 8;
                yield v;
            }
            case NULL_CELL, 0xFF -> throw new MysqlProtocolException("invalid length-encoded integer prefix " + first);
            default -> first;
        };
    }

    /** A length-encoded string, or {@code null} for the 0xFB NULL marker of a text row. */
    String lenencStringOrNull() throws MysqlProtocolException {
        if (peek() == NULL_CELL) {
            pos++;
            return null;
        }
        long n = lenenc();
        if (n > remaining()) {
            throw new MysqlProtocolException("string length " + n + " beyond packet end");
        }
        return fixedString((int) n);
    }

    byte[] bytes(int n) throws MysqlProtocolException {
        need(n);
        byte[] v = new byte[n];
        System.arraycopy(b, pos, v, 0, n);
        pos += n;
        return v;
    }

    String fixedString(int n) throws MysqlProtocolException {
        need(n);
        String s = new String(b, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    String nulString() throws MysqlProtocolException {
        int end = pos;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        String s = new String(b, pos, end - pos, StandardCharsets.UTF_8);
        pos = Math.min(end + 1, b.length);
        return s;
    }

    String restAsString() {
        String s = new String(b, pos, b.length - pos, StandardCharsets.UTF_8);
        pos = b.length;
        return s;
    }

    void skip(int n) throws MysqlProtocolException {
        need(n);
        pos += n;
    }

    private void need(int n) throws MysqlProtocolException {
        if (n < 0 || pos + n > b.length) {
            throw new MysqlProtocolException("truncated packet: need " + n + " bytes at " + pos + " of " + b.length);
        }
    }
}
