package io.proxyfleet.monitor;

import io.proxyfleet.protocol.client.MysqlErrorException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;

/** How check durations and failures are written into the log tables. Stateless. */
final class CheckErrors {
    private CheckErrors() {
    }

    /** Microseconds since {@code startNanos}, at least 1 so a success never reads as the 0 of a failure. */
    static long micros(long startNanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos));
    }

    /** The error text as the log tables show it: the server's own message for ERR packets. */
    static String message(Exception e) {
        if (e instanceof MysqlErrorException err) {
            return err.serverMessage();
        }
        if (e instanceof SocketTimeoutException) {
            return "timeout: " + e.getMessage();
        }
        String text = e.getMessage();
        return text == null ? e.getClass().getSimpleName() : text;
    }
}
