package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.PoolStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The fault matrix of the reliability notes (docs/reliability.md), short forms for CI: two controller replicas
 * (see {@link Replicas} for why in-process) against the simulated API server. Every scenario ends with the invariant
 * checker: no subnet on two nodes, every selected node exactly one subnet per family, nothing held for deleted nodes,
 * and no node write sent by a replica the Lease did not name.
 */
class FaultMatrixIT {
    private static final Duration LEASE = Duration.ofSeconds(2);
    private static final Duration RENEW = Duration.ofMillis(1500);
    private static final Duration RETRY = Duration.ofMillis(300);
    private static final Duration CONVERGE = Duration.ofSeconds(180);
    private static final String TKE_TAINT = NodeGenerator.TKE_ENI_TAINT_KEY;

    private final SimFixture f = new SimFixture();
    private final long started = System.nanoTime();
    private Replicas replicas;

    @AfterEach
    void tearDown() {
        if (replicas != null) {
            replicas.close();
        }
        f.close();
    }

    private static ControllerSettings.Builder settings(String... cidrs) {
        List<Cidr> list = new ArrayList<>();
        for (String c : cidrs) {
            list.add(Cidr.parse(c));
        }
        return ControllerSettings.builder().clusterCidrs(list).workers(4).requestTimeout(Duration.ofSeconds(2))
                .removeTaints(TaintRule.parseList(TKE_TAINT));
    }

    private Replicas replicas(ControllerSettings s) {
        replicas = new Replicas(f, s, LEASE, RENEW, RETRY);
        return replicas;
    }

    private void converged(Replicas.Replica leader, NodeSelector selector, Set<String> exempt) {
        int families = leader.runner.controller().ipam().families().size();
        f.awaitAllAssigned(selector, families, CONVERGE);
        SimFixture.await(CONVERGE, () -> leader.runner.controller().status().queueDepth() == 0, () -> "queue drained");
        SimFixture.await(CONVERGE, () -> leaked(leader).isEmpty(), () -> "released: " + leaked(leader));
        f.assertInvariants(leader.runner.controller(), selector, exempt);
        assertEquals(List.of(), replicas.violations, "node writes by a replica the Lease did not name");
        // one line per scenario for docs/reliability.md
        System.out.printf("fault-matrix %s: nodes=%d patches=%d failed_writes=%s leader=%s elapsed_ms=%d%n",
                StackWalker.getInstance().walk(st -> st.skip(1).findFirst().orElseThrow().getMethodName()),
                f.sim.count(ResourceType.NODES), f.patches(), replicas.writeFailures(), leader.id,
                (System.nanoTime() - started) / 1_000_000);
    }

    private List<String> leaked(Replicas.Replica leader) {
        List<String> out = new ArrayList<>(leader.runner.controller().ipam().nodeNames());
        out.removeIf(n -> f.sim.getNode(n) != null);
        return out;
    }

    private static void createInBackground(SimFixture f, String prefix, int count, AtomicBoolean done) {
        Thread t = new Thread(() -> {
            for (int i = 0; i < count; i++) {
                f.createNode(prefix + i);
            }
            done.set(true);
        }, "burst-" + prefix);
        t.start();
    }

