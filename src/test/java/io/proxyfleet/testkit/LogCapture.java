package io.proxyfleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * What some loggers (and their children) log during a test, read by the test thread while other threads (cluster
 * monitors, event loops, the admin thread) go on logging. Logback's {@code ListAppender} keeps a plain list, which a
 * read can meet in the middle of an append; this keeps a copy-on-write list. Thread-safe; closed by the test.
 */
public final class LogCapture implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(50);

    private final List<Logger> loggers = new ArrayList<>();
    private final List<Level> previousLevels = new ArrayList<>();
    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            events.add(event);
        }
    };

    private LogCapture() {
    }

    /** Captures the named loggers at their configured levels. */
    public static LogCapture of(String... loggerNames) {
        return of(null, loggerNames);
    }

    /** Captures the named loggers, logging at {@code level} until {@link #close()} (null: as configured). */
    public static LogCapture of(Level level, String... loggerNames) {
        LogCapture capture = new LogCapture();
        capture.appender.start();
        for (String name : loggerNames) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            capture.loggers.add(logger);
            capture.previousLevels.add(logger.getLevel());
            if (level != null) {
                logger.setLevel(level);
            }
            logger.addAppender(capture.appender);
        }
        return capture;
    }

    /** Every event captured so far, oldest first: a snapshot that later appends leave alone. */
    public List<ILoggingEvent> events() {
        return List.copyOf(events);
    }

    /** The formatted messages logged so far at {@code atLeast} or above, oldest first. */
    public List<String> messages(Level atLeast) {
        return events.stream().filter(e -> e.getLevel().isGreaterOrEqual(atLeast))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** Waits up to {@code timeout} for a message at {@code atLeast} or above that contains every fragment. */
    public void await(Duration timeout, Level atLeast, String... fragments) {
        org.awaitility.Awaitility.await().atMost(timeout).pollInterval(POLL).untilAsserted(() ->
                assertThat(messages(atLeast)).anySatisfy(m -> assertThat(m).contains(fragments)));
    }

    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            loggers.get(i).detachAppender(appender);
            loggers.get(i).setLevel(previousLevels.get(i));
        }
        appender.stop();
    }
}
