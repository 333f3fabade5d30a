package io.proxyfleet.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Known answers. Most expected texts are the ones ProxySQL's own tokenizer tests list for the same query and the
 * same options (its test payloads name them by the stages enabled: without grouping, with list grouping, with
 * group grouping).
 */
class QueryDigestTest {

    private static final DigestOptions NO_GROUPING = DigestOptions.DEFAULTS.withGrouping(0, 0);
    private static final DigestOptions LISTS_ONLY = DigestOptions.DEFAULTS.withGrouping(3, 0);
    private static final DigestOptions GROUPS_OF_ONE = DigestOptions.DEFAULTS.withGrouping(3, 1);

    private static String digest(DigestOptions options, String query) {
        QueryDigest d = new QueryDigest(options);
        d.compute(query);
        return d.textString();
    }

    static Stream<String> commentedSelects() {
        return Stream.of(
                "select /* COMMENT */ 1",
                "select/* COMMENT */ 1",
                "select/* COMMENT */1",
                "/* COMMENT */select 1",
                "/* COMMENT */ select 1 ",
                "select 1/* COMMENT */  ",
                "select 1 /* COMMENT */ ",
                "# random_comment \n   select 1.1",
                "#random_comment \nselect 1.1",
                "#random_comment\nselect 1.1",
                "-- random_comment \n select 1.1",
                "   --   random_comment\nselect 1.1",
                "# random_comment\n select 1.1 #final_comment\n   ",
                "# random_comment\n select 1.1# final_comment   \n",
                "# random_comment\n select 1.1   #final_comment  \n  ",
                "-- random_comment\n select 1.1 -- final_comment\n   ",
                "-- random_comment\n select 1.1-- final_comment   \n",
                "-- random_comment\n select 1.1   -- final_comment  \n  ",
                "select 1.1", "select 99.1929", "select 1.1e9", "select 1.1e+9", "select 1.1e-9",
                "select 1.1E9", "select 1.1E+9", "select 1.1E-9", "select 0x100",
                "select ''''''''", "select '\\''", "select '\\\\'", "select '''\\\\''\\''''",
                "select \"\"\"\"\"\"\"\"", "select \"\\\"\"", "select \"\\\\\"",
                "select 1;", "select 1 ; ");
    }

    @ParameterizedTest
    @MethodSource("commentedSelects")
    void commentsNumbersAndStringsReduceToOneValue(String query) {
        assertThat(digest(DigestOptions.DEFAULTS, query)).isEqualTo("select ?");
    }

