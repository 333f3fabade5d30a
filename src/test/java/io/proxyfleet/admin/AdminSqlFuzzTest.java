package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.routing.RuleCompiler;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Arbitrary statements through the admin SQL entry point, {@link AdminEngine#execute}, as the admin port hands
 * them over, on an engine with a fresh data directory, the node's real rule compiler and no node behind it. The
 * invariant: every statement gets an answer (OK, rows or an admin error) in bounded time, and none of them is the
 * "internal error" that an exception escaping the dispatcher turns into. The engine lives for the whole run, so
 * statements see what earlier ones left, as on a real admin port. Without JAZZER_FUZZ this replays the corpus
 * in {@code src/test/resources/io/proxyfleet/admin/AdminSqlFuzzTestInputs} as a regression test.
 *
 * <p>Owned by the fuzzing thread; the engine's own thread runs the statements.
 */
class AdminSqlFuzzTest {
    /** A statement's answer: generous, since SAVE ... TO DISK syncs a file on a shared machine. */
    private static final long ANSWER_TIMEOUT_SECONDS = 30;
    /**
     * Statements that reach outside the data directory (files anywhere, other databases) or stop the engine are
     * not run: the fuzzer must not write into the work tree or end its own target.
     */
    private static final Pattern OUTSIDE_THE_SANDBOX =
            Pattern.compile("(?i)attach|vacuum|file|load_extension|pragma|shutdown|restart");
    private static final AdminPrincipal ADMIN = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:50000");
    private static final AdminPrincipal STATS = new AdminPrincipal("stats", AdminRole.STATS, "127.0.0.1:50001");

    @TempDir
    static Path dataDir;
    private static AdminEngine engine;

    @BeforeAll
    static void open() throws Exception {
        engine = AdminEngine.open(dataDir, null, false, false, new ConfigHolder(RuntimeConfig.empty()),
                RuleCompiler::compile, RuntimeStatsSource.NONE, NodeControl.NOOP);
    }

    @AfterAll
    static void close() {
        if (engine != null) {
            engine.close();
        }
    }

    @FuzzTest
    @DictionaryEntries({"SELECT ", " FROM ", "INSERT INTO ", " VALUES ", "UPDATE ", " SET ", "DELETE FROM ",
            " WHERE ", "LOAD ", "SAVE ", " TO RUNTIME", " FROM MEMORY", " TO DISK", " FROM DISK", "MYSQL SERVERS",
            "MYSQL USERS", "MYSQL QUERY RULES", "MYSQL VARIABLES", "ADMIN VARIABLES", "PROXYSQL SERVERS",
            "mysql_servers", "mysql_users", "mysql_query_rules", "global_variables", "runtime_", "stats_",
            "mysql-max_allowed_packet", "admin-admin_credentials", "SHOW ", "TABLES", "CHECKSUM ", "KILL ",
            "PROXYSQL ", "@@", "match_digest", "hostgroup_id", "SET ", "LOGENTRY ", "/*", "*/", "'", "\\"})
    void adminStatement(FuzzedDataProvider data) throws Exception {
        AdminPrincipal who = data.consumeBoolean() ? ADMIN : STATS;
        String sql = data.consumeRemainingAsString();
        if (OUTSIDE_THE_SANDBOX.matcher(sql).find()) {
            return;
        }
        AdminResponse response = engine.execute(who, sql).get(ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        assertThat(response).isNotNull();
        if (response instanceof AdminResponse.Error error) {
            assertThat(error.message()).as("the answer to %s", sql).doesNotContain("internal error");
        }
    }
}
