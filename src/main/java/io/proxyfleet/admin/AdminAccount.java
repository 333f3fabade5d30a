package io.proxyfleet.admin;

/**
 * One login the admin listener accepts, taken from the runtime admin variables. Immutable.
 *
 * @param password clear text, as ProxySQL stores admin credentials
 */
public record AdminAccount(String username, String password, AdminRole role) {
}
