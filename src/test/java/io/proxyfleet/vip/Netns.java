package io.proxyfleet.vip;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A lab of network namespaces for the VIP tests: one namespace holding a bridge that is never connected to the
 * host, and one namespace per member joined to it by a veth pair, with addresses from 198.18.0.0/15 only. All
 * names share {@link #PREFIX}, so leftovers of a killed run are swept away by name. Owned by the test thread.
 */
final class Netns implements AutoCloseable {
    static final String PREFIX = "pfv-";
    static final String BRIDGE_NS = PREFIX + "br";
    private static final long COMMAND_TIMEOUT_SECONDS = 20;

    /** Output and exit code of a command. */
    record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    /** Whether this process may create namespaces (root with iproute2), or why not. */
    static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network namespaces need root (CI runs as root)";
        }
        Result r = run(List.of("ip", "netns", "add", PREFIX + "probe"));
        run(List.of("ip", "netns", "del", PREFIX + "probe"));
        return r.ok() ? null : "cannot create a network namespace: " + r.output();
    }

    /** Deletes every namespace whose name starts with {@link #PREFIX} (their veths and addresses go with them). */
    static void sweep() {
        for (String line : run(List.of("ip", "netns", "list")).output().split("\n")) {
            String name = line.split(" ")[0].trim();
            if (name.startsWith(PREFIX)) {
                run(List.of("ip", "netns", "del", name));
            }
        }
    }

    Netns() {
        sweep();
        check(run(List.of("ip", "netns", "add", BRIDGE_NS)));
        check(ns(BRIDGE_NS, "ip", "link", "add", "br0", "type", "bridge"));
        check(ns(BRIDGE_NS, "ip", "link", "set", "br0", "up"));
    }

    /** Adds namespace {@code PREFIX+name} with {@code address}/24 on its eth0, plugged into the bridge. */
    String member(String name, String address) {
        String ns = PREFIX + name;
        check(run(List.of("ip", "netns", "add", ns)));
        check(ns(BRIDGE_NS, "ip", "link", "add", "v-" + name, "type", "veth", "peer", "name", "eth0", "netns", ns));
        check(ns(BRIDGE_NS, "ip", "link", "set", "v-" + name, "master", "br0", "up"));
        check(ns(ns, "ip", "addr", "add", address + "/24", "dev", "eth0"));
        check(ns(ns, "ip", "link", "set", "eth0", "up"));
        check(ns(ns, "ip", "link", "set", "lo", "up"));
        return ns;
    }

    /** Cuts (or restores) a member's cable at the bridge. */
    void link(String name, boolean up) {
        check(ns(BRIDGE_NS, "ip", "link", "set", "v-" + name, up ? "up" : "down"));
    }

    static Result ns(String ns, String... command) {
        var full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        return run(full);
    }

    static Result run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out: " + command);
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    private static void check(Result r) {
        if (!r.ok()) {
            throw new IllegalStateException(r.output());
        }
    }

    @Override
    public void close() {
        sweep();
    }
}
