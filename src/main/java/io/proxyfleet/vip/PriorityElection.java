package io.proxyfleet.vip;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.jgroups.Address;
import org.jgroups.protocols.raft.ELECTION;
import org.jgroups.protocols.raft.election.VoteResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * jgroups-raft's view-based election, with one change: among the voters whose logs are equally up to date (the
 * ones Raft allows to lead), the one with the highest {@code admin-proxyfleet_vip_priority} is chosen instead of
 * the first in the view. Which logs may lead is unchanged, so Raft's safety is too.
 *
 * <p>jgroups-raft 1.0 keeps a vote's log position in protected fields; they are read through a private lookup,
 * and when that is not possible the election falls back to jgroups-raft's own choice.
 *
 * <p>Owner thread: jgroups-raft's voting thread (only on the view coordinator).
 */
final class PriorityElection extends ELECTION {
    private static final Logger log = LoggerFactory.getLogger(PriorityElection.class);
    private static final VarHandle LAST_LOG_TERM = field("last_log_term");
    private static final VarHandle LAST_LOG_INDEX = field("last_log_index");

    private final ToIntFunction<Address> priority;

    PriorityElection(ToIntFunction<Address> priority) {
        this.priority = priority;
        // Same protocol id as ELECTION, so that its headers and messages stay what every member expects.
        setId(ELECTION_ID);
    }

    private static VarHandle field(String name) {
        try {
            return MethodHandles.privateLookupIn(VoteResponse.class, MethodHandles.lookup())
                    .findVarHandle(VoteResponse.class, name, long.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("VIP priorities do not steer elections (jgroups-raft's vote fields unreadable: {})", e.toString());
            return null;
        }
    }

    @Override
    protected Address determineLeader() {
        if (LAST_LOG_TERM == null || LAST_LOG_INDEX == null) {
            return super.determineLeader();
        }
        Map<Address, VoteResponse> votes = getVotes().getResults();
        Address best = null;
        VoteResponse bestVote = null;
        for (Address a : view.getMembersRaw()) {
            VoteResponse v = votes.get(a);
            if (v != null && (bestVote == null || better(a, v, best, bestVote))) {
                best = a;
                bestVote = v;
            }
        }
        return best;
    }

    private boolean better(Address a, VoteResponse v, Address best, VoteResponse bestVote) {
        int byLog = compareLogs(v, bestVote);
        return byLog > 0 || (byLog == 0 && priority.applyAsInt(a) > priority.applyAsInt(best));
    }

    private static int compareLogs(VoteResponse x, VoteResponse y) {
        int byTerm = Long.compare((long) LAST_LOG_TERM.get(x), (long) LAST_LOG_TERM.get(y));
        return byTerm != 0 ? byTerm : Long.compare((long) LAST_LOG_INDEX.get(x), (long) LAST_LOG_INDEX.get(y));
    }
}
