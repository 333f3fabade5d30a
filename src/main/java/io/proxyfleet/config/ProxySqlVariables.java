package io.proxyfleet.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * ProxySQL 2.7's own global variables, read once from {@code proxysql-variables.tsv} next to this class: the 212
 * names with ProxySQL's defaults, the values each accepts, and whether ProxyFleet acts on it. This list, not a
 * hand-kept exclusion list, decides what travels: only these names are hashed into the {@code admin_variables} and
 * {@code mysql_variables} checksums and served to peers, so any variable ProxyFleet adds is node-local by
 * construction and identical configurations give ProxySQL's checksums. Immutable after class initialisation;
 * thread-safe.
 */
public final class ProxySqlVariables {
    private static final String RESOURCE = "proxysql-variables.tsv";
    private static final int COLUMNS = 4;

    /** Every ProxySQL variable, keyed by its full name ({@code mysql-threads}), in name order. */
    public static final Map<String, Spec> ALL = load();

    private ProxySqlVariables() {
    }

    /** One ProxySQL variable: its default, the values it accepts, and whether ProxyFleet uses its value. */
    public record Spec(String name, String defaultValue, Check check, boolean implemented) {
    }

    /** What a variable accepts, as ProxySQL's setters check it (reference §3.2, §3.4). */
    public sealed interface Check {
        /**
         * The value to store for {@code value}, or {@code null} when it is refused.
         */
        String accept(String value);

        static Check parse(String text) {
            return switch (text) {
                case "bool" -> new Bool();
                case "text" -> new Text(false);
                case "nonempty" -> new Text(true);
                case "readonly" -> new ReadOnly();
                case "int" -> new Int(Long.MIN_VALUE, Long.MAX_VALUE);
                default -> {
                    if (!text.startsWith("int:") || !text.contains("..")) {
                        throw new IllegalArgumentException("unknown variable check: " + text);
                    }
                    String[] range = text.substring("int:".length()).split("\\.\\.");
                    yield new Int(Long.parseLong(range[0]), Long.parseLong(range[1]));
                }
            };
        }
    }

    /** {@code true|false|1|0}, stored as {@code true}/{@code false}. */
    public record Bool() implements Check {
        @Override
        public String accept(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "true", "1" -> "true";
                case "false", "0" -> "false";
                default -> null;
            };
        }
    }

    /** An integer within {@code [min, max]}. */
    public record Int(long min, long max) implements Check {
        @Override
        public String accept(String value) {
            String trimmed = value.trim();
            try {
                long n = Long.parseLong(trimmed);
                return n >= min && n <= max ? trimmed : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /** Any text; with {@code nonEmpty}, not blank (listener and credential lists). */
    public record Text(boolean nonEmpty) implements Check {
        @Override
        public String accept(String value) {
            return nonEmpty && value.isBlank() ? null : value;
        }
    }

    /** Never changed by a user: the caller decides what the variable shows ({@code admin-version}). */
    public record ReadOnly() implements Check {
        @Override
        public String accept(String value) {
            return null;
        }
    }

    /** Whether ProxySQL 2.7 has a variable of this full name (so it is checksummed and synced). */
    public static boolean isProxySql(String fullName) {
        return ALL.containsKey(fullName);
    }

    /** ProxySQL's defaults of one prefix ({@code admin-} or {@code mysql-}), keyed without the prefix. */
    public static Map<String, String> defaults(String prefix) {
        var out = new LinkedHashMap<String, String>();
        for (Spec s : ALL.values()) {
            if (s.name().startsWith(prefix)) {
                out.put(s.name().substring(prefix.length()), s.defaultValue());
            }
        }
        return out;
    }

    private static Map<String, Spec> load() {
        var specs = new LinkedHashMap<String, Spec>();
        try (InputStream in = ProxySqlVariables.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            boolean header = true;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("#") || line.isEmpty()) {
                    continue;
                }
                if (header) {
                    header = false;
                    continue;
                }
                String[] cells = line.split("\t", -1);
                if (cells.length != COLUMNS) {
                    throw new IllegalStateException(RESOURCE + ": bad line " + line);
                }
                specs.put(cells[0], new Spec(cells[0], cells[1], Check.parse(cells[2]), cells[3].equals("1")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Collections.unmodifiableMap(specs);
    }
}
