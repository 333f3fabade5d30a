package io.proxyfleet.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;

/**
 * A compiled {@code replace_pattern}. ProxySQL hands it to PCRE/RE2 rewriting, where {@code \1}..{@code \9}
 * refer to groups and {@code \\} is a backslash; everything else (including {@code $}) is literal, unlike
 * Java's replacement syntax. Immutable.
 */
final class ReplaceTemplate {
    /** Literal text, or null where a group reference goes. */
    private final String[] literals;
    private final int[] groups;

    private ReplaceTemplate(String[] literals, int[] groups) {
        this.literals = literals;
        this.groups = groups;
    }

    /** Parses {@code template}; group references beyond {@code groupCount} are rejected. */
    static ReplaceTemplate parse(String template, int groupCount) {
        List<String> parts = new ArrayList<>();
        List<Integer> refs = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '\\' && i + 1 < template.length()) {
                char n = template.charAt(i + 1);
                if (n >= '0' && n <= '9') {
                    int g = n - '0';
                    if (g > groupCount) {
                        throw new IllegalArgumentException("replace_pattern refers to group \\" + g
                                + " but match_pattern has " + groupCount);
                    }
                    if (!lit.isEmpty()) {
                        parts.add(lit.toString());
                        refs.add(-1);
                        lit.setLength(0);
                    }
                    parts.add(null);
                    refs.add(g);
                    i++;
                    continue;
                }
                if (n == '\\') {
                    lit.append('\\');
                    i++;
                    continue;
                }
            }
            lit.append(c);
        }
        if (!lit.isEmpty()) {
            parts.add(lit.toString());
            refs.add(-1);
        }
        int[] g = new int[refs.size()];
        for (int i = 0; i < g.length; i++) {
            g[i] = refs.get(i);
        }
        return new ReplaceTemplate(parts.toArray(new String[0]), g);
    }

    /**
     * Rewrites {@code text}: the first match, or every match when {@code global}. Returns null when nothing
     * matched (the query stays as it is).
     */
    String apply(Matcher m, CharSequence text, boolean global) {
        m.reset(text);
        if (!m.find()) {
            return null;
        }
        StringBuilder sb = new StringBuilder(text.length() + 32);
        int last = 0;
        do {
            sb.append(text, last, m.start());
            for (int i = 0; i < literals.length; i++) {
                if (literals[i] != null) {
                    sb.append(literals[i]);
                } else if (m.start(groups[i]) >= 0) {
                    sb.append(text, m.start(groups[i]), m.end(groups[i]));
                }
            }
            last = m.end();
        } while (global && m.find());
        sb.append(text, last, text.length());
        return sb.toString();
    }
}
