package io.proxyfleet.protocol;

/** Server status flags carried by OK and EOF packets. */
public final class StatusFlags {
    public static final int IN_TRANS = 1;
    public static final int AUTOCOMMIT = 1 << 1;
    public static final int MORE_RESULTS_EXISTS = 1 << 3;
    public static final int CURSOR_EXISTS = 1 << 6;
    public static final int LAST_ROW_SENT = 1 << 7;
    /** The session's sql_mode has NO_BACKSLASH_ESCAPES: clients must escape quotes by doubling them only. */
    public static final int NO_BACKSLASH_ESCAPES = 1 << 9;
    public static final int PS_OUT_PARAMS = 1 << 12;
    public static final int IN_TRANS_READONLY = 1 << 13;

    private StatusFlags() {
    }
}
