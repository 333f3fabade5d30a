package io.proxyfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A real, throwaway MariaDB server for integration tests: its own temporary data directory, a free port on
 * 127.0.0.1, its own socket and pid files, and no option files read ({@code --no-defaults}).
 *
 * <p>Use {@link #shared()} when a test only needs "a MySQL server" and never stops it; use
 * {@link #start(Options)} (and close it) when a test kills, restarts or replicates a server.
 *
 * <p>Threads: owned by the test thread that started it. Lifecycle methods are {@code synchronized} because the
 * JVM shutdown hook may close an instance while a test thread still holds it.
 */
public final class MariaDb implements AutoCloseable {
    private static final String ROOT_USER = "root";
    private static final String ROOT_PASSWORD = "fleet-root";
    private static final String LOOPBACK = "127.0.0.1";
    private static final Set<String> LOOPBACK_HOSTS = Set.of("localhost", "127.0.0.1", "::1");
    private static final int LOG_TAIL_LINES = 80;
    private static final int BIND_ATTEMPTS = 3;
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final long READY_POLL_MILLIS = 50;
    /** Generous: on a loaded 2-core machine a healthy server can take seconds to answer a login. */
    private static final int CONNECT_TIMEOUT_MILLIS = 15_000;
    // Small enough that a cold start on a shared 2-core machine takes well under a second.
    private static final List<String> SMALL_SERVER_ARGS = List.of(
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M",
            "--innodb-log-buffer-size=4M",
            "--innodb-flush-log-at-trx-commit=2",
            "--key-buffer-size=1M",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci");
    private static final Pattern PLUGIN_NAME = Pattern.compile("[a-z0-9_]+");
    private static final Pattern BIND_FAILURE = Pattern.compile("Address already in use|Can't start server: Bind");

    private static final Set<MariaDb> LIVE = ConcurrentHashMap.newKeySet();
    private static final Object SHARED_LOCK = new Object();
    private static MariaDb sharedInstance;
    private static RuntimeException sharedFailure;

    static {
        OrphanReaper.reapOrphans();
        Thread hook = new Thread(MariaDb::closeAllLive, "mariadb-fixture-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    private final Options options;
    private final boolean shared;
    private final Path baseDir;
    private final Path dataDir;
    private final Path errorLog;
    private final Path consoleLog;
    private int port;
    private String currentRootPassword = "";
    private Process process;
    private boolean closed;

    /**
     * How to start a dedicated server.
     *
     * @param serverId     {@code server_id}; replication needs distinct ids
     * @param logBin       write a binary log ({@code log_bin}, basename {@code mysql-bin} in the data dir)
     * @param readOnly     start with {@code read_only=ON}
     * @param extraArgs    more {@code mariadbd} arguments, appended last so they win
     * @param startTimeout how long to wait for the server to accept connections
     */
    public record Options(int serverId, boolean logBin, boolean readOnly, List<String> extraArgs,
                          Duration startTimeout) {
        private static final int DEFAULT_SERVER_ID = 1;
        private static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);

        public Options {
            extraArgs = List.copyOf(extraArgs);
            if (serverId < 1) {
                throw new IllegalArgumentException("server_id must be positive: " + serverId);
            }
        }

        /** server_id 1, no binary log, writable, 60 s start timeout. */
        public static Options defaults() {
            return new Options(DEFAULT_SERVER_ID, false, false, List.of(), DEFAULT_START_TIMEOUT);
        }

        public Options withServerId(int id) {
            return new Options(id, logBin, readOnly, extraArgs, startTimeout);
        }

        public Options withLogBin(boolean on) {
            return new Options(serverId, on, readOnly, extraArgs, startTimeout);
        }

        public Options withReadOnly(boolean on) {
            return new Options(serverId, logBin, on, extraArgs, startTimeout);
        }

        /** Adds arguments such as {@code --log-slave-updates} or {@code --gtid-strict-mode=1}. */
        public Options withExtraArgs(String... args) {
            List<String> all = new ArrayList<>(extraArgs);
            all.addAll(List.of(args));
            return new Options(serverId, logBin, readOnly, all, startTimeout);
        }

        public Options withStartTimeout(Duration timeout) {
            return new Options(serverId, logBin, readOnly, extraArgs, timeout);
        }
    }

    private MariaDb(Options options, boolean shared) {
        this.options = options;
        this.shared = shared;
        try {
            this.baseDir = Files.createTempDirectory(OrphanReaper.DIR_PREFIX);
            OrphanReaper.claim(baseDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for MariaDB", e);
        }
        this.dataDir = baseDir.resolve("data");
        this.errorLog = baseDir.resolve("error.log");
        this.consoleLog = baseDir.resolve("console.log");
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * The one server shared by every test in this JVM, started on first use and stopped by a shutdown hook.
     * Tests must not stop, kill or restart it (those calls throw); they should create their own databases
     * and users with unique names.
     */
    public static MariaDb shared() {
        synchronized (SHARED_LOCK) {
            if (sharedFailure != null) {
                throw new IllegalStateException("the shared MariaDB failed to start earlier", sharedFailure);
            }
            if (sharedInstance == null) {
                try {
                    sharedInstance = launch(Options.defaults(), true);
                } catch (RuntimeException e) {
                    sharedFailure = e;
                    throw e;
                }
            }
            return sharedInstance;
        }
    }

    /** Starts a dedicated server; the caller closes it (a shutdown hook closes forgotten ones). */
    public static MariaDb start(Options options) {
        return launch(options, false);
    }

    private static MariaDb launch(Options options, boolean shared) {
        MariaDb db = new MariaDb(options, shared);
        LIVE.add(db);
        try {
            db.install();
            db.bootOnFreePort();
            db.secureAccounts();
            return db;
        } catch (RuntimeException e) {
            db.closeQuietly();
            throw e;
        }
    }

    /** Stops the server gracefully (SIGTERM, then SIGKILL after 60 s); the data survives for {@link #restart()}. */
    public synchronized void stop() {
        refuseIfShared("stop");
        stopProcess();
    }

    /** Kills the server with SIGKILL, as a crash would; {@link #restart()} runs crash recovery. */
    public synchronized void kill() {
        refuseIfShared("kill");
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            awaitExit(process);
        }
    }

    /** Stops the server if it runs, then starts it again on the same port and data directory. */
    public synchronized void restart() {
        refuseIfShared("restart");
        stopProcess();
        boot();
    }

    /** Whether the server process is alive. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the server and deletes its files. */
    @Override
    public synchronized void close() {
        refuseIfShared("close");
        closeQuietly();
    }

    private synchronized void closeQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        LIVE.remove(this);
        if (process != null && process.isAlive()) {
            // Throwaway data: a graceful shutdown would only cost time.
            process.destroyForcibly();
            awaitExit(process);
        }
        try {
            TestFiles.deleteRecursively(baseDir);
        } catch (UncheckedIOException e) {
            System.err.println("MariaDb fixture: " + e.getMessage());
        }
    }

    private static void closeAllLive() {
        for (MariaDb each : List.copyOf(LIVE)) {
            each.closeQuietly();
        }
    }

    private void refuseIfShared(String action) {
        if (shared) {
            throw new IllegalStateException("cannot " + action + " the shared MariaDB: other tests use it; "
                    + "use MariaDb.start(Options) for a server of your own");
        }
        if (closed) {
            throw new IllegalStateException("this MariaDB was closed");
        }
    }

    // ---------------------------------------------------------------- accessors

    public String host() {
        return LOOPBACK;
    }

    public synchronized int port() {
        return port;
    }

    public String rootUser() {
        return ROOT_USER;
    }

    public String rootPassword() {
        return ROOT_PASSWORD;
    }

    public Options options() {
        return options;
    }

    /** The server's data directory (binary logs land here when {@code logBin} is on). */
    public Path dataDir() {
        return dataDir;
    }

    /** The server's error log, useful in assertion messages. */
    public Path errorLog() {
        return errorLog;
    }

    /** The operating-system pid of the running server. */
    public synchronized long pid() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("MariaDB is not running");
        }
        return process.pid();
    }

    /** A MariaDB Connector/J URL for {@code database} (empty or {@code null} for none), without credentials. */
    public String jdbcUrl(String database) {
        String db = database == null ? "" : database;
        return "jdbc:mariadb://" + LOOPBACK + ":" + port() + "/" + db;
    }

    /** The same server as a MySQL Connector/J URL, for tests that must use that driver. */
    public String mysqlJdbcUrl(String database) {
        String db = database == null ? "" : database;
        return "jdbc:mysql://" + LOOPBACK + ":" + port() + "/" + db + "?sslMode=DISABLED&allowPublicKeyRetrieval=true";
    }

    // ---------------------------------------------------------------- SQL as root

    /** A new root connection to {@code database} ({@code null} for none); the caller closes it. */
    public Connection connect(String database) throws SQLException {
        return connectAs(ROOT_USER, currentRootPassword(), database);
    }

    /** A new connection as {@code user}; the caller closes it. */
    public Connection connectAs(String user, String password, String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_MILLIS));
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** Runs each statement in order as root on one connection; fails on the first error. */
    public void execute(String... sql) {
        try (Connection c = connect(null); Statement st = c.createStatement()) {
            for (String each : sql) {
                st.execute(each);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed on MariaDB port " + port() + ": " + e.getMessage(), e);
        }
    }

    /** Every row of a root query, each column as its string value ({@code null} stays {@code null}). */
    public List<List<String>> queryRows(String sql) {
        try (Connection c = connect(null); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData meta = rs.getMetaData();
            List<List<String>> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>(meta.getColumnCount());
                for (int col = 1; col <= meta.getColumnCount(); col++) {
                    row.add(rs.getString(col));
                }
                rows.add(java.util.Collections.unmodifiableList(row));
            }
            return List.copyOf(rows);
        } catch (SQLException e) {
            throw new IllegalStateException("query failed on MariaDB port " + port() + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row of a root query. */
    public String queryValue(String sql) {
        List<List<String>> rows = queryRows(sql);
        if (rows.isEmpty()) {
            throw new IllegalStateException("no rows from: " + sql);
        }
        return rows.getFirst().getFirst();
    }

    /**
     * Creates {@code name@'%'} authenticated by {@code plugin} (for example {@code mysql_native_password};
     * MariaDB 10.11 has no server-side {@code caching_sha2_password}) with all privileges on all databases.
     */
    public void createUser(String name, String password, String plugin) {
        if (!PLUGIN_NAME.matcher(plugin).matches()) {
            throw new IllegalArgumentException("not an authentication plugin name: " + plugin);
        }
        String account = quote(name) + "@'%'";
        execute("CREATE USER " + account + " IDENTIFIED VIA " + plugin + " USING PASSWORD(" + quote(password) + ")",
                "GRANT ALL PRIVILEGES ON *.* TO " + account);
    }

    /** {@link #createUser(String, String, String)} with {@code mysql_native_password}. */
    public void createUser(String name, String password) {
        createUser(name, password, "mysql_native_password");
    }

    /** A single-quoted SQL string literal. */
    public static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    private synchronized String currentRootPassword() {
        return currentRootPassword;
    }

    // ---------------------------------------------------------------- process management

    private void install() {
        Path installDb = Executables.require("mariadb-server", "mariadb-install-db", "mysql_install_db");
        List<String> command = new ArrayList<>(List.of(installDb.toString(),
                "--no-defaults",
                "--auth-root-authentication-method=normal",
                "--datadir=" + dataDir,
                "--skip-test-db",
                "--tmpdir=" + privateTmpDir()));
        addUserIfRoot(command);
        // Forwarded to the bootstrap server, so the redo log is created small instead of at the 96 MiB default.
        command.addAll(SMALL_SERVER_ARGS);
        Path installLog = baseDir.resolve("install.log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(installLog.toFile());
        try {
            Process install = builder.start();
            if (!install.waitFor(INSTALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                install.destroyForcibly();
                throw new IllegalStateException("mariadb-install-db did not finish within " + INSTALL_TIMEOUT
                        + "\n" + TestFiles.tail(installLog, LOG_TAIL_LINES));
            }
            if (install.exitValue() != 0) {
                throw new IllegalStateException("mariadb-install-db exited with " + install.exitValue() + ": "
                        + command + "\n" + TestFiles.tail(installLog, LOG_TAIL_LINES));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + installDb, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while installing MariaDB", e);
        }
    }

    private static void addUserIfRoot(List<String> command) {
        // mariadbd refuses to run as root unless told to; as another user, --user would only warn.
        if ("root".equals(System.getProperty("user.name"))) {
            command.add("--user=root");
        }
    }

    private synchronized void bootOnFreePort() {
        for (int attempt = 1; ; attempt++) {
            port = FreePorts.loopback();
            try {
                boot();
                return;
            } catch (IllegalStateException e) {
                boolean lostPortRace = BIND_FAILURE.matcher(TestFiles.tail(errorLog, LOG_TAIL_LINES)).find();
                if (!lostPortRace || attempt == BIND_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private synchronized void boot() {
        List<String> command = serverCommand();
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(consoleLog.toFile()));
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.getFirst(), e);
        }
        awaitReady(command);
    }

    /**
     * Each server's temporary tables live in its own fixture directory: with the shared /tmp, servers of
     * concurrent test runs were seen failing to remove their own temporary tables during install.
     */
    private Path privateTmpDir() {
        Path tmp = baseDir.resolve("tmp");
        try {
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return tmp;
    }

    private List<String> serverCommand() {
        Path server = Executables.require("mariadb-server", "mariadbd", "mysqld");
        List<String> command = new ArrayList<>(List.of(server.toString(),
                "--no-defaults",
                "--datadir=" + dataDir,
                "--port=" + port,
                "--bind-address=" + LOOPBACK,
                "--socket=" + baseDir.resolve("mysql.sock"),
                "--pid-file=" + baseDir.resolve("mysql.pid"),
                "--log-error=" + errorLog,
                "--server-id=" + options.serverId(),
                "--tmpdir=" + privateTmpDir()));
        addUserIfRoot(command);
        command.addAll(SMALL_SERVER_ARGS);
        if (options.logBin()) {
            command.add("--log-bin=mysql-bin");
            command.add("--binlog-format=ROW");
        }
        if (options.readOnly()) {
            command.add("--read-only=1");
        }
        command.addAll(options.extraArgs());
        return command;
    }

    private void awaitReady(List<String> command) {
        long deadline = System.nanoTime() + options.startTimeout().toNanos();
        SQLException lastFailure = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw startFailure("mariadbd exited with " + process.exitValue(), command, lastFailure);
            }
            try (Connection _ = connectAs(ROOT_USER, currentRootPassword, null)) {
                return;
            } catch (SQLException e) {
                lastFailure = e;
            }
            sleep(READY_POLL_MILLIS);
        }
        process.destroyForcibly();
        awaitExit(process);
        throw startFailure("mariadbd did not accept connections within " + options.startTimeout(), command,
                lastFailure);
    }

    private IllegalStateException startFailure(String what, List<String> command, SQLException lastFailure) {
        String message = what + " (port " + port + ")\ncommand: " + String.join(" ", command)
                + "\n--- error log " + errorLog + " ---\n" + TestFiles.tail(errorLog, LOG_TAIL_LINES)
                + "\n--- console ---\n" + TestFiles.tail(consoleLog, LOG_TAIL_LINES);
        return new IllegalStateException(message, lastFailure);
    }

    /**
     * Gives root a password and drops anonymous accounts and root entries named after this machine, so that
     * tests log in the way a proxy's backend connection would and no other entry shadows a test user.
     */
    private synchronized void secureAccounts() {
        List<List<String>> accounts = queryRows("SELECT User, Host FROM mysql.user WHERE User IN ('root', '')");
        List<String> statements = new ArrayList<>();
        for (List<String> account : accounts) {
            String spec = quote(account.get(0)) + "@" + quote(account.get(1));
            // With --skip-name-resolve an entry for the machine's host name is dead and cannot even be altered.
            boolean keep = account.get(0).equals(ROOT_USER) && LOOPBACK_HOSTS.contains(account.get(1));
            statements.add(keep
                    ? "ALTER USER " + spec + " IDENTIFIED BY " + quote(ROOT_PASSWORD)
                    : "DROP USER " + spec);
        }
        statements.add("CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY " + quote(ROOT_PASSWORD));
        statements.add("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION");
        execute(statements.toArray(String[]::new));
        currentRootPassword = ROOT_PASSWORD;
    }

    private void stopProcess() {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                awaitExit(process);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static void awaitExit(Process p) {
        try {
            p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for MariaDB", e);
        }
    }

    @Override
    public String toString() {
        return "MariaDb[" + LOOPBACK + ":" + port + ", server_id=" + options.serverId() + ", dir=" + baseDir + "]";
    }
}
