package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.ipam.Cidr;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * API faults from the simulator: error bursts on writes, dropped watches, forced 410 on re-watch, and writes that
 * are applied but never answered. After each, the invariants hold: no subnet on two nodes, every node one subnet,
 * nothing held for deleted nodes.
 */
class FaultToleranceTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final SimFixture f = new SimFixture();
    private PodCidrController c;

    @AfterEach
    void tearDown() {
        if (c != null) {
            c.close();
        }
        f.close();
    }

    private void start(Duration requestTimeout) throws Exception {
        ControllerSettings s = ControllerSettings.builder()
                .clusterCidrs(List.of(Cidr.parse("10.244.0.0/16"), Cidr.parse("fd00:10:244::/56")))
                .workers(3).requestTimeout(requestTimeout).build();
        c = new PodCidrController(f.clients(), s, ControllerMetrics.NONE, WriteFence.OPEN);
        c.start();
    }

    @Test
    void errorBurstsOnWritesAreRetriedWithoutLosingOrDoublingSubnets() throws Exception {
        f.createNodes("n", 40);
        f.sim.faults().failNext("patch", "nodes", 5, 503).failNext("patch", "nodes", 5, 429)
                .failRate("patch", "nodes", 0.2, 500);
        start(Duration.ofSeconds(5));
        for (int i = 0; i < 10; i++) {
            f.sim.deleteNode("n" + (i * 4)); // deletions while writes fail
        }
        f.awaitAllAssigned(NodeSelector.all(), 2, WAIT);
        f.sim.faults().clear();
        SimFixture.await(WAIT, () -> c.ipam().nodeCount() == 30, () -> "held for " + c.ipam().nodeNames());
        f.assertInvariants(c, NodeSelector.all(), Set.of());
        assertTrue(f.patches() > 30, "failed writes were retried: " + f.patches());
    }

    @Test
    void droppedWatchesAndForced410sLoseNoEvent() throws Exception {
        f.createNodes("a", 10);
        start(Duration.ofSeconds(5));
        f.awaitAllAssigned(NodeSelector.all(), 2, WAIT);
        f.sim.faults().dropWatchesAfter(3).expireNextWatches(2);
        f.createNodes("b", 15);
        for (int i = 0; i < 5; i++) {
            f.sim.deleteNode("a" + i);
        }
        f.sim.faults().dropWatchesNow();
        f.createNodes("c", 5);
        f.awaitAllAssigned(NodeSelector.all(), 2, WAIT);
        SimFixture.await(WAIT, () -> c.ipam().nodeCount() == 25, () -> "held for " + c.ipam().nodeNames());
        f.sim.faults().clear();
        f.assertInvariants(c, NodeSelector.all(), Set.of());
    }

    @Test
    void writesAppliedButNeverAnsweredKeepTheirSubnetAndAreNotDoubled() throws Exception {
        f.sim.faults().applyButNeverAnswer("patch", "nodes", 4);
        f.createNodes("n", 12);
        start(Duration.ofMillis(800));
        f.awaitAllAssigned(NodeSelector.all(), 2, WAIT);
        SimFixture.await(WAIT, () -> c.status().queueDepth() == 0, () -> "queue drained");
        f.assertInvariants(c, NodeSelector.all(), Set.of());
        long v4Used = c.ipam().stats().get(0).allocated();
        assertEquals(12, v4Used, "no subnet was allocated twice for a node whose write timed out");
    }
}
