package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.ResourceType;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image tarball that {@code package} builds (target/podcidr-controller-image.tar), unpacked layer by layer into a
 * directory and run from there as a container runtime would: its own Entrypoint and User from the image
 * configuration, {@code chroot} into the root, mounted read-only in a private mount namespace, with /proc and /dev
 * mounted and nothing else from the machine. Needs root, {@code unshare}, {@code chroot}, {@code mount} and
 * {@code tar} (CI runs as root); skipped with one line otherwise.
 */
class ImageSmokeIT {
    private static final Path TARBALL = Path.of("target", "podcidr-controller-image.tar");
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    static Path work;
    private static OciImage image;
    private static Path root;

    @BeforeAll
    static void unpack() throws Exception {
        String missing = missingPrerequisite();
        if (missing != null) {
            System.err.println("ImageSmokeIT skipped: " + missing);
            Assumptions.abort(missing);
        }
        Path layout = Files.createDirectories(work.resolve("layout"));
        image = OciImage.open(TARBALL, layout);
        root = Files.createDirectories(work.resolve("root"));
        image.unpack(root);
        // mount points, as a container runtime makes them before it makes the root read-only
        Files.createDirectories(root.resolve("proc"));
        Files.createDirectories(root.resolve("dev"));
        System.err.printf("ImageSmokeIT: %s, %.1f MB of compressed layers, %.1f MB unpacked%n", TARBALL,
                image.compressedSize() / 1e6, sizeOf(root) / 1e6);
    }

