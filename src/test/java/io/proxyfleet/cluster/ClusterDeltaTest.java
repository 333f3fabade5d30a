package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.ProxySqlServer;
import io.proxyfleet.protocol.client.BlockingMysqlClient;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Delta sync of {@code mysql_users} between ProxyFleet nodes (issue 13 item 6): a change of a few users among
 * 2,000 travels as the changed rows only and ends exactly as a whole-table pull would; an unknown base, a delta
 * that does not hash to the advertised checksum, or one with an unknown column changes nothing and the whole table
 * repairs it; a ProxySQL-like peer is never sent the ProxyFleet-only command. Real admin engines behind real admin
 * sockets; the pulls either run from a cluster manager or are started by the test, to control when they happen.
 * Owned by the JUnit thread.
 */
@Timeout(120)
class ClusterDeltaTest {
    private static final int USERS = 2_000;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String DELTA = "PROXYFLEET CLUSTER DELTA";
    private static final String USERS_FETCH = "PROXY_SELECT username, password";
    private static final String SETTINGS_SQL = "UPDATE global_variables SET variable_value = '%s'"
            + " WHERE variable_name = 'admin-%s'";
    private static final ClusterSettings SETTINGS = settings();
    /** A cold JVM on a loaded machine can take more than the cluster's 1 s to log in; these pulls are the test's. */
    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final PeerConnector PATIENT = (peer, settings) -> BlockingMysqlClient.connect(
            BlockingMysqlClient.Options.of(peer.hostname(), peer.port(), settings.username(), settings.password(),
                    PATIENCE, PATIENCE));

    @TempDir
    Path tmp;
    private final List<TestNode> open = new ArrayList<>();
    /** Statements the source's admin socket received; appended to by its connection threads. */
    private final List<String> received = new CopyOnWriteArrayList<>();
    /** What the source's admin socket does to an answer before sending it. */
    private volatile BiFunction<String, AdminResponse, AdminResponse> sourceTamper = (sql, r) -> r;

    @AfterEach
    void closeAll() throws Exception {
        for (TestNode n : open.reversed()) {
            n.close();
        }
    }

    private static ClusterSettings settings() {
        Map<ClusterModule, Integer> diffs = new java.util.EnumMap<>(ClusterModule.class);
        Map<ClusterModule, Boolean> save = new java.util.EnumMap<>(ClusterModule.class);
        for (ClusterModule m : ClusterModule.values()) {
            diffs.put(m, 3);
            save.put(m, true);
        }
        return new ClusterSettings("cluster", "cl-secret", Duration.ofSeconds(1), 0, diffs, save, 1);
    }

    private TestNode node(String name, BiFunction<String, AdminResponse, AdminResponse> tamper) throws Exception {
        TestNode n = new TestNode(tmp.resolve(name), tamper);
        open.add(n);
        for (String[] v : new String[][] {{"cluster_username", "cluster"}, {"cluster_password", "cl-secret"},
                {"admin_credentials", "admin:admin;cluster:cl-secret"}, {"cluster_check_interval_ms", "100"}}) {
            n.exec(SETTINGS_SQL.formatted(v[1], v[0]));
        }
        n.exec("LOAD ADMIN VARIABLES TO RUNTIME");
        return n;
    }

    /** The source: 2,000 users, every statement it receives recorded, its answers passed through the tamper. */
    private TestNode source() throws Exception {
        TestNode s = node("source", (sql, r) -> {
            received.add(sql);
            return sourceTamper.apply(sql, r);
        });
        s.exec("INSERT INTO mysql_users (username, password, default_hostgroup, comment) WITH RECURSIVE n(x) AS"
                + " (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < " + USERS + ") SELECT 'user' || x, 'pw' || x,"
                + " x % 4, 'initial' FROM n");
        s.exec("LOAD MYSQL USERS TO RUNTIME");
        return s;
    }

    /** Changes three users: one edited, one deleted, one added. */
    private static void changeThreeUsers(TestNode source, String tag) throws Exception {
        source.exec("UPDATE mysql_users SET comment = '" + tag + "' WHERE username = 'user7'");
        source.exec("DELETE FROM mysql_users WHERE username = 'user8'");
        source.exec("INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('new_" + tag
                + "', 'pw', 1)");
        source.exec("LOAD MYSQL USERS TO RUNTIME");
    }

