package io.github.podcidr.controller;

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
 * Headless Chromium for the status page's browser test: the binary given with {@code -Dchromium=<path>} (what
 * {@code scripts/chromium/install.sh} prints, as {@code .ci/run} passes it), else {@code chromium} on PATH.
 */
final class Chromium {
    /** The line the test prints when it skips. */
    static final String SKIPPED = "StatusPageBrowserIT skipped: no Chromium (run scripts/chromium/install.sh and pass"
            + " -Dchromium=<the path it prints>)";
    /** Flags of every run: the new headless mode; no sandbox, which needs a user namespace that root in CI lacks. */
    private static final List<String> HEADLESS = List.of("--headless=new", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--hide-scrollbars");
    private final Path binary;
    private final Path profile;

    private Chromium(Path binary, Path profile) {
        this.binary = binary;
        this.profile = profile;
    }

    /**
     * Finds Chromium.
     *
     * @param profile an empty directory for its profile
     * @return Chromium, or empty when neither given nor on PATH
     * @throws IllegalStateException when -Dchromium names a file that is not executable
     */
    static Optional<Chromium> find(Path profile) {
        String given = System.getProperty("chromium", "");
        if (!given.isBlank()) {
            Path p = Path.of(given);
            if (!Files.isExecutable(p)) {
                throw new IllegalStateException("-Dchromium=" + given + " is not an executable file; expected the"
                        + " path printed by scripts/chromium/install.sh, e.g. -Dchromium=/usr/bin/chromium");
            }
            return Optional.of(new Chromium(p, profile));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(new Chromium(p, profile));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Loads a page and returns the DOM after its scripts ran ({@code --dump-dom}).
     *
     * @param url the page
     * @return the serialised DOM
     */
    String dumpDom(String url) throws IOException, InterruptedException {
        return run(List.of("--dump-dom", url));
    }

    /**
     * Loads a page and saves a screenshot of the window.
     *
     * @param url the page
     * @param png where the PNG goes
     * @param width window width
     * @param height window height
     */
    void screenshot(String url, Path png, int width, int height) throws IOException, InterruptedException {
        Files.deleteIfExists(png);
        run(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height, url));
        if (!Files.isRegularFile(png)) {
            throw new IllegalStateException("chromium wrote no screenshot to " + png);
        }
    }

    private String run(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(HEADLESS);
        command.add("--user-data-dir=" + profile.toAbsolutePath());
        command.addAll(args);
        Path err = Files.createTempFile(profile.getParent(), "chromium", ".err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not end within 90 s: " + command);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("chromium exited " + p.exitValue() + ": " + command + "\n"
                    + Files.readString(err));
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
