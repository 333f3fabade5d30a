package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Problem 12, admin part: a SAVE ... TO DISK that fails reaches the client and, once, the log at ERROR with what
 * failed; a failure that ends an admin session is logged once at WARN with the client's address. The disk
 * failures are real: the data directory is a small tmpfs that the test fills up, or a directory made immutable
 * (the tests run as root, for whom file permissions stop nothing).
 */
class AdminFailuresLoggedTest {
    /** Room for proxysql.db, the TLS files and the logs, and little more. */
    private static final String TMPFS_SIZE = "size=4m";
    /** 2,000 users with a 1 KiB comment each: about 2 MiB of pages, which cannot fit once the disk is full. */
    private static final int USERS = 2_000;
    private static final int COMMENT_BYTES = 1024;
    private static final int FILL_CHUNK = 64 * 1024;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final int ER_ADMIN = 1045;
    private static final int ER_MALFORMED_PACKET = 1043;

    @TempDir
    Path tmp;
    private Path mountPoint;
    private ProxyFleetNode node;
    private int adminPort;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger adminLogger = (Logger) LoggerFactory.getLogger("io.proxyfleet.admin");

    @BeforeEach
    void captureLogs() {
        logs.start();
        adminLogger.addAppender(logs);
    }

    @AfterEach
    void tearDown() throws Exception {
        adminLogger.detachAppender(logs);
        if (node != null) {
            node.close();
        }
        if (mountPoint != null) {
            run("umount", mountPoint.toString());
        }
    }

    private void startNode(Path dataDir) throws IOException {
        adminPort = NodeFixture.freePort();
        node = NodeFixture.start(dataDir, NodeFixture.writeConfig(dataDir, adminPort, NodeFixture.freePort(), ""));
    }

    /** Mounts a small tmpfs as the data directory, or skips the test saying why it cannot. */
    private Path tmpfsDataDir() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("datadir"));
        int status = run("mount", "-t", "tmpfs", "-o", TMPFS_SIZE, "tmpfs", dir.toString());
        Assumptions.assumeTrue(status == 0, "cannot mount a tmpfs (needs root with CAP_SYS_ADMIN, exit status "
                + status + "): no way to give SQLite a full or read-only disk for real");
        mountPoint = dir;
        return dir;
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish");
        }
        return p.exitValue();
    }

    private Connection admin() throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + adminPort + "/?sslMode=DISABLED",
                "admin", "admin");
    }

    private static void addUsers(Statement st) throws SQLException {
        String comment = "c".repeat(COMMENT_BYTES);
        st.execute("INSERT INTO mysql_users (username, password, default_hostgroup, comment)"
                + " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + USERS + ")"
                + " SELECT 'user' || i, 'pw', 0, '" + comment + "' FROM n");
    }

    private static int count(Statement st, String sql) throws SQLException {
        try (var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private List<ILoggingEvent> events(Level level, String fragment) {
        return logs.list.stream()
                .filter(e -> e.getLevel() == level && e.getFormattedMessage().contains(fragment))
                .toList();
    }

    /** Fills the file system of {@code dir} until the kernel says it is full. */
    private static void fill(Path dir) throws IOException {
        byte[] chunk = new byte[FILL_CHUNK];
        try (OutputStream out = Files.newOutputStream(dir.resolve("filler"))) {
            while (true) {
                out.write(chunk);
                out.flush();
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
    }

    @Test
    void saveToAFullDiskIsReportedAndLoggedAndLeavesTheDiskCopyIntact() throws Exception {
        Path dataDir = tmpfsDataDir();
        startNode(dataDir);
        try (Connection c = admin(); Statement st = c.createStatement()) {
            addUsers(st);
            fill(dataDir);

            assertThatThrownBy(() -> st.execute("SAVE MYSQL USERS TO DISK"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(ER_ADMIN);
                        assertThat(e.getMessage()).startsWith("ProxySQL Admin Error: ").contains("full");
                    });
            List<ILoggingEvent> logged = events(Level.ERROR, "SAVE MYSQL USERS TO DISK failed");
            assertThat(logged).singleElement().satisfies(e -> assertThat(e.getFormattedMessage())
                    .contains(dataDir.resolve("proxysql.db").toString(), "full"));
            assertThat(count(st, "SELECT COUNT(*) FROM disk.mysql_users")).isZero();

            // Once there is room again, the same command works.
            Files.delete(dataDir.resolve("filler"));
            st.execute("SAVE MYSQL USERS TO DISK");
            assertThat(count(st, "SELECT COUNT(*) FROM disk.mysql_users")).isEqualTo(USERS);
            assertThat(events(Level.ERROR, "TO DISK failed")).hasSize(1);
        }
    }

    @Test
    void saveToAReadOnlyDataDirIsReportedAndLogged() throws Exception {
        Path dataDir = Files.createDirectories(tmp.resolve("datadir"));
        startNode(dataDir);
        try (Connection c = admin(); Statement st = c.createStatement()) {
            addUsers(st);
            // Immutable: even root can create no file there, so SQLite cannot open its rollback journal. (A
            // read-only remount is refused while the node holds its files open for writing.)
            int status = run("chattr", "+i", dataDir.toString());
            Assumptions.assumeTrue(status == 0, "chattr +i failed (exit status " + status
                    + "): the file system or the missing CAP_LINUX_IMMUTABLE leaves no way to make the datadir"
                    + " read-only for root");
            try {
                assertThatThrownBy(() -> st.execute("SAVE MYSQL USERS TO DISK"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getErrorCode()).isEqualTo(ER_ADMIN);
                            assertThat(e.getMessage()).startsWith("ProxySQL Admin Error: ");
                        });
                assertThat(events(Level.ERROR, "SAVE MYSQL USERS TO DISK failed")).singleElement()
                        .satisfies(e -> assertThat(e.getFormattedMessage())
                                .contains(dataDir.resolve("proxysql.db").toString()));
            } finally {
                assertThat(run("chattr", "-i", dataDir.toString())).isZero();
            }
            st.execute("SAVE MYSQL USERS TO DISK");
            assertThat(count(st, "SELECT COUNT(*) FROM disk.mysql_users")).isEqualTo(USERS);
        }
    }

    @Test
    void aMalformedPacketEndsTheSessionWithOneWarningNamingTheClient() throws Exception {
        startNode(tmp);
        try (Socket socket = new Socket("127.0.0.1", adminPort)) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            readPacket(in); // the server's greeting
            // A HandshakeResponse41 cut short after two bytes of its capability flags.
            socket.getOutputStream().write(new byte[] {2, 0, 0, 1, (byte) 0x85, (byte) 0xa6});
            byte[] error = readPacket(in);
            assertThat(error[0] & 0xFF).isEqualTo(0xFF);
            assertThat((error[1] & 0xFF) | (error[2] & 0xFF) << 8).isEqualTo(ER_MALFORMED_PACKET);
            assertThat(in.read()).as("the server closed the connection").isEqualTo(-1);

            String client = "127.0.0.1:" + socket.getLocalPort();
            await().atMost(COMMAND_TIMEOUT).untilAsserted(() -> assertThat(events(Level.WARN, client))
                    .singleElement().satisfies(e -> assertThat(e.getFormattedMessage())
                            .contains("Admin session", "closed on error")));
        }
    }

    private static byte[] readPacket(DataInputStream in) throws IOException {
        int length = in.readUnsignedByte() | in.readUnsignedByte() << 8 | in.readUnsignedByte() << 16;
        in.readUnsignedByte();
        byte[] payload = new byte[length];
        in.readFully(payload);
        return payload;
    }
}
