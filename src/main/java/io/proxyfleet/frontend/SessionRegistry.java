package io.proxyfleet.frontend;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live client sessions of a node, for stats_mysql_processlist, KILL and the connection limits. Sessions
 * register and deregister themselves from their event loops; readers on any thread see a consistent map.
 */
public final class SessionRegistry {
    private final Map<Long, ClientSession> sessions = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> perUser = new ConcurrentHashMap<>();

    void add(ClientSession session) {
        sessions.put(session.id(), session);
    }

    void remove(ClientSession session) {
        sessions.remove(session.id());
    }

    /** Counts a login of {@code user}; returns the user's sessions including this one. */
    int userLoggedIn(String user) {
        return perUser.computeIfAbsent(user, u -> new AtomicInteger()).incrementAndGet();
    }

    void userLoggedOut(String user) {
        AtomicInteger count = perUser.get(user);
        if (count != null) {
            count.decrementAndGet();
        }
    }

    public int size() {
        return sessions.size();
    }

    public int userSessions(String user) {
        AtomicInteger count = perUser.get(user);
        return count == null ? 0 : count.get();
    }

    public Collection<ClientSession> all() {
        return sessions.values();
    }

    public ClientSession get(long id) {
        return sessions.get(id);
    }
}
