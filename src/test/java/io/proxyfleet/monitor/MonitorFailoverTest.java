package io.proxyfleet.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.NodeOptions;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.protocol.client.BlockingMysqlClient;
import io.proxyfleet.protocol.client.MysqlErrorException;
import io.proxyfleet.testkit.FreePorts;
import io.proxyfleet.testkit.MariaDb;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitor against a real MariaDB primary and replica (GTID replication) that the test starts and breaks, with
 * a whole node in between: hostgroup 0 is the writer, 1 the reader, paired in mysql_replication_hostgroups.
 * Every check runs every 200 ms, so each scenario settles within a second or two.
 */
class MonitorFailoverTest {
    private static final int WRITER = 0;
    private static final int READER = 1;
    private static final int MAX_LAG = 2;
    private static final String APP = "app";
    private static final String APP_PASSWORD = "apppw";
    private static final String WRITER_USER = "writer";
    private static final Duration SETTLE = Duration.ofSeconds(15);
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(5);
    private static final int LOAD_CLIENTS = 16;
    private static final int FIXTURE_ATTEMPTS = 3;
    /** Each load client's pause between statements (the load's pace, not a wait for anything): a steady trickle. */
    private static final long LOAD_PAUSE_MILLIS = 50;
    /** Successful client statements that each phase of the load test runs before the next begins. */
    private static final int STATEMENTS_PER_PHASE = 100;
    private static final long READ_ONLY_TIMEOUT_MILLIS = 500;
    /** MariaDB's "running with the --read-only option". */
    private static final int ER_OPTION_PREVENTS_STATEMENT = 1290;
    private static final int CR_SERVER_LOST = 2013;

    private static MariaDb primary;
    private static MariaDb replica;

    @TempDir
    Path dataDir;
    private ProxyFleetNode node;
    private BlockingMysqlClient admin;
    private int trafficPort;

    @BeforeAll
    static void startReplicatedPair() {
        primary = MariaDb.start(MariaDb.Options.defaults().withServerId(1).withLogBin(true).withReadOnly(false));
        replica = MariaDb.start(MariaDb.Options.defaults().withServerId(2).withLogBin(true).withReadOnly(true));
        for (MariaDb db : List.of(primary, replica)) {
            // Same accounts on both, kept out of the binary log: replication starts after them.
            sql(db, "SET SESSION sql_log_bin = 0",
                    "CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY 'monitor'",
                    "GRANT SLAVE MONITOR ON *.* TO 'monitor'@'%'",
                    "CREATE USER IF NOT EXISTS '" + APP + "'@'%' IDENTIFIED BY '" + APP_PASSWORD + "'",
                    "GRANT ALL ON *.* TO '" + APP + "'@'%'",
                    "CREATE USER IF NOT EXISTS '" + WRITER_USER + "'@'%' IDENTIFIED BY '" + APP_PASSWORD + "'",
                    "GRANT ALL ON *.* TO '" + WRITER_USER + "'@'%'",
                    "CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'replpw'",
                    "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'",
                    "CREATE DATABASE IF NOT EXISTS app",
                    "CREATE TABLE IF NOT EXISTS app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(20))",
                    // No key: rows written on either server during a failover never collide in replication.
                    "CREATE TABLE IF NOT EXISTS app.w (v VARCHAR(40))");
        }
        String position = primary.queryValue("SELECT @@global.gtid_binlog_pos");
        sql(replica, "SET GLOBAL gtid_slave_pos = " + MariaDb.quote(position == null ? "" : position),
                "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = " + primary.port()
                        + ", MASTER_USER = 'repl', MASTER_PASSWORD = 'replpw', MASTER_USE_GTID = slave_pos",
                "START SLAVE");
        sql(primary, "INSERT INTO app.t (v) VALUES ('replicated')");
        await().atMost(SETTLE).ignoreExceptions().untilAsserted(() ->
                assertThat(replica.queryValue("SELECT COUNT(*) FROM app.t")).isNotEqualTo("0"));
    }

