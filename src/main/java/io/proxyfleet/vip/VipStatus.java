package io.proxyfleet.vip;

/**
 * What the VIP manager last published: the row of {@code stats_proxyfleet_vip} and the body of {@code /role}.
 * Immutable.
 *
 * @param state         see {@link VipManager.State}
 * @param term          the Raft term this node last saw
 * @param leader        the Raft id of the leader this node knows ("" when none)
 * @param changedAtSecs Unix seconds of the last change of {@code state}
 * @param reason        why the state last changed
 * @param inSync        whether this node's configuration agrees with its peers'
 */
public record VipStatus(String address, VipManager.State state, long term, String raftId, String leader,
                        long changedAtSecs, String reason, boolean inSync) {

    public boolean owner() {
        return state == VipManager.State.OWNER;
    }
}
