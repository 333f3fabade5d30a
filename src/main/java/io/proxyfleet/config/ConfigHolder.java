package io.proxyfleet.config;

import java.util.function.UnaryOperator;

/**
 * Publishes the current {@link RuntimeConfig}. Readers on any thread call {@link #current()} once per command;
 * writers (the admin thread, cluster pulls, tests) replace the snapshot atomically with {@link #update}.
 */
public final class ConfigHolder {
    private volatile RuntimeConfig current;

    public ConfigHolder(RuntimeConfig initial) {
        this.current = initial;
    }

    public RuntimeConfig current() {
        return current;
    }

    /**
     * Applies {@code change} to the current snapshot and publishes the result. Writers are serialised so that
     * two modules loaded at once never lose each other's update.
     */
    public synchronized RuntimeConfig update(UnaryOperator<RuntimeConfig> change) {
        RuntimeConfig next = change.apply(current);
        current = next;
        return next;
    }
}
