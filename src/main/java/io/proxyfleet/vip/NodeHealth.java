package io.proxyfleet.vip;

import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.backend.ServerRuntime;
import io.proxyfleet.cluster.ClusterManager;
import io.proxyfleet.cluster.PeerChecksumStatus;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerStatus;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Whether this node can serve clients: its traffic listener is open, its configuration agrees with its peers',
 * and every default hostgroup of its active frontend users has an ONLINE server. Stateless; any thread.
 */
public final class NodeHealth {
    /**
     * Consecutive checks a peer's checksum may differ from ours before this node counts as out of sync: a load on
     * one node differs from the others for a few checks while they pull it.
     */
    static final long DIFF_CHECKS_TOLERATED = 5;

    /** The answer: {@code reason} says what is wrong, or "ok". */
    public record Health(boolean ready, boolean inSync, String reason) {
    }

    private final ConfigHolder config;
    private final Hostgroups hostgroups;
    private final Supplier<ClusterManager> cluster;
    private final BooleanSupplier trafficOpen;

    public NodeHealth(ConfigHolder config, Hostgroups hostgroups, Supplier<ClusterManager> cluster,
                      BooleanSupplier trafficOpen) {
        this.config = config;
        this.hostgroups = hostgroups;
        this.cluster = cluster;
        this.trafficOpen = trafficOpen;
    }

    public Health check() {
        return check(false);
    }

    /**
     * @param draining true while PROXYFLEET DRAIN waits for sessions: the listener is closed on purpose then, and
     *                 the node keeps the VIP until its sessions finished their transactions
     */
    Health check(boolean draining) {
        String outOfSync = outOfSync();
        boolean inSync = outOfSync == null;
        if (!draining && !trafficOpen.getAsBoolean()) {
            return new Health(false, inSync, "traffic listener is not accepting connections");
        }
        if (!inSync) {
            return new Health(false, false, outOfSync);
        }
        RuntimeConfig c = config.current();
        var hostgroupIds = new TreeSet<Integer>();
        for (MysqlUser u : c.users().rows()) {
            if (u.active() && u.frontend() && u.defaultHostgroup() >= 0) {
                hostgroupIds.add(u.defaultHostgroup());
            }
        }
        if (hostgroupIds.isEmpty()) {
            return new Health(false, true, "no active frontend mysql_users");
        }
        for (int hg : hostgroupIds) {
            if (!hasOnlineServer(c, hg)) {
                return new Health(false, true, "hostgroup " + hg + " has no ONLINE server");
            }
        }
        return new Health(true, true, "ok");
    }

    private boolean hasOnlineServer(RuntimeConfig c, int hostgroup) {
        for (ServerRuntime s : hostgroups.hostgroup(c.servers(), hostgroup)) {
            if (s.status() == ServerStatus.ONLINE) {
                return true;
            }
        }
        return false;
    }

    /** Which peer and module differ from ours for too long, or null when in sync. */
    private String outOfSync() {
        ClusterManager m = cluster.get();
        if (m == null) {
            return null;
        }
        for (PeerChecksumStatus s : m.checksumsStatus()) {
            if (s.diffCheck() > DIFF_CHECKS_TOLERATED) {
                return "configuration " + s.name() + " differs from peer " + s.hostname() + ":" + s.port();
            }
        }
        return null;
    }
}
