package io.proxyfleet.login;

import io.proxyfleet.protocol.AuthPlugins;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * caching_sha2_password's server-side cache: users who completed a full authentication may use the fast path
 * afterwards. An entry is tied to the password it was made with, so a password change forces a full
 * authentication again. Shared by all event loops.
 */
public final class Sha2Cache {
    private final Map<String, byte[]> entries = new ConcurrentHashMap<>();

    boolean contains(String username, String password) {
        byte[] entry = entries.get(username);
        return entry != null && MessageDigest.isEqual(entry, fingerprint(password));
    }

    void remember(String username, String password) {
        entries.put(username, fingerprint(password));
    }

    private static byte[] fingerprint(String password) {
        return AuthPlugins.nativeStage2(AuthPlugins.nativeStage1(password));
    }
}
