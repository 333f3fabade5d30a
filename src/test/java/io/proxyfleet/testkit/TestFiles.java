package io.proxyfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Small file helpers for fixtures. Stateless; any thread. */
public final class TestFiles {
    private TestFiles() {
    }

    /** Deletes {@code root} and everything below it; a missing root is not an error. */
    public static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path each : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(each);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    /** The last {@code maxLines} lines of a text file, or a note saying why it could not be read. */
    public static String tail(Path file, int maxLines) {
        try {
            List<String> lines = Files.readAllLines(file);
            int from = Math.max(0, lines.size() - maxLines);
            return String.join("\n", lines.subList(from, lines.size()));
        } catch (IOException e) {
            return "<cannot read " + file + ": " + e + ">";
        }
    }
}
