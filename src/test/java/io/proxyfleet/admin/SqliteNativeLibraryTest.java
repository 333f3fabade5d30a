package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin database loads SQLite's native library from the copy kept in a data directory, not from a new file the
 * driver extracts at each start. The library loads once per JVM, so whichever data directory opened first holds the
 * copy this JVM mapped.
 */
class SqliteNativeLibraryTest {
    @TempDir
    Path dataDir;

    @Test
    void theDriverLoadsTheKeptCopyOfItsNativeLibrary() throws Exception {
        try (AdminDatabase db = AdminDatabase.open(dataDir.resolve("proxysql.db"))) {
            assertThat(db.diskFile()).exists();
        }
        String keptIn = System.getProperty("org.sqlite.lib.path");
        assertThat(keptIn).as("the kept copy's directory").isNotNull().contains(".sqlite-native");
        assertThat(Files.readString(Path.of("/proc/self/maps")))
                .as("the library this JVM mapped").contains(keptIn + "/libsqlitejdbc.so");
    }
}
