package io.proxyfleet.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.checksum.SpookyHashV2;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DigestHashTest {

    /** Same function as the shared implementation (which is checked against the reference vectors). */
    @Test
    void agreesWithTheSharedSpookyHashForEveryLengthAndSeed() {
        byte[] buf = new byte[700];
        for (int i = 0; i < buf.length; i++) {
            buf[i] = (byte) (i * 31 + 7);
        }
        for (int len = 0; len <= 600; len++) {
            for (long seed : new long[] {0, 1, 0xdeadbeefL}) {
                assertThat(DigestHash.hash64(buf, 3, len, seed)).as("length %d seed %d", len, seed)
                        .isEqualTo(SpookyHashV2.hash64(buf, 3, len, seed));
            }
        }
    }

    @Test
    void matchesTheReferenceVectorForTheEmptyMessage() {
        // SpookyHash V2 test table, entry 0: Hash32 of the empty message with seed 0.
        assertThat((int) DigestHash.hash64(new byte[0], 0, 0, 0)).isEqualTo(0x6bf50919);
        byte[] text = "SELECT c FROM sbtest1 WHERE id=?".getBytes(StandardCharsets.US_ASCII);
        assertThat(DigestHash.hash64(text, 0, text.length, 0)).isEqualTo(0xBF001A0C13781C1DL);
    }
}
