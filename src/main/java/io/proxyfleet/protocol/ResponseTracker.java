package io.proxyfleet.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Follows a server's response to one command packet by packet, reading only headers, first bytes and terminator
 * status flags, so that a relay knows where the response ends without decoding rows. Owned by the event loop of
 * the backend connection it tracks.
 */
public final class ResponseTracker {
    /** What the command expects back. */
    public enum Expect {
        /** COM_QUERY, COM_STMT_EXECUTE: OK, ERR, LOCAL INFILE request, or result sets, possibly several. */
        RESULT,
        /** COM_STMT_FETCH, COM_FIELD_LIST: rows (or column definitions) until a terminator. */
        ROWS,
        /** COM_STMT_PREPARE: PREPARE_OK and its parameter and column definitions, or ERR. */
        PREPARE,
        /** Exactly one packet: OK, ERR, EOF or a string (COM_PING, COM_INIT_DB, COM_STATISTICS, ...). */
        SINGLE
    }

    /** Result of feeding one packet. */
    public enum Step {
        MORE,
        DONE,
        /** The server asks for a LOCAL INFILE: relay the client's file, then keep feeding. */
        LOCAL_INFILE
    }

    private enum State { FIRST, COLUMNS, COLUMNS_EOF, ROWS, PREPARE_PARAMS, PREPARE_PARAMS_EOF, PREPARE_COLUMNS,
        PREPARE_COLUMNS_EOF, SINGLE }

    private boolean deprecateEof;
    private boolean cursor;
    private State state;
    private long remaining;
    private int prepareColumns;
    private boolean continuation;
    private int statusFlags;
    private boolean error;
    private long rows;
    private long affectedRows;
    private long lastInsertId;
    private boolean hasLastInsertId;

    /**
     * Starts tracking the response to a new command.
     *
     * @param deprecateEof whether the connection negotiated CLIENT_DEPRECATE_EOF
     * @param cursor       a COM_STMT_EXECUTE that asked for a cursor: the result ends after its metadata
     */
    public void start(Expect expect, boolean deprecateEof, boolean cursor) {
        this.deprecateEof = deprecateEof;
        this.cursor = cursor;
        this.state = switch (expect) {
            case RESULT, PREPARE -> State.FIRST;
            case ROWS -> State.ROWS;
            case SINGLE -> State.SINGLE;
        };
        this.prepareColumns = expect == Expect.PREPARE ? -1 : 0;
        this.continuation = false;
        this.error = false;
        this.rows = 0;
        this.affectedRows = 0;
        this.hasLastInsertId = false;
    }

    /** Continues after the client's LOCAL INFILE data: the server now answers OK or ERR. */
    public void afterLocalInfile() {
        state = State.FIRST;
    }

    /**
     * Feeds the physical packet whose header starts at {@code index} in {@code buf}.
     */
    public Step onPacket(ByteBuf buf, int index) {
        int length = Packets.payloadLength(buf, index);
        boolean wasContinuation = continuation;
        continuation = length == Packets.MAX_PAYLOAD;
        if (wasContinuation) {
            return Step.MORE;
        }
        int payload = index + Packets.HEADER_SIZE;
        int first = length == 0 ? -1 : buf.getUnsignedByte(payload);
        return switch (state) {
            case SINGLE -> {
                if (first == Packets.ERR) {
                    error = true;
                } else if (first == Packets.OK && length >= 7) {
                    statusFlags = OkPacket.statusFlagsAt(buf, payload, length);
                }
                yield Step.DONE;
            }
            case FIRST -> onFirst(buf, payload, length, first);
            case COLUMNS -> {
                if (--remaining == 0) {
                    // A cursor's metadata ends with a terminator even under CLIENT_DEPRECATE_EOF (MariaDB and
                    // MySQL both send it), because its status says whether the cursor was opened.
                    state = deprecateEof && !cursor ? State.ROWS : State.COLUMNS_EOF;
                }
                yield Step.MORE;
            }
            case COLUMNS_EOF -> {
                statusFlags = deprecateEof ? OkPacket.statusFlagsAt(buf, payload, length)
                        : EofPacket.statusFlagsAt(buf, payload, length);
                if (cursor && (statusFlags & StatusFlags.CURSOR_EXISTS) != 0) {
                    yield Step.DONE;
                }
                state = State.ROWS;
                yield Step.MORE;
            }
            case ROWS -> onRow(buf, payload, length, first);
            case PREPARE_PARAMS -> {
                if (--remaining == 0) {
                    state = deprecateEof ? State.PREPARE_COLUMNS : State.PREPARE_PARAMS_EOF;
                    if (deprecateEof) {
                        yield afterPrepareParams();
                    }
                }
                yield Step.MORE;
            }
            case PREPARE_PARAMS_EOF -> afterPrepareParams();
            case PREPARE_COLUMNS -> {
                if (--remaining == 0) {
                    if (deprecateEof) {
                        yield Step.DONE;
                    }
                    state = State.PREPARE_COLUMNS_EOF;
                }
                yield Step.MORE;
            }
            case PREPARE_COLUMNS_EOF -> Step.DONE;
        };
    }