    /** 1: cold start with 5,000 realistic nodes, 10% holding pod CIDRs, one duplicate and one with host bits set. */
    @Test
    void coldStartWithFiveThousandNodes() throws Exception {
        NodeGenerator gen = new NodeGenerator(1);
        int n = 5000;
        for (int i = 0; i < n; i++) {
            boolean tainted = i % 10 == 1;
            if (i % 10 == 0) {
                int k = i / 10;
                f.sim.createNode(gen.node(i, tainted, "10." + (100 + k / 256) + "." + (k % 256) + ".0/24"));
            } else {
                f.sim.createNode(gen.node(i, tainted));
            }
        }
        String duplicated = f.podCidrs(NodeGenerator.name(10)).get(0);
        f.sim.createNode(gen.node(n, false, duplicated));
        f.sim.createNode(gen.node(n + 1, false, "10.0.7.1/24")); // host bits: stored as sent, read as 10.0.7.0/24
        long patchesBefore = f.patches();
        Replicas rs = replicas(settings("10.0.0.0/8").build());
        rs.start();
        rs.start();
        Replicas.Replica leader = rs.awaitLeader(CONVERGE);
        assertEquals(501, leader.runner.controller().restoreReport().adoptedSubnets(), "500 restored and the value"
                + " with host bits held as Kubernetes reads it; the duplicate is reported, not adopted");
        assertEquals(2, leader.runner.controller().restoreReport().problems().size());
        assertEquals(Optional.of(NodeGenerator.name(n + 1)),
                leader.runner.controller().ipam().holderOf(Cidr.parse("10.0.7.0/24")));
        Set<String> exempt = Set.of(NodeGenerator.name(n), NodeGenerator.name(n + 1), NodeGenerator.name(10));
        converged(leader, NodeSelector.all(), exempt);
        assertEquals(4500, f.patches() - patchesBefore, "one write per node that needed a CIDR (and a taint off)");
        SimFixture.await(CONVERGE, () -> !f.events(EventReasons.CIDR_CONFLICT).isEmpty()
                && !f.events(EventReasons.CIDR_NOT_CANONICAL).isEmpty(), () -> "conflict events");
        for (int i = 1; i < n; i += 10) {
            assertFalse(f.taintKeys(NodeGenerator.name(i)).contains(TKE_TAINT), "taint removed");
        }
    }

    /** 2: 1,000 nodes created in a burst, 500 deleted while allocation is in flight. */
    @Test
    void burstWithDeletionsInFlight() throws Exception {
        Replicas rs = replicas(settings("10.0.0.0/8", "fd00::/48").nodeMaskIpv6(64).build());
        rs.start();
        rs.start();
        Replicas.Replica leader = rs.awaitLeader(CONVERGE);
        AtomicBoolean done = new AtomicBoolean();
        createInBackground(f, "b", 1000, done);
        int deleted = 0;
        while (deleted < 500) {
            String name = "b" + (deleted * 2);
            if (f.sim.getNode(name) != null) {
                f.sim.deleteNode(name);
                deleted++;
            } else {
                Thread.sleep(1);
            }
        }
        SimFixture.await(CONVERGE, done::get, () -> "burst done");
        converged(leader, NodeSelector.all(), Set.of());
        assertEquals(500, leader.runner.controller().ipam().nodeCount());
    }

    /** 3: the leader dies (no lease release) in the middle of a burst; the standby takes over in time. */
    @Test
    void leaderKilledMidBurst() throws Exception {
        Replicas rs = replicas(settings("10.0.0.0/8").build());
        Replicas.Replica a = rs.start();
        Replicas.Replica leader = rs.awaitLeader(CONVERGE);
        assertEquals(a, leader);
        Replicas.Replica b = rs.start();
        AtomicBoolean done = new AtomicBoolean();
        createInBackground(f, "k", 1000, done);
        SimFixture.await(CONVERGE, () -> a.assigned.get() >= 200, () -> "200 assigned");
        long killed = System.nanoTime();
        a.kill();
        Replicas.Replica next = rs.awaitLeader(CONVERGE);
        Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
        assertEquals(b, next);
        System.out.printf("fault-matrix leaderKilledMidBurst: takeover_ms=%d (lease %d ms, retry %d ms)%n",
                takeover.toMillis(), LEASE.toMillis(), RETRY.toMillis());
        // b saw a's last renewal at most one retry period before the kill; it waits one lease after that
        assertTrue(takeover.compareTo(LEASE.plus(RETRY.multipliedBy(3)).plusSeconds(2)) < 0,
                "took over after " + takeover.toMillis() + " ms");
        SimFixture.await(CONVERGE, done::get, () -> "burst done");
        converged(b, NodeSelector.all(), Set.of());
        SimFixture.await(CONVERGE, () -> a.lost.get() == 1, () -> "the dead leader gave up its term");
    }

