package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Enforces the layer order of the main sources: a package may use its own layer and lower ones only.
 * Subpackages belong to their top-level package's layer; {@code io.proxyfleet} itself is the top (wiring).
 */
class ArchitectureTest {
    private static final String ROOT = "io.proxyfleet";
    /** Lowest first. */
    private static final List<String> LAYERS = List.of(
            "protocol", "config", "login", "routing", "cache", "stats", "backend", "monitor", "frontend", "admin", "cluster",
            "vip", "metrics", "web");
    private static final int ROOT_RANK = LAYERS.size();
    private static final Path MAIN_SOURCES = Path.of("src", "main", "java");

    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    private static final Pattern TEXT_BLOCK = Pattern.compile("\"\"\".*?\"\"\"", Pattern.DOTALL);
    private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
    private static final Pattern LINE_COMMENT = Pattern.compile("//[^\\n]*");
    private static final Pattern STRING_OR_CHAR = Pattern.compile("\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\\\n])+'");
    /** An import (static or not) or a fully qualified use in code, e.g. {@code io.proxyfleet.admin.AdminServer}. */
    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.proxyfleet((?:\\.[a-z_][a-z0-9_]*)*)\\.[A-Z*]");

    /** One forbidden use of a higher layer. */
    record Violation(Path file, String fromPackage, String usedPackage) {
        @Override
        public String toString() {
            return file + ": " + fromPackage + " (" + layerName(fromPackage) + ") uses " + usedPackage + " ("
                    + layerName(usedPackage) + ")";
        }
    }

    @Test
    void mainSourcesOnlyUseTheirOwnOrLowerLayers() throws IOException {
        assertThat(MAIN_SOURCES).as("run from the project root").isDirectory();

        assertThat(scan(MAIN_SOURCES)).as("layer order %s < root", LAYERS).isEmpty();
    }

    @Test
    void mainSourcesOnlyUseKnownPackages() throws IOException {
        assertThat(unknownPackages(MAIN_SOURCES)).as("packages outside %s.{%s}", ROOT, LAYERS).isEmpty();
    }

    @Test
    void importOfAHigherLayerIsReported(@TempDir Path dir) throws IOException {
        write(dir, "config/Bad.java", """
                package io.proxyfleet.config;

                import io.proxyfleet.protocol.Packet;
                import io.proxyfleet.admin.AdminServer;
                """);

        assertThat(scan(dir)).singleElement().satisfies(v -> {
            assertThat(v.fromPackage()).isEqualTo("io.proxyfleet.config");
            assertThat(v.usedPackage()).isEqualTo("io.proxyfleet.admin");
        });
    }

    @Test
    void subpackagesBelongToTheirParentsLayer(@TempDir Path dir) throws IOException {
        write(dir, "protocol/client/Codec.java", """
                package io.proxyfleet.protocol.client;

                import io.proxyfleet.protocol.Packet;
                import static io.proxyfleet.config.checksum.Checksums.sha256;
                """);
        write(dir, "frontend/tls/Tls.java", """
                package io.proxyfleet.frontend.tls;

                import io.proxyfleet.config.checksum.Checksums;
                import io.proxyfleet.frontend.Session;
                """);

        assertThat(scan(dir)).singleElement().satisfies(v -> {
            assertThat(v.fromPackage()).isEqualTo("io.proxyfleet.protocol.client");
            assertThat(v.usedPackage()).isEqualTo("io.proxyfleet.config.checksum");
        });
    }

    @Test
    void fullyQualifiedUseInCodeCountsButCommentsAndStringsDoNot(@TempDir Path dir) throws IOException {
        write(dir, "routing/Router.java", """
                package io.proxyfleet.routing;

                /** Unlike {@link io.proxyfleet.admin.AdminServer}, this runs on event loops. */
                final class Router {
                    // io.proxyfleet.cluster.Peer is not used here
                    String name = "io.proxyfleet.cluster.Peer";
                    io.proxyfleet.stats.Counters counters;
                }
                """);

        assertThat(scan(dir)).singleElement()
                .satisfies(v -> assertThat(v.usedPackage()).isEqualTo("io.proxyfleet.stats"));
    }

    @Test
    void rootWiringMayUseEveryLayer(@TempDir Path dir) throws IOException {
        write(dir, "Node.java", """
                package io.proxyfleet;

                import io.proxyfleet.cluster.Cluster;
                import io.proxyfleet.protocol.Packet;
                """);
        write(dir, "cluster/Cluster.java", """
                package io.proxyfleet.cluster;

                import io.proxyfleet.NodeOptions;
                """);

        assertThat(scan(dir)).singleElement()
                .satisfies(v -> assertThat(v.usedPackage()).isEqualTo(ROOT));
    }

    @Test
    void packageOutsideTheLayersIsReported(@TempDir Path dir) throws IOException {
        write(dir, "util/Strings.java", "package io.proxyfleet.util;\n");

        assertThat(unknownPackages(dir)).containsExactly("io.proxyfleet.util");
    }

    // ---------------------------------------------------------------- scanner

    static List<Violation> scan(Path sourceRoot) throws IOException {
        List<Violation> violations = new ArrayList<>();
        for (Path file : javaFiles(sourceRoot)) {
            String code = codeOnly(Files.readString(file));
            Optional<String> from = packageOf(code);
            if (from.isEmpty() || !from.get().startsWith(ROOT)) {
                continue;
            }
            Set<String> used = new LinkedHashSet<>();
            Matcher m = REFERENCE.matcher(code);
            while (m.find()) {
                used.add(ROOT + m.group(1));
            }
            for (String each : used) {
                if (rank(each) > rank(from.get())) {
                    violations.add(new Violation(sourceRoot.relativize(file), from.get(), each));
                }
            }
        }
        return violations;
    }

    static Set<String> unknownPackages(Path sourceRoot) throws IOException {
        Set<String> unknown = new LinkedHashSet<>();
        for (Path file : javaFiles(sourceRoot)) {
            packageOf(codeOnly(Files.readString(file)))
                    .filter(pkg -> layerName(pkg).equals("unknown"))
                    .ifPresent(unknown::add);
        }
        return unknown;
    }

    private static List<Path> javaFiles(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }

    /** The source with comments and string literals removed, so that only real references remain. */
    private static String codeOnly(String source) {
        String code = TEXT_BLOCK.matcher(source).replaceAll("\"\"");
        code = BLOCK_COMMENT.matcher(code).replaceAll(" ");
        code = STRING_OR_CHAR.matcher(code).replaceAll("\"\"");
        return LINE_COMMENT.matcher(code).replaceAll("");
    }

    private static Optional<String> packageOf(String code) {
        Matcher m = PACKAGE.matcher(code);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** The layer's position; packages outside the known layers rank above everything so any use is reported. */
    private static int rank(String pkg) {
        if (pkg.equals(ROOT)) {
            return ROOT_RANK;
        }
        int index = LAYERS.indexOf(topLevel(pkg));
        return index >= 0 ? index : ROOT_RANK + 1;
    }

    private static String layerName(String pkg) {
        if (pkg.equals(ROOT)) {
            return "root";
        }
        String top = topLevel(pkg);
        return LAYERS.contains(top) ? top : "unknown";
    }

    private static String topLevel(String pkg) {
        if (!pkg.startsWith(ROOT + ".")) {
            return "";
        }
        String rest = pkg.substring(ROOT.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    private static void write(Path root, String relative, String content) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }
}
