package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runnable jar holds no simulator: {@code demo} finds it beside the jar, in target/demo-lib (the README's
 * command), and a jar on its own runs the controller but says in one line that the demo is not there.
 */
class RunnableJarDemoIT {
    private static final Path JAR = Path.of("target", "podcidr-controller.jar");

    @TempDir
    Path dir;

    @Test
    void theJarHasNoSimulatorAndNamesItInItsClassPath() throws Exception {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            List<String> sim = Collections.list(jar.entries()).stream().map(e -> e.getName())
                    .filter(n -> n.startsWith("io/github/podcidr/apiserver/")).toList();
            assertEquals(List.of(), sim);
            assertEquals(DemoCommand.SIMULATOR_JAR, jar.getManifest().getMainAttributes().getValue("Class-Path"));
        }
        assertTrue(Files.isRegularFile(JAR.resolveSibling(DemoCommand.SIMULATOR_JAR)), "the build puts the simulator"
                + " at " + JAR.resolveSibling(DemoCommand.SIMULATOR_JAR));
    }

    @Test
    void demoRunsFromTheBuildTree() throws Exception {
        Result r = java(JAR, "demo", "--nodes", "40", "--tainted", "10");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("OK: every selected node has one pod CIDR per family"), r.output());
    }

    @Test
    void demoServesTheStatusPageUntilStopped() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", JAR.toString(), "demo", "--nodes", "40", "--tainted", "10", "--serve");
        Path out = Files.createTempFile(dir, "serve", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            java.util.regex.Pattern serving = java.util.regex.Pattern.compile(
                    "every node is done; serving the status page at (http://127\\.0\\.0\\.1:[0-9]+)/status ");
            java.util.regex.Matcher m = serving.matcher("");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!(m = serving.matcher(Files.readString(out))).find()) {
                assertTrue(p.isAlive() && System.nanoTime() < deadline, "no serving line:\n" + Files.readString(out));
                Thread.sleep(100);
            }
            String base = m.group(1);
            assertTrue(Files.readString(out).contains("demo: status page at " + base + "/status"), "URL printed first");
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            String json = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/status.json"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            com.fasterxml.jackson.databind.JsonNode s = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            assertEquals("leader", s.at("/role").asText(), json);
            assertEquals(40 - 1, s.at("/pools/0/allocated").asInt(), "40 nodes, two of them on one subnet: " + json);
            Thread.sleep(1500);
            assertTrue(p.isAlive(), "still serving after the nodes are done");
            p.destroy(); // SIGTERM, as Ctrl-C's SIGINT: a graceful stop, then the summary
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "stops on SIGTERM");
            assertEquals(0, p.exitValue(), Files.readString(out));
            assertTrue(Files.readString(out).contains("result             OK"), Files.readString(out));
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void demoWithThePoolsFileOfTheReadmeFillsBothGroups() throws Exception {
        Path pools = dir.resolve("pools.yaml");
        Files.writeString(pools, DemoCommandTest.README_POOLS);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", JAR.toString(), "demo", "--nodes", "400", "--pools-file", pools.toString(), "--serve");
        Path out = Files.createTempFile(dir, "serve", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            java.util.regex.Pattern serving = java.util.regex.Pattern.compile(
                    "every node is done; serving the status page at (http://127\\.0\\.0\\.1:[0-9]+)/status ");
            java.util.regex.Matcher m;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!(m = serving.matcher(Files.readString(out))).find()) {
                assertTrue(p.isAlive() && System.nanoTime() < deadline, "no serving line:\n" + Files.readString(out));
                Thread.sleep(100);
            }
            String base = m.group(1);
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            String json = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/status.json"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            com.fasterxml.jackson.databind.JsonNode s = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            // every fourth node is labelled podcidr.example.com/site=idc: 100 idc nodes, 300 default ones of which
            // two share one subnet (the duplicate)
            assertEquals("default", s.at("/groups/0/name").asText(), json);
            assertEquals(299, s.at("/groups/0/families/0/allocated").asInt(), json);
            assertEquals("idc", s.at("/groups/1/name").asText(), json);
            assertEquals(100, s.at("/groups/1/families/0/allocated").asInt(), json);
            assertEquals("idc", s.at("/pools/1/group").asText(), json);
            assertEquals("10.250.0.0/16", s.at("/pools/1/cidr").asText(), json);
            String html = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/status"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(html.contains("id=\"group-idc-ipv4-allocated\">100<"), html);
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "stops on SIGTERM");
            assertEquals(0, p.exitValue(), Files.readString(out));
            String summary = Files.readString(out);
            assertTrue(summary.contains("group idc          100 nodes, 100 with one pod CIDR per family from the"
                    + " group's ranges"), summary);
            assertTrue(summary.contains("group default      300 nodes, 300 with one pod CIDR per family"), summary);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aJarOnItsOwnRunsTheControllerButNotTheDemo() throws Exception {
        Path alone = Files.copy(JAR, dir.resolve("podcidr-controller.jar"));
        Result demo = java(alone, "demo");
        assertEquals(1, demo.code(), demo.output());
        assertEquals("demo: the embedded API server (apiserver-sim) is not on the class path: the deployable jar and"
                + " the image leave it out. Run the demo from a build of the sources, where it sits beside the jar"
                + " (target/demo-lib/apiserver-sim.jar): " + DemoCommand.DEMO_COMMAND + "\n", demo.output());

        Result plan = java(alone, "plan", "--cluster-cidr", "10.244.0.0/16", "--nodes", "10");
        assertEquals(0, plan.code(), plan.output());
    }

    private record Result(int code, String output) {
    }

    private Result java(Path jar, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running: " + cmd);
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }
}
