package io.proxyfleet.config.checksum;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * Bob Jenkins' SpookyHash V2 (128-bit), the hash ProxySQL uses for every configuration checksum.
 *
 * <p>Written from the public description of the algorithm: messages shorter than {@value #BUFFER_SIZE} bytes take
 * the "short" path (4 lanes of 64 bits); longer ones are mixed in blocks of {@value #BLOCK_SIZE} bytes over 12 lanes.
 * All words are read little-endian, whatever the platform, so results equal the x86-64 reference.
 *
 * <p>An instance is an incremental hasher: {@link #update} any number of times, then {@link #finalH1()} /
 * {@link #finalH2()} (which do not change the state, so more bytes may still be added). The result equals the
 * one-shot {@link #hash128} over the concatenation of all updates.
 *
 * <p>Threading: an instance is confined to the thread that uses it (not thread-safe); the static methods are pure.
 */
public final class SpookyHashV2 {

    /** Number of 64-bit lanes of the long-message state. */
    private static final int LANES = 12;
    /** Bytes consumed by one long-path mix round. */
    static final int BLOCK_SIZE = LANES * Long.BYTES;
    /** Messages shorter than this take the short path; also the incremental buffer size. */
    static final int BUFFER_SIZE = 2 * BLOCK_SIZE;
    /** An odd constant with irregular bits that seeds the lanes not given by the caller. */
    private static final long ARBITRARY = 0xdeadbeefdeadbeefL;

    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final long seed1;
    private final long seed2;
    /** Long-path lanes, valid only once {@link #totalLength} reached {@link #BUFFER_SIZE}. */
    private final long[] lanes = new long[LANES];
    /** Bytes not yet mixed; fewer than {@link #BUFFER_SIZE}. */
    private final byte[] pending = new byte[BUFFER_SIZE];
    private int pendingLength;
    private long totalLength;

    /** Starts an incremental hash, like the reference {@code Init(seed1, seed2)}. */
    public SpookyHashV2(long seed1, long seed2) {
        this.seed1 = seed1;
        this.seed2 = seed2;
    }

    /** Adds {@code len} bytes of {@code b} from {@code off}; a zero length adds nothing. */
    public SpookyHashV2 update(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        if (pendingLength + len < BUFFER_SIZE) {
            System.arraycopy(b, off, pending, pendingLength, len);
            pendingLength += len;
            totalLength += len;
            return this;
        }
        if (totalLength < BUFFER_SIZE) {
            initLanes(lanes, seed1, seed2);
        }
        totalLength += len;
        int pos = off;
        int remaining = len;
        if (pendingLength > 0) {
            // Fill the buffer up to two whole blocks and mix them before touching the caller's array directly.
            int fill = BUFFER_SIZE - pendingLength;
            System.arraycopy(b, pos, pending, pendingLength, fill);
            mix(pending, 0, lanes);
            mix(pending, BLOCK_SIZE, lanes);
            pos += fill;
            remaining -= fill;
        }
        while (remaining >= BLOCK_SIZE) {
            mix(b, pos, lanes);
            pos += BLOCK_SIZE;
            remaining -= BLOCK_SIZE;
        }
        System.arraycopy(b, pos, pending, 0, remaining);
        pendingLength = remaining;
        return this;
    }

    /** Convenience for {@code update(b, 0, b.length)}. */
    public SpookyHashV2 update(byte[] b) {
        return update(b, 0, b.length);
    }

    /** First 64-bit half of the hash of everything added so far (the half ProxySQL uses). */
    public long finalH1() {
        return finish()[0];
    }

    /** Second 64-bit half of the hash of everything added so far. */
    public long finalH2() {
        return finish()[1];
    }

    /** Both halves, {@code {h1, h2}}. */
    public long[] finish() {
        if (totalLength < BUFFER_SIZE) {
            return shortHash(pending, 0, pendingLength, seed1, seed2);
        }
        long[] h = lanes.clone();
        byte[] tail = Arrays.copyOf(pending, BUFFER_SIZE);
        int tailOffset = 0;
        int tailLength = pendingLength;
        if (tailLength >= BLOCK_SIZE) {
            mix(tail, 0, h);
            tailOffset = BLOCK_SIZE;
            tailLength -= BLOCK_SIZE;
        }
        return end(h, lastBlock(tail, tailOffset, tailLength));
    }

    /** One-shot 128-bit hash: {@code {h1, h2}}. */
    public static long[] hash128(byte[] msg, int off, int len, long seed1, long seed2) {
        Objects.checkFromIndexSize(off, len, msg.length);
        if (len < BUFFER_SIZE) {
            return shortHash(msg, off, len, seed1, seed2);
        }
        long[] h = new long[LANES];
        initLanes(h, seed1, seed2);
        int pos = off;
        int remaining = len;
        while (remaining >= BLOCK_SIZE) {
            mix(msg, pos, h);
            pos += BLOCK_SIZE;
            remaining -= BLOCK_SIZE;
        }
        return end(h, lastBlock(msg, pos, remaining));
    }

    /** One-shot 64-bit hash: the first half of {@code hash128(msg, off, len, seed, seed)}. */
    public static long hash64(byte[] msg, int off, int len, long seed) {
        return hash128(msg, off, len, seed, seed)[0];
    }

    // ---------------------------------------------------------------------------------------------------------
    // Long path

    private static void initLanes(long[] h, long seed1, long seed2) {
        for (int i = 0; i < LANES; i += 3) {
            h[i] = seed1;
            h[i + 1] = seed2;
            h[i + 2] = ARBITRARY;
        }
    }

    /** The final partial block, zero padded, with its length in the very last byte. */
    private static byte[] lastBlock(byte[] src, int off, int len) {
        byte[] block = new byte[BLOCK_SIZE];
        System.arraycopy(src, off, block, 0, len);
        block[BLOCK_SIZE - 1] = (byte) len;
        return block;
    }

    private static long word(byte[] b, int pos) {
        return (long) LONG_LE.get(b, pos);
    }

    private static void mix(byte[] b, int pos, long[] s) {
        // Each step: absorb one word, xor a lane two ahead, rotate by a fixed amount and feed the next lane.
        final int[] rot = MIX_ROTATIONS;
        for (int i = 0; i < LANES; i++) {
            int next = (i + 1) % LANES;
            s[i] += word(b, pos + i * Long.BYTES);
            s[(i + 2) % LANES] ^= s[(i + 10) % LANES];
            s[(i + 11) % LANES] ^= s[i];
            s[i] = Long.rotateLeft(s[i], rot[i]);
            s[(i + 11) % LANES] += s[next];
        }
    }

    private static final int[] MIX_ROTATIONS = {11, 32, 43, 31, 17, 28, 39, 57, 55, 54, 22, 46};

    private static long[] end(long[] h, byte[] block) {
        for (int i = 0; i < LANES; i++) {
            h[i] += word(block, i * Long.BYTES);
        }
        endPartial(h);
        endPartial(h);
        endPartial(h);
        return new long[] {h[0], h[1]};
    }

    private static final int[] END_ROTATIONS = {44, 15, 34, 21, 38, 33, 10, 13, 38, 53, 42, 54};

    private static void endPartial(long[] h) {
        for (int i = 0; i < LANES; i++) {
            int a = (i + 11) % LANES;
            int b = (i + 1) % LANES;
            int c = (i + 2) % LANES;
            h[a] += h[b];
            h[c] ^= h[a];
            h[b] = Long.rotateLeft(h[b], END_ROTATIONS[i]);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Short path (fewer than BUFFER_SIZE bytes)

    private static long[] shortHash(byte[] b, int off, int len, long seed1, long seed2) {
        long h0 = seed1;
        long h1 = seed2;
        long h2 = ARBITRARY;
        long h3 = ARBITRARY;
        int pos = off;
        int remainder = len % 32;
        if (len > 15) {
            int end = off + (len / 32) * 32;
            for (; pos < end; pos += 32) {
                h2 += word(b, pos);
                h3 += word(b, pos + 8);
                long[] m = shortMix(h0, h1, h2, h3);
                h0 = m[0] + word(b, pos + 16);
                h1 = m[1] + word(b, pos + 24);
                h2 = m[2];
                h3 = m[3];
            }
            if (remainder >= 16) {
                h2 += word(b, pos);
                h3 += word(b, pos + 8);
                long[] m = shortMix(h0, h1, h2, h3);
                h0 = m[0];
                h1 = m[1];
                h2 = m[2];
                h3 = m[3];
                pos += 16;
                remainder -= 16;
            }
        }
        h3 += ((long) len) << 56;
        // The last 0..15 bytes: bytes 8.. go into h3, bytes 0..7 into h2, each at its little-endian position.
        if (remainder == 0) {
            h2 += ARBITRARY;
            h3 += ARBITRARY;
        } else if (remainder >= 8) {
            h2 += word(b, pos);
            h3 += partialWord(b, pos + 8, remainder - 8);
        } else {
            h2 += partialWord(b, pos, remainder);
        }
        return shortEnd(h0, h1, h2, h3);
    }

    /** The little-endian value of {@code n < 8} bytes (missing high bytes are zero). */
    private static long partialWord(byte[] b, int pos, int n) {
        long v = 0;
        if (n >= 4) {
            v = Integer.toUnsignedLong((int) INT_LE.get(b, pos));
            for (int i = 4; i < n; i++) {
                v += (b[pos + i] & 0xFFL) << (8 * i);
            }
            return v;
        }
        for (int i = 0; i < n; i++) {
            v += (b[pos + i] & 0xFFL) << (8 * i);
        }
        return v;
    }

    private static final int[] SHORT_MIX_ROTATIONS = {50, 52, 30, 41, 54, 48, 38, 37, 62, 34, 5, 36};

    private static long[] shortMix(long h0, long h1, long h2, long h3) {
        long[] h = {h0, h1, h2, h3};
        for (int i = 0; i < SHORT_MIX_ROTATIONS.length; i++) {
            int x = (i + 2) % 4;
            int y = (i + 3) % 4;
            int z = i % 4;
            h[x] = Long.rotateLeft(h[x], SHORT_MIX_ROTATIONS[i]);
            h[x] += h[y];
            h[z] ^= h[x];
        }
        return h;
    }

    private static final int[] SHORT_END_ROTATIONS = {15, 52, 26, 51, 28, 9, 47, 54, 32, 25, 63};

    private static long[] shortEnd(long h0, long h1, long h2, long h3) {
        long[] h = {h0, h1, h2, h3};
        for (int i = 0; i < SHORT_END_ROTATIONS.length; i++) {
            int x = (i + 3) % 4;
            int y = (i + 2) % 4;
            h[x] ^= h[y];
            h[y] = Long.rotateLeft(h[y], SHORT_END_ROTATIONS[i]);
            h[x] += h[y];
        }
        return new long[] {h[0], h[1]};
    }
}
