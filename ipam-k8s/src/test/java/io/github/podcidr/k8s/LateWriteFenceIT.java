package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.apiserver.Faults;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Writes of an old leader that the API server stores after answering 504, landing after a new leader took over (as
 * kube-apiserver 1.20 does when its path to etcd stalls): the intent journal, not the order in which the new leader
 * happens to queue nodes, keeps every subnet on one node. The held writes land at the worst moment the test can
 * pick: after the new leader restored and sent its own writes, before the server applies them.
 */
class LateWriteFenceIT {
    private static final Duration LEASE = Duration.ofSeconds(3);
    private static final Duration RENEW = Duration.ofSeconds(2);
    private static final Duration RETRY = Duration.ofMillis(300);
    private static final Duration CONVERGE = Duration.ofSeconds(60);

    private final SimFixture f = new SimFixture();
    private Replicas replicas;

    @AfterEach
    void tearDown() {
        if (replicas != null) {
            replicas.close();
        }
        f.close();
    }

    @Test
    void writesOfAnOldLeaderLandingAfterTheTakeoverNeverShareASubnet() throws Exception {
        ControllerSettings settings = ControllerSettings.builder()
                .clusterCidrs(List.of(Cidr.parse("10.244.0.0/16"))).workers(16).build();
        replicas = new Replicas(f, settings, LEASE, RENEW, RETRY);
        Replicas.Replica old = replicas.start();
        assertSame(old, replicas.awaitLeader(Duration.ofSeconds(20)));
        f.createNodes("before", 20);
        f.awaitAllAssigned(NodeSelector.all(), 1, CONVERGE);

        Faults.LateWrites late = f.sim.faults().applyLate("patch", "nodes", 16);
        f.createNodes("inflight", 16);
        SimFixture.await(CONVERGE, () -> late.held() == 16, () -> late.held() + " writes held");
        old.kill(); // frozen: it never writes or renews again, and never releases the Lease

        f.createNodes("after", 16);
        // The new leader's writes wait in the server long enough for the old ones to land first.
        f.sim.faults().latency("patch", "nodes", Duration.ofSeconds(3));
        Replicas.Replica next = replicas.start();
        assertSame(next, replicas.awaitLeader(CONVERGE));
        int landed = late.landNow();
        f.sim.faults().clear();

        f.awaitAllAssigned(NodeSelector.all(), 1, CONVERGE);
        SimFixture.await(CONVERGE, () -> next.runner.controller().status().queueDepth() == 0, () -> "drained");
        assertEquals(16, landed, "every held write of the old leader landed after the takeover");
        f.assertInvariants(next.runner.controller(), NodeSelector.all(), Set.of()); // no two nodes overlap
        for (int i = 0; i < 16; i++) {
            String name = "inflight" + i;
            assertEquals(f.podCidrs(name), next.runner.controller().ipam().assignmentOf(name).orElseThrow().podCidrs(),
                    name + " holds what the old leader wrote");
        }
        assertTrue(f.sim.get(ResourceType.LEASES, Replicas.NAMESPACE, Replicas.LEASE + "-intents") != null);
        assertEquals(List.of(), replicas.violations, "no write of a replica that did not hold the Lease");
    }
}
