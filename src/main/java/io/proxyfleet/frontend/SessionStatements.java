package io.proxyfleet.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.collection.IntObjectHashMap;
import io.proxyfleet.backend.BackendConnection;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.Packets;

/**
 * A client's prepared statements under the ids the proxy gave them, and the packet rewriting that maps them onto
 * whichever backend connection runs them: each connection has its own ids, and may lack a statement's parameter
 * types when the client bound them on another. Owned by the session's event loop.
 */
final class SessionStatements {
    /** Offset of COM_STMT_EXECUTE's null bitmap in its payload: command, statement id, flags, iteration count. */
    private static final int EXECUTE_NULL_BITMAP = 10;
    private static final int STATEMENT_ID = 1;
    private static final int TYPES_BOUND = 1;

    /** Created on the first PREPARE: most sessions never prepare anything. */
    private IntObjectHashMap<SessionStatement> byId;
    private int lastId;

    /** The statement that execute, fetch, reset or long data {@code c} names, or null for an unknown id. */
    SessionStatement named(Command c) {
        return byId == null ? null : byId.get(clientId(c));
    }

    static int clientId(Command c) {
        ByteBuf first = c.first();
        return first.getIntLE(first.readerIndex() + Packets.HEADER_SIZE + STATEMENT_ID);
    }

    /** An execute that binds types: remembered, for connections that get the statement's executes later. */
    static void rememberTypes(Command c, SessionStatement statement) {
        if (c.code != Commands.STMT_EXECUTE || statement.params == 0 || c.packetCount() != 1) {
            return;
        }
        ByteBuf first = c.first();
        int flagAt = typesFlagAt(first, statement);
        if (flagAt < first.writerIndex() && first.getByte(flagAt) == TYPES_BOUND) {
            statement.paramTypes = new byte[2 * statement.params];
            first.getBytes(flagAt + 1, statement.paramTypes);
        }
    }

    /** Puts the connection's id into the command, and the parameter types when this connection never got them. */
    static void bind(Command c, BackendConnection.PreparedOnBackend onBackend, ByteBufAllocator alloc) {
        SessionStatement statement = c.statement;
        ByteBuf first = c.first();
        int payload = first.readerIndex() + Packets.HEADER_SIZE;
        first.setIntLE(payload + STATEMENT_ID, onBackend.id());
        if (c.code != Commands.STMT_EXECUTE || statement.params == 0 || c.packetCount() != 1) {
            return;
        }
        int flagAt = typesFlagAt(first, statement);
        boolean typesBound = flagAt < first.writerIndex() && first.getByte(flagAt) == TYPES_BOUND;
        if (!typesBound && onBackend.typesOwner() != statement && statement.paramTypes != null) {
            ByteBuf withTypes = alloc.buffer(first.readableBytes() + statement.paramTypes.length);
            int start = Packets.begin(withTypes, 0);
            withTypes.writeBytes(first, payload, flagAt - payload);
            withTypes.writeByte(TYPES_BOUND);
            withTypes.writeBytes(statement.paramTypes);
            withTypes.writeBytes(first, flagAt + 1, first.writerIndex() - flagAt - 1);
            Packets.finish(withTypes, start);
            c.replaceFirst(withTypes);
        }
        onBackend.typesOwner(statement);
    }

    private static int typesFlagAt(ByteBuf first, SessionStatement statement) {
        return first.readerIndex() + Packets.HEADER_SIZE + EXECUTE_NULL_BITMAP + (statement.params + 7) / 8;
    }

    /** COM_STMT_CLOSE: forgets the statement it names and returns it, or null. */
    SessionStatement close(Command c) {
        return byId == null ? null : byId.remove(clientId(c));
    }

    /** Makes a COM_STMT_CLOSE name the connection's own id for the statement. */
    static void bindClose(Command c, BackendConnection.PreparedOnBackend onBackend) {
        ByteBuf first = c.first();
        first.setIntLE(first.readerIndex() + Packets.HEADER_SIZE + STATEMENT_ID, onBackend.id());
    }

    /**
     * PREPARE_OK on its way to the client: it gets the proxy's id for the statement, and the connection's own id
     * is remembered on the connection.
     */
    void prepared(String sql, ByteBuf packet, int index, BackendConnection backend) {
        int payload = index + Packets.HEADER_SIZE;
        if (packet.getUnsignedByte(payload) != Packets.OK || sql == null) {
            return;
        }
        int backendId = packet.getIntLE(payload + STATEMENT_ID);
        int params = packet.getUnsignedShortLE(payload + 7);
        int clientId = ++lastId;
        packet.setIntLE(payload + STATEMENT_ID, clientId);
        if (byId == null) {
            byId = new IntObjectHashMap<>(4);
        }
        byId.put(clientId, new SessionStatement(clientId, sql, params));
        backend.statementPrepared(sql, backendId);
    }

    void clear() {
        if (byId != null) {
            byId.clear();
        }
    }
}
