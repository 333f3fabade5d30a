package io.proxyfleet.frontend;

/**
 * A client session as stats_mysql_processlist shows it, taken on the session's own event loop so that the admin
 * thread never reads a session's fields. Immutable.
 *
 * @param command     {@code Query} while a command is in flight, {@code Sleep} otherwise
 * @param timeMillis  how long the command has run, or how long the session has been idle
 * @param statusFlags {@link SessionPins} bits: why the session keeps its backend connection
 */
public record SessionSnapshot(long id, String username, String schema, String clientAddress, int hostgroup,
                              String serverHost, int serverPort, String command, long timeMillis, int statusFlags,
                              boolean inTransaction) {
}
