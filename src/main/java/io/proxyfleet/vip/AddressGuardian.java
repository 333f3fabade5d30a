package io.proxyfleet.vip;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the virtual IP on this host through a small bash child process that adds the address with a kernel
 * lifetime ({@code valid_lft}), announces it with gratuitous ARP, renews that lifetime on each fresh renewal, and
 * deletes the address as soon as its lease runs out or its stdin closes. Three things thus bound how long the
 * address outlives its lease: this JVM, the child (which sees EOF when the JVM dies), and the kernel, which removes
 * the address by itself when neither runs (SIGSTOP, a starved host). {@link LeaseTimings} gives the numbers.
 *
 * <p>Each renewal writes two deadlines as {@code /proc/uptime} centiseconds: until when the kernel's lifetime may
 * still be extended, and when the lease ends. The child reads the clock itself right before each
 * {@code ip addr change}, so a renewal it reads late never extends the address, and a change of an address the
 * kernel already removed fails instead of adding it back. It reads the clock again once the change is done: on a
 * starved host the {@code ip} process can start seconds after that check, and the lifetime it sets counts from
 * then, so an add or change that completes after the renewal went stale deletes the address at once.
 *
 * <p>Owner thread: the VIP manager's thread; {@link #stillHeld} may be read from any thread.
 */
final class AddressGuardian {
    private static final Logger log = LoggerFactory.getLogger(AddressGuardian.class);
    /** How long any ip/arping command may take before it is given up (and the address forcibly deleted). */
    static final long COMMAND_TIMEOUT_MILLIS = 2_000;
    private static final int ARP_ANNOUNCEMENTS = 3;
    /** /proc/uptime counts in centiseconds. */
    private static final long NANOS_PER_TICK = 10_000_000;
    private static final Path UPTIME = Path.of("/proc/uptime");
    private static final String SCRIPT = """
            tick() { read -r up _ </proc/uptime; up=$((10#${up/./})); }
            lft="valid_lft $LIFE preferred_lft $LIFE"
            read -r fresh until || exit 0
            tick; [ "$fresh" -gt "$up" ] || exit 4
            ip addr add "$VIP/$PREFIX" dev "$IFACE" $lft || exit 3
            tick; [ "$fresh" -gt "$up" ] || { ip addr del "$VIP/$PREFIX" dev "$IFACE" 2>/dev/null; exit 4; }
            echo added
            arping -q -U -c %d -I "$IFACE" "$VIP" >/dev/null 2>&1 </dev/null &
            while tick; left=$((until - up)); [ "$left" -gt 0 ]; do
              printf -v frac '%%02d' $((left %% 100))
              read -r -t "$((left / 100)).$frac" fresh next || break
              tick
              [ "$fresh" -gt "$up" ] || continue
              ip addr change "$VIP/$PREFIX" dev "$IFACE" $lft || break
              tick; [ "$fresh" -gt "$up" ] || break
              until="$next"
            done
            ip addr del "$VIP/$PREFIX" dev "$IFACE" 2>/dev/null
            echo dropped
            """.formatted(ARP_ANNOUNCEMENTS);

    private final VipSettings settings;
    private final int kernelLifetimeSeconds;
    /** nanoTime + this = /proc/uptime in nanoseconds (CLOCK_BOOTTIME; it only runs ahead, after a suspend). */
    private final long uptimeOffsetNanos;
    private Process process;
    private OutputStream renewals;
    private final CompletableFuture<Void> added = new CompletableFuture<>();

    AddressGuardian(VipSettings settings, int kernelLifetimeSeconds) {
        this.settings = settings;
        this.kernelLifetimeSeconds = kernelLifetimeSeconds;
        this.uptimeOffsetNanos = uptimeOffsetNanos();
    }

    private static long uptimeOffsetNanos() {
        long before = System.nanoTime();
        try {
            String text = Files.readString(UPTIME);
            long ticks = Long.parseLong(text.substring(0, text.indexOf(' ')).replace(".", ""));
            // Rounded so that a deadline given to the child is, if anything, early.
            return ticks * NANOS_PER_TICK - before - NANOS_PER_TICK;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read " + UPTIME + ": " + e);
        }
    }

