package io.proxyfleet.config;

/**
 * The identity of one loaded module, as {@code runtime_checksums_values} shows it.
 *
 * @param version bumped by one on every load to runtime; 1 after boot
 * @param epoch   Unix seconds of the load, or the peer's epoch when the rows came from a cluster pull
 * @param checksum ProxySQL's {@code 0x...} checksum string of the module's rows
 */
public record ModuleVersion(long version, long epoch, String checksum) {
    public static final ModuleVersion NONE = new ModuleVersion(0, 0, "");
}
