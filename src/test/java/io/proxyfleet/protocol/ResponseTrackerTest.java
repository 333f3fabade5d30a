package io.proxyfleet.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.proxyfleet.protocol.ResponseTracker.Expect;
import io.proxyfleet.protocol.ResponseTracker.Step;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hand-built server responses, packet by packet, in the layouts of the MySQL protocol documentation, checking
 * that the tracker ends each response exactly at its last packet.
 */
class ResponseTrackerTest {
    private final ResponseTracker tracker = new ResponseTracker();
    /** The response being built; every packet is appended here and fed from here. */
    private final ByteBuf wire = Unpooled.buffer();
    private final List<Integer> starts = new ArrayList<>();
    private int sequenceId = 1;

    @AfterEach
    void release() {
        wire.release();
    }

    // ---- packet builders --------------------------------------------------------------------------------

    private ResponseTrackerTest packet(byte[] payload) {
        starts.add(wire.writerIndex());
        int start = Packets.begin(wire, sequenceId++ & 0xFF);
        wire.writeBytes(payload);
        Packets.finish(wire, start);
        return this;
    }

    private ResponseTrackerTest columnCount(int count) {
        ByteBuf b = Unpooled.buffer();
        Lenenc.writeInt(b, count);
        return packet(bytes(b));
    }

    /** A column definition; its content does not matter to the tracker, but it starts like a real one ("def"). */
    private ResponseTrackerTest column(String name) {
        ByteBuf b = Unpooled.buffer();
        Lenenc.writeString(b, "def");
        Lenenc.writeString(b, "db");
        Lenenc.writeString(b, "t");
        Lenenc.writeString(b, "t");
        Lenenc.writeString(b, name);
        Lenenc.writeString(b, name);
        b.writeByte(0x0c);
        b.writeShortLE(45);
        b.writeIntLE(11);
        b.writeByte(0x03);
        b.writeShortLE(0);
        b.writeByte(0);
        b.writeShortLE(0);
        return packet(bytes(b));
    }

    private ResponseTrackerTest row(String... cells) {
        ByteBuf b = Unpooled.buffer();
        for (String cell : cells) {
            Lenenc.writeNullableString(b, cell);
        }
        return packet(bytes(b));
    }