    /** 4: graceful leader shutdown; the standby takes over in about one retry period. */
    @Test
    void gracefulLeaderShutdown() throws Exception {
        f.createNodes("g", 50);
        Replicas rs = replicas(settings("10.0.0.0/8").build());
        Replicas.Replica a = rs.start();
        rs.awaitLeader(CONVERGE);
        Replicas.Replica b = rs.start();
        f.awaitAllAssigned(NodeSelector.all(), 1, CONVERGE);
        long stopped = System.nanoTime();
        a.runner.close();
        Replicas.Replica next = rs.awaitLeader(CONVERGE);
        Duration takeover = Duration.ofNanos(System.nanoTime() - stopped);
        assertEquals(b, next);
        System.out.printf("fault-matrix gracefulLeaderShutdown: takeover_ms=%d (lease %d ms, retry %d ms)%n",
                takeover.toMillis(), LEASE.toMillis(), RETRY.toMillis());
        assertTrue(takeover.compareTo(LEASE) < 0, "took over after " + takeover.toMillis() + " ms");
        f.createNodes("h", 20);
        converged(b, NodeSelector.all(), Set.of());
        assertEquals(0, a.lost.get(), "a graceful stop is not a lost lease");
    }

    /** 5: 500/503/429 storms on 20% of writes, watches dropped every second, forced 410 on re-watch. */
    @Test
    void apiStormsWatchDropsAndExpiredWatches() throws Exception {
        f.createNodes("s", 100);
        Replicas rs = replicas(settings("10.0.0.0/8").build());
        rs.start();
        rs.start();
        Replicas.Replica leader = rs.awaitLeader(CONVERGE);
        f.sim.faults().failRate("patch", "nodes", 0.1, 500).failRate("patch", "nodes", 0.05, 503)
                .failRate("patch", "nodes", 0.05, 429);
        long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
        int i = 0;
        while (System.nanoTime() < end) {
            f.createNode("t" + i);
            if (i % 3 == 0 && i < 100) {
                f.sim.deleteNode("s" + i);
            }
            if (i % 20 == 0) {
                f.sim.faults().expireNextWatches(1).dropWatchesNow();
            }
            i++;
            Thread.sleep(40);
        }
        f.sim.faults().clear();
        converged(leader, NodeSelector.all(), Set.of());
    }

    /** 6: writes that are applied but never answered, on about 5% of writes. */
    @Test
    void appliedButUnansweredWrites() throws Exception {
        Replicas rs = replicas(settings("10.0.0.0/8").requestTimeout(Duration.ofMillis(700)).build());
        rs.start();
        rs.start();
        Replicas.Replica leader = rs.awaitLeader(CONVERGE);
        for (int i = 0; i < 200; i++) {
            if (i % 20 == 0) {
                f.sim.faults().applyButNeverAnswer("patch", "nodes", 1);
            }
            f.createNode("u" + i);
        }
        converged(leader, NodeSelector.all(), Set.of());
        PoolStats s = leader.runner.controller().ipam().stats().get(0);
        assertEquals(200, s.allocated(), "no subnet was taken twice for a node whose write went unanswered");
    }

