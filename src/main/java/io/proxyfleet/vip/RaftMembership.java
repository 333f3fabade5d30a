package io.proxyfleet.vip;

import java.io.DataInput;
import java.io.DataOutput;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.protocols.raft.FileBasedLog;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.raft.Options;
import org.jgroups.raft.StateMachine;
import org.jgroups.stack.Protocol;
import org.jgroups.util.ExtendedUUID;
import org.jgroups.util.NameCache;

/**
 * This node's seat in the VIP's Raft group (jgroups-raft): who leads, in which term, and lease renewals, which
 * are empty log entries that only commit while a majority follows this leader. The Raft log holds nothing else.
 *
 * <p>Threads: JGroups runs its own; {@link #connect}/{@link #disconnect} are called by the VIP manager's thread,
 * the getters from any thread.
 */
final class RaftMembership implements AutoCloseable {
    private static final String CLUSTER = "proxyfleet-vip";
    private static final byte[] RENEWAL = new byte[0];
    private static final Options RENEWAL_OPTIONS = Options.create(true);
    /** Failure detection: a peer that sent no heartbeat for this long is suspected, then checked once more. */
    private static final long HEARTBEAT_INTERVAL_MILLIS = 250;
    private static final long SUSPECT_AFTER_MILLIS = 1_200;
    private static final long VERIFY_SUSPECT_MILLIS = 300;
    /** A partition that heals is merged back within these bounds. */
    private static final long MERGE_MIN_MILLIS = 1_000;
    private static final long MERGE_MAX_MILLIS = 3_000;
    private static final long JOIN_TIMEOUT_MILLIS = 500;
    private static final long SOCKET_CONNECT_TIMEOUT_MILLIS = 300;
    /**
     * How often the leader resends entries a follower has not acknowledged; a follower that fell behind catches up
     * one resend at a time, and until it does a renewal may lack its majority.
     */
    private static final long RESEND_MILLIS = 100;
    /** Renewals are empty entries: a snapshot (also empty) keeps the log short. */
    private static final int MAX_LOG_ENTRIES = 10_000;
    /** Each member's address carries its priority, so that every member sees the others' in the view. */
    private static final String PRIORITY_KEY = "vip-priority";

    private final VipSettings settings;
    private final Path logDir;
    private JChannel channel;
    private RAFT raft;

    RaftMembership(VipSettings settings, Path dataDir) {
        this.settings = settings;
        this.logDir = dataDir.resolve("vip-raft");
    }

    /** Joins the group (a new channel each time: a channel that was closed cannot be reused). */
    void connect() throws Exception {
        Files.createDirectories(logDir);
        VipSettings.Peer self = settings.self();
        var hosts = new ArrayList<InetSocketAddress>();
        var ids = new ArrayList<String>();
        for (VipSettings.Peer p : settings.peers()) {
            hosts.add(new InetSocketAddress(InetAddress.getByName(p.host()), p.port()));
            ids.add(p.id());
        }
        InetAddress bindAddress = InetAddress.getByName(self.host());
        TCP tcp = new TCP();
        tcp.setBindAddress(bindAddress);
        tcp.setBindPort(self.port());
        tcp.setPortRange(0);
        tcp.setSockConnTimeout((int) SOCKET_CONNECT_TIMEOUT_MILLIS);
        TCPPING ping = new TCPPING();
        ping.setInitialHosts(hosts);
        ping.setPortRange(0);
        RAFT r = new RAFT().members(ids).raftId(self.id()).logClass(FileBasedLog.class.getName())
                .logPrefix(logDir.resolve(self.id()).toString()).maxLogSize(MAX_LOG_ENTRIES)
                .resendInterval(RESEND_MILLIS);
        Protocol[] stack = {
                tcp, ping,
                new MERGE3().setMinInterval(MERGE_MIN_MILLIS).setMaxInterval(MERGE_MAX_MILLIS),
                // Bound to this node's address: on the wildcard, a peer's CONNECT-RSP went back to 0.0.0.0 and
                // every connect timed out, so a killed peer's closed socket went unnoticed (FD_ALL3 found it 1.5 s
                // later) and each view change waited out the 1 s connect timeout before it reached Raft.
                new FD_SOCK2().setBindAddress(bindAddress),
                new FD_ALL3().setTimeout(SUSPECT_AFTER_MILLIS).setInterval(HEARTBEAT_INTERVAL_MILLIS),
                new VERIFY_SUSPECT2().setTimeout(VERIFY_SUSPECT_MILLIS),
                new NAKACK2(), new UNICAST3(), new STABLE(),
                new GMS().setJoinTimeout(JOIN_TIMEOUT_MILLIS),
                new FRAG4(), new PriorityElection(RaftMembership::priorityOf), r};
        JChannel ch = new JChannel(stack).name(self.id());
        ch.addAddressGenerator(() -> ExtendedUUID.randomUUID(self.id())
                .put(PRIORITY_KEY, Integer.toString(settings.priority()).getBytes(StandardCharsets.US_ASCII)));
        r.stateMachine(new EmptyStateMachine());
        ch.connect(CLUSTER);
        channel = ch;
        raft = r;
    }

