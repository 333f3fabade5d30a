package io.proxyfleet.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Cleans up after test JVMs that died without running their shutdown hooks (killed by a timeout or by hand):
 * their mariadbd processes would otherwise keep running and their directories would fill /tmp. Each fixture
 * directory records its owning JVM; a directory whose owner is gone is reaped. Runs on the thread that starts
 * the first fixture of a JVM.
 */
final class OrphanReaper {
    /** Prefix of every fixture directory under java.io.tmpdir. */
    static final String DIR_PREFIX = "proxyfleet-mariadb-";
    /** File in a fixture directory naming the JVM that owns it: "pid startMillis". */
    static final String OWNER_FILE = "owner";
    private static final String SERVER_PID_FILE = "mysql.pid";
    private static final List<String> SERVER_NAMES = List.of("mariadbd", "mysqld");

    private OrphanReaper() {
    }

    /** Writes the owner file of a new fixture directory; call before anything else is put there. */
    static void claim(Path baseDir) throws IOException {
        ProcessHandle self = ProcessHandle.current();
        Files.writeString(baseDir.resolve(OWNER_FILE), self.pid() + " " + startMillis(self), StandardCharsets.US_ASCII);
    }

    /** Kills the servers of, and deletes, every fixture directory whose owning JVM no longer runs. */
    static void reapOrphans() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, DIR_PREFIX + "*")) {
            for (Path dir : dirs) {
                if (isOrphan(dir)) {
                    killServer(dir);
                    TestFiles.deleteRecursively(dir);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Best effort: leftovers from someone else's crash must not fail this run.
            System.err.println("MariaDb fixture: could not reap orphaned servers: " + e);
        }
    }

    private static boolean isOrphan(Path dir) {
        Optional<String> owner = read(dir.resolve(OWNER_FILE));
        if (owner.isEmpty()) {
            // Being created right now by another JVM, or not ours to judge.
            return false;
        }
        String[] fields = owner.get().split(" ");
        long pid;
        long started;
        try {
            pid = Long.parseLong(fields[0]);
            started = Long.parseLong(fields[1]);
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return false;
        }
        // Comparing start times tells a live owner from an unrelated process that reused its pid.
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(OrphanReaper::startMillis)
                .map(actual -> actual != started)
                .orElse(true);
    }

    private static void killServer(Path dir) {
        read(dir.resolve(SERVER_PID_FILE)).flatMap(OrphanReaper::parsePid).flatMap(ProcessHandle::of)
                .filter(handle -> isServerOf(handle, dir))
                .ifPresent(ProcessHandle::destroyForcibly);
    }

    private static boolean isServerOf(ProcessHandle handle, Path dir) {
        ProcessHandle.Info info = handle.info();
        boolean isServer = info.command().map(c -> SERVER_NAMES.contains(Path.of(c).getFileName().toString()))
                .orElse(false);
        boolean usesDir = info.arguments().map(args -> String.join(" ", args).contains(dir.toString()))
                .orElse(false);
        return isServer && usesDir;
    }

    private static Optional<Long> parsePid(String text) {
        try {
            return Optional.of(Long.parseLong(text));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static long startMillis(ProcessHandle handle) {
        return handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    private static Optional<String> read(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.US_ASCII).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
