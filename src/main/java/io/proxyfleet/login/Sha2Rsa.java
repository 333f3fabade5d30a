package io.proxyfleet.login;

import io.proxyfleet.protocol.AuthPlugins;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;

/**
 * The RSA key pair caching_sha2_password uses to receive a password over an unencrypted connection. Generated
 * once per process, on first use (or by {@link #warmUp}, off the event loops). Generating it takes hundreds of
 * milliseconds of CPU in a fresh JVM, and the C2 compiler as much again for {@code BigInteger}: a thread of its own
 * does it once the node has started ({@link #warmUpAfterStart}), so that it does not compete with start-up for the
 * CPU; a client that needs the key sooner waits for the class initialization.
 */
public final class Sha2Rsa {
    private static final int KEY_BITS = 2048;
    /** Start-up takes 1 to 3 s of CPU on 2 cores; the key comes after it, long before most clients need it. */
    private static final long WARM_UP_DELAY_MS = 3_000;

    private Sha2Rsa() {
    }

    private static final class Holder {
        static final KeyPair KEYS = generate();
        static final String PEM = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(KEYS.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";

        private static KeyPair generate() {
            try {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(KEY_BITS);
                return generator.generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("RSA is part of every Java platform", e);
            }
        }
    }

    public static void warmUp() {
        publicKeyPem();
    }

    /** {@link #warmUp} on a daemon thread a few seconds from now, so that listeners open without the key. */
    public static void warmUpAfterStart() {
        CompletableFuture.delayedExecutor(WARM_UP_DELAY_MS, TimeUnit.MILLISECONDS,
                        task -> Thread.ofPlatform().daemon().name("proxyfleet-sha2-rsa-key").start(task))
                .execute(Sha2Rsa::warmUp);
    }

    static String publicKeyPem() {
        return Holder.PEM;
    }

    /**
     * Decrypts an RSA-encrypted password and undoes the XOR with the scramble; garbage in gives garbage out.
     * Clients use OAEP padding, except Connector/J talking to a server that announces a version below 8.0.5,
     * which uses PKCS#1 v1.5, so both are accepted.
     */
    static byte[] decrypt(byte[] encrypted, byte[] scramble) {
        for (String transformation : new String[] {"RSA/ECB/OAEPWithSHA-1AndMGF1Padding", "RSA/ECB/PKCS1Padding"}) {
            try {
                Cipher cipher = Cipher.getInstance(transformation);
                cipher.init(Cipher.DECRYPT_MODE, Holder.KEYS.getPrivate());
                return AuthPlugins.xorWithScramble(cipher.doFinal(encrypted), scramble);
            } catch (GeneralSecurityException e) {
                // try the next padding
            }
        }
        return new byte[0];
    }
}
