package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.podcidr.apiserver.real.RealControlPlane;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader that cannot fill its node cache gives up its term (issue 13, item 5): the jar runs on kube-apiserver 1.20
 * as a ServiceAccount whose RBAC allows everything the chart grants except {@code list nodes}; it takes the Lease,
 * its node LIST is refused with 403, and {@code --cache-sync-timeout} after becoming leader it logs the cause and
 * exits 1, releasing the Lease on the way out. Before the flag existed it held the Lease, not ready, forever.
 */
class CacheSyncTimeoutRealIT {
    private static final Path JAR = Path.of("target", "podcidr-controller.jar");
    private static final String NAMESPACE = "kube-system";
    private static final String SA = "podcidr-controller";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private RealControlPlane cp;
    private Process process;

    @AfterEach
    void stop() {
        if (process != null) {
            process.destroyForcibly();
        }
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void aLeaderThatMayNotListNodesExitsOneAfterTheCacheSyncTimeout() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "run after package: no " + JAR.toAbsolutePath());
        cp = RealControlPlane.builder().serviceAccount(NAMESPACE, SA).start();
        HttpClient http = HttpClient.newBuilder().sslContext(cp.sslContext()).version(HttpClient.Version.HTTP_1_1)
                .build();
        // The chart's rules without "list" on nodes.
        post(http, "/apis/rbac.authorization.k8s.io/v1/clusterroles", """
                {"metadata":{"name":"no-list-nodes"},"rules":[
                 {"apiGroups":[""],"resources":["nodes"],"verbs":["get","watch","patch"]},
                 {"apiGroups":[""],"resources":["events"],"verbs":["create","patch"]},
                 {"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["get","create","update"]}]}""");
        post(http, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", """
                {"metadata":{"name":"no-list-nodes"},
                 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"no-list-nodes"},
                 "subjects":[{"kind":"ServiceAccount","namespace":"%s","name":"%s"}]}""".formatted(NAMESPACE, SA));
        Path kubeconfig = cp.writeKubeconfig(dir.resolve("sa.kubeconfig"), cp.serviceAccountToken(NAMESPACE, SA));
        Path log = dir.resolve("controller.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", JAR.toString(), "--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/16",
                "--metrics-bind-address=0", "--health-probe-bind-address=0", "--cache-sync-timeout=5s",
                "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s",
                "--leader-elect-retry-period=500ms");
        pb.environment().put("POD_NAME", "no-list-replica");
        pb.environment().put("POD_NAMESPACE", NAMESPACE);
        pb.environment().remove("KUBERNETES_SERVICE_HOST");
        pb.redirectErrorStream(true);
        pb.redirectOutput(log.toFile());
        long started = System.nanoTime();
        process = pb.start();

        boolean exited = process.waitFor(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - started) / 1e9;
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(exited, "still running 60 s after start with a 5 s cache sync timeout:\n" + tail(output));
        assertEquals(1, process.exitValue(), tail(output));
        assertTrue(output.contains("became leader"), "it took the Lease first:\n" + tail(output));
        assertTrue(output.contains("did not sync within 5000 ms") && output.contains("HTTP 403")
                && output.contains("cannot list resource \\\"nodes\\\""), "the cause is logged:\n" + tail(output));
        JsonNode lease = get(http, "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE
                + "/leases/podcidr-controller");
        assertEquals("", lease.at("/spec/holderIdentity").asText(""), "the Lease is released on the way out (no holder)");
        String cause = output.lines().filter(l -> l.contains("did not sync")).findFirst().orElse("");
        System.out.printf("CacheSyncTimeoutRealIT: exit %d %.1f s after start (cache sync timeout 5 s); logged: %s%n",
                process.exitValue(), seconds, cause.length() > 400 ? cause.substring(0, 400) + "..." : cause);
    }

    private static String tail(String output) {
        List<String> lines = output.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    private void post(HttpClient http, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cp.baseUrl() + path))
                .header("Authorization", "Bearer " + cp.adminToken()).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
    }

    private JsonNode get(HttpClient http, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cp.baseUrl() + path))
                .header("Authorization", "Bearer " + cp.adminToken()).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }
}