    static Stream<Arguments> withoutGrouping() {
        return Stream.of(
                Arguments.of("select 1 +1", "select ?+?"),
                Arguments.of("select 1+ 1", "select ?+?"),
                Arguments.of("select 1- 1", "select ?-?"),
                Arguments.of("select 1 -1", "select ?-?"),
                Arguments.of("select 1* 1", "select ?*?"),
                Arguments.of("select 1 *1", "select ?*?"),
                Arguments.of("select 1/ 1", "select ?/?"),
                Arguments.of("select 1 /1", "select ?/?"),
                Arguments.of("select 1% 1", "select ?%?"),
                Arguments.of("select 1 %1", "select ?%?"),
                Arguments.of("select 1+ 1, 1 -1, 1 * 1 , 1/1 , 100 % 3", "select ?+?,?-?,?*?,?/?,?%?"),
                Arguments.of("SELECT * FROM t t1, t t2 ,t t3,t t4 LIMIT 0", "SELECT * FROM t t1,t t2,t t3,t t4 LIMIT ?"),
                Arguments.of("select 1+ 1,'1 -1', 1 * 1 , '1/1 ',100 % 3", "select ?+?,?,?*?,?,?%?"),
                Arguments.of("select 1+ 1    ,'1 -1' ,1 * 1 , '1 '  , 100 % 3", "select ?+?,?,?*?,?,?%?"),
                Arguments.of("select   1 + 1    , '1 - 1' , 1 * 1 , '1 '  , 100 % 3      ", "select ?+?,?,?*?,?,?%?"),
                Arguments.of("select  + 1", "select ?"),
                Arguments.of("select  + 1, - 2", "select ?,?"),
                Arguments.of("select * from t where t = \"foo\"", "select * from t where t = ?"),
                Arguments.of("select \"1+ 1, 1 -1, 1 * 1 , 1/1 , 100 % 3\"", "select ?"),
                Arguments.of("SELECT N'string', _utf8'str\\'i\nng'", "SELECT N?,_utf8?"),
                Arguments.of("create table test.1_null_digests (null_c1 TEXT, c2 TEXT, c3 TEXT)",
                        "create table test.1_null_digests (null_c1 TEXT,c2 TEXT,c3 TEXT)"),
                Arguments.of("select * from 1_value", "select * from 1_value"),
                Arguments.of("select -\"1\"", "select ?"),
                Arguments.of("select +\"1\",'foo'", "select ?,?"),
                Arguments.of("select (-'89')", "select (?)"),
                Arguments.of("select 10,-'89'", "select ?,?"),
                Arguments.of("select  10, -'89' ", "select ?,?"),
                Arguments.of("select  '10', -'89' ", "select ?,?"),
                Arguments.of("select  10, -'89 ',+'5'", "select ?,?,?"),
                Arguments.of("select '', '\\'', 'foo''bar\\'', '\\\\str_\\'foo'''", "select ?,?,?,?"),
                Arguments.of("select \"\", \"\\\"\", \"foo\"\"bar\\\"\", \"\\\\str_\\\"foo\"\"\"", "select ?,?,?,?"),
                Arguments.of("select CONCAT( -'89'+'10')", "select CONCAT(?+?)"),
                Arguments.of("select CONCAT(  -'89'   +  '10' )", "select CONCAT(?+?)"),
                Arguments.of("select CONCAT(- '89')", "select CONCAT(?)"),
                Arguments.of("select * fromt t", "select * fromt t"),
                Arguments.of("INSERT INTO db.table(col1) VALUES ('val')", "INSERT INTO db.table(col1) VALUES (?)"),
                Arguments.of("INSERT INTO db.table( col1) VALUES ( 'val' )", "INSERT INTO db.table(col1) VALUES (?)"),
                Arguments.of("INSERT INTO db.table  ( col1 )  VALUES ( 'val' )", "INSERT INTO db.table (col1) VALUES (?)"),
                Arguments.of("INSERT INTO db.table ( col1, col2,col3,col4 ) VALUES ('val',2,3,'foo')",
                        "INSERT INTO db.table (col1,col2,col3,col4) VALUES (?,?,?,?)"),
                Arguments.of("INSERT INTO db.table1_25 ( col_121,col2121  ,col12_3, col41203_   ) VALUES ( 'val', -2, 3, 'foo' )",
                        "INSERT INTO db.table1_25 (col_121,col2121,col12_3,col41203_) VALUES (?,?,?,?)"),
                Arguments.of("SELECT * FROM t WHERE id = 1", "SELECT * FROM t WHERE id = ?"),
                Arguments.of("SELECT c FROM t WHERE s = 'it''s \\'quoted\\' text' AND n = -5", "SELECT c FROM t WHERE s = ? AND n = ?"),
                Arguments.of("SELECT `col#1` FROM t", "SELECT `col"),
                Arguments.of("/*!40101 SET character_set_client = utf8 */", "SET character_set_client = utf8"),
                Arguments.of("SELECT 'unterminated", "SELECT"));
    }

    @ParameterizedTest
    @MethodSource("withoutGrouping")
    void squeezesSpacesAndSignsAroundValues(String query, String expected) {
        assertThat(digest(NO_GROUPING, query)).isEqualTo(expected);
    }

    static Stream<Arguments> listGrouping() {
        return Stream.of(
                Arguments.of("SELECT * FROM tablename WHERE id IN (1,2,3,4)", "SELECT * FROM tablename WHERE id IN (?,?,?,?)"),
                Arguments.of("SELECT * FROM tablename WHERE id IN (1,2,3,4,5,6,7,8,9,10)",
                        "SELECT * FROM tablename WHERE id IN (?,?,?,...)"),
                Arguments.of("SELECT * tablename where id IN (1,2,3,4,5,6,7,8,  AND j in (1,2,3,4,5,6  and k=1",
                        "SELECT * tablename where id IN (?,?,?,...,AND j in (?,?,?,...,? and k=?"),
                Arguments.of("INSERT INTO db.table ( col1, col2,col3,col4, col5 ) VALUES ('val',2,3,'foo', 5 + 10, 6 - 9)",
                        "INSERT INTO db.table (col1,col2,col3,col4,col5) VALUES (?,?,?,?,?+?,?-?)"),
                Arguments.of("INSERT INTO db.table ( col1, col2,col3,col4, col5 ) VALUES ('val',1, 2,3,'foo', 5 + 10, 6 - 9)",
                        "INSERT INTO db.table (col1,col2,col3,col4,col5) VALUES (?,?,?,...,?+?,?-?)"),
                Arguments.of("INSERT INTO db.table ( col1, col2,col3,col4, col5 ) VALUES ('val',1, 2,3,'foo', 5 + 10, 6 - 9, 12, 3, 4, 5, 4,5,6)",
                        "INSERT INTO db.table (col1,col2,col3,col4,col5) VALUES (?,?,?,...,?+?,?-?,?,?,?,...)"),
                Arguments.of("INSERT INTO db.table ( col1, col2,col3,col4, col5 ) VALUES ('val',1, 2,3,'foo'), ('val2', 2,3,4,'foo2')",
                        "INSERT INTO db.table (col1,col2,col3,col4,col5) VALUES (?,?,?,...),(?,?,?,...)"));
    }

