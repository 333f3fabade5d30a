package io.proxyfleet.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code mysql-*} variables: every one of ProxySQL 2.7 with its default ({@link ProxySqlVariables}), then
 * ProxyFleet's own. Names are stored without the {@code mysql-} prefix. A variable added here that ProxySQL does
 * not have stays on its node: it is never checksummed nor synced.
 */
public final class MysqlVariables {
    public static final String PREFIX = "mysql-";

    /** Name to default value, in listing order. */
    public static final Map<String, String> DEFAULTS;

    static {
        var d = new LinkedHashMap<>(ProxySqlVariables.defaults(PREFIX));
        // ProxySQL stores '' and listens on 0.0.0.0:6033; ProxyFleet stores what it listens on (node-local anyway).
        d.put("interfaces", "0.0.0.0:6033");
        // ProxyFleet only: SELECTs that merely read @@system variables keep multiplexing (see QueryClassifier).
        d.put("keep_multiplexing_on_system_variable_reads", "true");
        DEFAULTS = java.util.Collections.unmodifiableMap(d);
    }

    private MysqlVariables() {
    }
}
