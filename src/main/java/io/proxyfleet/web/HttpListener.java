package io.proxyfleet.web;

import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.RuntimeConfig;
import java.io.IOException;
import org.slf4j.Logger;

/**
 * The lifecycle the REST port and the web dashboard share: one JDK HTTP server that follows an on/off switch and
 * a port among the runtime admin variables, on the host of the first {@code admin-mysql_ifaces} entry.
 * {@link #apply} starts, keeps, moves or stops it; a port that cannot be bound is logged and leaves the server
 * off until the next apply, while the node goes on serving.
 *
 * <p>Threads: {@link #apply} and {@link #close} are synchronized and may block (binding, stopping), so callers
 * run them off the admin thread and the event loops; {@link #port} from any thread.
 */
public final class HttpListener implements AutoCloseable {
    private static final int NOT_BOUND = -1;

    /** Binds and starts the server; when it throws, it has already released whatever it made. */
    @FunctionalInterface
    public interface Starter {
        Running start(String host, int port) throws IOException;
    }

    /** A started server: the port it bound, and how to stop it with whatever runs beside it. */
    public record Running(int port, Runnable stop) {
    }

    private final String name;
    private final String enabledVariable;
    private final String portVariable;
    private final ConfigHolder config;
    private final Starter starter;
    /** The owner's logger, so that the server's messages keep their owner's name. */
    private final Logger log;
    private Running running;
    private String boundAddress = "";
    private volatile int port = NOT_BOUND;
    private boolean closed;

    /**
     * @param name            what the log calls the server ("REST API")
     * @param enabledVariable the admin variable that turns it on, without {@code admin-}
     * @param portVariable    the admin variable of its port, without {@code admin-}
     */
    public HttpListener(String name, String enabledVariable, String portVariable, ConfigHolder config,
                        Starter starter, Logger log) {
        this.name = name;
        this.enabledVariable = enabledVariable;
        this.portVariable = portVariable;
        this.config = config;
        this.starter = starter;
        this.log = log;
    }

    /** The bound port, or -1 while the server is off (disabled, or its port could not be bound). */
    public int port() {
        return port;
    }

    /** Starts, stops or re-binds the server to match the runtime admin variables. */
    public synchronized void apply() {
        if (closed) {
            return;
        }
        RuntimeConfig.Variables admin = config.current().adminVariables();
        boolean enabled = admin.getBoolean(enabledVariable);
        String host = HttpListeners.adminHost(admin.get("mysql_ifaces"));
        int wanted;
        try {
            wanted = admin.getInt(portVariable);
        } catch (NumberFormatException e) {
            log.error("admin-{} is not a number ({}): the {} stays as it was", portVariable, admin.get(portVariable),
                    name);
            return;
        }
        String address = host + ":" + wanted;
        if (enabled && running != null && address.equals(boundAddress)) {
            return;
        }
        stop();
        if (!enabled) {
            return;
        }
        try {
            running = starter.start(host, wanted);
            boundAddress = address;
            port = running.port();
            log.info("{} listening on {}:{} (admin-{})", name, host, port, portVariable);
        } catch (IOException | RuntimeException e) {
            HttpListeners.logCannotListen(log, name, "admin-" + portVariable, host, Integer.toString(wanted), e);
        }
    }

    private void stop() {
        Running r = running;
        if (r == null) {
            return;
        }
        running = null;
        port = NOT_BOUND;
        r.stop().run();
        log.info("{} on {} stopped", name, boundAddress);
        boundAddress = "";
    }

    @Override
    public synchronized void close() {
        closed = true;
        stop();
    }
}
