package io.proxyfleet.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.ServerStatus;
import io.proxyfleet.testkit.MariaDb;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The race between a session starting its next statement and another session taking back the connection the
 * first one keeps between statements ({@code BackendPool.reclaimKept}, {@code ClientSession.giveBack}). One
 * backend connection is allowed; the keeper's next statement and the other client's statement are written back
 * to back, so that they reach the proxy in the same moment, in either order. Whichever wins, each statement must
 * run exactly once, on a connection aligned to its own session, and answer its own client.
 */
class KeptConnectionRaceTest {
    private static final String USER = "kept_race";
    private static final String PASSWORD = "kept-race-pw";
    private static final String SCHEMA = "kept_race";
    /** Rounds on one loop, each two races: a kept connection met by two statements at once. */
    private static final int SAME_LOOP_ROUNDS = 100;
    /** Fewer across loops, where every reclaim closes the connection and the next statement opens one. */
    private static final int OTHER_LOOP_ROUNDS = 40;
    private static final String KEEPER_TZ = "+01:00";
    private static final String OTHER_TZ = "+02:00";
    /** The time zones as TIMEDIFF(NOW(), UTC_TIMESTAMP()) shows them. */
    private static final String KEEPER_OFFSET = "01:00:00";
    private static final String OTHER_OFFSET = "02:00:00";
    private static MariaDb db;

    @BeforeAll
    static void start() {
        db = MariaDb.shared();
        db.execute("DROP USER IF EXISTS " + USER);
        db.createUser(USER, PASSWORD);
        db.execute("DROP DATABASE IF EXISTS " + SCHEMA, "CREATE DATABASE " + SCHEMA);
    }

    /** One event loop: the waiting session takes the kept connection itself, on the keeper's loop. */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aStatementMeetingTheReclaimOfItsKeptConnectionOnItsLoopRunsOnceWithItsOwnState() throws Exception {
        race("same_loop", 1, SAME_LOOP_ROUNDS);
    }

    /** Two event loops, a client on each: the keeper's loop closes its kept connection to free the slot. */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aStatementMeetingTheReclaimOfItsKeptConnectionFromAnotherLoopRunsOnceWithItsOwnState() throws Exception {
        race("other_loop", TrafficProxy.EVENT_LOOPS, OTHER_LOOP_ROUNDS);
    }

    private static void race(String table, int eventLoops, int rounds) throws Exception {
        db.execute("CREATE TABLE " + SCHEMA + "." + table
                + " (who CHAR(1) NOT NULL, round INT NOT NULL, tz VARCHAR(8) NOT NULL, PRIMARY KEY (who, round))");
        var server = new MysqlServer(0, "127.0.0.1", db.port(), 0, ServerStatus.ONLINE, 1, 0, 1, 0, false, 0, "");
        try (TrafficProxy proxy = TrafficProxy.start(List.of(server), List.of(MysqlUser.of(USER, PASSWORD, 0)),
                Map.of("server_version", "5.5.30", "connect_timeout_server_max", "10000"), eventLoops);
             RawClient keeper = RawClient.login(proxy.port(), USER, PASSWORD);
             RawClient other = RawClient.login(proxy.port(), USER, PASSWORD)) {
            keeper.query("SET time_zone = '" + KEEPER_TZ + "'");
            other.query("SET time_zone = '" + OTHER_TZ + "'");
            for (int i = 0; i < rounds; i++) {
                int round = i;
                boolean keeperFirst = round % 2 == 0;
                keep(keeper, round);
                // The session's offset from UTC, read without '@', which would pin a write (as in ProxySQL).
                sendBoth(keeper, other, keeperFirst, who -> "INSERT INTO " + SCHEMA + "." + table + " VALUES ('"
                        + who + "', " + round + ", TIMEDIFF(NOW(), UTC_TIMESTAMP()))");
                assertThat(keeper.readResult()).as("round %d: the keeper's INSERT answers OK", round).isEmpty();
                assertThat(other.readResult()).as("round %d: the other's INSERT answers OK", round).isEmpty();

                keep(keeper, round);
                sendBoth(keeper, other, keeperFirst, who -> "SELECT '" + who + "', " + round + ", @@time_zone");
                assertThat(keeper.readResult()).as("round %d: the keeper's own answer", round)
                        .containsExactly(List.of("k", String.valueOf(round), KEEPER_TZ));
                assertThat(other.readResult()).as("round %d: the other's own answer", round)
                        .containsExactly(List.of("o", String.valueOf(round), OTHER_TZ));
            }
        }
        // A statement run twice would have failed on the key; one lost would leave a row too few.
        for (String[] who : new String[][] {{"k", KEEPER_OFFSET}, {"o", OTHER_OFFSET}}) {
            assertThat(db.queryValue("SELECT COUNT(*) FROM " + SCHEMA + "." + table + " WHERE who = '" + who[0]
                    + "' AND tz = '" + who[1] + "'"))
                    .as("rows of '%s' written once each, with its own time zone", who[0])
                    .isEqualTo(String.valueOf(rounds));
        }
        assertThat(db.queryValue("SELECT COUNT(*) FROM " + SCHEMA + "." + table))
                .isEqualTo(String.valueOf(2 * rounds));
    }

    /** With the other client idle, the keeper keeps the connection after this statement. */
    private static void keep(RawClient keeper, int round) throws IOException {
        assertThat(keeper.query("SELECT 'kept', " + round)).containsExactly(List.of("kept", String.valueOf(round)));
    }

    /**
     * Writes the keeper's statement and the other's back to back without waiting for answers, so that both are in
     * flight when the proxy sees the first.
     */
    private static void sendBoth(RawClient keeper, RawClient other, boolean keeperFirst,
                                 Function<String, String> statementOf) throws IOException {
        RawClient first = keeperFirst ? keeper : other;
        RawClient second = keeperFirst ? other : keeper;
        first.command(RawClient.COM_QUERY, statementOf.apply(first == keeper ? "k" : "o"));
        second.command(RawClient.COM_QUERY, statementOf.apply(second == keeper ? "k" : "o"));
    }
}
