package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * Encodes a whole text-protocol result set whose columns are all strings, as the admin interface (and any answer
 * the proxy gives itself) sends them. Cold path: rows arrive as Java strings.
 *
 * @see <a href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html">Text Resultset</a>
 */
public final class TextResultSet {
    private static final int COLUMN_TYPE_VAR_STRING = 0xFD;
    private static final int CHARSET_UTF8_GENERAL_CI = 33;
    private static final int FIXED_FIELDS_LENGTH = 0x0C;
    private static final int DISPLAY_LENGTH = 1024;

    private TextResultSet() {
    }

    /**
     * Writes column count, definitions, rows and terminator starting at {@code sequenceId}.
     *
     * @return the sequence id of the last packet written
     */
    public static int write(ByteBuf out, int sequenceId, List<String> columns, List<? extends List<String>> rows,
                            boolean deprecateEof, int statusFlags) {
        int seq = sequenceId;
        int start = Packets.begin(out, seq);
        Lenenc.writeInt(out, columns.size());
        seq = next(Packets.finish(out, start));
        for (String column : columns) {
            start = Packets.begin(out, seq);
            Lenenc.writeString(out, "def");
            Lenenc.writeString(out, "");
            Lenenc.writeString(out, "");
            Lenenc.writeString(out, "");
            Lenenc.writeString(out, column);
            Lenenc.writeString(out, column);
            out.writeByte(FIXED_FIELDS_LENGTH);
            out.writeShortLE(CHARSET_UTF8_GENERAL_CI);
            out.writeIntLE(DISPLAY_LENGTH);
            out.writeByte(COLUMN_TYPE_VAR_STRING);
            out.writeShortLE(0);
            out.writeByte(0);
            out.writeShortLE(0);
            seq = next(Packets.finish(out, start));
        }
        if (!deprecateEof) {
            new EofPacket(0, statusFlags).writeTo(out, seq);
            seq = next(seq);
        }
        for (List<String> row : rows) {
            start = Packets.begin(out, seq);
            for (String cell : row) {
                Lenenc.writeNullableString(out, cell);
            }
            seq = next(Packets.finish(out, start));
        }
        if (deprecateEof) {
            new OkPacket(0, 0, statusFlags, 0, null).writeTo(out, seq, Packets.EOF);
        } else {
            new EofPacket(0, statusFlags).writeTo(out, seq);
        }
        return seq;
    }

    private static int next(int sequenceId) {
        return (sequenceId + 1) & 0xFF;
    }
}
