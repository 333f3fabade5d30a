package io.proxyfleet.frontend;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SHA1(password) of users whose mysql_users row holds only the {@code *HEX} hash, learned from their clients'
 * successful native logins, so that the proxy can log in to backends as them (ProxySQL does the same).
 * Shared by all event loops.
 */
public final class BackendPasswords {
    private final Map<String, byte[]> stage1ByUser = new ConcurrentHashMap<>();

    void learn(String username, byte[] stage1) {
        stage1ByUser.put(username, stage1);
    }

    byte[] stage1(String username) {
        return stage1ByUser.get(username);
    }
}
