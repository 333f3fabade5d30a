package io.proxyfleet.web;

import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;

/**
 * Writes the JSON of the REST API and the web dashboard: maps, lists, strings, numbers, booleans and null. Only
 * what the routes produce, no parsing; the documents are small and flat, so a library would add more than it
 * saves. Stateless; any thread.
 */
public final class Json {
    private static final int FIRST_PRINTABLE = 0x20;
    /** U+2028 and U+2029 end a line in JavaScript source though not in JSON. */
    private static final char LINE_SEPARATOR = '\u2028';
    private static final char PARAGRAPH_SEPARATOR = '\u2029';

    private Json() {
    }

    public static String write(Object value) {
        var out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    /**
     * A map's entries in its own order when it has one (LinkedHashMap, TreeMap), else by key: Map.of iterates in
     * an order that changes from one JVM run to the next, and the same answer should read the same every time.
     */
    private static Iterable<? extends Map.Entry<?, ?>> ordered(Map<?, ?> map) {
        if (map instanceof SequencedMap<?, ?> || map.size() < 2) {
            return map.entrySet();
        }
        var sorted = new TreeMap<String, Map.Entry<?, ?>>();
        for (var e : map.entrySet()) {
            sorted.put(String.valueOf(e.getKey()), e);
        }
        return sorted.values();
    }

    private static void write(Object value, StringBuilder out) {
        switch (value) {
            case null -> out.append("null");
            case String s -> string(s, out);
            case Boolean b -> out.append(b);
            case Integer n -> out.append(n);
            case Long n -> out.append(n);
            case Number n -> out.append(Double.isFinite(n.doubleValue()) ? n.toString() : "null");
            case Map<?, ?> map -> {
                out.append('{');
                boolean first = true;
                for (var e : ordered(map)) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    string(String.valueOf(e.getKey()), out);
                    out.append(':');
                    write(e.getValue(), out);
                }
                out.append('}');
            }
            case List<?> list -> {
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(list.get(i), out);
                }
                out.append(']');
            }
            default -> string(value.toString(), out);
        }
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    // '<' too, so that a value can never close a script element if a page ever inlines JSON
                    if (c < FIRST_PRINTABLE || c == '<' || c == LINE_SEPARATOR || c == PARAGRAPH_SEPARATOR) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