    private long ticks(long nanoTime) {
        return Math.floorDiv(nanoTime + uptimeOffsetNanos, NANOS_PER_TICK);
    }

    /** Deletes the address if an earlier run of this node left it behind (its guardian was killed too). */
    static void removeLeftover(VipSettings s) {
        if (holds(s)) {
            log.warn("VIP {} found on {} at start-up; deleting it", s.address(), s.iface());
            run(List.of("ip", "addr", "del", s.address() + "/" + s.prefix(), "dev", s.iface()));
        }
    }

    /** Whether {@code s.iface()} carries the address now. */
    static boolean holds(VipSettings s) {
        String out = run(List.of("ip", "-o", "addr", "show", "dev", s.iface()));
        return out.contains(" " + s.address() + "/");
    }

    /**
     * Starts the child, which adds nothing until {@link #add}: a new leader starts it as soon as it wins, so that
     * starting bash on a busy host does not eat into the freshness of the renewal that lets it add the address.
     *
     * @return false when the child could not be started
     */
    boolean start() {
        var pb = new ProcessBuilder("bash", "-c", SCRIPT).redirectErrorStream(true);
        pb.environment().put("VIP", settings.address());
        pb.environment().put("PREFIX", Integer.toString(settings.prefix()));
        pb.environment().put("IFACE", settings.iface());
        pb.environment().put("LIFE", Integer.toString(kernelLifetimeSeconds));
        try {
            process = pb.start();
        } catch (IOException e) {
            log.error("Cannot start the VIP guardian: {}", e.getMessage());
            return false;
        }
        renewals = process.getOutputStream();
        Process p = process;
        Thread.ofVirtual().name("vip-guardian-output").start(() -> readOutput(p));
        return true;
    }

    /**
     * Adds the address, held until {@code untilNanos} unless renewed, if {@code freshUntilNanos} has not passed by
     * the time the child adds it; waits (bounded) for the kernel to have it.
     *
     * @return false when adding failed; nothing is held then, and this guardian is spent
     */
    boolean add(long untilNanos, long freshUntilNanos) {
        if (!renew(untilNanos, freshUntilNanos)) {
            return false;
        }
        try {
            added.get(COMMAND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            log.error("Adding VIP {} on {} failed or timed out", settings.address(), settings.iface());
            release();
            return false;
        }
    }

    private void readOutput(Process p) {
        try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("added")) {
                    added.complete(null);
                } else if (!line.equals("dropped")) {
                    log.warn("VIP guardian: {}", line);
                }
            }
        } catch (IOException e) {
            log.debug("VIP guardian output closed: {}", e.getMessage());
        }
        added.completeExceptionally(new IOException("guardian exited"));
    }

    /**
     * Extends the lease to {@code untilNanos} (and the kernel's lifetime, if the child reads this before
     * {@code freshUntilNanos}); false when the guardian is gone (the address with it).
     */
    boolean renew(long untilNanos, long freshUntilNanos) {
        if (process == null || !process.isAlive()) {
            return false;
        }
        try {
            renewals.write((ticks(freshUntilNanos) + " " + ticks(untilNanos) + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
            renewals.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether the guardian still runs, so the address is still held. */
    boolean stillHeld() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** Drops the address: closes the guardian's stdin and waits (bounded) until it deleted it. */
    void release() {
        Process p = process;
        if (p == null) {
            return;
        }
        try {
            renewals.close();
        } catch (IOException e) {
            log.debug("closing the VIP guardian's input: {}", e.getMessage());
        }
        try {
            if (!p.waitFor(COMMAND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                log.error("VIP guardian did not exit in time; deleting {} directly", settings.address());
                run(List.of("ip", "addr", "del", settings.address() + "/" + settings.prefix(), "dev", settings.iface()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        process = null;
    }

    /** Runs a command with {@link #COMMAND_TIMEOUT_MILLIS}; returns its output ("" on failure). */
    static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            var out = new CompletableFuture<String>();
            Thread.ofVirtual().start(() -> {
                try {
                    out.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    out.complete("");
                }
            });
            if (!p.waitFor(COMMAND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                log.error("Command timed out: {}", String.join(" ", command));
                return "";
            }
            return out.get(COMMAND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.error("Command failed: {}: {}", String.join(" ", command), e.toString());
            return "";
        }
    }
}
