package io.proxyfleet.vip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.testkit.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Three Raft members in this JVM on loopback: priorities travel with the members' addresses and steer elections. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RaftPriorityTest {

    @Test
    void everyMemberSeesTheHighestPriorityAndItIsElectedAmongEquals(@TempDir Path dir) throws Exception {
        var peers = new ArrayList<VipSettings.Peer>();
        for (int i = 1; i <= 3; i++) {
            peers.add(new VipSettings.Peer("n" + i, "127.0.0.1", FreePorts.loopback()));
        }
        int[] priorities = {0, 0, 7};
        List<RaftMembership> members = new ArrayList<>();
        try {
            // n1 first (no majority alone), then n3: n1 coordinates the first election, in which jgroups-raft
            // alone would choose the first member of the view (n1); both logs are empty, so priority decides.
            for (int i : new int[] {1, 3, 2}) {
                var s = new VipSettings("198.18.0.100", 24, "eth0", 1_000, "n" + i, peers, 1_000, priorities[i - 1]);
                var m = new RaftMembership(s, dir.resolve("n" + i));
                m.connect();
                members.add(m);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> members.stream().allMatch(m -> m.viewSize() == 3));
            assertThat(members.get(0).higherPriorityMember()).isEqualTo("n3");
            assertThat(members.get(2).higherPriorityMember()).isEqualTo("n3");
            assertThat(members.get(1).higherPriorityMember()).isEmpty();
            await().atMost(Duration.ofSeconds(60)).until(() -> !members.get(0).leaderId().isEmpty());
            assertThat(members.get(0).leaderId()).isEqualTo("n3");
        } finally {
            members.forEach(RaftMembership::close);
        }
    }
}
