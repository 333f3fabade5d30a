package io.proxyfleet.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code mysql} command-line client (from mariadb-client), the way a user would type it, and
 * captures what it printed. Stateless; any thread.
 */
public final class MysqlCli {
    /** Long enough for a slow CI machine, short enough that a hung client fails a test instead of the build. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private MysqlCli() {
    }

    /**
     * What one client run did.
     *
     * @param exitCode the client's exit status ({@code -1} if it was killed after the timeout)
     * @param stdout   standard output, UTF-8
     * @param stderr   standard error, UTF-8 (the client prints {@code ERROR 1045 (28000): ...} here)
     * @param timedOut whether the client was killed for running past the timeout
     */
    public record Result(int exitCode, String stdout, String stderr, boolean timedOut) {
        public boolean succeeded() {
            return exitCode == 0 && !timedOut;
        }

        @Override
        public String toString() {
            return "mysql exit=" + exitCode + (timedOut ? " (timed out)" : "") + "\nstdout:\n" + stdout
                    + "\nstderr:\n" + stderr;
        }
    }

    /**
     * Runs {@code mysql --no-defaults <args>} with {@code stdin} (may be empty) fed to it and closed.
     *
     * @param args    client arguments, for example {@code -h 127.0.0.1 -P 6033 -u app -psecret -e "SELECT 1"}
     * @param stdin   text written to the client's standard input
     * @param timeout the client is killed after this long
     */
    public static Result run(List<String> args, String stdin, Duration timeout) {
        Path mysql = Executables.require("mariadb-client", "mysql", "mariadb");
        List<String> command = new ArrayList<>();
        command.add(mysql.toString());
        // Must be first: keeps ~/.my.cnf and /etc/mysql from changing what the test sees.
        command.add("--no-defaults");
        command.addAll(args);
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + mysql, e);
        }
        CompletableFuture<String> out = drain(process.getInputStream());
        CompletableFuture<String> err = drain(process.getErrorStream());
        feed(process.getOutputStream(), stdin);
        try {
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.destroyForcibly();
                process.waitFor();
            }
            int exit = finished ? process.exitValue() : -1;
            return new Result(exit, out.get(), err.get(), !finished);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot read the output of " + command, e.getCause());
        }
    }

    /** {@link #run(List, String, Duration)} with no input and {@link #DEFAULT_TIMEOUT}. */
    public static Result run(String... args) {
        return run(List.of(args), "", DEFAULT_TIMEOUT);
    }

    /**
     * The arguments that log in to {@code host:port} over TCP as {@code user}, in batch mode ({@code -B}, tab
     * separated, no table borders), followed by {@code more}.
     */
    public static List<String> loginArgs(String host, int port, String user, String password, String... more) {
        List<String> args = new ArrayList<>(List.of("--protocol=TCP", "-h", host, "-P", Integer.toString(port),
                "-u", user, "--password=" + password, "-B"));
        args.addAll(List.of(more));
        return args;
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        // A virtual thread per stream: the client blocks if either pipe fills up while we wait for exit.
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread.ofVirtual().name("mysql-cli-drain").start(() -> {
            try (stream) {
                result.complete(new String(stream.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    private static void feed(OutputStream stdin, String text) {
        try (stdin) {
            stdin.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // The client may exit (for example on a login error) before reading its input; its output says why.
        }
    }
}
