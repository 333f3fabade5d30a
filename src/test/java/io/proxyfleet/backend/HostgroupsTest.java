package io.proxyfleet.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.config.ServerStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The shared hostgroup view follows publications and never goes back to an older one. */
class HostgroupsTest {
    private static final int HOSTGROUP = 0;
    private static final int OLD_PORT = 3306;
    private static final int NEW_PORT = 3307;

    private final ConfigHolder holder = new ConfigHolder(RuntimeConfig.empty());
    private final Hostgroups hostgroups = Hostgroups.follow(holder);

    private RuntimeConfig.Servers publish(List<MysqlServer> rows, long version) {
        return holder.update(c -> c.withServers(RuntimeConfig.Servers.of(rows, new ModuleVersion(version, 0, ""))))
                .servers();
    }

    @Test
    void aCallerWithAnOlderSnapshotReadsTheNewerView() {
        RuntimeConfig.Servers old = publish(List.of(MysqlServer.of(HOSTGROUP, "127.0.0.1", OLD_PORT)), 1);
        ServerRuntime oldServer = hostgroups.hostgroup(old, HOSTGROUP)[0];
        RuntimeConfig.Servers current = publish(List.of(MysqlServer.of(HOSTGROUP, "127.0.0.1", NEW_PORT)), 2);

        for (int i = 0; i < 100; i++) {
            // A connect attempt retrying with the snapshot it started from, interleaved with current readers.
            assertThat(hostgroups.hostgroup(old, HOSTGROUP)).extracting(s -> s.key().port()).containsExactly(NEW_PORT);
            assertThat(hostgroups.hostgroup(current, HOSTGROUP)).extracting(s -> s.key().port())
                    .containsExactly(NEW_PORT);
        }
        assertThat(hostgroups.all(old)).extracting(s -> s.key().port()).containsExactly(NEW_PORT);
        assertThat(oldServer.status()).as("removed servers are OFFLINE_HARD").isEqualTo(ServerStatus.OFFLINE_HARD);
    }

    @Test
    void aMonitorMoveUnderTheSameModuleVersionStillMovesTheViewForward() {
        RuntimeConfig.Servers loaded = publish(List.of(MysqlServer.of(HOSTGROUP, "127.0.0.1", OLD_PORT)), 7);
        // read_only_action publishes under the same version (§4.4).
        RuntimeConfig.Servers moved = publish(List.of(MysqlServer.of(1, "127.0.0.1", OLD_PORT)), 7);

        assertThat(hostgroups.hostgroup(loaded, HOSTGROUP)).isEmpty();
        assertThat(hostgroups.hostgroup(moved, 1)).hasSize(1);
    }

    @Test
    void theViewFollowsPublicationsWithoutAnyReader() {
        publish(List.of(MysqlServer.of(HOSTGROUP, "127.0.0.1", OLD_PORT)), 1);
        RuntimeConfig.Servers first = holder.current().servers();
        ServerRuntime server = hostgroups.hostgroup(first, HOSTGROUP)[0];

        publish(List.of(), 2);

        // Nobody read the new list, yet the removal acted when it was published.
        assertThat(server.status()).isEqualTo(ServerStatus.OFFLINE_HARD);
    }

    /** Readers holding every generation race with publications: what they see never goes backwards. */
    @Test
    void concurrentReadersNeverSeeTheViewGoBack() throws Exception {
        List<RuntimeConfig.Servers> published = new ArrayList<>();
        published.add(publish(List.of(MysqlServer.of(HOSTGROUP, "127.0.0.1", 1)), 1));
        var stop = new AtomicBoolean();
        var start = new CountDownLatch(1);
        var wentBack = new AtomicBoolean();
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            readers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                int highest = 0;
                while (!stop.get()) {
                    RuntimeConfig.Servers stale = published.getFirst();
                    ServerRuntime[] group = hostgroups.hostgroup(stale, HOSTGROUP);
                    int port = group.length == 0 ? 0 : group[0].key().port();
                    if (port < highest) {
                        wentBack.set(true);
                    }
                    highest = Math.max(highest, port);
                }
            }));
        }
        start.countDown();
        for (int port = 2; port <= 2_000; port++) {
            publish(List.of(MysqlServer.of(HOSTGROUP, "127.0.0.1", port)), port);
        }
        stop.set(true);
        for (Thread reader : readers) {
            reader.join();
        }
        assertThat(wentBack).isFalse();
        assertThat(hostgroups.hostgroup(published.getFirst(), HOSTGROUP)[0].key().port()).isEqualTo(2_000);
    }
}
