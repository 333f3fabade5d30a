package io.proxyfleet.config.checksum;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpookyHashV2Test {

    /** Bob Jenkins' published reference values: low 32 bits of Hash128(buf, i, 0, 0), buf[k] = k + 128. */
    private static long[] referenceHash32() throws IOException {
        try (InputStream in = SpookyHashV2Test.class.getResourceAsStream("spooky-v2-hash32.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return text.lines()
                    .filter(l -> !l.startsWith("#"))
                    .flatMap(l -> Arrays.stream(l.split(",")))
                    .map(String::strip)
                    .filter(s -> !s.isEmpty())
                    .mapToLong(s -> Long.parseLong(s.substring(2), 16))
                    .toArray();
        }
    }

    private static byte[] referenceBuffer(int n) {
        byte[] buf = new byte[n];
        for (int k = 0; k < n; k++) {
            buf[k] = (byte) (k + 128);
        }
        return buf;
    }

    @Test
    void matchesThePublishedReferenceVectorsOnShortAndLongPaths() throws IOException {
        long[] expected = referenceHash32();
        assertThat(expected).hasSize(512);
        byte[] buf = referenceBuffer(expected.length);
        for (int len = 0; len < expected.length; len++) {
            long h1 = SpookyHashV2.hash128(buf, 0, len, 0, 0)[0];
            assertThat(h1 & 0xFFFF_FFFFL).as("length %d", len).isEqualTo(expected[len]);
            assertThat(SpookyHashV2.hash64(buf, 0, len, 0)).as("hash64 length %d", len).isEqualTo(h1);
        }
    }

    @Test
    void incrementalMatchesThePublishedVectorsToo() throws IOException {
        long[] expected = referenceHash32();
        byte[] buf = referenceBuffer(expected.length);
        for (int len = 0; len < expected.length; len++) {
            SpookyHashV2 h = new SpookyHashV2(0, 0);
            for (int i = 0; i < len; i++) {
                h.update(buf, i, 1);
            }
            assertThat(h.finalH1() & 0xFFFF_FFFFL).as("byte by byte, length %d", len).isEqualTo(expected[len]);
        }
    }

    @Test
    void fullHalvesOfShortMessagesMatchIndependentVectors() {
        // 128-bit values of prefixes of "0123456789abcdefghijklmnopqrstuvwxyz", seeds 0/0, as {h1 low, h1 high,
        // h2 low, h2 high}: these also pin the second half, which the 32-bit table does not cover.
        byte[] data = "0123456789abcdefghijklmnopqrstuvwxyz".getBytes(StandardCharsets.US_ASCII);
        int[][] expected = {
                {0x6bf50919, 0x232706fc, 0xb4e851c7, 0x8b72ee65},
                {0xd54ec67e, 0x50209687, 0x8df1cf6d, 0x62fe8510},
                {0x620725dd, 0x16133104, 0xa7182e6a, 0xa5ca36af},
                {0x964b80ad, 0xe2d06846, 0xc75c4c20, 0x6005068a},
                {0x07c32f38, 0xb7c97db8, 0x0adef63d, 0x51072323},
        };
        int[] lengths = {0, 1, 7, 16, 36};
        for (int i = 0; i < lengths.length; i++) {
            long[] h = SpookyHashV2.hash128(data, 0, lengths[i], 0, 0);
            assertThat(new int[] {(int) h[0], (int) (h[0] >>> 32), (int) h[1], (int) (h[1] >>> 32)})
                    .as("prefix length %d", lengths[i]).containsExactly(expected[i]);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15, 16, 31, 32, 95, 96, 191, 192, 193, 287, 288, 383, 384, 500, 1023})
    void incrementalSplitAtEveryOffsetEqualsOneShot(int len) {
        byte[] buf = new byte[len + 7];
        for (int i = 0; i < buf.length; i++) {
            buf[i] = (byte) (i * 31 + 7);
        }
        int off = 5;
        long[] oneShot = SpookyHashV2.hash128(buf, off, len, 19, 3);
        for (int split = 0; split <= len; split++) {
            SpookyHashV2 h = new SpookyHashV2(19, 3)
                    .update(buf, off, split)
                    .update(buf, off + split, 0)
                    .update(buf, off + split, len - split);
            assertThat(new long[] {h.finalH1(), h.finalH2()}).as("split %d of %d", split, len)
                    .containsExactly(oneShot);
        }
    }

    @Test
    void threeWayIncrementalSplitsEqualOneShotAcrossBlockBoundaries() {
        byte[] buf = new byte[600];
        for (int i = 0; i < buf.length; i++) {
            buf[i] = (byte) (i ^ 0x5A);
        }
        for (int len : List.of(200, 300, 600)) {
            long[] oneShot = SpookyHashV2.hash128(buf, 0, len, 1, 2);
            for (int a = 0; a <= len; a += 13) {
                for (int b = a; b <= len; b += 29) {
                    SpookyHashV2 h = new SpookyHashV2(1, 2)
                            .update(buf, 0, a).update(buf, a, b - a).update(buf, b, len - b);
                    assertThat(h.finish()).as("len %d splits %d/%d", len, a, b).containsExactly(oneShot);
                }
            }
        }
    }

    @Test
    void finishingDoesNotConsumeTheState() {
        byte[] buf = referenceBuffer(300);
        SpookyHashV2 h = new SpookyHashV2(9, 5).update(buf, 0, 250);
        long first = h.finalH1();
        assertThat(h.finalH1()).isEqualTo(first);
        h.update(buf, 250, 50);
        assertThat(h.finalH1()).isEqualTo(SpookyHashV2.hash128(buf, 0, 300, 9, 5)[0]);
    }

    @Test
    void seedsChangeTheResult() {
        byte[] buf = referenceBuffer(10);
        assertThat(SpookyHashV2.hash128(buf, 0, 10, 19, 3)).isNotEqualTo(SpookyHashV2.hash128(buf, 0, 10, 9, 5));
    }
}
