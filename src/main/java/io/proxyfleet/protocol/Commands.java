package io.proxyfleet.protocol;

/** Command bytes: the first payload byte of every packet a client sends after authentication. */
public final class Commands {
    public static final int SLEEP = 0x00;
    public static final int QUIT = 0x01;
    public static final int INIT_DB = 0x02;
    public static final int QUERY = 0x03;
    public static final int FIELD_LIST = 0x04;
    public static final int STATISTICS = 0x09;
    public static final int PROCESS_KILL = 0x0c;
    public static final int PING = 0x0e;
    public static final int CHANGE_USER = 0x11;
    public static final int STMT_PREPARE = 0x16;
    public static final int STMT_EXECUTE = 0x17;
    public static final int STMT_SEND_LONG_DATA = 0x18;
    public static final int STMT_CLOSE = 0x19;
    public static final int STMT_RESET = 0x1a;
    public static final int SET_OPTION = 0x1b;
    public static final int STMT_FETCH = 0x1c;
    public static final int RESET_CONNECTION = 0x1f;

    /** COM_STMT_EXECUTE flag asking for a read-only cursor instead of an immediate result set. */
    public static final int CURSOR_TYPE_READ_ONLY = 0x01;

    private Commands() {
    }

    /** Name for logs and {@code stats_mysql_commands_counters}. */
    public static String name(int command) {
        return switch (command) {
            case SLEEP -> "SLEEP";
            case QUIT -> "QUIT";
            case INIT_DB -> "INIT_DB";
            case QUERY -> "QUERY";
            case FIELD_LIST -> "FIELD_LIST";
            case STATISTICS -> "STATISTICS";
            case PROCESS_KILL -> "PROCESS_KILL";
            case PING -> "PING";
            case CHANGE_USER -> "CHANGE_USER";
            case STMT_PREPARE -> "STMT_PREPARE";
            case STMT_EXECUTE -> "STMT_EXECUTE";
            case STMT_SEND_LONG_DATA -> "STMT_SEND_LONG_DATA";
            case STMT_CLOSE -> "STMT_CLOSE";
            case STMT_RESET -> "STMT_RESET";
            case SET_OPTION -> "SET_OPTION";
            case STMT_FETCH -> "STMT_FETCH";
            case RESET_CONNECTION -> "RESET_CONNECTION";
            default -> "UNKNOWN_" + command;
        };
    }
}
