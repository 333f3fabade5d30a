package io.proxyfleet.login;

import io.proxyfleet.protocol.AuthPlugins;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import javax.crypto.Cipher;

/**
 * The RSA key pair caching_sha2_password uses to receive a password over an unencrypted connection. Generated
 * once per process, on first use (or by {@link #warmUp} at start-up, off the event loops). Generating it takes
 * hundreds of milliseconds of CPU in a fresh JVM, so start-up runs it on a thread of its own
 * ({@link #warmUpInBackground}); a client that needs the key sooner waits for the class initialization.
 */
public final class Sha2Rsa {
    private static final int KEY_BITS = 2048;

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

    /** {@link #warmUp} on a daemon thread, so that listeners open without waiting for the key. */
    public static void warmUpInBackground() {
        Thread.ofPlatform().daemon().name("proxyfleet-sha2-rsa-key").start(Sha2Rsa::warmUp);
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
