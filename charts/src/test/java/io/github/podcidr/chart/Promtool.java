package io.github.podcidr.chart;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs Prometheus' promtool: the one given with {@code -Dpromtool=<path>}, else the one on PATH.
 * {@code scripts/prometheus/install.sh} installs it (Debian's prometheus package) and prints its path.
 */
final class Promtool {
    /** The line a test prints when it skips the promtool checks. */
    static final String SKIPPED = "promtool not found: promtool checks skipped (run scripts/prometheus/install.sh and"
            + " pass -Dpromtool=<the path it prints>)";

    private static boolean told;

    private final Path binary;

    private Promtool(Path binary) {
        this.binary = binary;
    }

    /**
     * Returns promtool, or empty after printing {@link #SKIPPED} once per JVM.
     *
     * @return promtool when given or on PATH
     * @throws IllegalStateException when -Dpromtool names a file that is not executable
     */
    static synchronized Optional<Promtool> find() {
        String given = System.getProperty("promtool", "");
        if (!given.isBlank()) {
            Path p = Path.of(given);
            if (!Files.isExecutable(p)) {
                throw new IllegalStateException("-Dpromtool=" + given + " is not an executable file; expected the"
                        + " path printed by scripts/prometheus/install.sh, e.g. -Dpromtool=/usr/bin/promtool");
            }
            return Optional.of(new Promtool(p));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "promtool");
            if (Files.isExecutable(p)) {
                return Optional.of(new Promtool(p));
            }
        }
        if (!told) {
            System.out.println(SKIPPED);
            told = true;
        }
        return Optional.empty();
    }

    /** What a run printed (stdout and stderr together) and its exit code. */
    record Result(int exitCode, String output) {
    }

    /**
     * Runs promtool with {@code args} in {@code dir}.
     *
     * @param dir the working directory
     * @param args e.g. {@code test rules alerts-test.yaml}
     * @return the exit code and the output
     */
    Result run(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("promtool " + args + " did not end within 60 s:\n" + out);
        }
        return new Result(p.exitValue(), out);
    }
}
