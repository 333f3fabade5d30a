package io.proxyfleet;

import java.nio.file.Path;

/**
 * How a node was asked to start: the command line, resolved. Immutable.
 *
 * @param dataDir    where proxysql.db, the TLS files and the log live
 * @param configFile the ProxySQL-format config file, or {@code null} for embedded defaults
 * @param initial    {@code --initial}: rebuild the database from the config file
 * @param reload     {@code --reload}: merge the config file into the database
 */
public record NodeOptions(Path dataDir, Path configFile, boolean foreground, boolean initial, boolean reload) {
}