    private static PeerAddress address(TestNode n) {
        return new PeerAddress("127.0.0.1", n.listener.port());
    }

    private static boolean pull(ModulePuller puller, TestNode from) {
        ModuleVersion v = from.module("mysql_users");
        return puller.pull(address(from), List.of(new ModulePuller.Expected(ClusterModule.MYSQL_USERS,
                v.checksum(), v.epoch())), SETTINGS);
    }

    private static ModulePuller deltaPuller(TestNode n) {
        return new ModulePuller(new AdminClusterNode(n.engine, n.holder, false, true), PATIENT, Duration.ZERO);
    }

    /** What a user sees of a node's users: runtime, memory and disk rows, and the module's checksum. */
    private static String users(TestNode n) throws Exception {
        String order = " ORDER BY username, backend";
        return n.rows("SELECT * FROM runtime_mysql_users" + order) + "\n" + n.rows("SELECT * FROM mysql_users"
                + order) + "\n" + n.rows("SELECT * FROM disk.mysql_users" + order) + "\n"
                + n.module("mysql_users").checksum();
    }

    @Test
    void aChangeTravelsAsADeltaAndEndsExactlyAsAWholePull() throws Exception {
        TestNode source = source();
        TestNode target = node("target", (sql, r) -> r);
        TestNode witness = node("witness", (sql, r) -> r);
        followAndCatchUp(target, source);
        ModulePuller monitorPuller = target.cluster.get().puller();
        long deltasBefore = monitorPuller.deltaPulls();
        long fallbacksBefore = monitorPuller.deltaFallbacks();
        assertThat(deltasBefore).as("the first sync is the whole table: 2,000 new rows are no delta").isZero();

        changeThreeUsers(source, "changed");
        ModuleVersion changed = source.module("mysql_users");
        await().atMost(WAIT).pollInterval(POLL).until(() -> monitorPuller.deltaPulls() > deltasBefore);

        assertThat(monitorPuller.deltaPulls()).isEqualTo(deltasBefore + 1);
        assertThat(target.module("mysql_users").checksum()).isEqualTo(changed.checksum());
        assertThat(monitorPuller.deltaFallbacks()).isEqualTo(fallbacksBefore);
        assertThat(target.module("mysql_users").epoch()).isEqualTo(changed.epoch());
        assertThat(received).anySatisfy(sql -> assertThat(sql).startsWith(DELTA + " mysql_users FROM 0x"));
        assertThat(target.rows("SELECT comment FROM runtime_mysql_users WHERE username = 'user7'"))
                .containsOnly(List.of("changed"));
        assertThat(target.rows("SELECT COUNT(*) FROM runtime_mysql_users WHERE username IN ('user8')"))
                .containsExactly(List.of("0"));

        // the same change pulled as a whole table by a node without the base
        assertThat(pull(new ModulePuller(new WholeTablesOnly(new AdminClusterNode(witness.engine, witness.holder,
                false, true)), PATIENT, Duration.ZERO), source)).isTrue();
        assertThat(users(target)).isEqualTo(users(witness));
        assertThat(target.module("mysql_users")).isEqualTo(new ModuleVersion(
                target.module("mysql_users").version(), changed.epoch(), changed.checksum()));
    }

    @Test
    void aBaseTheSourceNoLongerKnowsFallsBackToTheWholeTable() throws Exception {
        TestNode source = source();
        source.exec(SETTINGS_SQL.formatted("1", "proxyfleet_cluster_history_size"));
        source.exec("LOAD ADMIN VARIABLES TO RUNTIME");
        TestNode target = node("target", (sql, r) -> r);
        ModulePuller puller = deltaPuller(target);
        assertThat(pull(puller, source)).isTrue();

        // three versions later the target's base is neither the source's previous version nor in its history
        for (String tag : List.of("a", "b", "c")) {
            changeThreeUsers(source, tag);
        }
        long fallbacks = puller.deltaFallbacks();
        assertThat(pull(puller, source)).isTrue();

        assertThat(puller.deltaFallbacks()).isEqualTo(fallbacks + 1);
        assertThat(puller.deltaPulls()).isZero();
        assertThat(target.module("mysql_users").checksum()).isEqualTo(source.module("mysql_users").checksum());
        assertThat(target.rows("SELECT COUNT(*) FROM runtime_mysql_users"))
                .isEqualTo(source.rows("SELECT COUNT(*) FROM runtime_mysql_users"));
    }

