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
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static NodeOptions parse(String... args) {
        CommandLine cli = Main.commandLine();
        cli.parseArgs(args);
        Main main = cli.getCommand();
        return main.nodeOptions();
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

        assertThat(options.dataDir()).isEqualTo(Path.of(System.getProperty("user.home"), ".proxyfleet")
                .toAbsolutePath().normalize());
        assertThat(options.foreground()).isFalse();
        assertThat(options.initial()).isFalse();
        assertThat(options.reload()).isFalse();
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
