package io.proxyfleet;

import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.config.AdminVariables;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/**
 * The {@code proxyfleet} command: ProxySQL's start-up flags, logging to the data directory, the pid file, then
 * one {@link ProxyFleetNode} until the process is told to stop. Runs on the main thread; SIGTERM and SIGINT close
 * the node on the JVM's signal thread, and the main thread then exits with status 0.
 */
@Command(name = "proxyfleet", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "A ProxySQL-compatible MySQL proxy (admin port 6032, traffic port 6033) whose nodes form "
                + "a ProxySQL cluster. Without -f, bin/proxyfleet runs it in the background.")
public final class Main implements Callable<Integer> {
    /** Used when neither {@code -D} nor a config file says where the data lives. */
    public static final String DEFAULT_DATA_DIR_NAME = ".proxyfleet";
    /** Where ProxySQL looks for a config file when {@code -c} is absent, in order. */
    static final List<String> DEFAULT_CONFIG_FILES =
            List.of("proxysql.cnf", "proxysql.cfg", "/etc/proxysql.cnf", "/etc/proxysql.cfg");
    private static final int EXIT_OK = 0;
    private static final int EXIT_START_FAILED = 1;
    /** Long enough for the background work of a start (RSA key, AOT cache check) to be done. */
    private static final long HEAP_SHRINK_DELAY_S = 3;
    /** The signals that stop a node cleanly, by their names without "SIG". */
    private static final List<String> STOP_SIGNALS = List.of("TERM", "INT");

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    @Spec
    private CommandSpec spec;

