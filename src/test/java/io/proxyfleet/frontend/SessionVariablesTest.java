package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.protocol.StatusFlags;
import io.proxyfleet.routing.SetStatement;
import io.proxyfleet.routing.SetStatementParser;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The alignment SETs and status flags of a session's variables; what the server makes of them is SessionStateTest. */
class SessionVariablesTest {
    private static final int UTF8MB4_GENERAL_CI = 45;
    private static final int LATIN1_SWEDISH_CI = 8;
    private static final int UTF8MB4_0900_AI_CI = 255;

    private static SessionVariables negotiated(int collation) {
        SessionVariables vars = new SessionVariables();
        vars.negotiated(collation);
        return vars;
    }

    private static void set(SessionVariables vars, String sql, String schema) {
        vars.apply(((SetStatement.Assignments) SetStatementParser.parse(sql)).variables(), schema);
    }

    /** The connection the session ran on last, as it is after the alignment. */
    private static Map<String, String> alignedConnection(SessionVariables vars) {
        Map<String, String> applied = new HashMap<>();
        vars.recordOn(applied);
        return applied;
    }

    @Test
    void charsetVariablesGoBackToTheNegotiatedCollationNeverToDefault() {
        SessionVariables latin1 = negotiated(UTF8MB4_GENERAL_CI);
        set(latin1, "SET NAMES latin1", null);
        Map<String, String> connection = alignedConnection(latin1);

        SessionVariables fresh = negotiated(UTF8MB4_GENERAL_CI);
        assertThat(fresh.alignmentSql(connection, true)).isEqualTo("SET @@session.character_set_client = 45,"
                + " @@session.character_set_results = 45, @@session.collation_connection = 45");
        assertThat(fresh.alignmentSql(Map.of(), true)).isNull();
    }

    @Test
    void onlyWhatDiffersIsSet() {
        SessionVariables a = negotiated(LATIN1_SWEDISH_CI);
        set(a, "SET character_set_client = latin1, time_zone = '+01:00'", null);
        SessionVariables b = negotiated(LATIN1_SWEDISH_CI);
        set(b, "SET character_set_results = utf8mb4, time_zone = '+01:00', sql_mode = ''", null);
        assertThat(b.alignmentSql(alignedConnection(a), false)).isEqualTo("SET @@session.character_set_client = 8,"
                + " @@session.character_set_results = utf8mb4, @@session.sql_mode = ''");
    }

    @Test
    void mysql8OnlyCollationsLogInAsUtf8mb4GeneralCi() {
        assertThat(negotiated(UTF8MB4_0900_AI_CI).backendCollation()).isEqualTo(UTF8MB4_GENERAL_CI);
        assertThat(negotiated(LATIN1_SWEDISH_CI).backendCollation()).isEqualTo(LATIN1_SWEDISH_CI);
    }

    @Test
    void theConnectionCharsetIsOneSettingWhicheverWayItWasChosen() {
        SessionVariables vars = negotiated(UTF8MB4_GENERAL_CI);
        set(vars, "SET NAMES latin1 COLLATE latin1_bin", null);
        assertThat(vars.alignmentSql(Map.of(), true)).isEqualTo("SET @@session.character_set_client = latin1,"
                + " @@session.character_set_results = latin1, @@session.collation_connection = latin1_bin");
        set(vars, "SET character_set_connection = utf8mb4", null);
        assertThat(vars.alignmentSql(Map.of(), true)).endsWith(", @@session.character_set_connection = utf8mb4");
        set(vars, "SET CHARACTER SET cp1251", "shop");
        // The connection takes the collation of the schema current at the SET (hex of "shop"), as collation_database.
        assertThat(vars.alignmentSql(Map.of(), true)).isEqualTo("SET @@session.character_set_client = cp1251,"
                + " @@session.character_set_results = cp1251, @@session.collation_connection = COALESCE((SELECT"
                + " DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME ="
                + " CONVERT(X'73686f70' USING utf8mb4)), @@session.collation_server)");
    }

    @Test
    void defaultIsTheBaselineExceptForCharsets() {
        SessionVariables vars = negotiated(UTF8MB4_GENERAL_CI);
        set(vars, "SET sql_mode = 'ANSI', character_set_client = DEFAULT", null);
        Map<String, String> connection = alignedConnection(vars);
        set(vars, "SET sql_mode = DEFAULT", null);
        // sql_mode back to the server's global value; the charset as the client explicitly asked (the global one).
        assertThat(vars.alignmentSql(connection, true)).isEqualTo("SET @@session.sql_mode = DEFAULT");
        assertThat(vars.alignmentSql(Map.of(), true)).isEqualTo("SET @@session.character_set_client = DEFAULT");
    }

    @Test
    void isolationUsesMariaDbNames() {
        SessionVariables vars = negotiated(UTF8MB4_GENERAL_CI);
        set(vars, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", null);
        assertThat(vars.alignmentSql(Map.of(), true)).isEqualTo("SET @@session.tx_isolation = 'READ-COMMITTED'");
        assertThat(vars.alignmentSql(Map.of(), false))
                .isEqualTo("SET @@session.transaction_isolation = 'READ-COMMITTED'");
    }

    @Test
    void statusFlagsFollowSqlModeAutocommitAndTheTransaction() {
        SessionVariables vars = negotiated(UTF8MB4_GENERAL_CI);
        assertThat(vars.statusFlags(false)).isEqualTo(StatusFlags.AUTOCOMMIT);
        set(vars, "SET sql_mode = 'ansi_quotes, no_backslash_escapes', autocommit = OFF", null);
        assertThat(vars.statusFlags(true)).isEqualTo(StatusFlags.NO_BACKSLASH_ESCAPES | StatusFlags.IN_TRANS);
        set(vars, "SET sql_mode = 'NO_BACKSLASH_ESCAPES_NOT', autocommit = 1", null);
        assertThat(vars.statusFlags(false)).isEqualTo(StatusFlags.AUTOCOMMIT);
    }

    @Test
    void withTheServersSqlModeTheFlagIsTheBackends() {
        SessionVariables vars = negotiated(UTF8MB4_GENERAL_CI);
        vars.observe(StatusFlags.AUTOCOMMIT | StatusFlags.NO_BACKSLASH_ESCAPES);
        assertThat(vars.statusFlags(false) & StatusFlags.NO_BACKSLASH_ESCAPES).isNotZero();
        set(vars, "SET sql_mode = ''", null);
        vars.observe(StatusFlags.AUTOCOMMIT);
        assertThat(vars.statusFlags(false) & StatusFlags.NO_BACKSLASH_ESCAPES).isZero();
        set(vars, "SET sql_mode = DEFAULT", null);
        assertThat(vars.statusFlags(false) & StatusFlags.NO_BACKSLASH_ESCAPES).as("the server's, seen before")
                .isNotZero();
    }

    @Test
    void aRefusedAlignmentFallsBackToWhatTheServerLastAccepted() {
        SessionVariables vars = negotiated(UTF8MB4_GENERAL_CI);
        set(vars, "SET time_zone = '+02:00'", null);
        Map<String, String> connection = alignedConnection(vars);
        set(vars, "SET time_zone = 'No/Such_Zone'", null);
        vars.alignmentRefused();
        assertThat(vars.alignmentSql(connection, true)).isNull();
    }
}
