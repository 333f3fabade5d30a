package io.proxyfleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("slow")
class MariaDbTest {

    @Test
    void sharedServerAnswersAVersionQueryAsRoot() {
        MariaDb db = MariaDb.shared();

        assertThat(db.queryValue("SELECT VERSION()")).contains("MariaDB");
        assertThat(db.queryValue("SELECT @@port")).isEqualTo(Integer.toString(db.port()));
        assertThat(MariaDb.shared()).isSameAs(db);
    }

    @Test
    void createdNativePasswordUserLogsInWithTheMysqlCliAndJdbc() throws SQLException {
        MariaDb db = MariaDb.shared();
        db.createUser("fixture_app", "app'pass", "mysql_native_password");

        MysqlCli.Result cli = MysqlCli.run(MysqlCli.loginArgs(db.host(), db.port(), "fixture_app", "app'pass",
                "-N", "-e", "SELECT CURRENT_USER(), plugin FROM mysql.user WHERE User = 'fixture_app'"), "",
                MysqlCli.DEFAULT_TIMEOUT);
        assertThat(cli.succeeded()).as(cli.toString()).isTrue();
        assertThat(cli.stdout().strip()).isEqualTo("fixture_app@%\tmysql_native_password");

        try (Connection c = db.connectAs("fixture_app", "app'pass", null)) {
            assertThat(c.isValid(1)).isTrue();
        }
        // MySQL Connector/J, the other driver tests use, also gets in.
        try (Connection c = java.sql.DriverManager.getConnection(db.mysqlJdbcUrl(""), "fixture_app", "app'pass")) {
            assertThat(c.isValid(1)).isTrue();
        }
    }

    @Test
    void wrongPasswordIsRejectedTheWayTheClientReportsIt() {
        MariaDb db = MariaDb.shared();
        db.createUser("fixture_locked", "right");

        MysqlCli.Result cli = MysqlCli.run(MysqlCli.loginArgs(db.host(), db.port(), "fixture_locked", "wrong",
                "-e", "SELECT 1").toArray(String[]::new));

        assertThat(cli.exitCode()).isEqualTo(1);
        assertThat(cli.stderr()).contains("ERROR 1045 (28000)").contains("fixture_locked");
    }

    @Test
    void cliReadsSqlFromStdin() {
        MariaDb db = MariaDb.shared();

        MysqlCli.Result cli = MysqlCli.run(MysqlCli.loginArgs(db.host(), db.port(), db.rootUser(),
                db.rootPassword(), "-N"), "SELECT 40 + 2;\n", MysqlCli.DEFAULT_TIMEOUT);

        assertThat(cli.succeeded()).as(cli.toString()).isTrue();
        assertThat(cli.stdout().strip()).isEqualTo("42");
    }

    @Test
    void sharedServerRefusesToBeStopped() {
        assertThatThrownBy(() -> MariaDb.shared().stop()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void ownServerKeepsDataAcrossKillAndRestartAndHonoursOptions() {
        MariaDb.Options options = MariaDb.Options.defaults().withServerId(7).withLogBin(true).withReadOnly(true);
        try (MariaDb db = MariaDb.start(options)) {
            assertThat(db.queryRows("SELECT @@server_id, @@log_bin, @@read_only"))
                    .containsExactly(List.of("7", "1", "1"));
            db.execute("CREATE DATABASE crash", "CREATE TABLE crash.t (id INT PRIMARY KEY) ENGINE=InnoDB",
                    "INSERT INTO crash.t VALUES (1), (2)");
            long pidBefore = db.pid();
            int port = db.port();

            db.kill();
            assertThat(db.isRunning()).isFalse();
            assertThatThrownBy(() -> db.queryValue("SELECT 1")).isInstanceOf(IllegalStateException.class);

            db.restart();
            assertThat(db.pid()).isNotEqualTo(pidBefore);
            assertThat(db.port()).isEqualTo(port);
            assertThat(db.queryValue("SELECT COUNT(*) FROM crash.t")).isEqualTo("2");

            db.stop();
            assertThat(db.isRunning()).isFalse();
        }
    }

    @Test
    void startFailureCarriesTheServerErrorLog() {
        MariaDb.Options broken = MariaDb.Options.defaults().withExtraArgs("--no-such-option-for-the-test");

        assertThatThrownBy(() -> MariaDb.start(broken))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("mariadbd exited")
                // Written by the server into its error log, not echoed from our command line.
                .hasMessageContaining("unknown option '--no-such-option-for-the-test'");
    }

    @Test
    void serverOfADeadTestJvmIsReapedButALiveOwnersIsNot() throws Exception {
        try (MariaDb orphan = MariaDb.start(MariaDb.Options.defaults());
             MariaDb mine = MariaDb.start(MariaDb.Options.defaults())) {
            Path orphanDir = orphan.dataDir().getParent();
            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            Files.writeString(orphanDir.resolve(OrphanReaper.OWNER_FILE), gone.pid() + " 0");

            OrphanReaper.reapOrphans();

            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> !orphan.isRunning());
            assertThat(orphanDir).doesNotExist();
            assertThat(mine.isRunning()).isTrue();
            assertThat(mine.queryValue("SELECT 1")).isEqualTo("1");
        }
    }
}
