package io.proxyfleet.routing;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Bob Jenkins' SpookyHash V2 {@code Hash64}, as ProxySQL computes query digests ({@code Hash64(digest_text, len,
 * 0)}), without allocating. The project's shared implementation, {@link io.proxyfleet.config.checksum.SpookyHashV2},
 * returns both halves in a new {@code long[]} per call; this per-query path runs on event loops for every query,
 * so it keeps its own allocation-free copy of the function. {@code DigestHashTest} checks the two agree.
 *
 * <p>Stateless; safe from any thread. Words are read little-endian, as on the x86-64 machines whose digests we
 * must reproduce bit for bit.
 */
final class DigestHash {
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** A constant that is not zero, odd, and a "random" mix of 0s and 1s (from the reference design). */
    private static final long SC_CONST = 0xdeadbeefdeadbeefL;
    private static final int NUM_VARS = 12;
    private static final int BLOCK_SIZE = NUM_VARS * 8;
    /** Messages shorter than two blocks take the cheaper short path. */
    private static final int BUF_SIZE = 2 * BLOCK_SIZE;

    private DigestHash() {
    }

    /** The first 64-bit half of the 128-bit hash of {@code msg[off, off+len)} with both seeds set to {@code seed}. */
    static long hash64(byte[] msg, int off, int len, long seed) {
        if (len < BUF_SIZE) {
            return shortHash(msg, off, len, seed, seed);
        }
        return longHash(msg, off, len, seed, seed);
    }

    private static long word(byte[] b, int pos) {
        return (long) LONG_LE.get(b, pos);
    }

    private static long uint(byte[] b, int pos) {
        return Integer.toUnsignedLong((int) INT_LE.get(b, pos));
    }

    private static long ubyte(byte[] b, int pos) {
        return b[pos] & 0xFFL;
    }

    private static long shortHash(byte[] msg, int off, int len, long seed1, long seed2) {
        long a = seed1;
        long b = seed2;
        long c = SC_CONST;
        long d = SC_CONST;
        int p = off;
        int remainder = len % 32;
        if (len > 15) {
            int end = off + (len / 32) * 32;
            for (; p < end; p += 32) {
                c += word(msg, p);
                d += word(msg, p + 8);
                // ShortMix
                c = Long.rotateLeft(c, 50); c += d; a ^= c;
                d = Long.rotateLeft(d, 52); d += a; b ^= d;
                a = Long.rotateLeft(a, 30); a += b; c ^= a;
                b = Long.rotateLeft(b, 41); b += c; d ^= b;
                c = Long.rotateLeft(c, 54); c += d; a ^= c;
                d = Long.rotateLeft(d, 48); d += a; b ^= d;
                a = Long.rotateLeft(a, 38); a += b; c ^= a;
                b = Long.rotateLeft(b, 37); b += c; d ^= b;
                c = Long.rotateLeft(c, 62); c += d; a ^= c;
                d = Long.rotateLeft(d, 34); d += a; b ^= d;
                a = Long.rotateLeft(a, 5); a += b; c ^= a;
                b = Long.rotateLeft(b, 36); b += c; d ^= b;
                a += word(msg, p + 16);
                b += word(msg, p + 24);
            }
            if (remainder >= 16) {
                c += word(msg, p);
                d += word(msg, p + 8);
                c = Long.rotateLeft(c, 50); c += d; a ^= c;
                d = Long.rotateLeft(d, 52); d += a; b ^= d;
                a = Long.rotateLeft(a, 30); a += b; c ^= a;
                b = Long.rotateLeft(b, 41); b += c; d ^= b;
                c = Long.rotateLeft(c, 54); c += d; a ^= c;
                d = Long.rotateLeft(d, 48); d += a; b ^= d;
                a = Long.rotateLeft(a, 38); a += b; c ^= a;
                b = Long.rotateLeft(b, 37); b += c; d ^= b;
                c = Long.rotateLeft(c, 62); c += d; a ^= c;
                d = Long.rotateLeft(d, 34); d += a; b ^= d;
                a = Long.rotateLeft(a, 5); a += b; c ^= a;
                b = Long.rotateLeft(b, 36); b += c; d ^= b;
                p += 16;
                remainder -= 16;
            }
        }
        d += ((long) len) << 56;
        switch (remainder) {
            case 15, 14, 13, 12 -> {
                if (remainder >= 15) {
                    d += ubyte(msg, p + 14) << 48;
                }
                if (remainder >= 14) {
                    d += ubyte(msg, p + 13) << 40;
                }
                if (remainder >= 13) {
                    d += ubyte(msg, p + 12) << 32;
                }
                d += uint(msg, p + 8);
                c += word(msg, p);
            }
            case 11, 10, 9, 8 -> {
                if (remainder >= 11) {
                    d += ubyte(msg, p + 10) << 16;
                }
                if (remainder >= 10) {
                    d += ubyte(msg, p + 9) << 8;
                }
                if (remainder >= 9) {
                    d += ubyte(msg, p + 8);
                }
                c += word(msg, p);
            }
            case 7, 6, 5, 4 -> {
                if (remainder >= 7) {
                    c += ubyte(msg, p + 6) << 48;
                }
                if (remainder >= 6) {
                    c += ubyte(msg, p + 5) << 40;
                }
                if (remainder >= 5) {
                    c += ubyte(msg, p + 4) << 32;
                }
                c += uint(msg, p);
            }
            case 3, 2, 1 -> {
                if (remainder >= 3) {
                    c += ubyte(msg, p + 2) << 16;
                }
                if (remainder >= 2) {
                    c += ubyte(msg, p + 1) << 8;
                }
                c += ubyte(msg, p);
            }
            default -> {
                c += SC_CONST;
                d += SC_CONST;
            }
        }
        // ShortEnd
        d ^= c; c = Long.rotateLeft(c, 15); d += c;
        a ^= d; d = Long.rotateLeft(d, 52); a += d;
        b ^= a; a = Long.rotateLeft(a, 26); b += a;
        c ^= b; b = Long.rotateLeft(b, 51); c += b;
        d ^= c; c = Long.rotateLeft(c, 28); d += c;
        a ^= d; d = Long.rotateLeft(d, 9); a += d;
        b ^= a; a = Long.rotateLeft(a, 47); b += a;
        c ^= b; b = Long.rotateLeft(b, 54); c += b;
        d ^= c; c = Long.rotateLeft(c, 32); d += c;
        a ^= d; d = Long.rotateLeft(d, 25); a += d;
        b ^= a; a = Long.rotateLeft(a, 63); b += a;
        return a;
    }

