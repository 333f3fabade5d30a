package io.proxyfleet;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where a node's start-up time goes: the wall time of each phase of {@link ProxyFleetNode#start}, and the time from
 * the launch of the process until that start began (JVM start, command line, logging), logged as one line once the
 * node listens (docs/benchmarks.md, "start-up profile"). Owned by the thread that starts the node.
 */
final class StartupTimeline {
    private final long startedNanos = System.nanoTime();
    private final Instant startedAt = Instant.now();
    private final List<String> phases = new ArrayList<>();
    private long phaseNanos = startedNanos;

    /** Ends the phase that ran since the previous mark (or since this timeline began). */
    void mark(String phase) {
        long now = System.nanoTime();
        phases.add(phase + " " + TimeUnit.NANOSECONDS.toMillis(now - phaseNanos) + " ms");
        phaseNanos = now;
    }

    /** The nanoTime the node's start began at, which its uptime metric counts from. */
    long startedNanos() {
        return startedNanos;
    }

    /** "launch to node start N ms; phase A ms, phase B ms, ...; total T ms" (the launch part when the OS tells it). */
    String summary() {
        var text = new StringBuilder();
        ProcessHandle.current().info().startInstant().ifPresent(launched ->
                text.append("launch to node start ").append(Duration.between(launched, startedAt).toMillis())
                        .append(" ms (JVM, command line, logging); "));
        text.append(String.join(", ", phases));
        text.append("; node start total ").append(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos))
                .append(" ms");
        return text.toString();
    }
}