    @AfterAll
    static void stopPair() {
        if (replica != null) {
            replica.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    @BeforeEach
    void startNode() throws IOException {
        int adminPort = FreePorts.loopback();
        trafficPort = FreePorts.loopback();
        Path cnf = dataDir.resolve("proxysql.cnf");
        Files.writeString(cnf, """
                datadir="%s"
                admin_variables=
                {
                    admin_credentials="admin:admin"
                    mysql_ifaces="127.0.0.1:%d"
                }
                mysql_variables=
                {
                    interfaces="127.0.0.1:%d"
                    threads=2
                    connect_timeout_server=1000
                    connect_timeout_server_max=5000
                    shun_recovery_time_sec=1
                    monitor_username="monitor"
                    monitor_password="monitor"
                    monitor_connect_interval=1000
                    monitor_ping_interval=200
                    monitor_ping_timeout=500
                    monitor_ping_max_failures=3
                    monitor_read_only_interval=200
                    monitor_read_only_timeout=%d
                    monitor_replication_lag_interval=200
                    monitor_replication_lag_timeout=500
                }
                mysql_servers=
                (
                    { address="127.0.0.1", port=%d, hostgroup=%d },
                    { address="127.0.0.1", port=%d, hostgroup=%d, max_replication_lag=%d }
                )
                mysql_users=
                (
                    { username="%s", password="%s", default_hostgroup=%d },
                    { username="%s", password="%s", default_hostgroup=%d }
                )
                mysql_replication_hostgroups=
                (
                    { writer_hostgroup=%d, reader_hostgroup=%d, check_type="read_only", comment="pair" }
                )
                """.formatted(dataDir, adminPort, trafficPort, READ_ONLY_TIMEOUT_MILLIS, primary.port(), WRITER,
                replica.port(), READER,
                MAX_LAG, APP, APP_PASSWORD, READER, WRITER_USER, APP_PASSWORD, WRITER, WRITER, READER));
        node = ProxyFleetNode.start(new NodeOptions(dataDir, cnf, true, false, false));
        admin = BlockingMysqlClient.connect(BlockingMysqlClient.Options.of("127.0.0.1", node.adminPort(), "admin",
                "admin", CLIENT_TIMEOUT, CLIENT_TIMEOUT));
        // writer_is_also_reader: the first read_only round copies the primary into the reader hostgroup.
        await().atMost(SETTLE).untilAsserted(() -> assertThat(runtimeServers()).containsExactlyInAnyOrder(
                WRITER + ":" + primary.port(), READER + ":" + primary.port(), READER + ":" + replica.port()));
    }

    @AfterEach
    void stopNode() {
        if (admin != null) {
            admin.close();
        }
        if (node != null) {
            node.close();
        }
        if (!replica.isRunning()) {
            replica.restart();
        }
        sql(primary, "SET GLOBAL read_only = 0");
        sql(replica, "SET GLOBAL read_only = 1", "START SLAVE");
    }

    @Test
    void killedReplicaIsShunnedReadsGoToThePrimaryAndItReturnsAfterRestart() throws Exception {
        // Reads on both servers first, so the proxy holds pooled connections to the replica when it dies.
        await().atMost(SETTLE).until(() -> serverIdAs(APP).equals("2"));
        replica.kill();

        await().atMost(SETTLE).untilAsserted(() ->
                assertThat(poolStatus(READER, replica.port())).isEqualTo("SHUNNED"));
        // the log rows are written on the log writer's thread, after the pings that shunned the server
        await().atMost(SETTLE).untilAsserted(() -> assertThat(adminValue("SELECT COUNT(*) FROM"
                + " monitor.mysql_server_ping_log WHERE port = " + replica.port()
                + " AND ping_error IS NOT NULL AND ping_success_time_us = 0")).isNotEqualTo("0"));
        for (int i = 0; i < 10; i++) {
            assertThat(serverIdAs(APP)).as("read %d while the replica is down", i).isEqualTo("1");
        }

        replica.restart();

        await().atMost(SETTLE).untilAsserted(() ->
                assertThat(poolStatus(READER, replica.port())).isEqualTo("ONLINE"));
        await().atMost(SETTLE).until(() -> serverIdAs(APP).equals("2"));
    }

    @Test
    void readOnlyFlipMovesTheWriterHostgroupWithoutChangingTheConfiguration() throws Exception {
        String versionBefore = adminValue("SELECT version FROM runtime_checksums_values WHERE name = 'mysql_servers'");
        String checksumBefore =
                adminValue("SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_servers'");
        String v2Before = adminValue("SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_servers_v2'");
        assertThat(serverIdAs(WRITER_USER)).isEqualTo("1");
        await().atMost(SETTLE).untilAsserted(() -> assertThat(adminValue("SELECT Latency_us FROM"
                + " stats_mysql_connection_pool WHERE hostgroup = " + WRITER + " AND srv_port = " + primary.port()))
                .as("ping latency of the primary").isNotEqualTo("0"));

        sql(primary, "SET GLOBAL read_only = 1");
        sql(replica, "SET GLOBAL read_only = 0");
        long flipped = System.nanoTime();

        await().atMost(SETTLE).untilAsserted(() -> assertThat(runtimeServers()).containsExactlyInAnyOrder(
                WRITER + ":" + replica.port(), READER + ":" + primary.port(), READER + ":" + replica.port()));
        long movedMillis = (System.nanoTime() - flipped) / 1_000_000;
        await().atMost(SETTLE).until(() -> serverIdAs(WRITER_USER).equals("2"));

        // Runtime only: the memory layer and the module version are untouched, so peers have nothing to pull.
        assertThat(adminRows("SELECT hostgroup_id, port FROM mysql_servers ORDER BY hostgroup_id")).containsExactly(
                List.of(Integer.toString(WRITER), Integer.toString(primary.port())),
                List.of(Integer.toString(READER), Integer.toString(replica.port())));
        assertThat(adminValue("SELECT version FROM runtime_checksums_values WHERE name = 'mysql_servers'"))
                .isEqualTo(versionBefore);
        assertThat(adminValue("SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_servers_v2'"))
                .isEqualTo(v2Before);
        // the log rows are written on the log writer's thread, after the check that moved the server
        await().atMost(SETTLE).untilAsserted(() -> assertThat(adminValue("SELECT COUNT(*) FROM"
                + " monitor.mysql_server_read_only_log WHERE port = " + replica.port()
                + " AND read_only = 0 AND error IS NULL")).isNotEqualTo("0"));
        System.out.println("MonitorFailoverTest: read_only flip reflected in runtime_mysql_servers after "
                + movedMillis + " ms (read_only interval 200 ms)");
        assertThat(movedMillis).as("moved within a few check intervals").isLessThan(5_000);
        // The runtime list changed, so its checksum did (epoch update only, §4.4).
        await().atMost(SETTLE).untilAsserted(() -> assertThat(adminValue(
                "SELECT checksum FROM runtime_checksums_values WHERE name = 'mysql_servers'"))
                .isNotEqualTo(checksumBefore));
    }

    @Test
    void replicationHostgroupsFollowLoadMysqlServers() throws Exception {
        assertThat(node.monitor().replicationHostgroups())
                .containsExactly(new ReplicationHostgroup(WRITER, READER, CheckType.READ_ONLY, "pair"));

        adminExecute("DELETE FROM mysql_replication_hostgroups");
        adminExecute("LOAD MYSQL SERVERS TO RUNTIME");

        await().atMost(SETTLE).until(() -> node.monitor().replicationHostgroups().isEmpty());
        long removedMicros = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
        // Without a pair nothing copies the primary into the reader hostgroup again. Proven once the monitor has
        // pinged both servers after any read_only check begun with the old pair must have ended.
        long checksEndedMicros = removedMicros + TimeUnit.MILLISECONDS.toMicros(READ_ONLY_TIMEOUT_MILLIS);
        await().atMost(SETTLE).untilAsserted(() -> {
            for (MariaDb db : List.of(primary, replica)) {
                assertThat(adminValue("SELECT COUNT(*) FROM monitor.mysql_server_ping_log WHERE port = " + db.port()
                        + " AND time_start_us > " + checksEndedMicros)).isNotEqualTo("0");
            }
        });
        assertThat(adminValue("SELECT COUNT(*) FROM monitor.mysql_server_read_only_log WHERE time_start_us > "
                + removedMicros)).as("read_only checks begun without a pair").isEqualTo("0");
        assertThat(runtimeServers()).containsExactlyInAnyOrder(WRITER + ":" + primary.port(),
                READER + ":" + replica.port());
    }

    @Test
    void stoppedSqlThreadShunsTheReplicaForLagAndItReturnsWhenReplicationResumes() throws Exception {
        sql(replica, "STOP SLAVE SQL_THREAD");
        sql(primary, "INSERT INTO app.t (v) VALUES ('behind')");

        await().atMost(SETTLE).untilAsserted(() ->
                assertThat(poolStatus(READER, replica.port())).isEqualTo("SHUNNED_REPLICATION_LAG"));
        assertThat(adminValue("SELECT status FROM runtime_mysql_servers WHERE hostgroup_id = " + READER
                + " AND port = " + replica.port())).isNotEqualTo("SHUNNED_REPLICATION_LAG");
        assertThat(adminValue("SELECT COUNT(*) FROM monitor.mysql_server_replication_lag_log WHERE port = "
                + replica.port() + " AND repl_lag > " + MAX_LAG)).isNotEqualTo("0");
        for (int i = 0; i < 10; i++) {
            assertThat(serverIdAs(APP)).as("read %d while the replica lags", i).isEqualTo("1");
        }

        sql(replica, "START SLAVE SQL_THREAD");

        await().atMost(SETTLE).untilAsserted(() ->
                assertThat(poolStatus(READER, replica.port())).isEqualTo("ONLINE"));
        await().atMost(SETTLE).until(() -> serverIdAs(APP).equals("2"));
    }

    @Test
    void offlineSoftDrainsTheReplicaWithoutAnyClientError() throws Exception {
        var errors = new CopyOnWriteArrayList<String>();
        var servedBy = Collections.synchronizedList(new ArrayList<String>());
        var stop = new AtomicBoolean();
        var queries = new AtomicInteger();
        var clients = new ArrayList<Thread>();
        for (int i = 0; i < 4; i++) {
            clients.add(Thread.ofVirtual().start(() -> {
                while (!stop.get()) {
                    try (BlockingMysqlClient c = client(APP)) {
                        for (int q = 0; q < 5 && !stop.get(); q++) {
                            servedBy.add(c.select("SELECT @@server_id, SLEEP(0.05)").rows().getFirst().getFirst());
                            queries.incrementAndGet();
                        }
                    } catch (IOException e) {
                        errors.add(e.toString());
                    }
                }
            }));
        }
        await().atMost(SETTLE).until(() -> servedBy.contains("2") && servedBy.contains("1"));

        // As an operator would: keep the monitor's runtime layout, then drain the replica.
        adminExecute("SAVE MYSQL SERVERS TO MEMORY");
        adminExecute("UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE hostgroup_id = " + READER
                + " AND port = " + replica.port());
        adminExecute("LOAD MYSQL SERVERS TO RUNTIME");
        assertThat(poolStatus(READER, replica.port())).isEqualTo("OFFLINE_SOFT");
        await().atMost(SETTLE).untilAsserted(() ->
                assertThat(adminValue("SELECT ConnUsed FROM stats_mysql_connection_pool WHERE hostgroup = " + READER
                        + " AND srv_port = " + replica.port())).isEqualTo("0"));
        int drainedAt = servedBy.size();
        await().atMost(SETTLE).until(() -> servedBy.size() >= drainedAt + 40);
        stop.set(true);
        for (Thread t : clients) {
            t.join(CLIENT_TIMEOUT);
        }

        assertThat(errors).as("client errors over %d queries", queries.get()).isEmpty();
        List<String> afterDrain;
        synchronized (servedBy) {
            afterDrain = List.copyOf(servedBy.subList(drainedAt, servedBy.size()));
        }
        assertThat(afterDrain).as("reads after the drain").containsOnly("1");
    }

    /** A failed client statement, with the scenario phase it happened in. */
    record ClientError(String phase, String user, int code, String error) {
    }

    @Test
    void sixteenClientsThroughKillRestartAndFailoverSeeOnlyExplainedErrors() throws Exception {
        var phase = new AtomicReference<>("steady");
        var errors = new CopyOnWriteArrayList<ClientError>();
        var statements = new AtomicInteger();
        var stop = new AtomicBoolean();
        var clients = new ArrayList<Thread>();
        for (int i = 0; i < LOAD_CLIENTS; i++) {
            String user = i % 2 == 0 ? APP : WRITER_USER;
            String sql = user.equals(APP) ? "SELECT @@server_id" : "INSERT INTO app.w VALUES ('load')";
            clients.add(Thread.ofVirtual().name("load-" + i).start(() -> {
                while (!stop.get()) {
                    try (BlockingMysqlClient c = client(user)) {
                        while (!stop.get()) {
                            c.execute(sql);
                            statements.incrementAndGet();
                            Thread.sleep(LOAD_PAUSE_MILLIS);
                        }
                    } catch (IOException e) {
                        int code = e instanceof MysqlErrorException err ? err.code() : 0;
                        errors.add(new ClientError(phase.get(), user, code, e.toString()));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
        }
        runPhase(statements);

        phase.set("replica killed");
        replica.kill();
        await().atMost(SETTLE).until(() -> "SHUNNED".equals(poolStatus(READER, replica.port())));
        phase.set("replica shunned");
        runPhase(statements);
        phase.set("replica restarting");
        replica.restart();
        await().atMost(SETTLE).until(() -> "ONLINE".equals(poolStatus(READER, replica.port())));
        phase.set("failover");
        sql(primary, "SET GLOBAL read_only = 1");
        sql(replica, "SET GLOBAL read_only = 0");
        await().atMost(SETTLE).until(() -> runtimeServers().contains(WRITER + ":" + replica.port())
                && !runtimeServers().contains(WRITER + ":" + primary.port()));
        phase.set("after failover");
        runPhase(statements);
        phase.set("failback");
        sql(replica, "SET GLOBAL read_only = 1");
        sql(primary, "SET GLOBAL read_only = 0");
        await().atMost(SETTLE).until(() -> runtimeServers().contains(WRITER + ":" + primary.port())
                && !runtimeServers().contains(WRITER + ":" + replica.port()));
        phase.set("steady again");
        runPhase(statements);
        stop.set(true);
        for (Thread t : clients) {
            t.join(CLIENT_TIMEOUT.multipliedBy(2));
        }

        assertThat(clients).as("client threads that hang").noneMatch(Thread::isAlive);
        List<ClientError> unexplained = errors.stream().filter(e -> !explained(e)).toList();
        String note = "%d statements, %d client errors by phase: %s".formatted(statements.get(), errors.size(),
                errors.stream().collect(Collectors.groupingBy(e -> e.phase() + "/" + e.user() + "/" + e.code(),
                        TreeMap::new, Collectors.counting())));
        System.out.println("MonitorFailoverTest closing note: " + note);
        assertThat(unexplained).as(note).isEmpty();
        assertThat(statements.get()).as(note).isGreaterThan(LOAD_CLIENTS * 10);
    }

    /**
     * The errors a client may see: a read in flight on the replica when it is killed loses its connection (no
     * retry is safe once the statement was sent); between a read_only flip and the monitor's move a write may
     * reach the server that just became read-only (1290); and a write in flight on the old writer when the monitor
     * moves it out of the writer hostgroup loses its connection (2013): a server's removal from a hostgroup cuts
     * its connections there at once, and a sent write is never run again.
     */
    private static boolean explained(ClientError e) {
        boolean readerLostReplica = e.user().equals(APP) && e.phase().equals("replica killed");
        boolean duringFlip = e.phase().equals("failover") || e.phase().equals("failback");
        boolean writeDuringFlip = e.user().equals(WRITER_USER) && duringFlip
                && (e.code() == ER_OPTION_PREVENTS_STATEMENT || e.code() == CR_SERVER_LOST);
        return readerLostReplica || writeDuringFlip;
    }

    // ---------------------------------------------------------------- helpers

    /** Lets the load run in the current phase until its clients have completed a number of statements more. */
    private static void runPhase(AtomicInteger statements) {
        int start = statements.get();
        await().atMost(SETTLE).until(() -> statements.get() >= start + STATEMENTS_PER_PHASE);
    }

    /**
     * Runs idempotent statements as root, retrying when the fixture cannot even connect: on a shared 2-core
     * machine under load a MariaDB handshake sometimes misses the fixture's one-second connect timeout.
     */
    private static void sql(MariaDb db, String... statements) {
        for (int attempt = 1; ; attempt++) {
            try {
                db.execute(statements);
                return;
            } catch (IllegalStateException e) {
                boolean notConnected = String.valueOf(e.getMessage()).contains("Socket timeout when connecting");
                if (attempt == FIXTURE_ATTEMPTS || !notConnected) {
                    throw e;
                }
            }
        }
    }

    private BlockingMysqlClient client(String user) throws IOException {
        return BlockingMysqlClient.connect(BlockingMysqlClient.Options.of("127.0.0.1", trafficPort, user,
                APP_PASSWORD, CLIENT_TIMEOUT, CLIENT_TIMEOUT));
    }

    /** The server a fresh session of {@code user} lands on. */
    private String serverIdAs(String user) throws IOException {
        try (BlockingMysqlClient c = client(user)) {
            return c.select("SELECT @@server_id").rows().getFirst().getFirst();
        }
    }

    private List<String> runtimeServers() throws IOException {
        return adminRows("SELECT hostgroup_id, port FROM runtime_mysql_servers").stream()
                .map(r -> r.get(0) + ":" + r.get(1)).toList();
    }

    private String poolStatus(int hostgroup, int port) throws IOException {
        return adminValue("SELECT status FROM stats_mysql_connection_pool WHERE hostgroup = " + hostgroup
                + " AND srv_port = " + port);
    }

    private synchronized List<List<String>> adminRows(String sql) throws IOException {
        return admin.select(sql).rows();
    }

    private String adminValue(String sql) throws IOException {
        List<List<String>> rows = adminRows(sql);
        return rows.isEmpty() ? null : rows.getFirst().getFirst();
    }

    private synchronized void adminExecute(String sql) throws IOException {
        admin.execute(sql);
    }
}
