package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.ResourceType;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Lease keeps its own budget (issue 13, item 4): with {@code --kube-api-qps=1} and 1,000 nodes waiting for a
 * write, the token bucket is always empty, yet the leader renews its Lease on time for a minute, because the
 * elector's requests never wait in the bucket shared with node writes and events.
 */
class LeaseBudgetIT {
    private static final int NODES = 1_000;

    @TempDir
    Path dir;

    @Test
    void theLeaderKeepsItsLeaseForAMinuteUnderASaturatedQpsBudget() throws Exception {
        try (ApiServerSim sim = ApiServerSim.start()) {
            NodeGenerator gen = new NodeGenerator(5);
            for (int i = 0; i < NODES; i++) {
                sim.createNode(gen.node(i, false));
            }
            Path kubeconfig = sim.writeKubeconfig(dir.resolve("kubeconfig"));
            ControllerFlags.Result parsed = ControllerFlags.parse(new String[] {
                "--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/14", "--kube-api-qps=1",
                "--metrics-bind-address=0", "--health-probe-bind-address=0"}, Map.of("POD_NAME", "replica-a"));
            assertTrue(parsed.ok(), () -> parsed.errors().toString());
            ControllerFlags flags = parsed.flags();
            AtomicBoolean lost = new AtomicBoolean();
            long started = System.nanoTime();
            try (ControllerApp app = ControllerApp.start(flags, KubeClients.of(flags.kubeconfig(),
                    flags.kubeApiQps(), flags.kubeApiBurst(), false), new CollectorRegistry(), () -> lost.set(true))) {
                long deadline = started + Duration.ofSeconds(20).toNanos();
                while (!("replica-a".equals(holder(sim)) && app.runner().isLeader()) && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals("replica-a", holder(sim), "the only replica takes the Lease");
                List<String> seen = new ArrayList<>();
                String lastRenew = renewTime(sim);
                int renewals = 0;
                int sinceRenewal = 0;
                int longestGap = 0;
                for (int second = 1; second <= 60; second++) {
                    Thread.sleep(1_000);
                    String holder = holder(sim);
                    String renew = renewTime(sim);
                    sinceRenewal++;
                    if (!renew.equals(lastRenew)) {
                        renewals++;
                        lastRenew = renew;
                        longestGap = Math.max(longestGap, sinceRenewal);
                        sinceRenewal = 0;
                    }
                    if (!"replica-a".equals(holder) || lost.get() || !app.runner().isLeader()) {
                        seen.add("at " + second + " s: holder " + holder + ", lost " + lost.get() + ", leader "
                                + app.runner().isLeader());
                    }
                }
                System.out.printf("LeaseBudgetIT: qps 1, %d pending nodes: %d renewals seen in 60 s (longest gap"
                        + " about %d s), %d nodes assigned, term lost: %s%n", NODES, renewals, longestGap,
                        assigned(sim), lost.get());
                assertEquals(List.of(), seen, "the leader lost its Lease under a saturated QPS budget");
                assertFalse(lost.get());
                assertTrue(renewals >= 20, "renewed about every retry period (2 s): " + renewals + " in 60 s");
                assertTrue(longestGap <= 5, "a renewal at least every 5 s (renew deadline 10 s): " + longestGap);
            }
        }
    }

    private static String holder(ApiServerSim sim) {
        var lease = sim.get(ResourceType.LEASES, "kube-system", "podcidr-controller");
        return lease == null ? null : StatusFixture.pod(lease.at("/spec/holderIdentity").asText(null));
    }

    private static String renewTime(ApiServerSim sim) {
        var lease = sim.get(ResourceType.LEASES, "kube-system", "podcidr-controller");
        return lease == null ? "" : lease.at("/spec/renewTime").asText("");
    }

    private static long assigned(ApiServerSim sim) {
        return sim.list(ResourceType.NODES, null).stream().filter(n -> n.at("/spec/podCIDR").isTextual()).count();
    }
}
