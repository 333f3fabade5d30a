package io.proxyfleet.admin;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteJDBCLoader;

/**
 * Points sqlite-jdbc at a copy of its native library kept in the data directory. Left alone, the driver writes the
 * library to a new file under {@code java.io.tmpdir} and runs {@code uname} on every start, about 100 ms of each
 * node start; with a kept copy it loads that file directly. The copy is named by the driver's version, written to a
 * temporary name and moved into place, so a node never loads a half-written or another version's library. Any
 * failure, an operator's own {@code org.sqlite.lib.path}, or a platform other than glibc Linux on x86_64 or aarch64
 * leaves the driver's own loading as it was.
 *
 * <p>Thread ownership: called by the admin thread before the first SQLite connection of the JVM; later calls (more
 * nodes in one JVM) find the property set and return.
 */
final class SqliteNativeLibrary {
    private static final Logger log = LoggerFactory.getLogger(SqliteNativeLibrary.class);
    private static final String PATH_PROPERTY = "org.sqlite.lib.path";
    private static final String NAME_PROPERTY = "org.sqlite.lib.name";
    private static final String LIBRARY = "libsqlitejdbc.so";
    private static final String KEPT_DIRECTORY = ".sqlite-native";

    private SqliteNativeLibrary() {
    }

    /** Uses, or first writes, the kept copy under {@code dataDir}; does nothing when that cannot be done. */
    static void useKeptCopy(Path dataDir) {
        if (System.getProperty(PATH_PROPERTY) != null) {
            return;
        }
        String arch = linuxArch();
        if (arch == null) {
            return;
        }
        String resource = "/org/sqlite/native/Linux/" + arch + "/" + LIBRARY;
        Path dir = dataDir.resolve(KEPT_DIRECTORY).resolve(SQLiteJDBCLoader.getVersion() + "-" + arch);
        try {
            if (!Files.isRegularFile(dir.resolve(LIBRARY)) && !write(resource, dir)) {
                return;
            }
        } catch (IOException | RuntimeException e) {
            log.debug("Keeping SQLite's native library in {} failed; the driver extracts it itself: {}", dir,
                    e.toString());
            return;
        }
        System.setProperty(PATH_PROPERTY, dir.toString());
        System.setProperty(NAME_PROPERTY, LIBRARY);
    }

    /** The driver's folder name for this platform, or null where it picks the library by other means. */
    private static String linuxArch() {
        if (!System.getProperty("os.name", "").equals("Linux") || Files.exists(Path.of("/etc/alpine-release"))) {
            return null;
        }
        return switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64" -> "aarch64";
            default -> null;
        };
    }

    private static boolean write(String resource, Path dir) throws IOException {
        try (InputStream in = SQLiteJDBCLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                return false;
            }
            Files.createDirectories(dir);
            Path partial = Files.createTempFile(dir, LIBRARY, ".partial");
            try {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                try {
                    Files.move(partial, dir.resolve(LIBRARY), StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    return false;
                }
            } finally {
                Files.deleteIfExists(partial);
            }
            return true;
        }
    }
}