    /** Leaves the group so that the others elect a leader without this node. */
    void disconnect() {
        JChannel ch = channel;
        channel = null;
        raft = null;
        if (ch != null) {
            ch.close();
        }
    }

    boolean connected() {
        return channel != null;
    }

    boolean isLeader() {
        RAFT r = raft;
        return r != null && r.isLeader();
    }

    long term() {
        RAFT r = raft;
        return r == null ? 0 : r.currentTerm();
    }

    /** The leader's Raft id, or "" when there is none this node knows of. */
    String leaderId() {
        RAFT r = raft;
        Address a = r == null ? null : r.leader();
        return a == null ? "" : nameOf(a);
    }

    /** The Raft ids of the members this node currently sees (itself included), or none when disconnected. */
    List<String> liveMembers() {
        JChannel ch = channel;
        View v = ch == null ? null : ch.getView();
        if (v == null) {
            return List.of();
        }
        var out = new ArrayList<String>();
        for (Address a : v.getMembers()) {
            out.add(nameOf(a));
        }
        return out;
    }

    /**
     * The Raft id of a member in the current view with a higher priority than this node's, or "" when none: the
     * leader then hands over (docs/vip.md, "Priority").
     */
    String higherPriorityMember() {
        JChannel ch = channel;
        View v = ch == null ? null : ch.getView();
        if (v == null) {
            return "";
        }
        Address best = null;
        for (Address a : v.getMembersRaw()) {
            if (priorityOf(a) > settings.priority() && (best == null || priorityOf(a) > priorityOf(best))) {
                best = a;
            }
        }
        return best == null ? "" : nameOf(best);
    }

    /**
     * A number that changes whenever the group shows a sign of life to this member: a commit, a new term, a new
     * view, or (on a follower) an entry appended or removed while the leader brings its log up to date. It stands
     * still for a member whose view went stale; a leader's own appends do not count, since a stale leader goes on
     * appending renewals that never commit.
     */
    long progress() {
        RAFT r = raft;
        JChannel ch = channel;
        View v = ch == null ? null : ch.getView();
        if (r == null || v == null) {
            return 0;
        }
        return r.commitIndex() + r.currentTerm() + v.getViewId().getId() + (r.isLeader() ? 0 : r.lastAppended());
    }

    /** How many members the current view holds. */
    int viewSize() {
        JChannel ch = channel;
        View v = ch == null ? null : ch.getView();
        return v == null ? 0 : v.size();
    }

    static int priorityOf(Address a) {
        if (a instanceof ExtendedUUID u) {
            byte[] p = u.get(PRIORITY_KEY);
            if (p != null) {
                try {
                    return Integer.parseInt(new String(p, StandardCharsets.US_ASCII));
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    private static String nameOf(Address a) {
        String name = NameCache.get(a);
        return name == null ? a.toString() : name;
    }

    /** Appends an empty entry; completes once a majority has it, fails when this node is not (or no longer) leader. */
    CompletableFuture<byte[]> renew() {
        RAFT r = raft;
        if (r == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not in the group"));
        }
        try {
            return r.setAsync(RENEWAL, 0, 0, RENEWAL_OPTIONS);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void close() {
        disconnect();
    }

    /** The VIP keeps no replicated state: only leadership and commits matter. */
    private static final class EmptyStateMachine implements StateMachine {
        @Override
        public byte[] apply(byte[] data, int offset, int length, boolean serializeResponse) {
            return null;
        }

        @Override
        public void readContentFrom(DataInput in) {
        }

        @Override
        public void writeContentTo(DataOutput out) {
        }
    }
}
