package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The image tarball that {@code package} builds (target/podcidr-controller-image.tar), each platform's image unpacked
 * layer by layer into a directory and run from there as a container runtime would: its own Entrypoint and User from
 * the image configuration, {@code chroot} into the root, mounted read-only in a private mount namespace, with /proc
 * and /dev mounted and nothing else from the machine. linux/amd64 runs natively; linux/arm64 (built with
 * -Dimage.roots) runs under Debian's qemu-user-static: {@code qemu-aarch64-static} is copied into the root and
 * runs the Entrypoint explicitly, so no binfmt_misc registration is needed. Needs root, {@code unshare},
 * {@code chroot}, {@code mount} and {@code tar} (CI runs as root); skipped with one line otherwise, and a platform with
 * one line when its image or qemu is absent.
 */
class ImageSmokeIT {
    private static final Path TARBALL = Path.of("target", "podcidr-controller-image.tar");
    /** Set by the image-roots profile: the build was given an arm64 root, so the index must list linux/arm64. */
    private static final boolean ARM64_EXPECTED = Boolean.getBoolean("image.arm64.expected");

    /** A platform of the image, and how this (amd64) machine runs it. */
    enum Platform {
        AMD64("amd64", null, Duration.ofSeconds(60)),
        /** Emulated: a JVM under qemu-user starts and runs several times slower. */
        ARM64("arm64", "qemu-aarch64-static", Duration.ofSeconds(300));

        final String architecture;
        /** The qemu-user binary that runs it on this machine, or null for native. */
        final String emulator;
        final Duration limit;

        Platform(String architecture, String emulator, Duration limit) {
            this.architecture = architecture;
            this.emulator = emulator;
            this.limit = limit;
        }
    }

    /** One platform's image, unpacked. */
    private record Unpacked(Platform platform, OciImage image, Path root) {}

    @TempDir
    static Path work;
    private static Path layout;
    private static final Map<Platform, Unpacked> IMAGES = new EnumMap<>(Platform.class);
    /** Why a platform is not run (printed once), for those not in {@link #IMAGES}. */
    private static final Map<Platform, String> SKIPPED = new EnumMap<>(Platform.class);

    @BeforeAll
    static void unpack() throws Exception {
        String missing = missingPrerequisite();
        if (missing != null) {
            System.err.println("ImageSmokeIT skipped: " + missing);
            Assumptions.abort(missing);
        }
        layout = OciImage.extract(TARBALL, Files.createDirectories(work.resolve("layout")));
        for (Platform platform : Platform.values()) {
            OciImage image = OciImage.open(layout, platform.architecture);
            Path emulator = platform.emulator == null ? null : onPath(platform.emulator);
            if (image == null) {
                SKIPPED.put(platform, "no linux/" + platform.architecture + " in " + TARBALL
                        + " (build with -Dimage.roots=\"$(scripts/image/install-roots.sh)\")");
            } else if (platform.emulator != null && emulator == null) {
                SKIPPED.put(platform, "no " + platform.emulator + " on the PATH to run linux/" + platform.architecture
                        + " (Debian's qemu-user-static; scripts/image/install-roots.sh installs it)");
            } else {
                Path root = Files.createDirectories(work.resolve("root-" + platform.architecture));
                image.unpack(root);
                // mount points, as a container runtime makes them before it makes the root read-only
                Files.createDirectories(root.resolve("proc"));
                Files.createDirectories(root.resolve("dev"));
                if (emulator != null) {
                    Files.copy(emulator, root.resolve(platform.emulator));
                }
                IMAGES.put(platform, new Unpacked(platform, image, root));
                System.err.printf("ImageSmokeIT: linux/%s of %s, %.1f MB of compressed layers, %.1f MB unpacked%s%n",
                        platform.architecture, TARBALL, image.compressedSize() / 1e6, sizeOf(root) / 1e6,
                        emulator == null ? "" : ", run with " + emulator);
            }
        }
        SKIPPED.forEach((platform, why) -> System.err.println("ImageSmokeIT: linux/" + platform.architecture
                + " skipped: " + why));
    }

    private static Unpacked image(Platform platform) {
        Unpacked unpacked = IMAGES.get(platform);
        Assumptions.assumeTrue(unpacked != null, () -> SKIPPED.get(platform));
        return unpacked;
    }

