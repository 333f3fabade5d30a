package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.testkit.Executables;
import io.proxyfleet.testkit.FreePorts;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/package} builds a tarball and a Debian package with their own Java runtime; the package holds what
 * it should, where it should (never where ProxySQL's package puts its files), its unit passes
 * {@code systemd-analyze verify}, and the binary it installs, started by the unit's ExecStart line, serves a
 * query from a real MariaDB.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PackageTest {
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final long READY_POLL_MILLIS = 200;
    private static final String UNIT = "lib/systemd/system/proxyfleet.service";
    /**
     * What lintian checks here: the control file, maintainer scripts, conffiles, ownership and the unit. Its ELF
     * and Java checks only restate that the package bundles a Java runtime (and take minutes on it).
     */
    private static final String LINTIAN_TAGS = String.join(",", "maintainer-shell-script-fails-syntax-check",
            "file-in-etc-not-marked-as-conffile", "non-etc-file-marked-as-conffile",
            "control-file-has-bad-permissions", "wrong-file-owner-uid-or-gid", "bogus-mail-host",
            "no-copyright-file", "systemd-service-file-missing-install-key",
            "systemd-service-file-refers-to-unusual-wantedby-target", "description-synopsis-starts-with-article",
            "extended-description-is-empty", "maintainer-script-should-not-use-recursive-chown-or-chmod",
            "dir-or-file-in-var-run");

    private Path dir;
    private Path deb;
    private Path tarball;
    /** The package unpacked with {@code dpkg -x}, as {@code dpkg -i} would lay it out under /. */
    private Path installed;

    /** What a command printed (stdout and stderr together) and its exit status. */
    private record Run(int exitCode, String output) {
    }

    private static Run run(Duration timeout, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        var out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.append(e);
            }
        });
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor();
        }
        reader.join();
        return new Run(p.isAlive() ? -1 : p.exitValue(), out.toString());
    }

    @BeforeAll
    void build(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        // The jar and its runtime libraries, from what Maven compiled (never recompiling under this JVM).
        var jar = new ProcessBuilder("mvn", "-q", "-B", "-o", "jar:jar",
                "dependency:copy-dependencies@copy-runtime-libs").redirectErrorStream(true);
        jar.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process mvn = jar.redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(mvn.waitFor(BUILD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) && mvn.exitValue() == 0)
                .as("mvn jar:jar").isTrue();
        Path target = Path.of("target").toAbsolutePath();
        Path builtJar;
        try (Stream<Path> s = Files.list(target)) {
            builtJar = s.filter(p -> p.getFileName().toString().matches("proxyfleet-.*\\.jar")
                    && !p.getFileName().toString().matches(".*-(sources|tests|javadoc)\\.jar")).findFirst()
                    .orElseThrow();
        }
        Run pack = run(BUILD_TIMEOUT, "bin/package", "--jar", builtJar.toString(), "--lib",
                target.resolve("lib").toString(), "--out", dir.resolve("dist").toString(), "--fast");
        assertThat(pack.exitCode()).as(pack.output()).isZero();
        List<String> files = pack.output().lines().filter(l -> l.startsWith(dir.toString())).toList();
        tarball = Path.of(files.stream().filter(f -> f.endsWith(".tar.gz")).findFirst().orElseThrow());
        deb = Path.of(files.stream().filter(f -> f.endsWith(".deb")).findFirst().orElseThrow());
        installed = dir.resolve("root");
        Run extract = run(TOOL_TIMEOUT, "dpkg", "-x", deb.toString(), installed.toString());
        assertThat(extract.exitCode()).as(extract.output()).isZero();
    }

    @Test
    void theDebianPackageHoldsItsRuntimeInProxyFleetsOwnPaths() throws Exception {
        Run info = run(TOOL_TIMEOUT, "dpkg-deb", "--info", deb.toString());
        assertThat(info.output()).contains("Package: proxyfleet", "Architecture: amd64", "Depends: adduser",
                "postinst", "prerm", "postrm", "conffiles");
        Run contents = run(TOOL_TIMEOUT, "dpkg-deb", "--contents", deb.toString());
        assertThat(contents.exitCode()).isZero();
        List<String> paths = contents.output().lines().map(l -> l.substring(l.indexOf("./") + 1))
                .map(p -> p.contains(" -> ") ? p.substring(0, p.indexOf(" -> ")) : p).toList();
        assertThat(paths).contains("/usr/bin/proxyfleet", "/etc/proxyfleet.cnf", "/" + UNIT,
                "/usr/lib/proxyfleet/runtime/bin/java", "/usr/lib/proxyfleet/lib/proxyfleet.jar");
        // Installed beside ProxySQL's package, nothing may collide: no path of ours names proxysql.
        assertThat(paths).noneMatch(p -> p.contains("proxysql"));
        assertThat(contents.output()).contains("root/root");
        Path control = dir.resolve("control");
        assertThat(run(TOOL_TIMEOUT, "dpkg-deb", "-e", deb.toString(), control.toString()).exitCode()).isZero();
        assertThat(Files.readString(control.resolve("conffiles")).strip()).isEqualTo("/etc/proxyfleet.cnf");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Run syntax = run(TOOL_TIMEOUT, "sh", "-n", control.resolve(script).toString());
            assertThat(syntax.exitCode()).as(script + ": " + syntax.output()).isZero();
            assertThat(Files.isExecutable(control.resolve(script))).as(script).isTrue();
        }
        assertThat(Files.readString(control.resolve("postinst")))
                .contains("adduser --system --group", "install -d -o proxyfleet -g proxyfleet -m 0750 "
                        + "/var/lib/proxyfleet");
        if (Executables.find("lintian").isPresent()) {
            Run lintian = run(TOOL_TIMEOUT, "lintian", "--tag-display-limit", "0", "-T", LINTIAN_TAGS,
                    deb.toString());
            assertThat(lintian.output().lines().filter(l -> l.startsWith("E: "))).as(lintian.output()).isEmpty();
        }
    }

    @Test
    void theUnitFollowsProxySqlsConventionsAndVerifies() throws Exception {
        String unit = Files.readString(installed.resolve(UNIT));
        assertThat(unit).contains("User=proxyfleet", "Group=proxyfleet", "Restart=on-failure",
                "LimitNOFILE=102400", "-c /etc/proxyfleet.cnf", "-D /var/lib/proxyfleet");
        // The same unit with its paths moved under the unpacked root, so the verifier finds the binary.
        Path moved = dir.resolve("proxyfleet.service");
        Files.writeString(moved, unit.replace("/usr/bin/proxyfleet", installed.resolve("usr/bin/proxyfleet")
                .toString()).replace("WorkingDirectory=/var/lib/proxyfleet", "WorkingDirectory=" + dir));
        Run verify = run(TOOL_TIMEOUT, "systemd-analyze", "verify", moved.toString());
        assertThat(verify.exitCode()).as(verify.output()).isZero();
        assertThat(verify.output()).doesNotContain(moved.getFileName().toString() + ":");
    }

    @Test
    void theInstalledBinaryStartedByExecStartServesAQuery() throws Exception {
        MariaDb db = MariaDb.shared();
        db.execute("CREATE USER IF NOT EXISTS 'pkg'@'%' IDENTIFIED BY 'pkgpass'", "GRANT ALL ON *.* TO 'pkg'@'%'");
        String execStart = Files.readString(installed.resolve(UNIT)).lines()
                .filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow().substring("ExecStart=".length());
        int adminPort = FreePorts.loopback();
        int trafficPort = FreePorts.loopback();
        Path data = dir.resolve("var-lib-proxyfleet");
        Path cnf = dir.resolve("proxyfleet.cnf");
        Files.writeString(cnf, Files.readString(installed.resolve("etc/proxyfleet.cnf"))
                .replace("0.0.0.0:6032", "127.0.0.1:" + adminPort).replace("0.0.0.0:6033", "127.0.0.1:" + trafficPort)
                .replace("/var/lib/proxyfleet", data.toString()) + """
                mysql_servers = ( { address="%s", port=%d, hostgroup=0 } )
                mysql_users = ( { username="pkg", password="pkgpass", default_hostgroup=0 } )
                """.formatted(db.host(), db.port()));
        List<String> command = new ArrayList<>();
        for (String word : Arrays.asList(execStart.split(" "))) {
            command.add(switch (word) {
                case "/usr/bin/proxyfleet" -> installed.resolve("usr/bin/proxyfleet").toString();
                case "/etc/proxyfleet.cnf" -> cnf.toString();
                case "/var/lib/proxyfleet" -> data.toString();
                default -> word;
            });
        }
        Process node = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("console.log").toFile()).start();
        try {
            List<String> traffic = MysqlCli.loginArgs("127.0.0.1", trafficPort, "pkg", "pkgpass", "-N", "-e",
                    "SELECT CONCAT('served by ', @@version_comment IS NOT NULL)");
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            MysqlCli.Result result;
            do {
                assertThat(node.isAlive()).as(() -> "exited: " + console()).isTrue();
                result = MysqlCli.run(traffic, "", Duration.ofSeconds(5));
                if (!result.succeeded()) {
                    Thread.sleep(READY_POLL_MILLIS);
                }
            } while (!result.succeeded() && System.nanoTime() < deadline);
            MysqlCli.Result last = result;
            assertThat(last.succeeded()).as(() -> last + "\n" + console()).isTrue();
            assertThat(last.stdout().strip()).isEqualTo("served by 1");
            assertThat(data.resolve("proxysql.db")).exists();
        } finally {
            node.destroy();
            if (!node.waitFor(10, TimeUnit.SECONDS)) {
                node.destroyForcibly().waitFor();
            }
        }
        assertThat(node.exitValue()).as(this::console).isZero();
    }

    @Test
    void theTarballRunsFromWhereverItIsUnpacked() throws Exception {
        Path unpacked = dir.resolve("opt");
        Files.createDirectories(unpacked);
        assertThat(run(TOOL_TIMEOUT, "tar", "-xzf", tarball.toString(), "-C", unpacked.toString()).exitCode())
                .isZero();
        Path bin;
        try (Stream<Path> s = Files.list(unpacked)) {
            bin = s.findFirst().orElseThrow().resolve("bin/proxyfleet");
        }
        Run version = run(TOOL_TIMEOUT, bin.toString(), "-V");
        assertThat(version.exitCode()).as(version.output()).isZero();
        assertThat(version.output()).startsWith("ProxyFleet version ");
        Run bogus = run(TOOL_TIMEOUT, bin.toString(), "--bogus-flag", "-V");
        assertThat(bogus.exitCode()).isEqualTo(2);
        assertThat(bogus.output()).contains("Unknown option: '--bogus-flag'", "Usage: proxyfleet");
    }

    private String console() {
        try {
            return Files.readString(dir.resolve("console.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
