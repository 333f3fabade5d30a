package io.proxyfleet.vip;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the virtual IP on this host through a small bash child process that adds the address, announces it with
 * gratuitous ARP, and deletes it as soon as its lease runs out or its stdin closes. The lease therefore holds even
 * when this JVM stalls or is killed with SIGKILL: the child sees EOF (or a timeout) and drops the address.
 *
 * <p>Each renewal writes the seconds left of the lease; the child waits at most that long for the next line.
 *
 * <p>Owner thread: the VIP manager's thread; {@link #stillHeld} may be read from any thread.
 */
final class AddressGuardian {
    private static final Logger log = LoggerFactory.getLogger(AddressGuardian.class);
    /** How long any ip/arping command may take before it is given up (and the address forcibly deleted). */
    static final long COMMAND_TIMEOUT_MILLIS = 2_000;
    private static final int ARP_ANNOUNCEMENTS = 3;
    private static final String SCRIPT = """
            ip addr add "$VIP/$PREFIX" dev "$IFACE" || exit 3
            echo added
            arping -q -U -c %d -I "$IFACE" "$VIP" >/dev/null 2>&1 </dev/null &
            t="$FIRST"
            while read -r -t "$t" t; do :; done
            ip addr del "$VIP/$PREFIX" dev "$IFACE"
            echo dropped
            """.formatted(ARP_ANNOUNCEMENTS);

    private final VipSettings settings;
    private Process process;
    private OutputStream renewals;
    private final CompletableFuture<Void> added = new CompletableFuture<>();

    AddressGuardian(VipSettings settings) {
        this.settings = settings;
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
     * Adds the address with {@code leaseMillis} of validity, waiting (bounded) for the kernel to have it.
     *
     * @return false when adding failed; nothing is held then
     */
    boolean add(long leaseMillis) {
        var pb = new ProcessBuilder("bash", "-c", SCRIPT).redirectErrorStream(true);
        pb.environment().put("VIP", settings.address());
        pb.environment().put("PREFIX", Integer.toString(settings.prefix()));
        pb.environment().put("IFACE", settings.iface());
        pb.environment().put("FIRST", seconds(leaseMillis));
        try {
            process = pb.start();
        } catch (IOException e) {
            log.error("Cannot start the VIP guardian: {}", e.getMessage());
            return false;
        }
        renewals = process.getOutputStream();
        Process p = process;
        Thread.ofVirtual().name("vip-guardian-output").start(() -> readOutput(p));
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

    /** Extends the lease to {@code millisLeft} from now; false when the guardian is gone (the address with it). */
    boolean renew(long millisLeft) {
        if (process == null || !process.isAlive() || millisLeft <= 0) {
            return false;
        }
        try {
            renewals.write((seconds(millisLeft) + "\n").getBytes(StandardCharsets.US_ASCII));
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

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.3f", millis / 1000.0);
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
