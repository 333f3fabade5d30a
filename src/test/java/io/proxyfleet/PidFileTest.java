package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PidFileTest {

    /** Stands in for another node: a JVM that lives until killed. */
    public static final class OtherNode {
        public static void main(String[] args) throws InterruptedException {
            Thread.sleep(TimeUnit.MINUTES.toMillis(5));
        }
    }

    @Test
    void claimWritesOurPidAndCloseRemovesIt(@TempDir Path dataDir) throws Exception {
        Path file;
        try (PidFile pid = PidFile.claim(dataDir)) {
            file = pid.file();
            assertThat(file).isEqualTo(dataDir.resolve("proxysql.pid"));
            assertThat(Files.readString(file).strip()).isEqualTo(Long.toString(ProcessHandle.current().pid()));
        }
        assertThat(file).doesNotExist();
    }

    @Test
    void stalePidOfANonJavaProcessIsReplaced(@TempDir Path dataDir) throws Exception {
        Process sleep = new ProcessBuilder("sleep", "300").start();
        try {
            Files.writeString(dataDir.resolve("proxysql.pid"), sleep.pid() + "\n");

            try (PidFile pid = PidFile.claim(dataDir)) {
                assertThat(Files.readString(pid.file()).strip())
                        .isEqualTo(Long.toString(ProcessHandle.current().pid()));
            }
        } finally {
            sleep.destroyForcibly();
        }
    }

    @Test
    void liveNodeInTheSameDataDirIsRefused(@TempDir Path dataDir) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process other = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                OtherNode.class.getName()).start();
        try {
            Files.writeString(dataDir.resolve("proxysql.pid"), other.pid() + "\n");

            assertThatThrownBy(() -> PidFile.claim(dataDir))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already running with pid " + other.pid());
            assertThat(Files.readString(dataDir.resolve("proxysql.pid")).strip())
                    .isEqualTo(Long.toString(other.pid()));
        } finally {
            other.destroyForcibly();
        }
    }
}
