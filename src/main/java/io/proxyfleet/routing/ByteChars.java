package io.proxyfleet.routing;

import java.nio.charset.StandardCharsets;

/**
 * A re-pointable {@link CharSequence} over a slice of bytes that are known to be ASCII, so that regexes can run
 * over query bytes without decoding them into a new {@code String} per query. Callers must only point it at ASCII
 * bytes (they decode real UTF-8 themselves); each byte is one char.
 *
 * <p>Mutable; owned by the single thread that owns the enclosing {@link QueryContext} or {@link QueryDigest}.
 */
final class ByteChars implements CharSequence {
    private byte[] bytes = new byte[0];
    private int offset;
    private int length;

    void point(byte[] b, int off, int len) {
        this.bytes = b;
        this.offset = off;
        this.length = len;
    }

    byte[] bytes() {
        return bytes;
    }

    int offset() {
        return offset;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public char charAt(int index) {
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException(index);
        }
        return (char) (bytes[offset + index] & 0xFF);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        if (start < 0 || end > length || start > end) {
            throw new IndexOutOfBoundsException("[" + start + ", " + end + ") of " + length);
        }
        return new String(bytes, offset + start, end - start, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }

    /** True when no byte of {@code b[off, off+len)} has its high bit set. */
    static boolean isAscii(byte[] b, int off, int len) {
        int acc = 0;
        for (int i = off, end = off + len; i < end; i++) {
            acc |= b[i];
        }
        return acc >= 0;
    }
}