    /** Reads word {@code i} of the final partial block: message bytes, zero padding, remainder in the last byte. */
    private static long tailWord(byte[] msg, int blockStart, int remainder, int i) {
        int start = i * 8;
        long w;
        if (start + 8 <= remainder) {
            w = word(msg, blockStart + start);
        } else {
            w = 0;
            for (int k = 0; k < 8 && start + k < remainder; k++) {
                w |= ubyte(msg, blockStart + start + k) << (8 * k);
            }
        }
        if (i == NUM_VARS - 1) {
            w |= ((long) remainder) << 56;
        }
        return w;
    }

    private static long longHash(byte[] msg, int off, int len, long seed1, long seed2) {
        long h0 = seed1, h3 = seed1, h6 = seed1, h9 = seed1;
        long h1 = seed2, h4 = seed2, h7 = seed2, h10 = seed2;
        long h2 = SC_CONST, h5 = SC_CONST, h8 = SC_CONST, h11 = SC_CONST;
        int blocks = len / BLOCK_SIZE;
        int p = off;
        for (int blk = 0; blk < blocks; blk++, p += BLOCK_SIZE) {
            h0 += word(msg, p); h2 ^= h10; h11 ^= h0; h0 = Long.rotateLeft(h0, 11); h11 += h1;
            h1 += word(msg, p + 8); h3 ^= h11; h0 ^= h1; h1 = Long.rotateLeft(h1, 32); h0 += h2;
            h2 += word(msg, p + 16); h4 ^= h0; h1 ^= h2; h2 = Long.rotateLeft(h2, 43); h1 += h3;
            h3 += word(msg, p + 24); h5 ^= h1; h2 ^= h3; h3 = Long.rotateLeft(h3, 31); h2 += h4;
            h4 += word(msg, p + 32); h6 ^= h2; h3 ^= h4; h4 = Long.rotateLeft(h4, 17); h3 += h5;
            h5 += word(msg, p + 40); h7 ^= h3; h4 ^= h5; h5 = Long.rotateLeft(h5, 28); h4 += h6;
            h6 += word(msg, p + 48); h8 ^= h4; h5 ^= h6; h6 = Long.rotateLeft(h6, 39); h5 += h7;
            h7 += word(msg, p + 56); h9 ^= h5; h6 ^= h7; h7 = Long.rotateLeft(h7, 57); h6 += h8;
            h8 += word(msg, p + 64); h10 ^= h6; h7 ^= h8; h8 = Long.rotateLeft(h8, 55); h7 += h9;
            h9 += word(msg, p + 72); h11 ^= h7; h8 ^= h9; h9 = Long.rotateLeft(h9, 54); h8 += h10;
            h10 += word(msg, p + 80); h0 ^= h8; h9 ^= h10; h10 = Long.rotateLeft(h10, 22); h9 += h11;
            h11 += word(msg, p + 88); h1 ^= h9; h10 ^= h11; h11 = Long.rotateLeft(h11, 46); h10 += h0;
        }
        int remainder = len - blocks * BLOCK_SIZE;
        h0 += tailWord(msg, p, remainder, 0);
        h1 += tailWord(msg, p, remainder, 1);
        h2 += tailWord(msg, p, remainder, 2);
        h3 += tailWord(msg, p, remainder, 3);
        h4 += tailWord(msg, p, remainder, 4);
        h5 += tailWord(msg, p, remainder, 5);
        h6 += tailWord(msg, p, remainder, 6);
        h7 += tailWord(msg, p, remainder, 7);
        h8 += tailWord(msg, p, remainder, 8);
        h9 += tailWord(msg, p, remainder, 9);
        h10 += tailWord(msg, p, remainder, 10);
        h11 += tailWord(msg, p, remainder, 11);
        for (int round = 0; round < 3; round++) {
            h11 += h1; h2 ^= h11; h1 = Long.rotateLeft(h1, 44);
            h0 += h2; h3 ^= h0; h2 = Long.rotateLeft(h2, 15);
            h1 += h3; h4 ^= h1; h3 = Long.rotateLeft(h3, 34);
            h2 += h4; h5 ^= h2; h4 = Long.rotateLeft(h4, 21);
            h3 += h5; h6 ^= h3; h5 = Long.rotateLeft(h5, 38);
            h4 += h6; h7 ^= h4; h6 = Long.rotateLeft(h6, 33);
            h5 += h7; h8 ^= h5; h7 = Long.rotateLeft(h7, 10);
            h6 += h8; h9 ^= h6; h8 = Long.rotateLeft(h8, 13);
            h7 += h9; h10 ^= h7; h9 = Long.rotateLeft(h9, 38);
            h8 += h10; h11 ^= h8; h10 = Long.rotateLeft(h10, 53);
            h9 += h11; h0 ^= h9; h11 = Long.rotateLeft(h11, 42);
            h10 += h0; h1 ^= h10; h0 = Long.rotateLeft(h0, 54);
        }
        return h0;
    }
}
