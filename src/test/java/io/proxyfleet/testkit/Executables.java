package io.proxyfleet.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the MariaDB server and client programs the integration tests drive. Stateless; any thread.
 */
public final class Executables {
    // Debian puts mariadbd in /usr/sbin, which is often not on a non-root PATH.
    private static final List<String> FALLBACK_DIRS = List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin");

    private Executables() {
    }

    /**
     * The first of {@code names} found on PATH or in the usual system directories.
     *
     * @throws IllegalStateException naming the Debian package to install when none is found
     */
    public static Path require(String debianPackage, String... names) {
        for (String name : names) {
            Optional<Path> found = find(name);
            if (found.isPresent()) {
                return found.get();
            }
        }
        throw new IllegalStateException("none of " + List.of(names) + " found on PATH or in " + FALLBACK_DIRS
                + "; install the Debian package " + debianPackage + " (bin/test does this)");
    }

    /** The executable {@code name} on PATH or in the usual system directories, if any. */
    public static Optional<Path> find(String name) {
        for (String dir : searchPath()) {
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static List<String> searchPath() {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    dirs.add(dir);
                }
            }
        }
        dirs.addAll(FALLBACK_DIRS);
        return dirs;
    }
}
