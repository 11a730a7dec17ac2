package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.ResourceType;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.hotspot.DefaultExports;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The running controller against apiserver-sim over HTTP: probes and metrics, as a kubelet and Prometheus see them. */
class ControllerAppTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int NODES = 20;
    private static final int TAINTED = 5;

    @TempDir
    Path dir;
    private ApiServerSim sim;
    private Path kubeconfig;

    @BeforeEach
    void startSim() {
        sim = ApiServerSim.start();
        kubeconfig = sim.writeKubeconfig(dir.resolve("kubeconfig"));
        NodeGenerator gen = new NodeGenerator(3);
        for (int i = 0; i < NODES; i++) {
            sim.createNode(gen.node(i, i < TAINTED));
        }
    }

    @AfterEach
    void stopSim() {
        sim.close();
    }

    private ControllerFlags flags(String identity) {
        ControllerFlags.Result r = ControllerFlags.parse(new String[] {
            "--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/16,fd00:10:244::/48",
            "--remove-taints=" + NodeGenerator.TKE_ENI_TAINT_KEY, "--metrics-bind-address=127.0.0.1:0",
            "--health-probe-bind-address=127.0.0.1:0", "--leader-elect-lease-duration=6s",
            "--leader-elect-renew-deadline=4s", "--leader-elect-retry-period=1s"}, Map.of("POD_NAME", identity));
        assertTrue(r.ok(), () -> r.errors().toString());
        return r.flags();
    }

    @Test
    void probesAndMetricsOfLeaderAndStandby() throws Exception {
        DefaultExports.initialize();
        AtomicBoolean lost = new AtomicBoolean();
        ControllerFlags leaderFlags = flags("replica-a");
        ControllerApp leader = ControllerApp.start(leaderFlags, KubeClients.of(leaderFlags.kubeconfig(), 50, 100,
                true), CollectorRegistry.defaultRegistry, () -> lost.set(true));
        ControllerApp standby = null;
        try {
            await(() -> leader.runner().isLeader() && get(leader.probeAddress(), "/readyz").statusCode() == 200,
                    "leader ready");
            await(() -> assignedNodes() == NODES, "every node has pod CIDRs");

            HttpResponse<String> health = get(leader.probeAddress(), "/healthz");
            assertEquals(200, health.statusCode());
            assertEquals("ok\n", health.body());
            assertEquals(200, get(leader.probeAddress(), "/readyz").statusCode());

            HttpResponse<String> metrics = get(leader.metricsAddress(), "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            String m = metrics.body();
            assertMetric(m, "podcidr_pool_capacity_subnets{cidr=\"10.244.0.0/16\",family=\"ipv4\",node_mask=\"24\",} 256.0");
            assertMetric(m, "podcidr_pool_allocated_subnets{cidr=\"10.244.0.0/16\",family=\"ipv4\",node_mask=\"24\",} 20.0");
            assertMetric(m, "podcidr_pool_free_subnets{cidr=\"10.244.0.0/16\",family=\"ipv4\",node_mask=\"24\",} 236.0");
            assertMetric(m, "podcidr_pool_reserved_subnets{cidr=\"fd00:10:244::/48\",family=\"ipv6\",node_mask=\"64\",} 0.0");
            assertMetric(m, "podcidr_pool_capacity_subnets{cidr=\"fd00:10:244::/48\",family=\"ipv6\",node_mask=\"64\",} 65536.0");
            assertMetric(m, "podcidr_subnets_assigned_total{family=\"ipv4\",} 20.0");
            assertMetric(m, "podcidr_subnets_assigned_total{family=\"ipv6\",} 20.0");
            assertMetric(m, "podcidr_taints_removed_total 5.0");
            assertMetric(m, "podcidr_leader 1.0");
            assertMetric(m, "podcidr_build_info{version=\"" + Version.current() + "\",} 1.0");
            assertMetric(m, "podcidr_nodes_with_pod_cidr_problem{kind=\"duplicate\",} 0.0");
            assertMetric(m, "workqueue_depth{name=\"podcidr\",} 0.0");
            assertMetric(m, "workqueue_work_duration_seconds_count{name=\"podcidr\",}");
            assertMetric(m, "workqueue_queue_duration_seconds_count{name=\"podcidr\",}");
            java.util.regex.Matcher adds = java.util.regex.Pattern
                    .compile("workqueue_adds_total\\{name=\"podcidr\",} ([0-9.E]+)").matcher(m);
            assertTrue(adds.find() && Double.parseDouble(adds.group(1)) >= NODES, "every node queued at least once");
            assertMetric(m, "podcidr_ready 1.0");
            assertMetric(m, "podcidr_queue_depth ");
            assertMetric(m, "podcidr_nodes_waiting_for_room 0.0");
            assertMetric(m, "podcidr_reconcile_duration_seconds_count{outcome=\"done\",}");
            assertMetric(m, "podcidr_watch_event_delivery_seconds_count ");
            assertMetric(m, "podcidr_intent_journal_wait_seconds_count ");
            assertMetric(m, "# TYPE podcidr_write_failures_total counter");
            assertMetric(m, "jvm_memory_bytes_used{area=\"heap\",}");
            assertMetric(m, "podcidr_api_requests_total{verb=\"list\",resource=\"nodes\",code=\"200\",}");
            assertMetric(m, "podcidr_api_request_duration_seconds_count{verb=\"watch\",resource=\"nodes\",}");
            assertMetric(m, "podcidr_api_requests_total{verb=\"update\",resource=\"leases\",code=\"200\",}");

            // a second replica stands by: ready (so a rollout proceeds), not leading
            ControllerFlags standbyFlags = flags("replica-b");
            CollectorRegistry standbyRegistry = new CollectorRegistry();
            standby = ControllerApp.start(standbyFlags, KubeClients.of(standbyFlags.kubeconfig(), 50, 100, false),
                    standbyRegistry, () -> lost.set(true));
            ControllerApp b = standby;
            await(() -> get(b.probeAddress(), "/readyz").statusCode() == 200, "standby ready");
            assertEquals(200, get(b.probeAddress(), "/healthz").statusCode());
            assertFalse(b.runner().isLeader());
            String sm = get(b.metricsAddress(), "/metrics").body();
            assertMetric(sm, "podcidr_leader 0.0");
            assertFalse(sm.contains("podcidr_pool_capacity_subnets{"), "a standby has no pools to report");
            assertEquals("replica-a", leaseHolder());

            // the leader stops gracefully: it releases the Lease and the standby takes over
            leader.close();
            await(() -> b.runner().isLeader() && b.runner().isReady(), "standby took over");
            assertEquals("replica-b", leaseHolder());
            assertMetric(get(b.metricsAddress(), "/metrics").body(), "podcidr_leader 1.0");
            assertFalse(lost.get(), "nobody lost the lease: the handover was graceful");
        } finally {
            leader.close();
            if (standby != null) {
                standby.close();
            }
        }
        assertEquals("", leaseHolder(), "released on close");
    }

    @Test
    void anAddressInUseFailsTheStartAndLeavesNothingRunning() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            ControllerFlags.Result r = ControllerFlags.parse(new String[] {
                "--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/16",
                "--metrics-bind-address=127.0.0.1:" + taken.getLocalPort()}, Map.of("POD_NAME", "x"));
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> ControllerApp.start(r.flags(), KubeClients.of(r.flags().kubeconfig(), 50, 100, false),
                            new CollectorRegistry(), () -> { }));
            assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
        }
        assertEquals(0, sim.requests().count("create", "leases"), "nothing campaigned");
    }

    private String leaseHolder() {
        var lease = sim.get(ResourceType.LEASES, "kube-system", "podcidr-controller");
        return lease == null ? null : StatusFixture.pod(lease.at("/spec/holderIdentity").asText(""));
    }

    private long assignedNodes() {
        return sim.list(ResourceType.NODES, null).stream().filter(n -> n.at("/spec/podCIDRs").size() == 2).count();
    }

    private static void assertMetric(String body, String line) {
        assertTrue(body.contains(line), () -> "missing \"" + line + "\" in\n" + body);
    }

    static HttpResponse<String> get(InetSocketAddress address, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not reached in 30 s: " + what);
            }
            Thread.sleep(50);
        }
    }
}