    private ResponseTrackerTest eof(int status) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(Packets.EOF);
        b.writeShortLE(0);
        b.writeShortLE(status);
        return packet(bytes(b));
    }

    private ResponseTrackerTest ok(int header, long affected, long insertId, int status) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(header);
        Lenenc.writeInt(b, affected);
        Lenenc.writeInt(b, insertId);
        b.writeShortLE(status);
        b.writeShortLE(0);
        return packet(bytes(b));
    }

    private ResponseTrackerTest ok(long affected, long insertId, int status) {
        return ok(Packets.OK, affected, insertId, status);
    }

    /** The OK that ends a result set under CLIENT_DEPRECATE_EOF: header 0xFE. */
    private ResponseTrackerTest eofOk(int status) {
        return ok(Packets.EOF, 0, 0, status);
    }

    private ResponseTrackerTest err(int code) {
        ByteBuf b = Unpooled.buffer();
        new ErrPacket(code, "42S02", "Table 'x' doesn't exist").writeTo(b, 0);
        b.skipBytes(Packets.HEADER_SIZE);
        return packet(bytes(b));
    }

    private ResponseTrackerTest prepareOk(int statementId, int columns, int params) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(Packets.OK);
        b.writeIntLE(statementId);
        b.writeShortLE(columns);
        b.writeShortLE(params);
        b.writeByte(0);
        b.writeShortLE(0);
        return packet(bytes(b));
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }

    /** Feeds every packet built so far and returns the steps. */
    private List<Step> feed() {
        List<Step> steps = new ArrayList<>();
        for (int start : starts) {
            steps.add(tracker.onPacket(wire, start));
        }
        starts.clear();
        return steps;
    }

    private static List<Step> moreThenDone(int packets) {
        List<Step> steps = new ArrayList<>();
        for (int i = 1; i < packets; i++) {
            steps.add(Step.MORE);
        }
        steps.add(Step.DONE);
        return steps;
    }

    // ---- tests -------------------------------------------------------------------------------------------

    @Test
    void classicEofResultSetEndsAtTheSecondEof() {
        tracker.start(Expect.RESULT, false, false);
        columnCount(2).column("a").column("b").eof(StatusFlags.AUTOCOMMIT)
                .row("1", "x").row(null, "y").row("3", null)
                .eof(StatusFlags.AUTOCOMMIT | StatusFlags.IN_TRANS);
        assertThat(feed()).isEqualTo(moreThenDone(8));
        assertThat(tracker.rows()).isEqualTo(3);
        assertThat(tracker.error()).isFalse();
        assertThat(tracker.statusFlags() & StatusFlags.IN_TRANS).isNotZero();
    }

    @Test
    void deprecateEofResultSetHasNoColumnEofAndEndsAtTheOk() {
        tracker.start(Expect.RESULT, true, false);
        columnCount(2).column("a").column("b").row("1", "x").row("2", "y").eofOk(StatusFlags.AUTOCOMMIT);
        assertThat(feed()).isEqualTo(moreThenDone(6));
        assertThat(tracker.rows()).isEqualTo(2);
    }

    @Test
    void emptyResultSetEndsRightAfterTheColumns() {
        tracker.start(Expect.RESULT, false, false);
        columnCount(1).column("a").eof(0).eof(StatusFlags.AUTOCOMMIT);
        assertThat(feed()).isEqualTo(moreThenDone(4));
        assertThat(tracker.rows()).isZero();
    }

    @Test
    void classicRowStartingWith0xFeIsARowWhenLongerThanAnEof() {
        tracker.start(Expect.RESULT, false, false);
        columnCount(1).column("a").eof(0);
        // A first cell whose length needs the 8-byte prefix starts with 0xFE; here a 9-byte payload suffices.
        packet(new byte[] {(byte) 0xFE, 0, 0, 0, 0, 0, 0, 0, 0});
        eof(StatusFlags.AUTOCOMMIT);
        assertThat(feed()).isEqualTo(moreThenDone(5));
        assertThat(tracker.rows()).isEqualTo(1);
    }

    @Test
    void deprecateEofRowOf16MiBStartingWith0xFeAndItsContinuationAreRows() {
        tracker.start(Expect.RESULT, true, false);
        columnCount(1).column("big");
        // One cell of 16 MiB: lenenc prefix 0xFE + 8 bytes + data. The row spans a full packet and a 9-byte one
        // whose first byte is again 0xFE (data), which must not pass for the terminating OK.
        int start = Packets.begin(wire, sequenceId);
        wire.writeByte(0xFE);
        wire.writeLongLE(Packets.MAX_PAYLOAD);
        wire.writeZero(Packets.MAX_PAYLOAD - 9);
        wire.writeBytes(new byte[] {(byte) 0xFE, 1, 2, 3, 4, 5, 6, 7, 8});
        sequenceId = Packets.finish(wire, start) + 1;
        eofOk(StatusFlags.AUTOCOMMIT);
        // Walk the wire: the split row's second header sits where finish put it.
        List<Step> steps = new ArrayList<>();
        for (int pos = 0; pos < wire.writerIndex(); pos += Packets.HEADER_SIZE + Packets.payloadLength(wire, pos)) {
            steps.add(tracker.onPacket(wire, pos));
        }
        starts.clear();
        assertThat(steps).isEqualTo(moreThenDone(5));
        assertThat(tracker.rows()).isEqualTo(1);
    }

    @Test
    void errInsteadOfAResultEndsTheResponse() {
        tracker.start(Expect.RESULT, true, false);
        err(1146);
        assertThat(feed()).containsExactly(Step.DONE);
        assertThat(tracker.error()).isTrue();
    }

    @Test
    void errInTheMiddleOfRowsEndsTheResponse() {
        tracker.start(Expect.RESULT, false, false);
        columnCount(1).column("a").eof(0).row("1").err(1317);
        assertThat(feed()).isEqualTo(moreThenDone(5));
        assertThat(tracker.error()).isTrue();
        assertThat(tracker.rows()).isEqualTo(1);
    }

    @Test
    void okCarriesAffectedRowsInsertIdAndStatus() {
        tracker.start(Expect.RESULT, true, false);
        ok(3, 70000, StatusFlags.IN_TRANS);
        assertThat(feed()).containsExactly(Step.DONE);
        assertThat(tracker.affectedRows()).isEqualTo(3);
        assertThat(tracker.hasLastInsertId()).isTrue();
        assertThat(tracker.lastInsertId()).isEqualTo(70000);
        assertThat(tracker.statusFlags()).isEqualTo(StatusFlags.IN_TRANS);
    }

    @Test
    void multiStatementResultsContinueWhileMoreResultsExists() {
        int more = StatusFlags.AUTOCOMMIT | StatusFlags.MORE_RESULTS_EXISTS;
        tracker.start(Expect.RESULT, false, false);
        columnCount(1).column("a").eof(more).row("1").eof(more) // SELECT 1
                .ok(2, 0, more)                                   // UPDATE ...
                .columnCount(1).column("b").eof(more).row("2").row("3").eof(StatusFlags.AUTOCOMMIT);
        assertThat(feed()).isEqualTo(moreThenDone(12));
        assertThat(tracker.rows()).isEqualTo(3);
        assertThat(tracker.affectedRows()).isEqualTo(2);
    }

    @Test
    void storedProcedureResultEndsWithTheFinalOk() {
        int more = StatusFlags.AUTOCOMMIT | StatusFlags.MORE_RESULTS_EXISTS;
        tracker.start(Expect.RESULT, true, false);
        columnCount(1).column("a").row("1").eofOk(more).ok(0, 0, StatusFlags.AUTOCOMMIT);
        assertThat(feed()).isEqualTo(moreThenDone(5));
    }

    @Test
    void localInfileRequestHandsOverThenTheOkEndsIt() {
        tracker.start(Expect.RESULT, true, false);
        packet(new byte[] {(byte) Packets.LOCAL_INFILE, 'f', '.', 'c', 's', 'v'});
        assertThat(feed()).containsExactly(Step.LOCAL_INFILE);
        tracker.afterLocalInfile();
        ok(5, 0, StatusFlags.AUTOCOMMIT);
        assertThat(feed()).containsExactly(Step.DONE);
        assertThat(tracker.affectedRows()).isEqualTo(5);
    }

    @Test
    void classicPrepareResponseEndsAfterTheColumnsEof() {
        tracker.start(Expect.PREPARE, false, false);
        prepareOk(1, 2, 1).column("?").eof(0).column("a").column("b").eof(0);
        assertThat(feed()).isEqualTo(moreThenDone(6));
    }

    @Test
    void deprecateEofPrepareResponseEndsAtTheLastColumn() {
        tracker.start(Expect.PREPARE, true, false);
        prepareOk(1, 2, 3).column("?").column("?").column("?").column("a").column("b");
        assertThat(feed()).isEqualTo(moreThenDone(6));
    }

    @Test
    void prepareWithParametersOnly() {
        tracker.start(Expect.PREPARE, false, false);
        prepareOk(2, 0, 2).column("?").column("?").eof(0);
        assertThat(feed()).isEqualTo(moreThenDone(4));
        tracker.start(Expect.PREPARE, true, false);
        prepareOk(3, 0, 2).column("?").column("?");
        assertThat(feed()).isEqualTo(moreThenDone(3));
    }

    @Test
    void prepareWithColumnsOnly() {
        tracker.start(Expect.PREPARE, false, false);
        prepareOk(2, 1, 0).column("a").eof(0);
        assertThat(feed()).isEqualTo(moreThenDone(3));
    }

    @Test
    void prepareOfAStatementWithoutParametersOrColumnsIsOnePacket() {
        tracker.start(Expect.PREPARE, false, false);
        prepareOk(4, 0, 0);
        assertThat(feed()).containsExactly(Step.DONE);
    }

    @Test
    void prepareErrorIsOnePacket() {
        tracker.start(Expect.PREPARE, true, false);
        err(1064);
        assertThat(feed()).containsExactly(Step.DONE);
        assertThat(tracker.error()).isTrue();
    }

    @Test
    void cursorExecuteEndsAfterMetadataAndFetchEndsAtItsEof() {
        tracker.start(Expect.RESULT, false, true);
        columnCount(1).column("a").eof(StatusFlags.AUTOCOMMIT | StatusFlags.CURSOR_EXISTS);
        assertThat(feed()).isEqualTo(moreThenDone(3));

        sequenceId = 1;
        tracker.start(Expect.ROWS, false, false);
        row("1").row("2").eof(StatusFlags.AUTOCOMMIT | StatusFlags.CURSOR_EXISTS);
        assertThat(feed()).isEqualTo(moreThenDone(3));
        assertThat(tracker.rows()).isEqualTo(2);

        tracker.start(Expect.ROWS, false, false);
        row("3").eof(StatusFlags.AUTOCOMMIT | StatusFlags.LAST_ROW_SENT);
        assertThat(feed()).isEqualTo(moreThenDone(2));
    }

    @Test
    void cursorRequestWithoutACursorStillRelaysTheWholeResult() {
        // The server may ignore the cursor flag (no CURSOR_EXISTS): rows follow the column EOF as usual.
        tracker.start(Expect.RESULT, false, true);
        columnCount(1).column("a").eof(StatusFlags.AUTOCOMMIT).row("1").eof(StatusFlags.AUTOCOMMIT);
        assertThat(feed()).isEqualTo(moreThenDone(5));
    }

    @Test
    void deprecateEofCursorExecuteEndsAtTheOkAfterTheColumns() {
        // What MariaDB 10.11 sends to Connector/J (useCursorFetch): even with CLIENT_DEPRECATE_EOF the metadata of
        // a cursor is followed by a terminator whose status says whether the cursor exists.
        tracker.start(Expect.RESULT, true, true);
        columnCount(2).column("a").column("b").eofOk(StatusFlags.AUTOCOMMIT | StatusFlags.CURSOR_EXISTS);
        assertThat(feed()).isEqualTo(moreThenDone(4));
    }

    @Test
    void deprecateEofCursorRequestThatOpensNoCursorRelaysTheRows() {
        tracker.start(Expect.RESULT, true, true);
        columnCount(1).column("a").eofOk(StatusFlags.AUTOCOMMIT).row("1").eofOk(StatusFlags.AUTOCOMMIT);
        assertThat(feed()).isEqualTo(moreThenDone(5));
    }

    @Test
    void deprecateEofFetchEndsAtTheOkWithLastRowSent() {
        tracker.start(Expect.ROWS, true, false);
        row("1").row("2").eofOk(StatusFlags.AUTOCOMMIT | StatusFlags.LAST_ROW_SENT);
        assertThat(feed()).isEqualTo(moreThenDone(3));
        assertThat(tracker.rows()).isEqualTo(2);
    }

    @Test
    void singlePacketCommandsEndAtOnce() {
        tracker.start(Expect.SINGLE, true, false);
        ok(0, 0, StatusFlags.AUTOCOMMIT);
        assertThat(feed()).containsExactly(Step.DONE);
        tracker.start(Expect.SINGLE, true, false);
        packet("Uptime: 10  Threads: 1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(feed()).containsExactly(Step.DONE);
        tracker.start(Expect.SINGLE, true, false);
        err(1049);
        assertThat(feed()).containsExactly(Step.DONE);
        assertThat(tracker.error()).isTrue();
    }

    @Test
    void startResetsErrorAndRowCounts() {
        tracker.start(Expect.RESULT, true, false);
        columnCount(1).column("a").row("1").err(1317);
        feed();
        tracker.start(Expect.RESULT, true, false);
        ok(0, 0, StatusFlags.AUTOCOMMIT);
        feed();
        assertThat(tracker.error()).isFalse();
        assertThat(tracker.rows()).isZero();
        assertThat(tracker.hasLastInsertId()).isFalse();
    }
}
