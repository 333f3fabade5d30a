package io.proxyfleet.frontend;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Recognises {@code USE db} in a COM_QUERY so that the session knows its schema after the backend accepts it
 * (JDBC's setCatalog sends it as a query, not as COM_INIT_DB). Reads the packet in place; allocates only when
 * the query really is a USE.
 */
final class UseStatement {
    private static final int MAX_USE_LENGTH = 256;

    private UseStatement() {
    }

    /** The schema named by a {@code USE} query between {@code from} and {@code to}, or {@code null}. */
    static String schemaOf(ByteBuf buf, int from, int to) {
        int pos = skipSpace(buf, from, to);
        if (to - pos < 4 || to - from > MAX_USE_LENGTH) {
            return null;
        }
        if ((buf.getByte(pos) | 0x20) != 'u' || (buf.getByte(pos + 1) | 0x20) != 's'
                || (buf.getByte(pos + 2) | 0x20) != 'e' || !isSpace(buf.getByte(pos + 3))) {
            return null;
        }
        pos = skipSpace(buf, pos + 3, to);
        int end = to;
        while (end > pos && (isSpace(buf.getByte(end - 1)) || buf.getByte(end - 1) == ';')) {
            end--;
        }
        if (end <= pos) {
            return null;
        }
        if (buf.getByte(pos) == '`' && buf.getByte(end - 1) == '`' && end - pos >= 2) {
            return buf.toString(pos + 1, end - pos - 2, StandardCharsets.UTF_8).replace("``", "`");
        }
        for (int i = pos; i < end; i++) {
            if (isSpace(buf.getByte(i))) {
                return null; // not a plain USE; let the backend judge it and keep the schema as is
            }
        }
        return buf.toString(pos, end - pos, StandardCharsets.UTF_8);
    }

    private static int skipSpace(ByteBuf buf, int pos, int to) {
        while (pos < to && isSpace(buf.getByte(pos))) {
            pos++;
        }
        return pos;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }
}
