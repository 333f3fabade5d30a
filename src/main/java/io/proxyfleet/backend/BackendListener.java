package io.proxyfleet.backend;

import io.netty.buffer.ByteBuf;
import io.proxyfleet.protocol.ErrPacket;

/** Receives a lent backend connection's traffic. Called on the connection's (and the session's) event loop. */
public interface BackendListener {
    /**
     * Whole physical packets of the response, headers included, as one buffer: what one socket read brought (or
     * its rest after the connection's own steps). The listener owns (and must release) it.
     */
    void onBackendPacket(BackendConnection connection, ByteBuf packet);

    /** The current socket read is fully delivered: flush, and decide whether to read more. */
    void onBackendReadComplete(BackendConnection connection);

    /**
     * The connection died while lent, for the reason {@code error} says: lost (2013), or the proxy's own direct
     * memory ran out while reading it (1041, {@link BackendConnection#ER_OUT_OF_RESOURCES}).
     */
    void onBackendClosed(BackendConnection connection, ErrPacket error);

    /**
     * Another session needs the connection this listener keeps between its statements only to reuse it
     * ({@link BackendConnection#keep}): the listener forgets it at once, and the pool takes it back.
     *
     * @return false when the listener no longer keeps it (then the pool leaves it alone)
     */
    default boolean giveBack(BackendConnection connection) {
        return false;
    }
}
