package io.proxyfleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

    /** What one run of the command printed and returned, without starting a node. */
    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = Main.run(cli, args);
        return new Run(code, out.toString(), err.toString());
    }

    private static NodeOptions parse(String... args) {
        CommandLine cli = Main.commandLine();
        cli.parseArgs(args);
        Main main = cli.getCommand();
        return main.nodeOptions();
    }

    /** What a start does with a command line: the node options and the notices. */
    private record Start(NodeOptions options, java.util.List<String> notices) {
        static Start of(Main main) {
            return new Start(main.nodeOptions(), main.notices());
        }
    }

    @Test
    void startCommandLinesReadWithoutPicocliGiveWhatPicocliGives(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("node.cnf"), "datadir=\"" + dir.resolve("fromfile") + "\"\n");
        String data = dir.resolve("data").toString();
        String[][] commandLines = {
                {},
                {"-f", "-c", config.toString(), "-D", data},
                {"--foreground", "--config=" + config, "--datadir=" + data, "--reload"},
                {"-c", config.toString()},
                {"-d", data, "--initial", "-M", "-n", "-r", "-U", "uuid-1", "-S", dir.resolve("admin.sock").toString()},
                {"--directory", data, "--no-monitor", "--no-start", "--reuseport", "--uuid=u2", "--admin-socket=s"},
                {"-e", "--idle-threads", "--no-version-check", "--sqlite3-server", "--clickhouse-server", "-f"},
                {"--exit-on-error", "--directory=" + data}};
        for (String[] args : commandLines) {
            CommandLine cli = Main.commandLine();
            cli.parseArgs(args);

            assertThat(Main.withoutPicocli(args)).as(String.join(" ", args))
                    .map(Start::of).contains(Start.of(cli.getCommand()));
        }
    }

    @Test
    void everyOtherCommandLineIsLeftToPicocli(@TempDir Path dir) {
        String[][] commandLines = {
                {"-h"}, {"--help"}, {"-V"}, {"-fM"}, {"-D" + dir}, {"-c", dir.resolve("missing.cnf").toString()},
                {"-B"}, {"--bogus"}, {"-f", "-f"}, {"-D", dir.toString(), "-d", dir.toString()}, {"-c", "-f"},
                {"-D"}, {"--datadir="}, {"--foreground=true"}, {"--", "-f"}, {"extra"}};
        for (String[] args : commandLines) {
            assertThat(Main.withoutPicocli(args)).as(String.join(" ", args)).isEmpty();
        }
    }

    @Test
    void shortFlagsFillNodeOptions(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("node.cnf"), "datadir=\"x\"\n");

        NodeOptions options = parse("-f", "-c", config.toString(), "-D", dir.resolve("data").toString(),
                "--initial");

        assertThat(options).isEqualTo(new NodeOptions(dir.resolve("data"), config, true, true, false));
    }

    @Test
    void longFlagsAndTheDirectoryAliasWork(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("node.cnf"), "");

        assertThat(parse("--foreground", "--config=" + config, "--datadir=" + dir, "--reload"))
                .isEqualTo(new NodeOptions(dir, config, true, false, true));
        assertThat(parse("--directory", dir.toString()).dataDir()).isEqualTo(dir);
    }

    @Test
    void withoutDatadirTheHomeDirectoryIsUsedAndTheNodeDaemonizes() {
        NodeOptions options = parse();

        assertThat(options.dataDir()).isEqualTo(Path.of(System.getenv("HOME"), ".proxyfleet")
                .toAbsolutePath().normalize());
        assertThat(options.foreground()).isFalse();
        assertThat(options.initial()).isFalse();
        assertThat(options.reload()).isFalse();
    }

    @Test
    void withoutDatadirTheConfigFilesDatadirIsUsedAsInProxySql(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("proxysql.cnf"), "datadir=\"" + dir.resolve("lib") + "\"\n");

        assertThat(parse("-c", config.toString()).dataDir()).isEqualTo(dir.resolve("lib"));
        assertThat(parse("-c", config.toString(), "-D", dir.toString()).dataDir()).isEqualTo(dir);
    }

    @Test
    void missingConfigFileIsAUsageError(@TempDir Path dir) {
        Run run = run("-f", "-D", dir.toString(), "-c", dir.resolve("absent.cnf").toString());

        assertThat(run.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(run.err()).contains("absent.cnf does not exist");
        assertThat(dir.resolve(LogSetup.LOG_FILE)).doesNotExist();
    }

    @Test
    void unknownFlagIsAUsageError() {
        Run run = run("--no-such-flag");

        assertThat(run.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(run.err()).contains("Unknown option: '--no-such-flag'");
    }

    @Test
    void anUnknownFlagIsAnErrorEvenBesideVersionOrHelp() {
        for (String other : new String[] {"-V", "--help", "-f"}) {
            Run run = run("--bogus-flag", other);

            assertThat(run.exitCode()).as(other).isEqualTo(CommandLine.ExitCode.USAGE);
            assertThat(run.err()).contains("Unknown option: '--bogus-flag'", "Usage: proxyfleet");
            assertThat(run.out()).doesNotContain("ProxyFleet version");
        }
    }

    @Test
    void everyFlagOfProxySqlsHelpIsAccepted(@TempDir Path dir) {
        NodeOptions options = parse("-f", "-D", dir.toString(), "-U", "5b1c-node-uuid", "-M", "-n", "-r", "-S",
                dir.resolve("admin.sock").toString(), "-e", "--idle-threads", "--no-version-check",
                "--sqlite3-server", "--clickhouse-server", "--initial", "--reload");

        assertThat(options).isEqualTo(new NodeOptions(dir, null, true, true, true, "5b1c-node-uuid", true, true,
                true, dir.resolve("admin.sock")));
        assertThat(parse("--uuid=u", "--no-monitor", "--no-start", "--reuseport", "--admin-socket=/s",
                "--exit-on-error")).extracting(NodeOptions::uuid, NodeOptions::noMonitor, NodeOptions::noStart,
                NodeOptions::reusePort, NodeOptions::adminSocket).containsExactly("u", true, true, true, Path.of("/s"));
    }

    @Test
    void flagsThatDoNotApplyEachGiveAOneLineNotice() {
        CommandLine cli = Main.commandLine();
        cli.parseArgs("-e", "--idle-threads", "--no-version-check", "--sqlite3-server", "--clickhouse-server");
        Main main = cli.getCommand();

        assertThat(main.notices()).hasSize(5).allSatisfy(n -> assertThat(n).doesNotContain("\n").contains("accepted"))
                .anySatisfy(n -> assertThat(n).startsWith("--no-version-check: accepted; "));
        assertThat(((Main) Main.commandLine().parseArgs("-f").commandSpec().userObject()).notices()).isEmpty();
    }

    @Test
    void bootstrapModeIsRefusedWithAClearMessage(@TempDir Path dir) {
        Run run = run("-f", "-D", dir.toString(), "--bootstrap");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("bootstrap mode) is not supported");
        assertThat(dir.resolve(LogSetup.LOG_FILE)).doesNotExist();
    }

    @Test
    void versionNamesTheProxySqlVersionWeAnswerAs() {
        Run run = run("-V");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("ProxyFleet version 2.7.2-proxyfleet, ");
    }

    @Test
    void helpListsProxySqlsFlags() {
        Run run = run("--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("-f, --foreground", "-c, --config=FILE", "-D, -d, --datadir, --directory=DIR",
                "--initial", "--reload", "-V, --version");
    }
}