    @Test
    void aDeltaThatDoesNotHashToTheAdvertisedChecksumChangesNothingThenTheWholeTableRepairs() throws Exception {
        assertBadDeltaChangesNothingAndIsRepaired((sql, r) -> sql.startsWith(DELTA)
                ? tamperCells((AdminResponse.ResultSet) r, "forged") : r, 1);
    }

    @Test
    void aDeltaWithAnUnknownColumnChangesNothingThenTheWholeTableRepairs() throws Exception {
        assertBadDeltaChangesNothingAndIsRepaired((sql, r) -> {
            if (!sql.startsWith(DELTA)) {
                return r;
            }
            AdminResponse.ResultSet rs = (AdminResponse.ResultSet) r;
            List<String> columns = new ArrayList<>(rs.columns());
            columns.set(columns.size() - 1, "evil_column");
            return new AdminResponse.ResultSet(columns, rs.rows());
        }, 0);
    }

    /** Every added row's comment replaced: rows that no longer hash to what the source advertises. */
    private static AdminResponse tamperCells(AdminResponse.ResultSet rs, String comment) {
        List<List<String>> rows = new ArrayList<>();
        for (List<String> row : rs.rows()) {
            List<String> copy = new ArrayList<>(row);
            if (copy.getFirst().equals("+")) {
                copy.set(copy.size() - 1, comment);
            }
            rows.add(copy);
        }
        return new AdminResponse.ResultSet(rs.columns(), rows);
    }

    private void assertBadDeltaChangesNothingAndIsRepaired(
            BiFunction<String, AdminResponse, AdminResponse> badDelta, long mismatches) throws Exception {
        TestNode source = source();
        TestNode target = node("target", (sql, r) -> r);
        ModulePuller puller = deltaPuller(target);
        AdminClusterNode targetNode = new AdminClusterNode(target.engine, target.holder, false, true);
        assertThat(pull(puller, source)).isTrue();
        String before = users(target);
        String versionsBefore = target.rows("SELECT * FROM runtime_checksums_values ORDER BY name").toString();

        changeThreeUsers(source, "next");
        sourceTamper = badDelta;
        // the whole table cannot be fetched either: the pull fails, and what the bad delta did must be undone
        source.listener.dropMidResult = sql -> sql.startsWith(USERS_FETCH);
        long fallbacks = puller.deltaFallbacks();
        assertThat(pull(puller, source)).isFalse();
        assertThat(puller.deltaFallbacks()).isEqualTo(fallbacks + 1);
        assertThat(puller.deltaPulls()).isZero();
        assertThat(users(target)).isEqualTo(before);
        assertThat(target.rows("SELECT * FROM runtime_checksums_values ORDER BY name").toString())
                .isEqualTo(versionsBefore);
        assertThat(targetNode.checksumMismatches(ClusterModule.MYSQL_USERS)).isEqualTo(mismatches);

        // once the whole table can be fetched again, it repairs what the delta could not
        source.listener.dropMidResult = sql -> false;
        assertThat(pull(puller, source)).isTrue();
        assertThat(puller.deltaPulls()).isZero();
        assertThat(target.module("mysql_users").checksum()).isEqualTo(source.module("mysql_users").checksum());
        assertThat(target.rows("SELECT comment FROM runtime_mysql_users WHERE username = 'user7'"))
                .containsOnly(List.of("next"));
    }

    @Test
    void aPeerThatSendsTooMuchOrHangsUpMidDeltaChangesNothing() throws Exception {
        TestNode source = source();
        TestNode target = node("target", (sql, r) -> r);
        ModulePuller puller = deltaPuller(target);
        assertThat(pull(puller, source)).isTrue();
        String before = users(target);
        changeThreeUsers(source, "next");

        source.listener.flood = sql -> sql.startsWith(DELTA);
        assertThat(pull(puller, source)).isFalse();
        assertThat(users(target)).isEqualTo(before);
        source.listener.flood = sql -> false;
        source.listener.dropMidResult = sql -> sql.startsWith(DELTA);
        assertThat(pull(puller, source)).isFalse();
        assertThat(users(target)).isEqualTo(before);

        source.listener.dropMidResult = sql -> false;
        assertThat(pull(puller, source)).isTrue();
        assertThat(puller.deltaPulls()).isEqualTo(1);
        assertThat(target.module("mysql_users").checksum()).isEqualTo(source.module("mysql_users").checksum());
    }

