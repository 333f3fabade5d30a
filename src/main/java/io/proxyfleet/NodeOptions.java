package io.proxyfleet;

import java.nio.file.Path;

/**
 * How a node was asked to start: the command line, resolved. Immutable.
 *
 * @param dataDir     where proxysql.db, the TLS files and the log live
 * @param configFile  the ProxySQL-format config file, or {@code null} for embedded defaults
 * @param initial     {@code --initial}: rebuild the database from the config file
 * @param reload      {@code --reload}: merge the config file into the database
 * @param uuid        {@code -U}: the node UUID unless the config file sets one; {@code null} keeps the saved one
 * @param noMonitor   {@code -M}: do not start the backend monitor
 * @param noStart     {@code -n}: start the admin only; traffic starts with {@code PROXYSQL START}
 * @param reusePort   {@code -r}: bind listeners with SO_REUSEPORT
 * @param adminSocket {@code -S}: also serve the admin on this Unix socket, or {@code null}
 */
public record NodeOptions(Path dataDir, Path configFile, boolean foreground, boolean initial, boolean reload,
                          String uuid, boolean noMonitor, boolean noStart, boolean reusePort, Path adminSocket) {

    /** A node with ProxySQL's default behaviour for every flag but these. */
    public NodeOptions(Path dataDir, Path configFile, boolean foreground, boolean initial, boolean reload) {
        this(dataDir, configFile, foreground, initial, reload, null, false, false, false, null);
    }
}
