package io.proxyfleet.vip;

import io.proxyfleet.config.RuntimeConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The node-local {@code admin-proxyfleet_vip_*} variables, read once when the VIP manager starts. Immutable.
 *
 * @param address        the virtual IP; empty disables the feature
 * @param prefix         its prefix length on {@code iface}
 * @param iface          the interface the owner adds it to
 * @param leaseMillis    how long an owner may keep the address after its last renewal was sent; a new owner waits
 *                       this long after winning before it adds the address
 * @param raftId         this node's id among {@code peers}
 * @param peers          every VIP member, this node included
 * @param drainMillis    how long PROXYFLEET DRAIN waits for sessions to finish their transactions
 * @param priority       among healthy members, the highest owns the VIP (equal ones: whichever leads)
 */
public record VipSettings(String address, int prefix, String iface, long leaseMillis, String raftId,
                          List<Peer> peers, long drainMillis, int priority) {

    /** One member of {@code admin-proxyfleet_vip_raft_peers}: {@code id=host:port}. */
    public record Peer(String id, String host, int port) {
    }

    public VipSettings {
        peers = List.copyOf(peers);
    }

    public boolean enabled() {
        return !address.isEmpty();
    }

    /** This node's own entry of the peer list. */
    public Peer self() {
        return peers.stream().filter(p -> p.id().equals(raftId)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("admin-proxyfleet_vip_raft_id '" + raftId
                        + "' is not in admin-proxyfleet_vip_raft_peers"));
    }

    /** Reads the variables; throws IllegalArgumentException naming the variable that is wrong. */
    public static VipSettings from(RuntimeConfig.Variables admin) {
        String address = admin.get("proxyfleet_vip_address").trim();
        List<Peer> peers = parsePeers(admin.get("proxyfleet_vip_raft_peers"));
        VipSettings s = new VipSettings(address, admin.getInt("proxyfleet_vip_prefix"), admin.get("proxyfleet_vip_interface").trim(),
                admin.getLong("proxyfleet_vip_lease_ms"), admin.get("proxyfleet_vip_raft_id").trim(), peers,
                admin.getLong("proxyfleet_vip_drain_timeout_ms"), admin.getInt("proxyfleet_vip_priority"));
        if (s.enabled()) {
            if (s.iface.isEmpty()) {
                throw new IllegalArgumentException("admin-proxyfleet_vip_interface is required with admin-proxyfleet_vip_address");
            }
            if (peers.size() < 3) {
                throw new IllegalArgumentException("admin-proxyfleet_vip_raft_peers needs at least three members for a majority");
            }
            if (s.leaseMillis < VipManager.MIN_LEASE_MILLIS) {
                throw new IllegalArgumentException("admin-proxyfleet_vip_lease_ms must be at least " + VipManager.MIN_LEASE_MILLIS);
            }
            s.self();
        }
        return s;
    }

    static List<Peer> parsePeers(String text) {
        var peers = new ArrayList<Peer>();
        for (String item : text.split(",")) {
            String t = item.trim();
            if (t.isEmpty()) {
                continue;
            }
            int eq = t.indexOf('=');
            int colon = t.lastIndexOf(':');
            if (eq <= 0 || colon < eq) {
                throw new IllegalArgumentException("admin-proxyfleet_vip_raft_peers entry is not id=host:port: " + t);
            }
            peers.add(new Peer(t.substring(0, eq), t.substring(eq + 1, colon), Integer.parseInt(t.substring(colon + 1))));
        }
        return peers;
    }
}
