package io.proxyfleet.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReadOnlySelectTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 1",
            "select id, updated_at from t where share_id = 3;",
            "SELECT * FROM t WHERE a IN (1,2) ORDER BY b LIMIT 5 ;  ",
            "SELECT c FROM sbtest1 WHERE id BETWEEN 4391 AND 4490 ORDER BY c",
            "SELECT nom FROM t WHERE ville = 'Zürich' AND ünit_ids = 1",
    })
    void plainSelectsOnlyRead(String sql) {
        assertThat(ReadOnlySelect.isReadOnly(sql, sql.length())).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT * FROM t FOR UPDATE",
            "select * from t for share",
            "SELECT * FROM t LOCK IN SHARE MODE",
            "SELECT 1 INTO @x",
            "SELECT * FROM t INTO OUTFILE '/tmp/x'",
            "SELECT 1; DELETE FROM t",
            "SELECT 'for update' FROM t", // conservative: a keyword in a literal also says no
            "select * from t lock in share mode",
            "SELECT * FROM t WHERE x = 'é' FOR UPDATE",
            "SELECT * FROM t FOR \u017fHARE", // a letter that upper-cases to S still counts, as before
    })
    void lockingOrWritingSelectsDoNot(String sql) {
        assertThat(ReadOnlySelect.isReadOnly(sql, sql.length())).isFalse();
    }
}
