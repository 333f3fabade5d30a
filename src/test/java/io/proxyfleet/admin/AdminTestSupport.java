package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.QueryRuleProgram;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.testkit.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Opens engines on a temp data dir and runs statements synchronously. Used by one test thread at a time.
 *
 * <p>As a field with {@code @RegisterExtension} it closes its engine after each test; made by
 * {@link #openedForEachTest()}, it also opens one on a fresh data directory ({@link #dir()}) before each test and
 * deletes that directory after it.
 */
final class AdminTestSupport implements BeforeEachCallback, AfterEachCallback {
    static final AdminPrincipal ADMIN = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:50000");
    static final AdminPrincipal STATS = new AdminPrincipal("stats", AdminRole.STATS, "127.0.0.1:50001");

    final ConfigHolder holder = new ConfigHolder(RuntimeConfig.empty());
    final RecordingControl control = new RecordingControl();
    AdminEngine engine;
    private final boolean openForEachTest;
    private Path dir;

    AdminTestSupport() {
        this(false);
    }

    private AdminTestSupport(boolean openForEachTest) {
        this.openForEachTest = openForEachTest;
    }

    /** For {@code @RegisterExtension}: each test starts with an engine open on an empty data directory. */
    static AdminTestSupport openedForEachTest() {
        return new AdminTestSupport(true);
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (openForEachTest) {
            dir = Files.createTempDirectory("admin-test");
            open(dir);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
        if (dir != null) {
            TestFiles.deleteRecursively(dir);
            dir = null;
        }
    }

    /** The data directory {@link #openedForEachTest()} opened this test's engine on. */
    Path dir() {
        return dir;
    }

    AdminEngine open(Path dataDir, Path config, boolean initial, boolean reload) throws Exception {
        engine = AdminEngine.open(dataDir, config, initial, reload, holder, rules -> QueryRuleProgram.EMPTY,
                RuntimeStatsSource.NONE, control);
        return engine;
    }

    AdminEngine open(Path dataDir) throws Exception {
        return open(dataDir, null, false, false);
    }

    void close() {
        if (engine != null) {
            engine.close();
            engine = null;
        }
    }

    AdminResponse exec(AdminPrincipal who, String sql) throws Exception {
        return engine.execute(who, sql).get(10, TimeUnit.SECONDS);
    }

    AdminResponse exec(String sql) throws Exception {
        return exec(ADMIN, sql);
    }

    /** Runs a statement that must succeed without rows. */
    AdminResponse.Ok ok(String sql) throws Exception {
        AdminResponse r = exec(sql);
        assertThat(r).as(sql).isInstanceOf(AdminResponse.Ok.class);
        return (AdminResponse.Ok) r;
    }

    /** Runs a statement that must return rows. */
    AdminResponse.ResultSet rows(AdminPrincipal who, String sql) throws Exception {
        AdminResponse r = exec(who, sql);
        assertThat(r).as(sql).isInstanceOf(AdminResponse.ResultSet.class);
        return (AdminResponse.ResultSet) r;
    }

    AdminResponse.ResultSet rows(String sql) throws Exception {
        return rows(ADMIN, sql);
    }

    /** Runs a statement that must fail with ProxySQL's admin error prefix; returns the message. */
    String error(AdminPrincipal who, String sql) throws Exception {
        AdminResponse r = exec(who, sql);
        assertThat(r).as(sql).isInstanceOf(AdminResponse.Error.class);
        String message = ((AdminResponse.Error) r).message();
        assertThat(message).startsWith("ProxySQL Admin Error: ");
        return message;
    }

    String error(String sql) throws Exception {
        return error(ADMIN, sql);
    }

    /** The single value of a one-row, one-column query. */
    String value(String sql) throws Exception {
        AdminResponse.ResultSet rs = rows(sql);
        assertThat(rs.rows()).as(sql).hasSize(1);
        return rs.rows().getFirst().getFirst();
    }

    /** Remembers NodeControl calls so tests can assert on them. */
    static final class RecordingControl implements NodeControl {
        final List<String> calls = new ArrayList<>();

        @Override
        public synchronized void shutdown(boolean slow) {
            calls.add("shutdown:" + slow);
        }

        @Override
        public synchronized void pause() {
            calls.add("pause");
        }

        @Override
        public synchronized void resume() {
            calls.add("resume");
        }

        @Override
        public synchronized void flushLogs() {
            calls.add("flushLogs");
        }

        @Override
        public synchronized void reloadTls() {
            calls.add("reloadTls");
        }

        @Override
        public synchronized boolean killConnection(long id) {
            calls.add("killConnection:" + id);
            return id == 7;
        }

        @Override
        public synchronized boolean killQuery(long id) {
            calls.add("killQuery:" + id);
            return id == 7;
        }

        @Override
        public synchronized void adminInterfacesChanged(String ifaces) {
            calls.add("ifaces:" + ifaces);
        }

        @Override
        public synchronized void moduleLoaded(String module) {
            calls.add("loaded:" + module);
        }

        synchronized List<String> calls() {
            return List.copyOf(calls);
        }
    }
}
