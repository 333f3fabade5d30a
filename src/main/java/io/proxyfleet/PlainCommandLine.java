package io.proxyfleet;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The command lines that start a node (each flag on its own, a value in the next argument or after {@code =} of a
 * long name), read without picocli. Picocli's classes are compiled for Java 5, so the ahead-of-time cache cannot
 * hold them: parsing with it took about a third of a restart's wall time (docs/benchmarks.md, "start-up
 * profile"). Everything else (help, version, clustered or attached short flags, a repeated flag, a value that
 * looks like a flag, an unknown argument) is left to picocli, which also gives every error message. Stateless.
 */
final class PlainCommandLine {
    /** Flags without a value, by each of their names, to the name {@link #parse} reports them by. */
    private static final Map<String, String> SWITCHES = Map.ofEntries(
            Map.entry("-f", "foreground"), Map.entry("--foreground", "foreground"),
            Map.entry("--initial", "initial"), Map.entry("--reload", "reload"),
            Map.entry("-M", "no-monitor"), Map.entry("--no-monitor", "no-monitor"),
            Map.entry("-n", "no-start"), Map.entry("--no-start", "no-start"),
            Map.entry("-r", "reuseport"), Map.entry("--reuseport", "reuseport"),
            Map.entry("-e", "exit-on-error"), Map.entry("--exit-on-error", "exit-on-error"),
            Map.entry("--idle-threads", "idle-threads"), Map.entry("--no-version-check", "no-version-check"),
            Map.entry("--sqlite3-server", "sqlite3-server"), Map.entry("--clickhouse-server", "clickhouse-server"));
    /** Flags with a value, likewise; the long names also take {@code --name=value}. */
    private static final Map<String, String> VALUED = Map.ofEntries(
            Map.entry("-c", "config"), Map.entry("--config", "config"),
            Map.entry("-D", "datadir"), Map.entry("--datadir", "datadir"),
            Map.entry("-d", "datadir"), Map.entry("--directory", "datadir"),
            Map.entry("-U", "uuid"), Map.entry("--uuid", "uuid"),
            Map.entry("-S", "admin-socket"), Map.entry("--admin-socket", "admin-socket"));
    private static final String LONG_PREFIX = "--";
    private static final char VALUE_SEPARATOR = '=';
    private static final String OPTION_PREFIX = "-";

    private PlainCommandLine() {
    }

    /**
     * The flags given, by the names of {@link #SWITCHES} and {@link #VALUED} (a switch maps to ""), or empty when
     * picocli must parse {@code args}.
     */
    static Optional<Map<String, String>> parse(String... args) {
        var flags = new HashMap<String, String>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name;
            String value = null;
            int separator = arg.indexOf(VALUE_SEPARATOR);
            if (SWITCHES.containsKey(arg)) {
                name = SWITCHES.get(arg);
            } else if (VALUED.containsKey(arg) && i + 1 < args.length) {
                name = VALUED.get(arg);
                value = args[++i];
            } else if (arg.startsWith(LONG_PREFIX) && separator > 0
                    && VALUED.containsKey(arg.substring(0, separator))) {
                name = VALUED.get(arg.substring(0, separator));
                value = arg.substring(separator + 1);
            } else {
                return Optional.empty();
            }
            if (value != null && (value.isEmpty() || value.startsWith(OPTION_PREFIX))) {
                return Optional.empty();
            }
            if (flags.putIfAbsent(name, value == null ? "" : value) != null) {
                return Optional.empty();
            }
        }
        return Optional.of(flags);
    }
}
