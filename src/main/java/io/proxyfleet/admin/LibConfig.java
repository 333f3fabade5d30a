package io.proxyfleet.admin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parser for the libconfig syntax of {@code proxysql.cnf} (reference §6.1): {@code name = value} or
 * {@code name : value} settings separated by optional {@code ;} or {@code ,}; double-quoted strings (adjacent
 * strings concatenate); integers (decimal or {@code 0x} hex, optional {@code L}); floats; {@code true}/{@code false};
 * groups {@code { ... }}; lists {@code ( ... )} and arrays {@code [ ... ]}; comments {@code #}, {@code //} and
 * {@code /* * /}. Stateless; safe on any thread.
 */
final class LibConfig {

    /** A parsed value. */
    sealed interface Value {
        /** The value as ProxySQL stores it in a table cell: booleans {@code true}/{@code false}, numbers as text. */
        String text();
    }

    record Str(String value) implements Value {
        @Override
        public String text() {
            return value;
        }
    }

    record Int(long value) implements Value {
        @Override
        public String text() {
            return Long.toString(value);
        }
    }

    record Flt(double value) implements Value {
        @Override
        public String text() {
            return Double.toString(value);
        }
    }

    record Bool(boolean value) implements Value {
        @Override
        public String text() {
            return value ? "true" : "false";
        }
    }

    /** A {@code { name = value ... }} group; setting order kept. */
    record Group(Map<String, Value> settings) implements Value {
        public Group {
            settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        }

        @Override
        public String text() {
            throw new IllegalStateException("a group has no scalar value");
        }
    }

    /** A {@code ( ... )} list or {@code [ ... ]} array. */
    record Items(List<Value> items) implements Value {
        public Items {
            items = List.copyOf(items);
        }

        @Override
        public String text() {
            throw new IllegalStateException("a list has no scalar value");
        }
    }

    /** The file does not follow libconfig syntax; the message names the line. */
    static final class SyntaxException extends Exception {
        private final int line;

        SyntaxException(int line, String message) {
            super("line " + line + ": " + message);
            this.line = line;
        }

        int line() {
            return line;
        }
    }

    private final String src;
    private int pos;
    private int line = 1;

    private LibConfig(String src) {
        this.src = src;
    }

    /** Parses a whole file into its top-level settings. */
    static Group parse(String text) throws SyntaxException {
        LibConfig parser = new LibConfig(text);
        Map<String, Value> settings = parser.settings('\0');
        return new Group(settings);
    }

    private Map<String, Value> settings(char end) throws SyntaxException {
        var result = new LinkedHashMap<String, Value>();
        while (true) {
            skipBlanks();
            if (pos >= src.length()) {
                if (end != '\0') {
                    throw error("missing '" + end + "' before end of file");
                }
                return result;
            }
            char c = src.charAt(pos);
            if (c == end) {
                pos++;
                return result;
            }
            String name = name();
            skipBlanks();
            if (pos >= src.length() || (src.charAt(pos) != '=' && src.charAt(pos) != ':')) {
                throw error("expected '=' or ':' after '" + name + "'");
            }
            pos++;
            Value value = value();
            if (result.containsKey(name)) {
                throw error("duplicate setting '" + name + "'");
            }
            result.put(name, value);
            skipBlanks();
            if (pos < src.length() && (src.charAt(pos) == ';' || src.charAt(pos) == ',')) {
                pos++;
            }
        }
    }

    private String name() throws SyntaxException {
        int start = pos;
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '*') {
                pos++;
            } else {
                break;
            }
        }
        if (start == pos || !Character.isLetter(src.charAt(start)) && src.charAt(start) != '*') {
            throw error("unexpected " + describe(start));
        }
        return src.substring(start, pos);
    }

    private Value value() throws SyntaxException {
        skipBlanks();
        if (pos >= src.length()) {
            throw error("missing value before end of file");
        }
        char c = src.charAt(pos);
        switch (c) {
            case '"' -> {
                var text = new StringBuilder();
                while (pos < src.length() && src.charAt(pos) == '"') {
                    text.append(string());
                    skipBlanks();
                }
                return new Str(text.toString());
            }
            case '{' -> {
                pos++;
                return new Group(settings('}'));
            }
            case '(' -> {
                pos++;
                return new Items(items(')'));
            }
            case '[' -> {
                pos++;
                return new Items(items(']'));
            }
            default -> {
                return scalar();
            }
        }
    }

    private List<Value> items(char end) throws SyntaxException {
        var result = new ArrayList<Value>();
        while (true) {
            skipBlanks();
            if (pos >= src.length()) {
                throw error("missing '" + end + "' before end of file");
            }
            if (src.charAt(pos) == end) {
                pos++;
                return result;
            }
            result.add(value());
            skipBlanks();
            if (pos < src.length() && src.charAt(pos) == ',') {
                pos++;
            } else if (pos < src.length() && src.charAt(pos) != end) {
                throw error("expected ',' or '" + end + "' but found " + describe(pos));
            }
        }
    }

    private String string() throws SyntaxException {
        int startLine = line;
        pos++;
        var text = new StringBuilder();
        while (true) {
            if (pos >= src.length()) {
                throw new SyntaxException(startLine, "unterminated string");
            }
            char c = src.charAt(pos++);
            if (c == '"') {
                return text.toString();
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\') {
                text.append(c);
                continue;
            }
            if (pos >= src.length()) {
                throw new SyntaxException(startLine, "unterminated string");
            }
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> text.append('\n');
                case 't' -> text.append('\t');
                case 'r' -> text.append('\r');
                case 'f' -> text.append('\f');
                case '\\' -> text.append('\\');
                case '"' -> text.append('"');
                case 'x' -> {
                    if (pos + 2 > src.length()) {
                        throw error("bad \\x escape");
                    }
                    try {
                        text.append((char) Integer.parseInt(src.substring(pos, pos + 2), 16));
                    } catch (NumberFormatException bad) {
                        throw error("bad \\x escape");
                    }
                    pos += 2;
                }
                default -> throw error("unknown escape \\" + e);
            }
        }
    }

    private Value scalar() throws SyntaxException {
        int start = pos;
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '+' || c == '_') {
                pos++;
            } else {
                break;
            }
        }
        String token = src.substring(start, pos);
        if (token.isEmpty()) {
            throw error("unexpected " + describe(start));
        }
        if (token.equalsIgnoreCase("true")) {
            return new Bool(true);
        }
        if (token.equalsIgnoreCase("false")) {
            return new Bool(false);
        }
        String digits = token.endsWith("LL") || token.endsWith("ll") ? token.substring(0, token.length() - 2)
                : token.endsWith("L") || token.endsWith("l") ? token.substring(0, token.length() - 1) : token;
        try {
            if (digits.startsWith("0x") || digits.startsWith("0X")) {
                return new Int(Long.parseUnsignedLong(digits.substring(2), 16));
            }
            return new Int(Long.parseLong(digits));
        } catch (NumberFormatException notInteger) {
            try {
                return new Flt(Double.parseDouble(token));
            } catch (NumberFormatException notNumber) {
                throw new SyntaxException(line, "invalid value '" + token + "'");
            }
        }
    }

    private void skipBlanks() throws SyntaxException {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
            } else if (Character.isWhitespace(c)) {
                pos++;
            } else if (c == '#' || src.startsWith("//", pos)) {
                while (pos < src.length() && src.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (src.startsWith("/*", pos)) {
                int startLine = line;
                int close = src.indexOf("*/", pos + 2);
                if (close < 0) {
                    throw new SyntaxException(startLine, "unterminated comment");
                }
                for (int i = pos; i < close; i++) {
                    if (src.charAt(i) == '\n') {
                        line++;
                    }
                }
                pos = close + 2;
            } else {
                return;
            }
        }
    }

    private String describe(int at) {
        if (at >= src.length()) {
            return "end of file";
        }
        return "'" + src.charAt(at) + "'";
    }

    private SyntaxException error(String message) {
        return new SyntaxException(line, message);
    }
}