    private Step onFirst(ByteBuf buf, int payload, int length, int first) {
        if (first == Packets.ERR) {
            error = true;
            return Step.DONE;
        }
        if (prepareColumns < 0) {
            return onPrepareOk(buf, payload, first);
        }
        if (first == Packets.OK) {
            statusFlags = OkPacket.statusFlagsAt(buf, payload, length);
            int pos = payload + 1;
            affectedRows += Lenenc.getInt(buf, pos);
            pos += Lenenc.encodedSize(buf.getUnsignedByte(pos));
            long insertId = Lenenc.getInt(buf, pos);
            if (insertId != 0) {
                lastInsertId = insertId;
                hasLastInsertId = true;
            }
            return moreResults() ? Step.MORE : Step.DONE;
        }
        if (first == Packets.LOCAL_INFILE) {
            return Step.LOCAL_INFILE;
        }
        remaining = Lenenc.getInt(buf, payload);
        state = remaining == 0 ? State.ROWS : State.COLUMNS;
        return Step.MORE;
    }

    private Step onPrepareOk(ByteBuf buf, int payload, int first) {
        if (first != Packets.OK) {
            throw new ProtocolException("unexpected first byte 0x" + Integer.toHexString(first)
                    + " in a COM_STMT_PREPARE response");
        }
        prepareColumns = buf.getUnsignedShortLE(payload + 5);
        remaining = buf.getUnsignedShortLE(payload + 7);
        if (remaining > 0) {
            state = State.PREPARE_PARAMS;
            return Step.MORE;
        }
        return afterPrepareParams();
    }

    private Step afterPrepareParams() {
        if (prepareColumns == 0) {
            return Step.DONE;
        }
        remaining = prepareColumns;
        state = State.PREPARE_COLUMNS;
        return Step.MORE;
    }

    private Step onRow(ByteBuf buf, int payload, int length, int first) {
        if (first == Packets.ERR) {
            error = true;
            return Step.DONE;
        }
        boolean terminator = first == Packets.EOF
                && (deprecateEof ? length < Packets.MAX_PAYLOAD : length < Packets.EOF_MAX_PAYLOAD);
        if (!terminator) {
            rows++;
            return Step.MORE;
        }
        statusFlags = deprecateEof ? OkPacket.statusFlagsAt(buf, payload, length)
                : EofPacket.statusFlagsAt(buf, payload, length);
        if (moreResults()) {
            state = State.FIRST;
            return Step.MORE;
        }
        return Step.DONE;
    }

    private boolean moreResults() {
        return (statusFlags & StatusFlags.MORE_RESULTS_EXISTS) != 0;
    }

    /** Status flags of the last OK or EOF seen: transaction and autocommit state after the command. */
    public int statusFlags() {
        return statusFlags;
    }

    /** Whether the response ended with (or was) an ERR packet. */
    public boolean error() {
        return error;
    }

    /** Rows relayed so far in this response, all result sets together. */
    public long rows() {
        return rows;
    }

    public long affectedRows() {
        return affectedRows;
    }

    /** Whether some OK packet of the response carried a non-zero last insert id. */
    public boolean hasLastInsertId() {
        return hasLastInsertId;
    }

    public long lastInsertId() {
        return lastInsertId;
    }
}