    private static String missingPrerequisite() throws IOException {
        if (!Files.isRegularFile(TARBALL)) {
            return "no " + TARBALL + " (built by package, unless -Dimage.skip)";
        }
        if (!System.getProperty("os.name").equals("Linux") || !System.getProperty("os.arch").equals("amd64")) {
            return "needs Linux on amd64 (chroot and mount namespaces; linux/amd64 runs natively)";
        }
        if (!Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))) {
            return "needs root (to chroot and mount the image's root read-only)";
        }
        for (String tool : List.of("unshare", "chroot", "mount", "tar", "sh")) {
            if (onPath(tool) == null) {
                return "needs " + tool + " on the PATH";
            }
        }
        return null;
    }

    private static Path onPath(String tool) {
        return Stream.of(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"))
                .map(d -> Path.of(d, tool)).filter(Files::isExecutable).findFirst().orElse(null);
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
     * given, is mounted writable at /tmp (as the chart mounts an emptyDir there). An emulated platform's Entrypoint
     * is run by its qemu-user binary, copied into the root.
     */
    private static Process start(Unpacked unpacked, Path volume, Path stdout, Path stderr, String... args)
            throws IOException {
        JsonNode config = unpacked.image().config();
        String[] user = config.path("User").asText().split(":");
        StringBuilder script = new StringBuilder("set -e; r=\"$1\"; v=\"$2\"; shift 2; ")
                .append("mount --bind \"$r\" \"$r\"; mount -o remount,bind,ro \"$r\"; ")
                .append("mount --rbind /proc \"$r/proc\"; mount --rbind /dev \"$r/dev\"; ")
                .append("if [ -n \"$v\" ]; then mount --bind \"$v\" \"$r/tmp\"; fi; ")
                .append("exec chroot --userspec=").append(user[0]).append(':').append(user[1])
                .append(" --groups=").append(user[1]).append(" \"$r\" \"$@\"");
        List<String> command = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--", "sh",
                "-c", script.toString(), "sh", unpacked.root().toString(), volume == null ? "" : volume.toString()));
        if (unpacked.platform().emulator != null) {
            command.add("/" + unpacked.platform().emulator);
        }
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

    private static Run run(Unpacked unpacked, String... args) throws Exception {
        Path out = Files.createTempFile(work, "stdout", ".txt");
        Path err = Files.createTempFile(work, "stderr", ".txt");
        Process p = start(unpacked, null, out, err, args);
        Duration limit = unpacked.platform().limit;
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("still running after " + limit + ": " + List.of(args));
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void theIndexListsEachPlatformAndEachConfigHasItsArchitecture() throws Exception {
        JsonNode top = OciImage.topIndex(layout).path("manifests");
        JsonNode index = OciImage.imageIndex(layout);
        List<String> platforms = new ArrayList<>();
        for (JsonNode descriptor : index.path("manifests")) {
            String architecture = descriptor.path("platform").path("architecture").asText();
            assertEquals("linux", descriptor.path("platform").path("os").asText(), descriptor.toString());
            OciImage image = OciImage.open(layout, architecture);
            assertEquals("linux/" + architecture, image.platform(), "the config of the manifest listed as "
                    + descriptor.path("platform"));
            platforms.add("linux/" + architecture);
        }
        List<String> expected = ARM64_EXPECTED ? List.of("linux/amd64", "linux/arm64") : List.of("linux/amd64");
        assertEquals(expected, platforms, index.toString());
        // the reference is the version label, which is the chart's appVersion (the build checks Chart.yaml)
        String version = OciImage.open(layout, "amd64").config().path("Labels")
                .path("org.opencontainers.image.version").asText();
        assertEquals("podcidr-controller:" + version,
                top.get(0).path("annotations").path("org.opencontainers.image.ref.name").asText(), top.toString());
        assertEquals(chartAppVersion(), version, "the image's tag is the chart's appVersion");
    }

    private static String chartAppVersion() throws IOException {
        return Files.readAllLines(Path.of("..", "charts", "podcidr-controller", "Chart.yaml")).stream()
                .filter(l -> l.startsWith("appVersion:")).map(l -> l.substring(11).strip().replace("\"", ""))
                .findFirst().orElseThrow();
    }

    @ParameterizedTest
    @EnumSource(Platform.class)
    void helpRunsAsTheImageUserOnAReadOnlyRoot(Platform platform) throws Exception {
        Unpacked image = image(platform);
        JsonNode config = image.image().config();
        assertEquals("65532:65532", config.path("User").asText());
        assertEquals(Set.of("10290/tcp", "10291/tcp"), fieldNames(config.path("ExposedPorts")),
                "the chart's ports (probes, metrics): " + config);
        assertTrue(config.path("Env").toString().indexOf("JAVA_TOOL_OPTIONS") < 0, "JVM flags are in the"
                + " entrypoint, not in JAVA_TOOL_OPTIONS: " + config);
        assertTrue(config.path("Entrypoint").toString().contains("\"-XX:TieredStopAtLevel=1\""),
                "C1 only, as docs/benchmarks.md measured: " + config);

        Run help = run(image, "--help");
        assertEquals(0, help.exitCode(), help.both());
        assertTrue(help.stdout().startsWith("Usage: ") && help.stdout().contains("--cluster-cidr"), help.both());
        assertEquals("", help.stderr(), "nothing on standard error (log collectors read it as JSON)");
    }

    @ParameterizedTest
    @EnumSource(Platform.class)
    void versionIsTheImageVersion(Platform platform) throws Exception {
        Unpacked image = image(platform);
        Run version = run(image, "--version");
        assertEquals(0, version.exitCode(), version.both());
        JsonNode labels = image.image().config().path("Labels");
        String label = labels.path("org.opencontainers.image.version").asText();
        // between releases the binary says 0.1.0-SNAPSHOT and the image 0.1.0; a release drops the suffix
        assertTrue(version.stdout().equals("podcidr-controller " + label + "\n")
                || version.stdout().equals("podcidr-controller " + label + "-SNAPSHOT\n"), version.both());
        assertEquals("", version.stderr());
        for (String key : List.of("title", "description", "source", "licenses")) {
            assertFalse(labels.path("org.opencontainers.image." + key).asText().isBlank(), key + ": " + labels);
        }
        assertEquals("Apache-2.0", labels.path("org.opencontainers.image.licenses").asText());
    }

    @ParameterizedTest
    @EnumSource(Platform.class)
    void badFlagsExit2(Platform platform) throws Exception {
        Run bad = run(image(platform), "--cluster-cidr=10.244.0.1/16");
        assertEquals(Main.EXIT_CONFIG, bad.exitCode(), bad.both());
        assertTrue(bad.stderr().contains("has host bits set"), bad.both());
    }

    @ParameterizedTest
    @EnumSource(Platform.class)
    void theImageHasNoSimulatorAndDemoSaysSo(Platform platform) throws Exception {
        Unpacked image = image(platform);
        Path root = image.root();
        try (Stream<Path> files = Files.walk(root.resolve("app"))) {
            List<String> sim = files.map(p -> root.relativize(p).toString())
                    .filter(p -> p.contains("apiserver-sim") || p.contains("io/github/podcidr/apiserver")).toList();
            assertEquals(List.of(), sim, "the simulator is not in the image");
        }
        Run demo = run(image, "demo");
        assertEquals(1, demo.exitCode(), demo.both());
        assertTrue(demo.stderr().startsWith("demo: the embedded API server (apiserver-sim) is not on the class path"),
                demo.both());
    }

    @ParameterizedTest
    @EnumSource(Platform.class)
    void theControllerAssignsEveryNodeAndStopsOnSigterm(Platform platform) throws Exception {
        Unpacked image = image(platform);
        Path volume = Files.createDirectories(work.resolve("tmp-volume-" + platform.architecture));
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
            Path out = work.resolve("controller-" + platform.architecture + ".out");
            Path err = work.resolve("controller-" + platform.architecture + ".err");
            Process p = start(image, volume, out, err, "--kubeconfig=/tmp/kubeconfig", "--cluster-cidr=10.244.0.0/16",
                    "--remove-taints=" + NodeGenerator.TKE_ENI_TAINT_KEY, "--leader-elect=false",
                    "--health-probe-bind-address=127.0.0.1:" + health,
                    "--metrics-bind-address=127.0.0.1:" + metrics, "--log-format=json");
            try {
                HttpClient http = HttpClient.newHttpClient();
                long deadline = System.nanoTime() + platform.limit.toNanos();
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
                p.destroy(); // SIGTERM, to the JVM itself (or qemu, which passes it on): unshare, sh and chroot exec it
                long grace = platform.emulator == null ? 10 : 60;
                assertTrue(p.waitFor(grace, TimeUnit.SECONDS), "still running " + grace + " s after SIGTERM");
                assertEquals(0, p.exitValue(), Files.readString(out) + Files.readString(err));
            } finally {
                p.destroyForcibly();
            }
            String log = Files.readString(err, StandardCharsets.UTF_8);
            assertTrue(log.lines().allMatch(l -> l.startsWith("{")), "every line of standard error is JSON:\n" + log);
        }
    }

    private static Set<String> fieldNames(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
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
