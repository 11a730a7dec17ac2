package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.apiserver.SimException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as a process against apiserver-sim: SIGTERM stops it gracefully (exit 0 within 10 s, Lease
 * released), a lost Lease makes it exit 1, bad flags exit 2.
 */
class ProcessLifecycleIT {
    private static final Path JAR = Path.of("target", "podcidr-controller.jar");
    private static final String IDENTITY = "podcidr-controller-7d9f-abcde";

    @TempDir
    Path dir;
    private ApiServerSim sim;
    private Path kubeconfig;
    private Process process;

    @BeforeEach
    void startSim() {
        assertTrue(Files.isRegularFile(JAR), "run after package: " + JAR.toAbsolutePath());
        sim = ApiServerSim.start();
        kubeconfig = sim.writeKubeconfig(dir.resolve("kubeconfig"));
        NodeGenerator gen = new NodeGenerator(5);
        for (int i = 0; i < 50; i++) {
            sim.createNode(gen.node(i, i % 5 == 0));
        }
    }

    @AfterEach
    void stop() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
        sim.close();
    }

    private Process start(String... flags) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", JAR.toString()));
        cmd.addAll(List.of(flags));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("POD_NAME", IDENTITY);
        pb.environment().put("POD_NAMESPACE", "kube-system");
        pb.environment().remove("KUBERNETES_SERVICE_HOST");
        pb.redirectOutput(dir.resolve("stdout").toFile());
        pb.redirectError(dir.resolve("stderr").toFile());
        process = pb.start();
        return process;
    }

    private String output() throws IOException {
        return Files.readString(dir.resolve("stdout"), StandardCharsets.UTF_8)
                + Files.readString(dir.resolve("stderr"), StandardCharsets.UTF_8);
    }

    private String leaseHolder() {
        ObjectNode lease = sim.get(ResourceType.LEASES, "kube-system", "podcidr-controller");
        return lease == null ? null : StatusFixture.pod(lease.at("/spec/holderIdentity").asText(""));
    }

    private long nodesWithCidrs() {
        return sim.list(ResourceType.NODES, null).stream().filter(n -> n.at("/spec/podCIDRs").size() == 1).count();
    }

    private void await(BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                fail("not reached (" + what + "); process alive=" + process.isAlive() + "\n" + output());
            }
            Thread.sleep(100);
        }
    }

    @Test
    void sigtermStopsGracefullyReleasesTheLeaseAndExits0() throws Exception {
        start("--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/16",
                "--remove-taints=" + NodeGenerator.TKE_ENI_TAINT_KEY, "--metrics-bind-address=127.0.0.1:0",
                "--health-probe-bind-address=127.0.0.1:0", "--log-format=json");
        await(() -> IDENTITY.equals(leaseHolder()) && nodesWithCidrs() == 50, "leading and every node assigned");

        long t0 = System.nanoTime();
        process.destroy(); // SIGTERM
        boolean ended = process.waitFor(10, TimeUnit.SECONDS);
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ended, "still running 10 s after SIGTERM\n" + output());
        assertEquals(0, process.exitValue(), output());
        assertEquals("", leaseHolder(), "the Lease is released, so a standby takes over at once");
        String out = output();
        assertTrue(out.contains("\"formattedMessage\":\"received SIGTERM; stopping gracefully\""), out);
        assertTrue(out.contains("{\"node\":\"10.0.0.0\"}"), "json logs carry node as a key-value\n" + out);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                json.readTree(line); // every line of the process is one JSON object
            }
        }
        assertTrue(millis < 10_000, "stopped in " + millis + " ms");
    }

    @Test
    void losingTheLeaseExits1() throws Exception {
        start("--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/16", "--metrics-bind-address=0",
                "--health-probe-bind-address=0", "--leader-elect-lease-duration=3s",
                "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=500ms");
        await(() -> IDENTITY.equals(leaseHolder()) && nodesWithCidrs() == 50, "leading and every node assigned");

        // another replica takes the Lease over (as after a long pause of this one): this one must stop and exit 1
        // (the controller renews every 500 ms, so an update can meet a 409 Conflict: read again and retry)
        for (int attempt = 1; ; attempt++) {
            ObjectNode lease = sim.get(ResourceType.LEASES, "kube-system", "podcidr-controller");
            ObjectNode spec = (ObjectNode) lease.get("spec");
            spec.put("holderIdentity", "intruder");
            spec.put("leaseDurationSeconds", 3600);
            spec.put("renewTime", OffsetDateTime.now().toString());
            spec.put("acquireTime", OffsetDateTime.now().toString());
            try {
                sim.update(ResourceType.LEASES, lease);
                break;
            } catch (SimException e) {
                if (e.code() != 409 || attempt == 20) {
                    throw e;
                }
            }
        }

        assertTrue(process.waitFor(20, TimeUnit.SECONDS), "still running after losing the Lease\n" + output());
        assertEquals(1, process.exitValue(), output());
        assertTrue(output().contains("lost the lease"), output());
        assertEquals("intruder", leaseHolder());
    }

    @Test
    void badFlagsExit2WithoutTouchingTheCluster() throws Exception {
        start("--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/33", "--workers=0");
        assertTrue(process.waitFor(20, TimeUnit.SECONDS));
        assertEquals(2, process.exitValue(), output());
        assertTrue(output().contains("2 configuration errors; nothing was started"), output());
        assertEquals(0, sim.requests().total(), "no request reached the API server");
    }
}
