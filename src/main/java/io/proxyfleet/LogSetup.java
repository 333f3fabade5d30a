package io.proxyfleet;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Points logging at the node's data directory once the command line is known: every line goes to
 * {@code <datadir>/proxysql.log} and, in the foreground, also to stderr, in ProxySQL's error-log format
 * {@code YYYY-MM-DD HH:MM:SS file:line:method(): [LEVEL] text}. Called by {@link Main} on the main thread before
 * the node starts; the returned handle is closed only by tests, to give the log back to the test configuration.
 */
public final class LogSetup implements AutoCloseable {
    /** ProxySQL's error log name, kept so that operators find it where they expect. */
    public static final String LOG_FILE = "proxysql.log";
    /** The line format; {@code %file:%line:%method} costs a stack walk per line, so hot paths guard their logs. */
    public static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss} %file:%line:%method\\(\\): [%psqlLevel] %msg%n";

    private static final String LEVEL_WORD = "psqlLevel";

    private final Logger root;
    private final List<Appender<ILoggingEvent>> previous;
    private final List<Appender<ILoggingEvent>> installed;
    private final Path logFile;

    private LogSetup(Logger root, List<Appender<ILoggingEvent>> previous, List<Appender<ILoggingEvent>> installed,
                     Path logFile) {
        this.root = root;
        this.previous = previous;
        this.installed = installed;
        this.logFile = logFile;
    }

    /**
     * Replaces the root logger's appenders with {@code <dataDir>/proxysql.log} (appending) and, when
     * {@code alsoToStderr}, stderr. A daemon passes {@code false} because its stderr already goes to that file.
     */
    public static LogSetup configure(Path dataDir, boolean alsoToStderr) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        List<Appender<ILoggingEvent>> previous = new ArrayList<>();
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            previous.add(it.next());
        }
        // Detached but left running, so that close() can put them back.
        previous.forEach(root::detachAppender);
        Path logFile = dataDir.resolve(LOG_FILE);
        List<Appender<ILoggingEvent>> installed = new ArrayList<>();
        if (alsoToStderr) {
            installed.add(stderr(context));
        }
        installed.add(file(context, logFile));
        installed.forEach(root::addAppender);
        return new LogSetup(root, List.copyOf(previous), List.copyOf(installed), logFile);
    }

    /**
     * Reopens every log file of the root logger (PROXYSQL FLUSH LOGS), so that after logrotate moved
     * proxysql.log away the node writes to a new file of that name.
     */
    public static void reopenFiles() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof FileAppender<ILoggingEvent> file) {
                file.stop();
                file.start();
            }
        }
    }

    /** At exit: flushes and closes every appender, so the last lines are on disk. Nothing is logged after it. */
    public static void flushAndStop() {
        ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    }

    /** Where the log goes. */
    public Path logFile() {
        return logFile;
    }

    /** Stops the appenders this setup added and restores the ones it replaced. */
    @Override
    public void close() {
        for (Appender<ILoggingEvent> each : installed) {
            root.detachAppender(each);
            each.stop();
        }
        previous.forEach(root::addAppender);
    }

    /** Stderr in {@link #PATTERN}; also {@link LogDefaults}' appender before the data directory is known. */
    static Appender<ILoggingEvent> stderr(LoggerContext context) {
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName("STDERR");
        appender.setTarget("System.err");
        appender.setEncoder(encoder(context));
        appender.start();
        return appender;
    }

    private static Appender<ILoggingEvent> file(LoggerContext context, Path logFile) {
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName("PROXYSQL_LOG");
        appender.setFile(logFile.toString());
        appender.setAppend(true);
        appender.setEncoder(encoder(context));
        appender.start();
        return appender;
    }

    private static LayoutWrappingEncoder<ILoggingEvent> encoder(LoggerContext context) {
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        // Registered per layout so the format works whatever configured logback first (LogDefaults or an XML file).
        layout.getInstanceConverterMap().put(LEVEL_WORD, ProxySqlLevelConverter::new);
        layout.setPattern(PATTERN);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        return encoder;
    }
}
