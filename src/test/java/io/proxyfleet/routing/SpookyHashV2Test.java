package io.proxyfleet.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpookyHashV2Test {

    /** The reference test table: message i is bytes (128, 129, ...) of length i, seed 0, low 32 bits of h1. */
    @Test
    void matchesTheReferenceTableForEveryLengthUpTo511() throws IOException {
        List<String> expected;
        try (InputStream in = SpookyHashV2Test.class.getResourceAsStream("spooky-v2-hash32.txt")) {
            expected = new String(in.readAllBytes(), StandardCharsets.US_ASCII).lines().toList();
        }
        assertThat(expected).hasSize(512);
        byte[] buf = new byte[512];
        for (int i = 0; i < 512; i++) {
            buf[i] = (byte) (i + 128);
            long h = SpookyHashV2.hash64(buf, 0, i, 0);
            assertThat(String.format("0x%08x", (int) h)).as("length %d", i).isEqualTo(expected.get(i));
        }
    }

    @Test
    void hashesOnlyTheGivenSlice() {
        byte[] whole = "xxSELECT ?yy".getBytes(StandardCharsets.US_ASCII);
        byte[] exact = "SELECT ?".getBytes(StandardCharsets.US_ASCII);
        assertThat(SpookyHashV2.hash64(whole, 2, exact.length, 0))
                .isEqualTo(SpookyHashV2.hash64(exact, 0, exact.length, 0));
    }
}
