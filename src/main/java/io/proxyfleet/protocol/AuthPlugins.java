package io.proxyfleet.protocol;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The password scrambles of mysql_native_password and caching_sha2_password, for both sides of the wire.
 * Stateless and thread-safe.
 *
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_native_password_authentication.html">Native authentication</a>
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html">caching_sha2_password exchanges</a>
 */
public final class AuthPlugins {
    public static final String NATIVE_PASSWORD = "mysql_native_password";
    public static final String CACHING_SHA2_PASSWORD = "caching_sha2_password";
    public static final String CLEAR_PASSWORD = "mysql_clear_password";

    public static final int SCRAMBLE_LENGTH = 20;
    /** caching_sha2_password: the scramble matched the server's cache. */
    public static final int SHA2_FAST_AUTH_SUCCESS = 0x03;
    /** caching_sha2_password: the server needs the password itself (over TLS, or RSA-encrypted). */
    public static final int SHA2_PERFORM_FULL_AUTH = 0x04;
    /** caching_sha2_password: a client without TLS asks for the server's RSA public key. */
    public static final int SHA2_REQUEST_PUBLIC_KEY = 0x02;

    private static final SecureRandom RANDOM = new SecureRandom();

    private AuthPlugins() {
    }

    /** A fresh scramble of printable, non-NUL bytes, as servers send it. */
    public static byte[] newScramble() {
        byte[] scramble = new byte[SCRAMBLE_LENGTH];
        for (int i = 0; i < scramble.length; i++) {
            scramble[i] = (byte) (0x21 + RANDOM.nextInt(0x7e - 0x21));
        }
        return scramble;
    }

    /** SHA1(password): what a native client proves knowledge of, and what a proxy needs to log in upstream. */
    public static byte[] nativeStage1(String password) {
        return sha1(password.getBytes(StandardCharsets.UTF_8));
    }

    /** SHA1(SHA1(password)): what a server stores, printed by PASSWORD() as {@code *HEX}. */
    public static byte[] nativeStage2(byte[] stage1) {
        return sha1(stage1);
    }

    /** Parses the {@code *HEX} form of a stored native password hash. */
    public static byte[] parseNativeHash(String starHex) {
        return HexFormat.of().parseHex(starHex, 1, starHex.length());
    }

    /** Formats a stage-2 hash as MySQL's PASSWORD() does: {@code *} and 40 uppercase hex digits. */
    public static String formatNativeHash(byte[] stage2) {
        return "*" + HexFormat.of().withUpperCase().formatHex(stage2);
    }

    /** The client's native scramble: SHA1(pwd) XOR SHA1(scramble + SHA1(SHA1(pwd))). Empty for no password. */
    public static byte[] nativeScramble(byte[] stage1, byte[] scramble) {
        if (stage1 == null) {
            return new byte[0];
        }
        byte[] stage2 = sha1(stage1);
        byte[] mix = sha1(scramble, 0, SCRAMBLE_LENGTH, stage2);
        return xor(stage1, mix);
    }

    /**
     * Checks a native response against a stored stage-2 hash and, when it matches, returns the stage-1 hash the
     * client proved (so that the proxy can log in to backends without the clear password); {@code null}
     * otherwise. Runs in constant time with respect to the secret.
     */
    public static byte[] nativeVerify(byte[] stage2, byte[] scramble, byte[] response) {
        if (response.length != SCRAMBLE_LENGTH) {
            return null;
        }
        byte[] mix = sha1(scramble, 0, SCRAMBLE_LENGTH, stage2);
        byte[] candidateStage1 = xor(response, mix);
        return MessageDigest.isEqual(sha1(candidateStage1), stage2) ? candidateStage1 : null;
    }

    /** caching_sha2_password's client scramble: SHA256(pwd) XOR SHA256(SHA256(SHA256(pwd)), scramble). */
    public static byte[] sha2Scramble(String password, byte[] scramble) {
        if (password.isEmpty()) {
            return new byte[0];
        }
        byte[] p1 = sha256(password.getBytes(StandardCharsets.UTF_8));
        byte[] p2 = sha256(p1);
        byte[] p3 = sha256(p2, java.util.Arrays.copyOf(scramble, SCRAMBLE_LENGTH));
        return xor(p1, p3);
    }

    /** Checks a caching_sha2_password fast-path response against the clear password, in constant time. */
    public static boolean sha2Verify(String password, byte[] scramble, byte[] response) {
        return MessageDigest.isEqual(sha2Scramble(password, scramble), response);
    }

    /** For RSA full authentication: the NUL-terminated password XORed with the scramble, cyclically. */
    public static byte[] xorWithScramble(byte[] passwordNul, byte[] scramble) {
        byte[] out = new byte[passwordNul.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (passwordNul[i] ^ scramble[i % SCRAMBLE_LENGTH]);
        }
        return out;
    }

    private static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    private static byte[] sha1(byte[] data) {
        return digest("SHA-1").digest(data);
    }

    private static byte[] sha1(byte[] a, int off, int len, byte[] b) {
        MessageDigest md = digest("SHA-1");
        md.update(a, off, Math.min(len, a.length));
        md.update(b);
        return md.digest();
    }

    private static byte[] sha256(byte[] data) {
        return digest("SHA-256").digest(data);
    }

    private static byte[] sha256(byte[] a, byte[] b) {
        MessageDigest md = digest("SHA-256");
        md.update(a);
        md.update(b);
        return md.digest();
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every Java platform", e);
        }
    }
}
