package io.proxyfleet.stats;

import io.netty.buffer.ByteBuf;

/**
 * Classifies a query by its leading keywords into a {@link CommandCounters} index, reading the packet in place:
 * no string is built per query.
 */
public final class SqlCommand {
    private static final int SELECT = CommandCounters.COMMANDS.indexOf("SELECT");
    private static final int INSERT = CommandCounters.COMMANDS.indexOf("INSERT");
    private static final int UPDATE = CommandCounters.COMMANDS.indexOf("UPDATE");
    private static final int DELETE = CommandCounters.COMMANDS.indexOf("DELETE");
    private static final int REPLACE = CommandCounters.COMMANDS.indexOf("REPLACE");
    private static final int SET = CommandCounters.COMMANDS.indexOf("SET");
    private static final int BEGIN = CommandCounters.COMMANDS.indexOf("BEGIN");
    private static final int COMMIT = CommandCounters.COMMANDS.indexOf("COMMIT");
    private static final int ROLLBACK = CommandCounters.COMMANDS.indexOf("ROLLBACK");
    private static final int SHOW = CommandCounters.COMMANDS.indexOf("SHOW");
    private static final int USE = CommandCounters.COMMANDS.indexOf("USE");
    private static final int START_TRANSACTION = CommandCounters.COMMANDS.indexOf("START_TRANSACTION");
    private static final int CALL = CommandCounters.COMMANDS.indexOf("CALL");
    private static final int EXPLAIN = CommandCounters.COMMANDS.indexOf("EXPLAIN");
    private static final int DESCRIBE = CommandCounters.COMMANDS.indexOf("DESCRIBE");
    private static final int CREATE_TABLE = CommandCounters.COMMANDS.indexOf("CREATE_TABLE");
    private static final int DROP_TABLE = CommandCounters.COMMANDS.indexOf("DROP_TABLE");
    private static final int ALTER_TABLE = CommandCounters.COMMANDS.indexOf("ALTER_TABLE");
    private static final int TRUNCATE_TABLE = CommandCounters.COMMANDS.indexOf("TRUNCATE_TABLE");
    private static final int LOAD = CommandCounters.COMMANDS.indexOf("LOAD");
    private static final int KILL = CommandCounters.COMMANDS.indexOf("KILL");
    private static final int FLUSH = CommandCounters.COMMANDS.indexOf("FLUSH");
    private static final int GRANT = CommandCounters.COMMANDS.indexOf("GRANT");
    private static final int REVOKE = CommandCounters.COMMANDS.indexOf("REVOKE");
    private static final int PREPARE = CommandCounters.COMMANDS.indexOf("PREPARE");
    private static final int EXECUTE = CommandCounters.COMMANDS.indexOf("EXECUTE");
    private static final int DEALLOCATE = CommandCounters.COMMANDS.indexOf("DEALLOCATE");
    private static final int SAVEPOINT = CommandCounters.COMMANDS.indexOf("SAVEPOINT");

    private SqlCommand() {
    }

    /** The command index of the query text between {@code from} and {@code to}. */
    public static int classify(ByteBuf buf, int from, int to) {
        int pos = from;
        while (pos < to) {
            byte b = buf.getByte(pos);
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '(') {
                pos++;
            } else if (b == '/' && pos + 1 < to && buf.getByte(pos + 1) == '*') {
                int end = buf.indexOf(pos + 2, to, (byte) '/');
                pos = end < 0 ? to : end + 1;
            } else {
                break;
            }
        }
        if (startsWith(buf, pos, to, "SELECT")) {
            return SELECT;
        }
        if (startsWith(buf, pos, to, "INSERT")) {
            return INSERT;
        }
        if (startsWith(buf, pos, to, "UPDATE")) {
            return UPDATE;
        }
        if (startsWith(buf, pos, to, "DELETE")) {
            return DELETE;
        }
        if (startsWith(buf, pos, to, "REPLACE")) {
            return REPLACE;
        }
        if (startsWith(buf, pos, to, "SET")) {
            return SET;
        }
        if (startsWith(buf, pos, to, "BEGIN")) {
            return BEGIN;
        }
        if (startsWith(buf, pos, to, "COMMIT")) {
            return COMMIT;
        }
        if (startsWith(buf, pos, to, "ROLLBACK")) {
            return ROLLBACK;
        }
        if (startsWith(buf, pos, to, "START")) {
            return START_TRANSACTION;
        }
        if (startsWith(buf, pos, to, "SHOW")) {
            return SHOW;
        }
        if (startsWith(buf, pos, to, "USE")) {
            return USE;
        }
        if (startsWith(buf, pos, to, "CALL")) {
            return CALL;
        }
        if (startsWith(buf, pos, to, "EXPLAIN")) {
            return EXPLAIN;
        }
        if (startsWith(buf, pos, to, "DESC")) {
            return DESCRIBE;
        }
        if (startsWith(buf, pos, to, "CREATE")) {
            return CREATE_TABLE;
        }
        if (startsWith(buf, pos, to, "DROP")) {
            return DROP_TABLE;
        }
        if (startsWith(buf, pos, to, "ALTER")) {
            return ALTER_TABLE;
        }
        if (startsWith(buf, pos, to, "TRUNCATE")) {
            return TRUNCATE_TABLE;
        }
        if (startsWith(buf, pos, to, "LOAD")) {
            return LOAD;
        }
        if (startsWith(buf, pos, to, "KILL")) {
            return KILL;
        }
        if (startsWith(buf, pos, to, "FLUSH")) {
            return FLUSH;
        }
        if (startsWith(buf, pos, to, "GRANT")) {
            return GRANT;
        }
        if (startsWith(buf, pos, to, "REVOKE")) {
            return REVOKE;
        }
        if (startsWith(buf, pos, to, "PREPARE")) {
            return PREPARE;
        }
        if (startsWith(buf, pos, to, "EXECUTE")) {
            return EXECUTE;
        }
        if (startsWith(buf, pos, to, "DEALLOCATE")) {
            return DEALLOCATE;
        }
        if (startsWith(buf, pos, to, "SAVEPOINT")) {
            return SAVEPOINT;
        }
        return CommandCounters.UNKNOWN;
    }

    private static boolean startsWith(ByteBuf buf, int pos, int to, String keyword) {
        int length = keyword.length();
        if (to - pos < length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if ((buf.getByte(pos + i) & ~0x20) != keyword.charAt(i)) {
                return false;
            }
        }
        return to - pos == length || !Character.isLetterOrDigit(buf.getByte(pos + length));
    }
}
