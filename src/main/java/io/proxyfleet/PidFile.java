package io.proxyfleet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * ProxySQL's {@code <datadir>/proxysql.pid}: written at start so that scripts can signal the node, refused when
 * it names a live ProxyFleet process, removed at exit. Claimed by the main thread, released by the shutdown hook.
 */
public final class PidFile implements AutoCloseable {
    /** ProxySQL's pid file name. */
    public static final String FILE_NAME = "proxysql.pid";

    private final Path file;
    private final long pid;

    private PidFile(Path file, long pid) {
        this.file = file;
        this.pid = pid;
    }

    /**
     * Writes this process's pid into {@code <dataDir>/proxysql.pid}.
     *
     * @throws IllegalStateException when the file names another process that is alive and runs Java, i.e. a
     *                               node already uses this data directory
     */
    public static PidFile claim(Path dataDir) {
        Path file = dataDir.resolve(FILE_NAME);
        long self = ProcessHandle.current().pid();
        Optional<Long> other = readPid(file).filter(pid -> pid != self);
        if (other.isPresent() && isLiveJava(other.get())) {
            throw new IllegalStateException("ProxyFleet is already running with pid " + other.get()
                    + " (" + file + ")");
        }
        try {
            Files.writeString(file, self + "\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return new PidFile(file, self);
    }

    public Path file() {
        return file;
    }

    /** Removes the file if it still names this process (a newer node may have replaced it). */
    @Override
    public void close() {
        if (readPid(file).filter(p -> p == pid).isEmpty()) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // At exit nothing can be done about it; the next start overwrites a stale file anyway.
        }
    }

    private static Optional<Long> readPid(Path file) {
        try {
            return Optional.of(Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static boolean isLiveJava(long pid) {
        // A stale file's pid may since belong to an unrelated process; only a JVM could be another node.
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .flatMap(handle -> handle.info().command())
                .map(command -> Path.of(command).getFileName().toString().startsWith("java"))
                .orElse(false);
    }
}
