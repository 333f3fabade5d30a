package io.proxyfleet.config;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the current {@link RuntimeConfig}. Readers on any thread call {@link #current()} once per command;
 * writers (the admin thread, cluster pulls, the monitor, tests) replace the snapshot atomically with
 * {@link #update}, and subscribers hear of each new snapshot on the writer's thread.
 */
public final class ConfigHolder {
    private static final Logger log = LoggerFactory.getLogger(ConfigHolder.class);

    private volatile RuntimeConfig current;
    private final List<Consumer<RuntimeConfig>> subscribers = new CopyOnWriteArrayList<>();

    public ConfigHolder(RuntimeConfig initial) {
        this.current = initial;
    }

    public RuntimeConfig current() {
        return current;
    }

    /**
     * Applies {@code change} to the current snapshot and publishes the result. Writers are serialised so that
     * two modules loaded at once never lose each other's update, and subscribers see snapshots in publication
     * order.
     */
    public synchronized RuntimeConfig update(UnaryOperator<RuntimeConfig> change) {
        RuntimeConfig previous = current;
        RuntimeConfig next = change.apply(previous);
        current = next;
        if (next != previous) {
            for (Consumer<RuntimeConfig> subscriber : subscribers) {
                try {
                    subscriber.accept(next);
                } catch (RuntimeException e) {
                    // The snapshot is published already; one failing subscriber must not hide it from the others.
                    log.error("A runtime configuration subscriber failed: {}", e.toString(), e);
                }
            }
        }
        return next;
    }

    /**
     * Calls {@code subscriber} with every snapshot published from now on, on the publishing thread and while
     * writers are held off: it must be quick and must not block (hand real work to other threads).
     */
    public void subscribe(Consumer<RuntimeConfig> subscriber) {
        subscribers.add(subscriber);
    }
}
