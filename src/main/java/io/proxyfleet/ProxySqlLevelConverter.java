package io.proxyfleet;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Prints a log level the way ProxySQL's error log does ({@code WARNING}, not logback's {@code WARN}), so that
 * scripts grepping a ProxySQL log work on ours. Stateless; called on whichever thread logs.
 */
public final class ProxySqlLevelConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
        Level level = event.getLevel();
        return level == Level.WARN ? "WARNING" : level.toString();
    }
}
