package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.real.RealControlPlane;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Silent connection loss on a real kube-apiserver 1.20.2: the controller reaches it through a loopback proxy that,
 * once the controller leads and has assigned the first nodes, black-holes every established connection (no FIN, no
 * RST; an API server replica behind a load balancer gone) while new connections pass. The HTTP/2 PINGs fail the dead
 * connections (the watch's, the writes', the Lease's) and the nodes created after the loss get their pod CIDRs within
 * 45 s (client-go's bound), with the same leader: no restart.
 */
class DeadConnectionRealIT {
    private static final long WITHIN_NANOS = 45_000_000_000L;
    private static final int BEFORE = 5;
    private static final int AFTER = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void nodesCreatedAfterTheLossGetTheirPodCidrsWithin45sWithoutARestart() throws Exception {
        try (RealControlPlane cp = RealControlPlane.builder().start();
             BlackHoleProxy proxy = BlackHoleProxy.start(cp.port())) {
            HttpClient http = HttpClient.newBuilder().sslContext(cp.sslContext())
                    .version(HttpClient.Version.HTTP_1_1).build();
            NodeGenerator gen = new NodeGenerator(26);
            for (int i = 0; i < BEFORE; i++) {
                create(cp, http, gen, i);
            }
            Path kubeconfig = dir.resolve("kubeconfig");
            Files.writeString(kubeconfig, cp.kubeconfig(cp.adminToken()).replace(cp.baseUrl(),
                    "https://127.0.0.1:" + proxy.port()));
            // the chart's election timings (the flags' defaults)
            ControllerFlags.Result r = ControllerFlags.parse(new String[] {
                "--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/16", "--metrics-bind-address=127.0.0.1:0",
                "--health-probe-bind-address=127.0.0.1:0"}, Map.of("POD_NAME", "replica-a",
                "POD_NAMESPACE", "kube-system"));
            assertTrue(r.ok(), () -> r.errors().toString());
            AtomicBoolean lost = new AtomicBoolean();
            try (ControllerApp app = ControllerApp.start(r.flags(), KubeClients.of(kubeconfig.toString(), 50, 100,
                    false), new CollectorRegistry(), () -> lost.set(true))) {
                await(() -> app.runner().isReady() && assigned(cp, http) == BEFORE, 60_000_000_000L,
                        "the controller leads and assigned the first nodes");
                Thread.sleep(2_000); // the watch is established and idle, as in a quiet cluster

                long lossAt = System.nanoTime();
                int holed = proxy.blackHoleEstablished();
                int acceptedBefore = proxy.accepted();
                assertTrue(holed > 0, "connections were open to black-hole");
                for (int i = BEFORE; i < BEFORE + AFTER; i++) {
                    create(cp, http, gen, i);
                }
                await(() -> assigned(cp, http) == BEFORE + AFTER, lossAt + WITHIN_NANOS - System.nanoTime(),
                        "the nodes created after the loss got pod CIDRs within 45 s");
                double seconds = (System.nanoTime() - lossAt) / 1e9;
                System.out.printf("DeadConnectionRealIT: %d established connections black-holed; the %d nodes"
                        + " created after it had pod CIDRs %.1f s later (PING every %d s); %d new connections;"
                        + " leader kept: %b%n", holed, AFTER, seconds, KubeClients.PING_INTERVAL.toSeconds(),
                        proxy.accepted() - acceptedBefore, !lost.get() && app.runner().isLeader());
                assertFalse(lost.get(), "the leader kept its Lease: no restart");
                assertTrue(app.runner().isLeader());
                assertTrue(proxy.accepted() > acceptedBefore, "new connections replaced the dead ones");
            }
        }
    }

    private static void create(RealControlPlane cp, HttpClient http, NodeGenerator gen, int i) throws Exception {
        HttpResponse<String> r = http.send(request(cp, "/api/v1/nodes").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(gen.node(i, false).toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
    }

    private static long assigned(RealControlPlane cp, HttpClient http) {
        try {
            HttpResponse<String> r = http.send(request(cp, "/api/v1/nodes").GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            long n = 0;
            for (JsonNode node : JSON.readTree(r.body()).path("items")) {
                if (node.at("/spec/podCIDRs").size() == 1) {
                    n++;
                }
            }
            return n;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static HttpRequest.Builder request(RealControlPlane cp, String path) {
        return HttpRequest.newBuilder(URI.create(cp.baseUrl() + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + cp.adminToken());
    }

    private static void await(java.util.function.BooleanSupplier done, long nanos, String what)
            throws InterruptedException {
        long until = System.nanoTime() + nanos;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not within " + nanos / 1_000_000 + " ms: " + what);
            }
            Thread.sleep(250);
        }
    }
}
