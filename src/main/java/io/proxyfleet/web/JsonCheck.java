package io.proxyfleet.web;

/**
 * Tells whether a text is one well-formed JSON value (RFC 8259), as ProxySQL requires of a REST script's input
 * and output. Recursive, with nesting bounded by {@link #MAX_DEPTH} so hostile input cannot overflow the stack.
 * One instance per check; not thread-safe.
 */
final class JsonCheck {
    private static final int MAX_DEPTH = 512;

    private final String s;
    private int i;

    private JsonCheck(String s) {
        this.s = s;
    }

    static boolean isValid(String text) {
        var c = new JsonCheck(text);
        try {
            c.value(0);
            c.space();
            return c.i == text.length();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private void value(int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("too deep");
        }
        space();
        switch (peek()) {
            case '{' -> container('}', depth, true);
            case '[' -> container(']', depth, false);
            case '"' -> string();
            case 't' -> literal("true");
            case 'f' -> literal("false");
            case 'n' -> literal("null");
            default -> number();
        }
    }

    private void container(char close, int depth, boolean object) {
        i++;
        space();
        if (peek() == close) {
            i++;
            return;
        }
        while (true) {
            if (object) {
                space();
                string();
                space();
                expect(':');
            }
            value(depth + 1);
            space();
            char c = next();
            if (c == close) {
                return;
            }
            if (c != ',') {
                throw new IllegalArgumentException("expected , or " + close);
            }
        }
    }

    private void string() {
        expect('"');
        while (true) {
            char c = next();
            if (c == '"') {
                return;
            }
            if (c < ' ') {
                throw new IllegalArgumentException("control character in string");
            }
            if (c == '\\') {
                char e = next();
                if (e == 'u') {
                    for (int k = 0; k < 4; k++) {
                        if (Character.digit(next(), 16) < 0) {
                            throw new IllegalArgumentException("bad \\u escape");
                        }
                    }
                } else if ("\"\\/bfnrt".indexOf(e) < 0) {
                    throw new IllegalArgumentException("bad escape");
                }
            }
        }
    }

    private void number() {
        int start = i;
        if (peek() == '-') {
            i++;
        }
        if (peek() == '0') {
            i++;
        } else {
            digits();
        }
        if (peek() == '.') {
            i++;
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            i++;
            if (peek() == '+' || peek() == '-') {
                i++;
            }
            digits();
        }
        if (i == start) {
            throw new IllegalArgumentException("unexpected character");
        }
    }

    private void digits() {
        int start = i;
        while (Character.isDigit(peek()) && peek() < 0x80) {
            i++;
        }
        if (i == start) {
            throw new IllegalArgumentException("digit expected");
        }
    }

    private void literal(String word) {
        if (!s.startsWith(word, i)) {
            throw new IllegalArgumentException("expected " + word);
        }
        i += word.length();
    }

    private void space() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
    }

    private void expect(char c) {
        if (next() != c) {
            throw new IllegalArgumentException("expected " + c);
        }
    }

    private char peek() {
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private char next() {
        if (i >= s.length()) {
            throw new IllegalArgumentException("unexpected end");
        }
        return s.charAt(i++);
    }
}
