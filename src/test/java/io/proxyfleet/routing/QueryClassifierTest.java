package io.proxyfleet.routing;

import static io.proxyfleet.routing.QueryClassifier.CALC_FOUND_ROWS;
import static io.proxyfleet.routing.QueryClassifier.FOUND_ROWS_CALL;
import static io.proxyfleet.routing.QueryClassifier.GET_LOCK;
import static io.proxyfleet.routing.QueryClassifier.LAST_INSERT_ID;
import static io.proxyfleet.routing.QueryClassifier.LOCK_TABLES;
import static io.proxyfleet.routing.QueryClassifier.PREPARE;
import static io.proxyfleet.routing.QueryClassifier.SAVEPOINT;
import static io.proxyfleet.routing.QueryClassifier.SET_STATEMENT;
import static io.proxyfleet.routing.QueryClassifier.TEMPORARY_TABLE;
import static io.proxyfleet.routing.QueryClassifier.TRANSACTION_BEGIN;
import static io.proxyfleet.routing.QueryClassifier.TRANSACTION_END;
import static io.proxyfleet.routing.QueryClassifier.UNLOCK_TABLES;
import static io.proxyfleet.routing.QueryClassifier.USER_VARIABLE;
import static io.proxyfleet.routing.QueryClassifier.USE_STATEMENT;
import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlVariables;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class QueryClassifierTest {
    private static final QueryClassifier CLASSIFIER =
            new QueryClassifier(MysqlVariables.DEFAULTS.get("keep_multiplexing_variables"));

    static Stream<Arguments> queries() {
        return Stream.of(
                Arguments.of("BEGIN", TRANSACTION_BEGIN),
                Arguments.of("begin work", TRANSACTION_BEGIN),
                Arguments.of("START TRANSACTION READ ONLY", TRANSACTION_BEGIN),
                Arguments.of("/* app */ COMMIT", TRANSACTION_END),
                Arguments.of("ROLLBACK", TRANSACTION_END),
                Arguments.of("ROLLBACK TO SAVEPOINT s1", 0),
                Arguments.of("SAVEPOINT s1", SAVEPOINT),
                Arguments.of("PREPARE stmt FROM 'SELECT ?'", PREPARE),
                Arguments.of("LOCK TABLES t READ", LOCK_TABLES),
                Arguments.of("lock table t write", LOCK_TABLES),
                Arguments.of("FLUSH TABLES WITH READ LOCK", LOCK_TABLES),
                Arguments.of("UNLOCK TABLES", UNLOCK_TABLES),
                Arguments.of("CREATE TEMPORARY TABLE tmp (id INT)", TEMPORARY_TABLE),
                Arguments.of("SELECT GET_LOCK('job', 10)", GET_LOCK),
                Arguments.of("SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10", CALC_FOUND_ROWS),
                Arguments.of("SELECT FOUND_ROWS()", FOUND_ROWS_CALL),
                Arguments.of("SELECT LAST_INSERT_ID()", LAST_INSERT_ID),
                Arguments.of("select get_lock('job', 10), last_insert_id(), found_rows()",
                        GET_LOCK | LAST_INSERT_ID | FOUND_ROWS_CALL),
                Arguments.of("SELECT c FROM sbtest1 WHERE id=12345", 0),
                Arguments.of("SELECT MY_FOUND_ROWS()", 0),
                Arguments.of("SELECT @@version", 0),
                Arguments.of("SELECT @@session.transaction_isolation, @@tx_isolation", 0),
                Arguments.of("SELECT @@sql_mode", USER_VARIABLE),
                Arguments.of("SELECT @x", USER_VARIABLE),
                Arguments.of("SELECT * FROM users WHERE email = 'a@b.c'", 0),
                Arguments.of("INSERT INTO t VALUES (@x)", USER_VARIABLE),
                Arguments.of("SET @x = 5", SET_STATEMENT | USER_VARIABLE),
                Arguments.of("SET autocommit = 0, @@session.sql_mode = 'ANSI'", SET_STATEMENT),
                Arguments.of("USE shop", USE_STATEMENT),
                Arguments.of("SELECT * FROM begin_log", 0),
                Arguments.of("UPDATE t SET lock_count = 1", 0));
    }

    @ParameterizedTest
    @MethodSource("queries")
    void classifiesFromTheDigestText(String query, int expected) {
        QueryDigest digest = new QueryDigest(DigestOptions.DEFAULTS);
        digest.compute(query);
        assertThat(CLASSIFIER.classify(digest)).as(digest.textString()).isEqualTo(expected);
    }
}