    @Test
    void aPeerThatIsNotProxyFleetIsNeverSentTheDeltaCommand() throws Exception {
        TestNode source = source();
        // the source answers the probe as ProxySQL does: it has no ProxyFleet variables
        sourceTamper = (sql, r) -> sql.equals(ClusterQueries.PROXYFLEET_PROBE)
                ? new AdminResponse.ResultSet(List.of("COUNT(*)"), List.of(List.of("0"))) : r;
        TestNode target = node("target", (sql, r) -> r);
        ModulePuller puller = deltaPuller(target);
        assertThat(pull(puller, source)).isTrue();
        changeThreeUsers(source, "again");
        assertThat(pull(puller, source)).isTrue();

        assertThat(target.module("mysql_users").checksum()).isEqualTo(source.module("mysql_users").checksum());
        assertThat(received).contains(ClusterQueries.PROXYFLEET_PROBE)
                .noneSatisfy(sql -> assertThat(sql).startsWithIgnoringCase("PROXYFLEET"));
        assertThat(puller.deltaPulls()).isZero();
    }

    @ParameterizedTest(name = "peer is ProxyFleet: {0}")
    @ValueSource(booleans = {true, false})
    void onlyAProxyFleetPeerIsNotifiedOfALocalLoad(boolean proxyFleet) throws Exception {
        TestNode source = source();
        if (!proxyFleet) {
            sourceTamper = (sql, r) -> sql.equals(ClusterQueries.PROXYFLEET_PROBE)
                    ? new AdminResponse.ResultSet(List.of("COUNT(*)"), List.of(List.of("0"))) : r;
        }
        TestNode target = node("target", (sql, r) -> r);
        followAndCatchUp(target, source);

        target.exec("UPDATE mysql_users SET comment = 'local' WHERE username = 'user3'");
        target.exec("LOAD MYSQL USERS TO RUNTIME");
        int afterLoad = received.size();
        // Two more checks of the source after the load: the monitor has passed the point where it notifies.
        await().atMost(WAIT).pollInterval(POLL).until(() -> received.subList(afterLoad, received.size()).stream()
                .filter(ClusterQueries.GLOBAL_CHECKSUM::equals).count() >= 2);

        if (proxyFleet) {
            assertThat(received).contains(ClusterQueries.NOTIFY);
        } else {
            assertThat(received).doesNotContain(ClusterQueries.NOTIFY)
                    .noneSatisfy(sql -> assertThat(sql).startsWithIgnoringCase("PROXYFLEET"));
        }
    }

    /** A node as one without delta sync, so that the same puller fetches whole tables. */
    record WholeTablesOnly(LocalNode node) implements LocalNode {
        @Override
        public String version() {
            return node.version();
        }

        @Override
        public String uuid() {
            return node.uuid();
        }

        @Override
        public String adminInterfaces() {
            return node.adminInterfaces();
        }

        @Override
        public boolean syncInterfaces() {
            return node.syncInterfaces();
        }

        @Override
        public ClusterSettings settings() {
            return node.settings();
        }

        @Override
        public Map<String, ModuleVersion> checksums() {
            return node.checksums();
        }

        @Override
        public List<ProxySqlServer> peers() {
            return node.peers();
        }

        @Override
        public void apply(PulledModule pulled) throws Exception {
            node.apply(pulled);
        }
    }

    /** Makes {@code target} list {@code source} as its peer and waits until it runs the source's users. */
    private static void followAndCatchUp(TestNode target, TestNode source) throws Exception {
        target.exec("INSERT INTO proxysql_servers (hostname, port, weight, comment) VALUES ('127.0.0.1', "
                + source.listener.port() + ", 0, 'source')");
        target.exec("LOAD PROXYSQL SERVERS TO RUNTIME");
        target.startCluster();
        await().atMost(WAIT).pollInterval(POLL).until(() -> target.module("mysql_users").checksum()
                .equals(source.module("mysql_users").checksum()));
    }
}