    @ParameterizedTest
    @MethodSource("listGrouping")
    void collapsesLongValueLists(String query, String expected) {
        assertThat(digest(LISTS_ONLY, query)).isEqualTo(expected);
    }

    @Test
    void collapsesRepeatedGroupsBeyondTheGroupsLimit() {
        assertThat(digest(GROUPS_OF_ONE,
                "INSERT INTO db.table ( col1, col2,col3,col4, col5 ) VALUES ('val',1, 2,3,'foo'), ('val2', 2,3,4,'foo2')"))
                .isEqualTo("INSERT INTO db.table (col1,col2,col3,col4,col5) VALUES (?,?,?,...),...");
        DigestOptions oneAndOne = DigestOptions.DEFAULTS.withGrouping(1, 1);
        String upsert = "INSERT INTO db.table (col1,col2,col3) VALUES (1,2,3),(3,5,6),(7,8,9) "
                + "ON DUPLICATE KEY UPDATE col1 = VALUES(col2)";
        assertThat(digest(oneAndOne, upsert)).isEqualTo(
                "INSERT INTO db.table (col1,col2,col3) VALUES (?,...),... ON DUPLICATE KEY UPDATE col1 = VALUES(col2)");
        assertThat(digest(oneAndOne.withMaxDigestLength(99), upsert)).isEqualTo(
                "INSERT INTO db.table (col1,col2,col3) VALUES (?,...),... ON DUPLICATE KEY UPDATE col1 = VALUES(col2");
        assertThat(digest(oneAndOne, "INSERT INTO db.table (col1,col2,col3) VALUES (NULL, NULL, NULL, NULL)"))
                .isEqualTo("INSERT INTO db.table (col1,col2,col3) VALUES (NULL,NULL,NULL,NULL)");
        assertThat(digest(oneAndOne.withReplaceNull(true), "INSERT INTO db.table (col1,col2,col3) VALUES (NULL, NULL, NULL, NULL)"))
                .isEqualTo("INSERT INTO db.table (col1,col2,col3) VALUES (?,...)");
    }

    @Test
    void signedValuesInALongListStillCollapse() {
        DigestOptions options = DigestOptions.DEFAULTS.withGrouping(11, 1);
        assertThat(digest(options, "INSERT INTO db.table (col1,col2,col3) VALUES (-19, +29,- 29,+ 10,- 20,+ 40,- 34,"
                + "- 30,+ 40, + 11, - 23,- 40, + 60)"))
                .isEqualTo("INSERT INTO db.table (col1,col2,col3) VALUES (?,?,?,?,?,?,?,?,?,?,?,...)");
    }

