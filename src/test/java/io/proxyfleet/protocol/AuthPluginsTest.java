package io.proxyfleet.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class AuthPluginsTest {
    /** PASSWORD('password') as MySQL and MariaDB print it. */
    private static final String PASSWORD_HASH = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19";
    private static final byte[] SCRAMBLE = "0123456789abcdefghij".getBytes(StandardCharsets.US_ASCII);

    @Test
    void nativeHashOfPasswordMatchesTheServersPasswordFunction() {
        byte[] stage2 = AuthPlugins.nativeStage2(AuthPlugins.nativeStage1("password"));
        assertThat(AuthPlugins.formatNativeHash(stage2)).isEqualTo(PASSWORD_HASH);
        assertThat(AuthPlugins.parseNativeHash(PASSWORD_HASH)).isEqualTo(stage2);
    }

    @Test
    void nativeScrambleIsVerifiedAgainstTheStoredHashAndYieldsStage1() {
        byte[] stage1 = AuthPlugins.nativeStage1("password");
        byte[] response = AuthPlugins.nativeScramble(stage1, SCRAMBLE);
        assertThat(response).hasSize(AuthPlugins.SCRAMBLE_LENGTH);
        byte[] proven = AuthPlugins.nativeVerify(AuthPlugins.parseNativeHash(PASSWORD_HASH), SCRAMBLE, response);
        assertThat(proven).isEqualTo(stage1);
    }

    @Test
    void nativeScrambleFollowsTheDocumentedFormula() throws Exception {
        // SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))), computed here independently.
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        byte[] p1 = sha1.digest("secret".getBytes(StandardCharsets.UTF_8));
        byte[] p2 = sha1.digest(p1);
        sha1.update(SCRAMBLE);
        byte[] mix = sha1.digest(p2);
        byte[] expected = new byte[p1.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (byte) (p1[i] ^ mix[i]);
        }
        assertThat(AuthPlugins.nativeScramble(AuthPlugins.nativeStage1("secret"), SCRAMBLE)).isEqualTo(expected);
    }

    @Test
    void wrongPasswordsAndMalformedResponsesAreRejected() {
        byte[] stored = AuthPlugins.parseNativeHash(PASSWORD_HASH);
        byte[] wrong = AuthPlugins.nativeScramble(AuthPlugins.nativeStage1("Password"), SCRAMBLE);
        assertThat(AuthPlugins.nativeVerify(stored, SCRAMBLE, wrong)).isNull();
        byte[] otherScramble = "jihgfedcba9876543210".getBytes(StandardCharsets.US_ASCII);
        byte[] replayed = AuthPlugins.nativeScramble(AuthPlugins.nativeStage1("password"), otherScramble);
        assertThat(AuthPlugins.nativeVerify(stored, SCRAMBLE, replayed)).isNull();
        assertThat(AuthPlugins.nativeVerify(stored, SCRAMBLE, new byte[0])).isNull();
        assertThat(AuthPlugins.nativeVerify(stored, SCRAMBLE, new byte[19])).isNull();
    }

    @Test
    void emptyPasswordSendsAnEmptyResponse() {
        assertThat(AuthPlugins.nativeScramble(null, SCRAMBLE)).isEmpty();
        assertThat(AuthPlugins.sha2Scramble("", SCRAMBLE)).isEmpty();
    }

    @Test
    void sha2ScrambleFollowsTheDocumentedFormula() throws Exception {
        // SHA256(pwd) XOR SHA256(SHA256(SHA256(pwd)) + scramble), computed here independently.
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        byte[] p1 = sha256.digest("secret".getBytes(StandardCharsets.UTF_8));
        byte[] p2 = sha256.digest(p1);
        sha256.update(p2);
        byte[] p3 = sha256.digest(SCRAMBLE);
        byte[] expected = new byte[p1.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (byte) (p1[i] ^ p3[i]);
        }
        byte[] actual = AuthPlugins.sha2Scramble("secret", SCRAMBLE);
        assertThat(HexFormat.of().formatHex(actual)).isEqualTo(HexFormat.of().formatHex(expected));
        assertThat(AuthPlugins.sha2Verify("secret", SCRAMBLE, actual)).isTrue();
        assertThat(AuthPlugins.sha2Verify("Secret", SCRAMBLE, actual)).isFalse();
    }

    @Test
    void xorWithScrambleRepeatsTheScrambleCyclically() {
        byte[] input = new byte[45];
        byte[] out = AuthPlugins.xorWithScramble(input, SCRAMBLE);
        for (int i = 0; i < input.length; i++) {
            assertThat(out[i]).isEqualTo(SCRAMBLE[i % AuthPlugins.SCRAMBLE_LENGTH]);
        }
        assertThat(AuthPlugins.xorWithScramble(out, SCRAMBLE)).isEqualTo(input);
    }

    @Test
    void newScrambleIsPrintableWithoutNulAndFresh() {
        byte[] a = AuthPlugins.newScramble();
        byte[] b = AuthPlugins.newScramble();
        assertThat(a).hasSize(AuthPlugins.SCRAMBLE_LENGTH).doesNotContain((byte) 0);
        for (byte each : a) {
            assertThat(each).isBetween((byte) 0x21, (byte) 0x7e);
        }
        assertThat(a).isNotEqualTo(b);
    }
}
