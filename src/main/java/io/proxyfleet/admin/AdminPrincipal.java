package io.proxyfleet.admin;

/**
 * Who sends an admin statement. Immutable.
 *
 * @param username      the authenticated admin-port user
 * @param role          what the user may do
 * @param clientAddress the client's socket address as {@code host:port} (or just {@code host}); used for
 *                      {@code SELECT USER()} and to remember which cluster peer announced itself with
 *                      {@code PROXYSQL CLUSTER_NODE_UUID}
 */
public record AdminPrincipal(String username, AdminRole role, String clientAddress) {
    public AdminPrincipal {
        clientAddress = clientAddress == null ? "" : clientAddress;
    }

    /** The host part of {@link #clientAddress()}, without the port. */
    public String clientHost() {
        int colon = clientAddress.lastIndexOf(':');
        boolean bracketed = clientAddress.startsWith("[");
        if (bracketed) {
            int close = clientAddress.indexOf(']');
            return close > 0 ? clientAddress.substring(1, close) : clientAddress;
        }
        // An IPv6 address without brackets has several colons and no port we could split off safely.
        if (colon < 0 || clientAddress.indexOf(':') != colon) {
            return clientAddress;
        }
        return clientAddress.substring(0, colon);
    }

    /** The port part of {@link #clientAddress()}, or 0 when none was given. */
    public int clientPort() {
        int colon = clientAddress.lastIndexOf(':');
        if (colon < 0 || colon == clientAddress.length() - 1) {
            return 0;
        }
        boolean bracketed = clientAddress.startsWith("[");
        if (!bracketed && clientAddress.indexOf(':') != colon) {
            return 0;
        }
        try {
            return Integer.parseInt(clientAddress.substring(colon + 1));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