    @Test
    void largeMultiRowInsertCollapsesRowsAndValues() {
        DigestOptions options = DigestOptions.DEFAULTS.withGrouping(3, 3).withMaxDigestLength(300);
        String query = "INSERT INTO db.table (col1,col2,col3) VALUES  (   -106884.372400,   Null,   96967.675019, "
                + "\"uOkKFcQuotJLSsXHnlrRkMjkOHbnLL\",  nUll  ,   0xfffffffffffe2fa4,-98747,'FHnJDcaJuHYKrcLQjmPRgBPeEMVqHG',"
                + "   0xfffffffffffe5f92   )   ,  (-65981.543813 , 0x18a51  ,  -63726 ,   -40277   ,   "
                + "'RZLWNxLKntCNvKyywPcuWWDkunJDzi'  ,  95651.912060 , -120483.104736  ,  'zoMQmSNOsvEMwhAupPPxSdjGlpIwUF',"
                + "   -92653 )  ,( 79071.944789  ,   29637 ,Null   , 0xa3e3  ,   69742.506092   ,   nuLl ,   nUlL ,   32587 ,"
                + "    nuLL ),( NUll  ,   193562   , NuLl,nUll   ,51124 ,63407.690405,12880.173141  ,  -42003.235292  ,"
                + "  nULl   )    ON DUPLICATE KEY UPDATE col1 = VALUES(col2)";
        assertThat(digest(options.withReplaceNull(true), query)).isEqualTo("INSERT INTO db.table (col1,col2,col3) VALUES "
                + "(?,?,?,...),(?,?,?,...),(?,?,?,...),... ON DUPLICATE KEY UPDATE col1 = VALUES(col2)");
    }

    @Test
    void replaceNullOnlyReplacesTheKeyword() {
        DigestOptions options = LISTS_ONLY.withReplaceNull(true);
        assertThat(digest(options, "select NULL")).isEqualTo("select ?");
        assertThat(digest(options, "select nUlL")).isEqualTo("select ?");
        assertThat(digest(options,
                "SELECT * FROM nulltablenull WHERE null_id IN (NULL  ,2,3, 'NULL' ,5,NulL,null,NULL8,9,10)"))
                .isEqualTo("SELECT * FROM nulltablenull WHERE null_id IN (?,?,?,...,NULL8,?,?)");
        assertThat(digest(options, "SELECT * FROM table_NULL WHERE null_id IN (NULL  ,2,3, NULL ,5,6,7,NULL8,9,10)"))
                .isEqualTo("SELECT * FROM table_NULL WHERE null_id IN (?,?,?,...,NULL8,?,?)");
        assertThat(digest(DigestOptions.DEFAULTS, "select NULL")).isEqualTo("select NULL");
    }

    @Test
    void noDigitsReplacesDigitsInsideNames() {
        DigestOptions options = NO_GROUPING.withNoDigits(true);
        assertThat(digest(options, "create table test.1_null_digests (null_c1 TEXT, c2 TEXT, c3 TEXT)"))
                .isEqualTo("create table test.?_null_digests (null_c? TEXT,c? TEXT,c? TEXT)");
        assertThat(digest(options, "select * from 1_value")).isEqualTo("select * from ?_value");
        assertThat(digest(options, "INSERT INTO db.table1_25 ( col_121,col2121  ,col12_3, col41203_   ) "
                + "VALUES ( 'val', -2, 3, 'foo' )"))
                .isEqualTo("INSERT INTO db.table?_? (col_?,col?,col?_?,col?_) VALUES (?,?,?,?)");
    }

    @Test
    void keepCommentLeavesTheCommentInTheText() {
        DigestOptions options = DigestOptions.DEFAULTS.withKeepComment(true);
        for (String q : new String[] {"SELECT /* keep_comment */ 1", "SELECT /* keep_comment */ +1",
                "SELECT /* keep_comment */ 1.123", "SELECT /* keep_comment */ 0x100", "SELECT /* keep_comment */ 1.1E-9"}) {
            assertThat(digest(options, q)).as(q).isEqualTo("SELECT /* keep_comment */ ?");
        }
    }

    @Test
    void lowercaseLowersEverythingCopied() {
        assertThat(digest(DigestOptions.DEFAULTS.withLowercase(true), "SELECT Name FROM Users WHERE ID IN (1,2)"))
                .isEqualTo("select name from users where id in (?,?)");
    }

    @Test
    void capturesTheFirstBlockCommentForHints() {
        QueryDigest d = new QueryDigest(DigestOptions.DEFAULTS);
        d.compute("SELECT /* hostgroup=2;\nquery_timeout=100 */ 1 /* second */");
        assertThat(d.firstComment()).isEqualTo(" hostgroup=2; query_timeout=100 ");
        assertThat(d.textString()).isEqualTo("SELECT ?");
        d.compute("SELECT 1");
        assertThat(d.firstComment()).isNull();
    }

