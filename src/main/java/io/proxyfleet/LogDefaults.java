package io.proxyfleet;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * Logging until {@link Main} knows the data directory: INFO and above to stderr in ProxySQL's error-log format
 * ({@link LogSetup#PATTERN}); {@link LogSetup} then adds {@code <datadir>/proxysql.log}. Set up in code because
 * reading a {@code logback.xml} loads logback's XML configurator and the JDK's XML parser, about 450 classes at
 * every start (docs/benchmarks.md, issue 11 second pass). An operator's or a test's XML still wins: with
 * {@code -Dlogback.configurationFile} or a {@code logback-test.xml} / {@code logback.xml} on the class path, this
 * steps aside. Found by logback through {@code META-INF/services}; runs once, on the thread that logs first.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogDefaults extends ContextAwareBase implements Configurator {
    private static final String CONFIGURATION_FILE_PROPERTY = "logback.configurationFile";
    private static final String[] XML_CONFIGURATIONS = {"logback-test.xml", "logback.xml"};

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (xmlConfigured()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(LogSetup.stderr(context));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static boolean xmlConfigured() {
        if (System.getProperty(CONFIGURATION_FILE_PROPERTY) != null) {
            return true;
        }
        ClassLoader loader = LogDefaults.class.getClassLoader();
        for (String name : XML_CONFIGURATIONS) {
            if (loader.getResource(name) != null) {
                return true;
            }
        }
        return false;
    }
}