    /** 7: more nodes than subnets, then deletions free capacity and the waiting nodes get subnets, no restart. */
    @Test
    void exhaustionThenRecovery() throws Exception {
        Replicas rs = replicas(settings("10.0.0.0/18").build()); // 64 subnets
        rs.start();
        rs.start();
        Replicas.Replica leader = rs.awaitLeader(CONVERGE);
        f.createNodes("e", 80);
        SimFixture.await(CONVERGE, () -> f.unassigned(NodeSelector.all(), 1).size() == 16, () -> "16 waiting");
        SimFixture.await(CONVERGE, () -> leader.runner.controller().status().waitingForRoom() == 16, () -> "waiting count");
        // the waiting count moves before the exhaustion counter of the same reconcile: wait for it, not read it
        SimFixture.await(CONVERGE, () -> leader.exhausted.get() >= 16, () -> "exhaustion counted: "
                + leader.exhausted.get());
        SimFixture.await(CONVERGE, () -> f.events(EventReasons.CIDR_NOT_AVAILABLE).size() >= 16, () -> "events");
        for (int i = 0; i < 16; i++) {
            f.sim.deleteNode("e" + i);
        }
        converged(leader, NodeSelector.all(), Set.of());
        assertEquals(0, leader.runner.controller().status().waitingForRoom());
    }

    /** 8: nodes deleted while a finalizer holds them keep their subnet until the object is gone. */
    @Test
    void finalizersHoldSubnets() throws Exception {
        for (int i = 0; i < 20; i++) {
            ObjectNode n = SimFixture.node("fin" + i, Map.of(), List.of());
            n.with("metadata").putArray("finalizers").add("example.com/hold");
            f.sim.createNode(n);
        }
        Replicas rs = replicas(settings("10.0.0.0/8").build());
        rs.start();
        rs.start();
        Replicas.Replica leader = rs.awaitLeader(CONVERGE);
        f.awaitAllAssigned(NodeSelector.all(), 1, CONVERGE);
        for (int i = 0; i < 10; i++) {
            f.sim.deleteNode("fin" + i);
        }
        Thread.sleep(500);
        assertEquals(20, leader.runner.controller().ipam().nodeCount(), "held while finalizers remain");
        for (int i = 0; i < 10; i++) {
            f.sim.patch(ResourceType.NODES, null, "fin" + i, "application/merge-patch+json",
                    "{\"metadata\":{\"finalizers\":null}}");
        }
        converged(leader, NodeSelector.all(), Set.of());
        assertEquals(10, leader.runner.controller().ipam().nodeCount());
    }

    /** 9: a label change moves a node into the selection; a selector change across a restart. */
    @Test
    void selectionChangesByLabelAndAcrossARestart() throws Exception {
        NodeSelector poolA = NodeSelector.parse("[{\"key\":\"pool\",\"operator\":\"In\",\"values\":[\"a\"]}]");
        f.sim.createNode(SimFixture.node("in", Map.of("pool", "a"), List.of()));
        f.sim.createNode(SimFixture.node("out", Map.of("pool", "b"), List.of()));
        Replicas rs = replicas(settings("10.0.0.0/8").nodeSelector(poolA).build());
        rs.start();
        Replicas.Replica leader = rs.awaitLeader(CONVERGE);
        converged(leader, poolA, Set.of());
        assertEquals(List.of(), f.podCidrs("out"));
        f.sim.patch(ResourceType.NODES, null, "out", "application/merge-patch+json",
                "{\"metadata\":{\"labels\":{\"pool\":\"a\"}}}");
        converged(leader, poolA, Set.of());
        assertEquals(1, f.podCidrs("out").size());
        leader.runner.close();

        NodeSelector poolC = NodeSelector.parse("[{\"key\":\"pool\",\"operator\":\"In\",\"values\":[\"c\"]}]");
        Replicas.Replica restarted = rs.start(settings("10.0.0.0/8").nodeSelector(poolC).build());
        f.sim.createNode(SimFixture.node("new-c", Map.of("pool", "c"), List.of()));
        f.sim.createNode(SimFixture.node("new-a", Map.of("pool", "a"), List.of()));
        Replicas.Replica next = rs.awaitLeader(CONVERGE);
        assertEquals(restarted, next);
        converged(next, poolC, Set.of());
        assertEquals(List.of(), f.podCidrs("new-a"), "no longer selected");
        assertEquals(2, next.runner.controller().restoreReport().adoptedSubnets(), "kept what nodes have");
        assertTrue(next.runner.controller().ipam().assignmentOf("in").isPresent());
    }
}