    @Option(names = {"-f", "--foreground"}, description = "Run in the foreground and log to stderr too.")
    private boolean foreground;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "ProxySQL-format config file (default: the first of ./proxysql.cnf, ./proxysql.cfg, "
                    + "/etc/proxysql.cnf, /etc/proxysql.cfg that exists).")
    private Path configFile;

    @Option(names = {"-D", "--datadir", "-d", "--directory"}, paramLabel = "DIR",
            description = "Data directory for proxysql.db, proxysql.log, proxysql.pid and the TLS files "
                    + "(default: $HOME/" + DEFAULT_DATA_DIR_NAME + ").")
    private Path dataDir;

    @Option(names = "--initial", description = "Rebuild the database from the config file (old one kept as .bak).")
    private boolean initial;

    @Option(names = "--reload", description = "Merge the config file into the database.")
    private boolean reload;

    @Option(names = {"-U", "--uuid"}, paramLabel = "UUID",
            description = "Node UUID announced to cluster peers, unless the config file sets uuid (kept on disk).")
    private String uuid;

    @Option(names = {"-M", "--no-monitor"}, description = "Do not start the backend monitor.")
    private boolean noMonitor;

    @Option(names = {"-n", "--no-start"},
            description = "Start only the admin; traffic and monitor start with PROXYSQL START.")
    private boolean noStart;

    @Option(names = {"-r", "--reuseport"}, description = "Bind the listeners with SO_REUSEPORT.")
    private boolean reusePort;

    @Option(names = {"-S", "--admin-socket"}, paramLabel = "PATH",
            description = "Also serve the admin on this Unix socket.")
    private Path adminSocket;

    @Option(names = {"-e", "--exit-on-error"}, description = "Accepted; ProxyFleet never restarts itself.")
    private boolean exitOnError;

    @Option(names = "--idle-threads", description = "Accepted; Netty event loops already park idle sessions.")
    private boolean idleThreads;

    @Option(names = "--no-version-check", description = "Accepted; ProxyFleet never checks for new versions.")
    private boolean noVersionCheck;

    @Option(names = "--sqlite3-server", description = "Accepted; ProxyFleet has no SQLite3 server module.")
    private boolean sqlite3Server;

    @Option(names = "--clickhouse-server", description = "Accepted; ProxyFleet has no ClickHouse module.")
    private boolean clickhouseServer;

    @Option(names = {"-B", "--bootstrap"}, arity = "0..1", paramLabel = "URI",
            description = "Refused: ProxySQL's Group Replication bootstrap mode is not supported.")
    private String bootstrap;

    public static void main(String[] args) {
        Optional<Main> plain = withoutPicocli(args);
        System.exit(plain.isPresent() ? plain.get().call() : run(commandLine(), args));
    }

    /**
     * The command as picocli would fill it, for the command lines {@link PlainCommandLine} reads; empty for any
     * other, and when picocli would refuse it (a {@code -c} file that does not exist, a path that is not one).
     */
    static Optional<Main> withoutPicocli(String... args) {
        return PlainCommandLine.parse(args).flatMap(flags -> {
            var main = new Main();
            try {
                main.foreground = flags.containsKey("foreground");
                main.configFile = path(flags.get("config"));
                main.dataDir = path(flags.get("datadir"));
                main.initial = flags.containsKey("initial");
                main.reload = flags.containsKey("reload");
                main.uuid = flags.get("uuid");
                main.noMonitor = flags.containsKey("no-monitor");
                main.noStart = flags.containsKey("no-start");
                main.reusePort = flags.containsKey("reuseport");
                main.adminSocket = path(flags.get("admin-socket"));
                main.exitOnError = flags.containsKey("exit-on-error");
                main.idleThreads = flags.containsKey("idle-threads");
                main.noVersionCheck = flags.containsKey("no-version-check");
                main.sqlite3Server = flags.containsKey("sqlite3-server");
                main.clickhouseServer = flags.containsKey("clickhouse-server");
            } catch (InvalidPathException e) {
                return Optional.empty();
            }
            return main.configFile == null || Files.isRegularFile(main.configFile) ? Optional.of(main)
                    : Optional.empty();
        });
    }

    private static Path path(String valueOrNull) {
        return valueOrNull == null ? null : Path.of(valueOrNull);
    }

    /**
     * Parses and runs; an unknown flag is a usage error (status 2, usage text on stderr) even beside {@code -V}
     * or {@code --help}, which picocli would otherwise let win.
     */
    static int run(CommandLine cl, String... args) {
        try {
            List<String> unmatched = cl.parseArgs(args).unmatched();
            if (!unmatched.isEmpty()) {
                throw new CommandLine.UnmatchedArgumentException(cl, unmatched);
            }
        } catch (CommandLine.ParameterException e) {
            return usageError(e);
        }
        cl.setParameterExceptionHandler((e, ignored) -> usageError(e));
        return cl.execute(args);
    }

    /** The error, then the whole usage text (picocli alone prints only suggestions for a misspelt flag). */
    private static int usageError(CommandLine.ParameterException e) {
        CommandLine cl = e.getCommandLine();
        cl.getErr().println(e.getMessage());
        cl.usage(cl.getErr());
        return CommandLine.ExitCode.USAGE;
    }

    /** One line each for the ProxySQL flags that are accepted but do not apply to ProxyFleet. */
    List<String> notices() {
        var notices = new ArrayList<String>();
        if (exitOnError) {
            notices.add("-e/--exit-on-error: accepted; ProxyFleet has no restarting parent process and always"
                    + " exits on a fatal error");
        }
        if (idleThreads) {
            notices.add("--idle-threads: accepted; idle sessions already cost no thread on Netty's event loops");
        }
        if (noVersionCheck) {
            notices.add("--no-version-check: accepted; ProxyFleet never checks for new versions");
        }
        if (sqlite3Server) {
            notices.add("--sqlite3-server: accepted; ProxyFleet has no SQLite3 server module, nothing listens"
                    + " for it");
        }
        if (clickhouseServer) {
            notices.add("--clickhouse-server: accepted; ProxyFleet has no ClickHouse module, nothing listens for it");
        }
        return notices;
    }

    /** The parser with this command's options, for {@link #main} and tests. */
    static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    @Override
    public Integer call() {
        if (bootstrap != null) {
            spec.commandLine().getErr().println("proxyfleet: -B/--bootstrap (ProxySQL's Group Replication bootstrap mode) is not"
                    + " supported; write a config file and start with -c instead");
            return EXIT_START_FAILED;
        }
        NodeOptions options = nodeOptions();
        createDataDir(options.dataDir());
        LogSetup logging = LogSetup.configure(options.dataDir(), options.foreground());
        log.info("ProxyFleet version {} starting: datadir {}, config file {}, log {}", Version.text(),
                options.dataDir(), options.configFile() == null ? "(none, built-in defaults)" : options.configFile(),
                logging.logFile());
        notices().forEach(log::warn);
        PidFile pidFile;
        try {
            pidFile = PidFile.claim(options.dataDir());
        } catch (RuntimeException e) {
            log.error("Cannot start: {}", e.getMessage());
            return EXIT_START_FAILED;
        }
        StopRequests stop = new StopRequests(pidFile);
        ProxyFleetNode node;
        try {
            node = ProxyFleetNode.start(options);
        } catch (RuntimeException e) {
            log.error("ProxyFleet failed to start", e);
            pidFile.close();
            return EXIT_START_FAILED;
        }
        stop.started(node);
        // Start-up grows the heap to about twice what stays live; Serial GC gives the difference back only at a
        // full collection (MaxHeapFreeRatio in bin/jvm.options). One, once the node has settled, takes an idle
        // node's RSS down by that much (docs/benchmarks.md, "Issue 11: start-up and idle footprint, second pass").
        CompletableFuture.delayedExecutor(HEAP_SHRINK_DELAY_S, TimeUnit.SECONDS).execute(System::gc);
        try {
            node.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pidFile.close();
        log.info("ProxyFleet stopped");
        LogSetup.flushAndStop();
        return EXIT_OK;
    }

    /**
     * What stops the node: SIGTERM and SIGINT, and the JVM's shutdown hook for anything else that ends the process
     * (System.exit from a library, SIGHUP). Installed before the node starts, so that a signal that arrives while
     * it starts closes it as soon as it has started. The main thread then finds the node closed, removes the pid
     * file, flushes the log and exits with status 0, as ProxySQL does: left to the JVM, SIGTERM and SIGINT would
     * end the process with 143 or 130, which service managers report as a failure. {@code sun.misc.Signal} is the
     * only Java API that lets a program handle a signal itself. Signal handlers run on the JVM's signal thread,
     * the hook on its own thread and {@link #started} on the main thread.
     */
    private static final class StopRequests {
        private final AtomicReference<ProxyFleetNode> node = new AtomicReference<>();
        private volatile boolean requested;

        StopRequests(PidFile pidFile) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                request();
                pidFile.close();
            }, "proxyfleet-shutdown"));
            for (String name : STOP_SIGNALS) {
                try {
                    Signal.handle(new Signal(name), signal -> {
                        log.warn("Received {} signal: shutdown in progress...", signal.getName());
                        request();
                    });
                } catch (IllegalArgumentException e) {
                    // The JVM runs with -Xrs, or a debugger owns the signal: the shutdown hook still closes the node.
                    log.warn("Cannot handle SIG{} ({}); it will stop the node with the JVM's exit status", name,
                            e.getMessage());
                }
            }
        }

        /** The node is up; a stop requested meanwhile closes it now. Blocks until then when it does. */
        void started(ProxyFleetNode started) {
            node.set(started);
            if (requested) {
                started.close();
            }
        }

        private void request() {
            // Set before the node is read, and the main thread sets the node before it reads this: one of the two
            // sees the other, so a request during start-up is never lost.
            requested = true;
            ProxyFleetNode current = node.get();
            if (current != null) {
                current.close();
            }
        }
    }

    /** The command line resolved against the environment; rejects a {@code -c} file that does not exist. */
    NodeOptions nodeOptions() {
        Path config = resolveConfigFile().orElse(null);
        // As in ProxySQL: -D, else the config file's datadir, else (ProxyFleet's own default) $HOME/.proxyfleet.
        Path data = (dataDir != null ? dataDir : Optional.ofNullable(config).flatMap(AdminEngine::configuredDataDir)
                .orElse(Path.of(home(), DEFAULT_DATA_DIR_NAME))).toAbsolutePath().normalize();
        return new NodeOptions(data, config, foreground, initial, reload, uuid, noMonitor,
                noStart, reusePort, adminSocket == null ? null : adminSocket.toAbsolutePath().normalize());
    }

    /** $HOME, as the README says (a service account's may differ from Java's user.home); user.home without it. */
    private static String home() {
        String home = System.getenv("HOME");
        return home != null && !home.isBlank() ? home : System.getProperty("user.home");
    }

    private Optional<Path> resolveConfigFile() {
        if (configFile != null) {
            if (!Files.isRegularFile(configFile)) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "config file " + configFile + " does not exist or is not a regular file");
            }
            return Optional.of(configFile.toAbsolutePath().normalize());
        }
        return DEFAULT_CONFIG_FILES.stream().map(Path::of).filter(Files::isRegularFile)
                .map(p -> p.toAbsolutePath().normalize()).findFirst();
    }

    private static void createDataDir(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data directory " + dir, e);
        }
    }

    /** {@code -V}: the ProxySQL version we answer as ({@code admin-version}) and our own build. */
    static final class Version implements CommandLine.IVersionProvider {
        private static final String POM_PROPERTIES = "/META-INF/maven/io.proxyfleet/proxyfleet/pom.properties";
        private static final String UNPACKAGED_BUILD = "development build";

        @Override
        public String[] getVersion() {
            return new String[] {"ProxyFleet version " + text()};
        }

        static String text() {
            return AdminVariables.DEFAULTS.get("version") + ", " + build();
        }

        private static String build() {
            // Maven puts pom.properties into the jar only; running from target/classes has none.
            try (InputStream in = Main.class.getResourceAsStream(POM_PROPERTIES)) {
                if (in == null) {
                    return UNPACKAGED_BUILD;
                }
                Properties props = new Properties();
                props.load(in);
                return "build " + props.getProperty("version", UNPACKAGED_BUILD);
            } catch (IOException e) {
                return UNPACKAGED_BUILD;
            }
        }
    }
}
