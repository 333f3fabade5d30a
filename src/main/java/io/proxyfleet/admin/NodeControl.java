package io.proxyfleet.admin;

/**
 * The node-level actions admin commands trigger ({@code PROXYSQL PAUSE}, {@code KILL CONNECTION}, ...),
 * implemented by the root wiring. The engine calls these on its admin thread, so implementations must not block
 * for long and must hand work over to the thread that owns it.
 */
public interface NodeControl {

    /** {@code PROXYSQL SHUTDOWN} / {@code PROXYSQL KILL} (slow = false) or {@code PROXYSQL SHUTDOWN SLOW}. */
    void shutdown(boolean slow);

    /**
     * {@code PROXYSQL START}: starts the traffic listener and monitor of a node started with {@code -n}.
     *
     * @return false when they already run (ProxySQL then answers "ProxySQL already started")
     */
    default boolean start() {
        return false;
    }

    /** {@code PROXYSQL PAUSE}: stop accepting traffic connections, keep existing ones. */
    void pause();

    /** {@code PROXYSQL RESUME}: accept traffic connections again. */
    void resume();

    /** {@code PROXYSQL FLUSH LOGS}. */
    void flushLogs();

    /** {@code PROXYSQL RELOAD TLS}. */
    void reloadTls();

    /**
     * {@code KILL CONNECTION <id>}.
     *
     * @return false when no session has that id (the client then gets {@code Unknown thread id})
     */
    boolean killConnection(long id);

    /**
     * {@code KILL QUERY <id>}.
     *
     * @return false when no session has that id
     */
    boolean killQuery(long id);

    /** {@code admin-mysql_ifaces} changed on {@code LOAD ADMIN VARIABLES TO RUNTIME}: re-bind the admin port. */
    void adminInterfacesChanged(String ifaces);

    /**
     * A module was just published to runtime (by a user's LOAD, at boot, or by a cluster pull).
     *
     * @param module the checksum module name: {@code mysql_users}, {@code mysql_servers},
     *               {@code mysql_query_rules}, {@code mysql_variables}, {@code admin_variables},
     *               {@code proxysql_servers} or {@code scheduler}
     */
    void moduleLoaded(String module);

    /**
     * {@code PROXYSQL CLUSTER_NOTIFY}: a peer just loaded a module (ProxyFleet's fast path, beyond ProxySQL);
     * check the peers now instead of at the next poll.
     *
     * @param announcedInterfaces the admin interfaces the notifying connection announced with
     *                            {@code PROXYSQL CLUSTER_NODE_UUID} (a peer's monitor does), or null: then check
     *                            every peer
     */
    default void clusterNotified(String announcedInterfaces) {
    }

    /**
     * {@code PROXYFLEET DRAIN}: stop taking new clients, let sessions finish their transactions, then hand the
     * virtual IP over (docs/vip.md). Returns at once; the drain goes on in the background.
     */
    default void drain() {
    }

    /** {@code PROXYFLEET UNDRAIN}: take new clients again and rejoin the virtual IP's group (docs/vip.md). */
    default void undrain() {
    }

    /** {@code PROXYSQL FLUSH QUERY CACHE}. */
    default void flushQueryCache() {
    }


    /** Does nothing and knows no connection; for tests and for an engine running without a node. */
    NodeControl NOOP = new NodeControl() {
        @Override
        public void shutdown(boolean slow) {
        }

        @Override
        public void pause() {
        }

        @Override
        public void resume() {
        }

        @Override
        public void flushLogs() {
        }

        @Override
        public void reloadTls() {
        }

        @Override
        public boolean killConnection(long id) {
            return false;
        }

        @Override
        public boolean killQuery(long id) {
            return false;
        }

        @Override
        public void adminInterfacesChanged(String ifaces) {
        }

        @Override
        public void moduleLoaded(String module) {
        }
    };
}
