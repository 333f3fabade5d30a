package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ModuleVersion;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pulls from a real admin engine over a real socket into a node that records what it is asked to apply. */
class ModulePullerTest {
    @TempDir
    Path tmp;
    private TestNode source;
    private final RecordingNode target = new RecordingNode("", List.of(), SETTINGS);
    private ModulePuller puller;
    private PeerAddress peer;

    static final ClusterSettings SETTINGS;

    static {
        Map<ClusterModule, Integer> d = new EnumMap<>(ClusterModule.class);
        Map<ClusterModule, Boolean> save = new EnumMap<>(ClusterModule.class);
        for (ClusterModule m : ClusterModule.values()) {
            d.put(m, 3);
            save.put(m, false);
        }
        // the source engine accepts its admin credentials; the cluster user is not needed to fetch
        SETTINGS = new ClusterSettings("admin", "admin", Duration.ofSeconds(1), 0, d, save, 1);
    }

    @BeforeEach
    void setUp() throws Exception {
        source = new TestNode(tmp.resolve("source"));
        source.exec("INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup) VALUES"
                + " (1, 1, '^SELECT', 2), (2, 1, NULL, 1)");
        source.exec("INSERT INTO mysql_query_rules_fast_routing (username, schemaname, flagIN, destination_hostgroup,"
                + " comment) VALUES ('app', 'shop', 0, 3, '')");
        source.exec("LOAD MYSQL QUERY RULES TO RUNTIME");
        puller = new ModulePuller(target, PeerConnector.standard(), Duration.ZERO);
        peer = new PeerAddress("127.0.0.1", source.listener.port());
    }

    @AfterEach
    void tearDown() throws Exception {
        source.close();
    }

    @Test
    void rowsMatchingTheAdvertisedChecksumAreAppliedAdoptingThePeersEpoch() {
        ModuleVersion advertised = source.module("mysql_query_rules");
        boolean ok = puller.pull(peer, List.of(new ModulePuller.Expected(ClusterModule.MYSQL_QUERY_RULES,
                advertised.checksum(), advertised.epoch())), SETTINGS);
        assertThat(ok).isTrue();
        assertThat(target.applied).singleElement().satisfies(p -> {
            assertThat(p.module()).isEqualTo(ClusterModule.MYSQL_QUERY_RULES);
            assertThat(p.source()).isEqualTo(peer);
            assertThat(p.saveToDisk()).isFalse();
            assertThat(p.adopt()).containsExactly(new PulledModule.Adopted("mysql_query_rules",
                    advertised.checksum(), advertised.epoch()));
            assertThat(p.tables().keySet()).containsExactly("mysql_query_rules", "mysql_query_rules_fast_routing");
            assertThat(p.tables().get("mysql_query_rules").rows()).hasSize(2);
            assertThat(p.tables().get("mysql_query_rules").columns()).hasSize(34).startsWith("rule_id");
        });
        assertThat(puller.pulled(ClusterModule.MYSQL_QUERY_RULES, true)).isEqualTo(1);
    }

    @Test
    void mismatchingChecksumIsRejectedAndNothingIsApplied() {
        boolean ok = puller.pull(peer, List.of(new ModulePuller.Expected(ClusterModule.MYSQL_QUERY_RULES,
                "0xDEADBEEF00000000", 1700000000)), SETTINGS);
        assertThat(ok).isFalse();
        assertThat(target.applied).isEmpty();
        assertThat(puller.pulled(ClusterModule.MYSQL_QUERY_RULES, false)).isEqualTo(1);
    }

    @Test
    void serversPullVerifiesBothTheConfiguredAndTheRuntimeChecksums() throws Exception {
        source.exec("INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (1, 'db1', 3306)");
        source.exec("LOAD MYSQL SERVERS TO RUNTIME");
        ModuleVersion v2 = source.module("mysql_servers_v2");
        ModuleVersion runtime = source.module("mysql_servers");
        List<ModulePuller.Expected> wrongRuntime = List.of(
                new ModulePuller.Expected(ClusterModule.MYSQL_SERVERS_V2, v2.checksum(), v2.epoch()),
                new ModulePuller.Expected(ClusterModule.MYSQL_SERVERS, "0x1234000000000000", runtime.epoch()));
        assertThat(puller.pull(peer, wrongRuntime, SETTINGS)).isFalse();
        assertThat(target.applied).isEmpty();

        List<ModulePuller.Expected> right = List.of(
                new ModulePuller.Expected(ClusterModule.MYSQL_SERVERS_V2, v2.checksum(), v2.epoch()),
                new ModulePuller.Expected(ClusterModule.MYSQL_SERVERS, runtime.checksum(), runtime.epoch()));
        assertThat(puller.pull(peer, right, SETTINGS)).isTrue();
        assertThat(target.applied).singleElement().satisfies(p -> {
            assertThat(p.tables()).containsKeys("mysql_servers", "mysql_replication_hostgroups",
                    "mysql_servers_ssl_params", "runtime_mysql_servers");
            assertThat(p.adopt()).extracting(PulledModule.Adopted::checksumName)
                    .containsExactly("mysql_servers_v2", "mysql_servers");
        });
    }

    @Test
    void unreachablePeerIsAFailure() {
        boolean ok = puller.pull(new PeerAddress("127.0.0.1", 1), List.of(new ModulePuller.Expected(
                ClusterModule.PROXYSQL_SERVERS, "0x0000000000000000", 1)), SETTINGS);
        assertThat(ok).isFalse();
        assertThat(target.applied).isEmpty();
    }
}