    private static String missingPrerequisite() throws IOException {
        if (!Files.isRegularFile(TARBALL)) {
            return "no " + TARBALL + " (built by package, unless -Dimage.skip)";
        }
        if (!System.getProperty("os.name").equals("Linux")) {
            return "needs Linux (chroot and mount namespaces)";
        }
        if (!Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))) {
            return "needs root (to chroot and mount the image's root read-only)";
        }
        for (String tool : List.of("unshare", "chroot", "mount", "tar", "sh")) {
            boolean found = Stream.of(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                    .split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
            if (!found) {
                return "needs " + tool + " on the PATH";
            }
        }
        return null;
    }

    private static long sizeOf(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    /** The result of one run of the image. */
    private record Run(int exitCode, String stdout, String stderr) {
        String both() {
            return "exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    /**
     * Starts the image's Entrypoint with {@code args}, as the image's User, in the read-only root; {@code volume}, if
     * given, is mounted writable at /tmp (as the chart mounts an emptyDir there).
     */
    private static Process start(Path volume, Path stdout, Path stderr, String... args) throws IOException {
        JsonNode config = image.config();
        String[] user = config.path("User").asText().split(":");
        StringBuilder script = new StringBuilder("set -e; r=\"$1\"; v=\"$2\"; shift 2; ")
                .append("mount --bind \"$r\" \"$r\"; mount -o remount,bind,ro \"$r\"; ")
                .append("mount --rbind /proc \"$r/proc\"; mount --rbind /dev \"$r/dev\"; ")
                .append("if [ -n \"$v\" ]; then mount --bind \"$v\" \"$r/tmp\"; fi; ")
                .append("exec chroot --userspec=").append(user[0]).append(':').append(user[1])
                .append(" --groups=").append(user[1]).append(" \"$r\" \"$@\"");
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--", "sh",
                "-c", script.toString(), "sh", root.toString(), volume == null ? "" : volume.toString()));
        config.path("Entrypoint").forEach(a -> command.add(a.asText()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        // only what the image sets, and PATH for the tools above (the entrypoint is an absolute path)
        String path = System.getenv("PATH");
        pb.environment().clear();
        pb.environment().put("PATH", path == null ? "/usr/sbin:/usr/bin:/sbin:/bin" : path);
        config.path("Env").forEach(e -> {
            String[] kv = e.asText().split("=", 2);
            pb.environment().put(kv[0], kv[1]);
        });
        pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        return pb.start();
    }

    private static Run run(String... args) throws Exception {
        Path out = Files.createTempFile(work, "stdout", ".txt");
        Path err = Files.createTempFile(work, "stderr", ".txt");
        Process p = start(null, out, err, args);
        if (!p.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("still running after " + LIMIT + ": " + List.of(args));
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void helpRunsAsTheImageUserOnAReadOnlyRoot() throws Exception {
        JsonNode config = image.config();
        assertEquals("65532:65532", config.path("User").asText());
        assertTrue(config.path("ExposedPorts").has("8080/tcp") && config.path("ExposedPorts").has("8081/tcp"),
                config.toString());
        assertTrue(config.path("Env").toString().indexOf("JAVA_TOOL_OPTIONS") < 0, "JVM flags are in the"
                + " entrypoint, not in JAVA_TOOL_OPTIONS: " + config);
        assertTrue(config.path("Entrypoint").toString().contains("\"-XX:TieredStopAtLevel=1\""),
                "C1 only, as docs/benchmarks.md measured: " + config);

        Run help = run("--help");
        assertEquals(0, help.exitCode(), help.both());
        assertTrue(help.stdout().startsWith("Usage: ") && help.stdout().contains("--cluster-cidr"), help.both());
        assertEquals("", help.stderr(), "nothing on standard error (log collectors read it as JSON)");
    }

    @Test
    void versionIsTheImageVersion() throws Exception {
        Run version = run("--version");
        assertEquals(0, version.exitCode(), version.both());
        String label = image.config().path("Labels").path("org.opencontainers.image.version").asText();
        assertEquals("podcidr-controller " + label + "\n", version.stdout(), version.both());
        assertEquals("", version.stderr());
    }

    @Test
    void badFlagsExit2() throws Exception {
        Run bad = run("--cluster-cidr=10.244.0.1/16");
        assertEquals(Main.EXIT_CONFIG, bad.exitCode(), bad.both());
        assertTrue(bad.stderr().contains("has host bits set"), bad.both());
    }

    @Test
    void theImageHasNoSimulatorAndDemoSaysSo() throws Exception {
        try (Stream<Path> files = Files.walk(root.resolve("app"))) {
            List<String> sim = files.map(p -> root.relativize(p).toString())
                    .filter(p -> p.contains("apiserver-sim") || p.contains("io/github/podcidr/apiserver")).toList();
            assertEquals(List.of(), sim, "the simulator is not in the image");
        }
        Run demo = run("demo");
        assertEquals(1, demo.exitCode(), demo.both());
        assertTrue(demo.stderr().startsWith("demo: the embedded API server (apiserver-sim) is not on the class path"),
                demo.both());
    }

    @Test
    void theControllerAssignsEveryNodeAndStopsOnSigterm() throws Exception {
        Path volume = Files.createDirectories(work.resolve("tmp-volume"));
        // the controller runs as 65532 and reads the kubeconfig from its volume
        Files.setPosixFilePermissions(volume, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        try (ApiServerSim sim = ApiServerSim.start()) {
            sim.writeKubeconfig(volume.resolve("kubeconfig"));
            Files.setPosixFilePermissions(volume.resolve("kubeconfig"),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            NodeGenerator gen = new NodeGenerator(7);
            for (int i = 0; i < 20; i++) {
                sim.createNode(gen.node(i, i % 4 == 0));
            }
            int health = freePort();
            int metrics = freePort();
            Path out = work.resolve("controller.out");
            Path err = work.resolve("controller.err");
            Process p = start(volume, out, err, "--kubeconfig=/tmp/kubeconfig", "--cluster-cidr=10.244.0.0/16",
                    "--remove-taints=" + NodeGenerator.TKE_ENI_TAINT_KEY, "--leader-elect=false",
                    "--health-probe-bind-address=127.0.0.1:" + health,
                    "--metrics-bind-address=127.0.0.1:" + metrics, "--log-format=json");
            try {
                HttpClient http = HttpClient.newHttpClient();
                long deadline = System.nanoTime() + LIMIT.toNanos();
                while (assigned(sim) < 20 || status(http, health, "/readyz") != 200) {
                    if (!p.isAlive() || System.nanoTime() > deadline) {
                        fail("not every node assigned and ready; alive=" + p.isAlive() + "\n"
                                + Files.readString(out) + Files.readString(err));
                    }
                    Thread.sleep(200);
                }
                String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(text.contains("podcidr_subnets_assigned_total{family=\"ipv4\",} 20.0"), text);
                p.destroy(); // SIGTERM, to the JVM itself: unshare, sh and chroot exec it
                assertTrue(p.waitFor(10, TimeUnit.SECONDS), "still running 10 s after SIGTERM");
                assertEquals(0, p.exitValue(), Files.readString(out) + Files.readString(err));
            } finally {
                p.destroyForcibly();
            }
            String log = Files.readString(err, StandardCharsets.UTF_8);
            assertTrue(log.lines().allMatch(l -> l.startsWith("{")), "every line of standard error is JSON:\n" + log);
        }
    }

    private static long assigned(ApiServerSim sim) {
        return sim.list(ResourceType.NODES, null).stream().filter(n -> n.at("/spec/podCIDRs").size() == 1).count();
    }

    private static int status(HttpClient http, int port, String path) throws InterruptedException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1; // not listening yet
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
