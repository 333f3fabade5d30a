package io.proxyfleet.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.routing.SessionVariable.Scope;
import org.junit.jupiter.api.Test;

class SetStatementParserTest {

    private static SetStatement.Assignments parsed(String sql) {
        SetStatement result = SetStatementParser.parse(sql);
        assertThat(result).as(sql).isInstanceOf(SetStatement.Assignments.class);
        return (SetStatement.Assignments) result;
    }

    @Test
    void simpleAndScopedAssignments() {
        assertThat(parsed("SET autocommit=0").variables())
                .containsExactly(new SessionVariable("autocommit", "0", Scope.SESSION));
        assertThat(parsed("set SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE' ; ").variables())
                .containsExactly(new SessionVariable("sql_mode", "STRICT_TRANS_TABLES,NO_ZERO_DATE", Scope.SESSION));
        assertThat(parsed("SET @@SESSION.time_zone = '+00:00', @@local.sql_select_limit=100, tx_isolation='READ-COMMITTED'")
                .variables()).containsExactly(
                new SessionVariable("time_zone", "+00:00", Scope.SESSION),
                new SessionVariable("sql_select_limit", "100", Scope.SESSION),
                new SessionVariable("transaction_isolation", "READ-COMMITTED", Scope.SESSION));
        assertThat(parsed("/* driver */ SET session_track_gtids = OWN_GTID").variables())
                .containsExactly(new SessionVariable("session_track_gtids", "OWN_GTID", Scope.SESSION));
    }

    @Test
    void namesCharsetAndCollation() {
        SetStatement.Assignments names = parsed("SET NAMES utf8mb4 COLLATE 'utf8mb4_unicode_ci'");
        assertThat(names.variables()).containsExactly(
                new SessionVariable("names", "utf8mb4", Scope.SESSION),
                new SessionVariable("collation_connection", "utf8mb4_unicode_ci", Scope.SESSION));
        assertThat(names.allTracked()).isTrue();
        assertThat(parsed("SET CHARACTER SET latin1").variables())
                .containsExactly(new SessionVariable("charset", "latin1", Scope.SESSION));
        assertThat(parsed("SET NAMES 'utf8', autocommit = 1").variables()).hasSize(2);
    }

    @Test
    void transactionCharacteristics() {
        assertThat(parsed("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED").variables())
                .containsExactly(new SessionVariable("transaction_isolation", "READ-COMMITTED", Scope.SESSION));
        assertThat(parsed("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").variables()).containsExactly(
                new SessionVariable("transaction_isolation", "REPEATABLE-READ", Scope.NEXT_TRANSACTION),
                new SessionVariable("transaction_read_only", "1", Scope.NEXT_TRANSACTION));
        assertThat(SetStatementParser.parse("SET TRANSACTION ISOLATION LEVEL SOMETIMES"))
                .isInstanceOf(SetStatement.Unparsable.class);
    }

    @Test
    void userVariablesAreParsedButNotTracked() {
        SetStatement.Assignments user = parsed("SET @a = 1, @`b c` := 'it''s'");
        assertThat(user.variables()).containsExactly(
                new SessionVariable("a", "1", Scope.USER),
                new SessionVariable("b c", "it's", Scope.USER));
        assertThat(user.allTracked()).isFalse();
        assertThat(parsed("SET my_custom_plugin_var = 3").allTracked()).isFalse();
    }

    @Test
    void globalScopeAndExpressionsAreUnparsable() {
        assertThat(SetStatementParser.parse("SET GLOBAL max_connections = 10"))
                .isInstanceOf(SetStatement.Unparsable.class);
        assertThat(SetStatementParser.parse("SET @@global.sql_mode = ''"))
                .isInstanceOf(SetStatement.Unparsable.class);
        assertThat(SetStatementParser.parse("SET sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')"))
                .isInstanceOf(SetStatement.Unparsable.class);
        assertThat(SetStatementParser.parse("SET autocommit = 1 + 1"))
                .isInstanceOf(SetStatement.Unparsable.class);
        assertThat(SetStatementParser.parse("SET x = 'unterminated"))
                .isInstanceOf(SetStatement.Unparsable.class);
    }

    @Test
    void otherStatementsAreNotSet() {
        assertThat(SetStatementParser.parse("SELECT 1")).isInstanceOf(SetStatement.NotSet.class);
        assertThat(SetStatementParser.parse("SETTINGS")).isInstanceOf(SetStatement.NotSet.class);
    }

    @Test
    void quotedValuesWithABackslashAreLeftToTheBackend() {
        // Whether the backslash escapes depends on NO_BACKSLASH_ESCAPES, which only the backend knows for sure.
        assertThat(SetStatementParser.parse("SET time_zone = 'a\\b'")).isInstanceOf(SetStatement.Unparsable.class);
        assertThat(parsed("SET lc_time_names = 'it''s', sql_mode = \"\"").variables()).containsExactly(
                new SessionVariable("lc_time_names", "it's", Scope.SESSION),
                new SessionVariable("sql_mode", "", Scope.SESSION));
    }
}