    @Test
    void bigCreateTableMatchesProxySqlsDigest() {
        String query = "create /* foo_comment*/table table_10_utf8_4 (\n`pk` int primary key,\n`col_bigint_undef_signed` bigint ,\n"
                + "`col_decimal(40, 20)_undef_signed` decimal(40, 20) ,\n`col_char(20)_key_signed` char(20) ,\n"
                + "`col_enum_undef_signed` enum('a','b','c','d','e','f','g') ,\nkey (`col_bigint_key_signed`)\n) character set utf8 \n"
                + "partition by hash(pk)\npartitions 4";
        assertThat(digest(NO_GROUPING, query)).isEqualTo("create table table_10_utf8_4 (`pk` int primary key,"
                + "`col_bigint_undef_signed` bigint,`col_decimal(?,?)_undef_signed` decimal(?,?),`col_char(?)_key_signed` char(?),"
                + "`col_enum_undef_signed` enum(?,?,?,?,?,?,?),key (`col_bigint_key_signed`)) character set utf8 "
                + "partition by hash(pk) partitions ?");
        assertThat(digest(DigestOptions.DEFAULTS.withGrouping(1, 1).withNoDigits(true), query))
                .isEqualTo("create table table_?_utf?_? (`pk` int primary key,"
                + "`col_bigint_undef_signed` bigint,`col_decimal(?,?)_undef_signed` decimal(?,?),`col_char(?)_key_signed` char(?),"
                + "`col_enum_undef_signed` enum(?,...),key (`col_bigint_key_signed`)) character set utf? "
                + "partition by hash(pk) partitions ?");
    }

    @Test
    void hashMatchesDigestsPublishedByProxySql() {
        QueryDigest d = new QueryDigest(DigestOptions.DEFAULTS);
        d.compute("SELECT c FROM sbtest1 WHERE id=42");
        assertThat(d.hashString()).isEqualTo("0xBF001A0C13781C1D");
        d.compute("COMMIT");
        assertThat(d.hashString()).isEqualTo("0x695FBF255DBEB0DD");
        d.compute("SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 10 AND 20 ORDER BY c");
        assertThat(d.hashString()).isEqualTo("0xC19480748AE79B4B");
    }

    @Test
    void digestOfASliceIgnoresSurroundingBytes() {
        QueryDigest d = new QueryDigest(DigestOptions.DEFAULTS);
        byte[] packet = "\u0003SELECT 1\u0000garbage".getBytes(StandardCharsets.US_ASCII);
        d.compute(packet, 1, 8);
        assertThat(d.textString()).isEqualTo("SELECT ?");
        assertThat(d.text().toString()).isEqualTo("SELECT ?");
        assertThat(QueryDigest.toHexString(0xABL)).isEqualTo("0x00000000000000AB");
    }

    @Test
    void hugeQueriesAreDigestedInFull() {
        StringBuilder bulk = new StringBuilder("INSERT INTO t (a,b,c,d,e) VALUES ");
        for (int i = 0; i < 100_000; i++) {
            bulk.append(i == 0 ? "" : ", ").append("(").append(i).append(",'v").append(i).append("',1,2,3)");
        }
        bulk.append(" ON DUPLICATE KEY UPDATE b = VALUES(b)");
        QueryDigest d = new QueryDigest(DigestOptions.DEFAULTS.withGrouping(3, 1));
        d.compute(bulk.toString());
        assertThat(d.textString())
                .isEqualTo("INSERT INTO t (a,b,c,d,e) VALUES (?,?,?,...),... ON DUPLICATE KEY UPDATE b = VALUES(b)");
        d.compute("SELECT 1");
        assertThat(d.textString()).isEqualTo("SELECT ?");
    }

    @Test
    void digestTextIsCutAtTheDigestLimit() {
        StringBuilder pairs = new StringBuilder("INSERT INTO t (a,b) VALUES (1,2)");
        StringBuilder expected = new StringBuilder("INSERT INTO t (a,b) VALUES (?,?)");
        for (int i = 0; i < 1000; i++) {
            pairs.append(",(1,2)");
            expected.append(",(?,?)");
        }
        QueryDigest d = new QueryDigest(DigestOptions.DEFAULTS.withMaxDigestLength(100));
        d.compute(pairs.toString());
        assertThat(d.textString()).isEqualTo(expected.substring(0, 100));
    }

    @Test
    void nonAsciiTextIsDecodedAsUtf8() {
        QueryDigest d = new QueryDigest(DigestOptions.DEFAULTS);
        d.compute("SELECT * FROM café WHERE nom = 'Zoë'");
        assertThat(d.text().toString()).isEqualTo("SELECT * FROM café WHERE nom = ?");
    }
}
