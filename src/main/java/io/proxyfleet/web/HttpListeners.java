package io.proxyfleet.web;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;

/**
 * What the REST port and the web dashboard share around their JDK HTTP servers: where they listen (the admin
 * interface), the bounded pool their requests run on, and how a port they cannot bind is reported. Stateless;
 * called by each server's start-up, on whichever thread reconfigures it.
 */
public final class HttpListeners {
    /** Where to listen when admin-mysql_ifaces names only unix sockets. */
    private static final String ANY_HOST = "0.0.0.0";

    private HttpListeners() {
    }

    /**
     * The host of the first {@code host:port} entry of admin-mysql_ifaces (unix sockets have no colon), without
     * the brackets of an IPv6 literal: the HTTP servers are exposed exactly where the admin port is.
     */
    public static String adminHost(String ifaces) {
        for (String entry : ifaces.split(";")) {
            String trimmed = entry.trim();
            int colon = trimmed.lastIndexOf(':');
            if (colon > 0) {
                String host = trimmed.substring(0, colon);
                return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
            }
        }
        return ANY_HOST;
    }

    /**
     * A fixed pool of daemon platform threads named {@code namePrefix-N} with a bounded queue: when both are full
     * the pool rejects the request and the JDK server closes that connection and goes on serving, so a flood can
     * neither grow threads nor memory.
     */
    public static ThreadPoolExecutor boundedWorkers(int threads, int queuedRequests, String namePrefix) {
        var count = new AtomicInteger();
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queuedRequests),
                r -> Thread.ofPlatform().daemon().name(namePrefix + "-" + count.incrementAndGet()).unstarted(r));
    }

    /** Logs a port that cannot be bound: the node goes on without that server until the next load. */
    public static void logCannotListen(Logger log, String server, String variable, String host, String port,
                                       Exception e) {
        log.error("Cannot start the {} on {}:{} ({}): {}. The node goes on without it; free the port or change {},"
                + " then LOAD ADMIN VARIABLES TO RUNTIME", server, host, port, variable, e.getMessage(), variable);
    }
}
