package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The controller against the simulated API server over HTTP: behaviour of issue "ipam-k8s", one test per rule. */
class PodCidrControllerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String TKE_TAINT = "tke.cloud.tencent.com/eni-ip-unavailable";

    private final SimFixture f = new SimFixture();
    private final List<PodCidrController> controllers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        controllers.forEach(PodCidrController::close);
        f.close();
    }

    private PodCidrController start(ControllerSettings settings) throws Exception {
        return start(settings, ControllerMetrics.NONE);
    }

    private PodCidrController start(ControllerSettings settings, ControllerMetrics metrics) throws Exception {
        PodCidrController c = new PodCidrController(f.clients(), settings, metrics, WriteFence.OPEN);
        controllers.add(c);
        c.start();
        assertTrue(c.isReady());
        return c;
    }

    private static ControllerSettings.Builder settings(String... cidrs) {
        List<Cidr> list = new ArrayList<>();
        for (String c : cidrs) {
            list.add(Cidr.parse(c));
        }
        return ControllerSettings.builder().clusterCidrs(list).workers(2);
    }

    @Test
    void newNodesGetOneSubnetPerFamilyWithOneWriteEach() throws Exception {
        f.createNodes("n", 30);
        PodCidrController c = start(settings("10.244.0.0/16", "fd00:10:244::/56").build());
        f.awaitAllAssigned(NodeSelector.all(), 2, WAIT);
        f.createNodes("later", 10);
        f.awaitAllAssigned(NodeSelector.all(), 2, WAIT);
        f.assertInvariants(c, NodeSelector.all(), Set.of());
        List<String> first = f.podCidrs("n0");
        assertTrue(first.get(0).endsWith("/24") && first.get(1).endsWith("/64"), first.toString());
        assertEquals(40, f.patches(), "exactly one write per node");
    }

    @Test
    void aRestartRestoresAndAssignsNothingTwice() throws Exception {
        f.createNodes("a", 20);
        ControllerSettings s = settings("10.244.0.0/24").nodeMaskIpv4(28).build(); // 16 subnets
        PodCidrController first = start(s);
        SimFixture.await(WAIT, () -> f.unassigned(NodeSelector.all(), 1).size() == 4, () -> "16 of 20 assigned");
        first.close();
        // 16 subnets, 20 nodes: 4 wait. Delete four holders, then restart: the waiting ones get the freed subnets.
        List<String> holders = new ArrayList<>();
        for (int i = 0; i < 20 && holders.size() < 4; i++) {
            if (!f.podCidrs("a" + i).isEmpty()) {
                holders.add("a" + i);
            }
        }
        long before = f.patches();
        holders.forEach(f.sim::deleteNode);
        PodCidrController second = start(s);
        assertEquals(12, second.restoreReport().adoptedSubnets());
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        f.assertInvariants(second, NodeSelector.all(), Set.of());
        assertEquals(before + 4, f.patches(), "only the four waiting nodes are written");
    }

    /** A restarted leader's first work is the node that waited for it, not the checks of the nodes already done. */
    @Test
    void nodesWithoutAPodCidrAreQueuedBeforeTheOthersAtStart() throws Exception {
        for (int i = 0; i < 300; i++) {
            f.createNode(String.format("a%03d", i), "10." + (i / 256) + "." + (i % 256) + ".0/24");
        }
        f.createNode("zz-new");
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>(); // read while the worker adds
        ControllerMetrics recorder = new ControllerMetrics() {
            @Override
            public void assigned(String node, List<Cidr> cidrs) {
                events.add("assigned " + node);
            }

            @Override
            public void reconciled(String outcome, long nanos) {
                events.add("reconciled");
            }
        };
        start(settings("10.0.0.0/8").workers(1).build(), recorder);
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        SimFixture.await(WAIT, () -> events.stream().filter("reconciled"::equals).count() >= 301,
                () -> "every node checked: " + events.size() + " events");
        assertEquals("assigned zz-new", events.get(0), "one worker: the new node is the first reconcile");
    }

    @Test
    void aNodeThatJoinsWithAPodCidrIsAdoptedAndItsSubnetNeverHandedOut() throws Exception {
        PodCidrController c = start(settings("10.244.0.0/22").build()); // 4 subnets
        f.createNode("joined", "10.244.0.0/24");
        SimFixture.await(WAIT, () -> c.ipam().holderOf(Cidr.parse("10.244.0.0/24")).isPresent(),
                () -> "adoption of joined");
        f.createNodes("n", 3);
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        f.assertInvariants(c, NodeSelector.all(), Set.of());
        assertEquals(List.of("10.244.0.0/24"), f.podCidrs("joined"));
        assertEquals(3, f.patches(), "the joined node is not written");
    }

    @Test
    void conflictsOnExistingNodesAreReportedAndSurvived() throws Exception {
        f.createNode("ok", "10.244.1.0/24");
        f.sim.createNode(SimFixture.node("dup", Map.of(), List.of(), "10.244.9.0/24"));
        f.createNode("first", "10.244.9.0/24");
        f.createNode("outside", "192.168.5.0/24");
        f.createNode("misaligned", "10.244.4.0/23");
        f.createNodes("n", 5);
        // host bits set: the API server stores it as sent and Kubernetes reads it as 10.244.7.0/24
        f.createNode("bad");
        ObjectNode bad = f.sim.getNode("bad");
        ((ObjectNode) bad.get("spec")).put("podCIDR", "10.244.7.1/24");
        f.sim.update(ResourceType.NODES, bad);

        java.util.concurrent.atomic.AtomicInteger conflicts = new java.util.concurrent.atomic.AtomicInteger();
        ControllerMetrics counting = new ControllerMetrics() {
            @Override
            public void conflict(String kind) {
                conflicts.incrementAndGet();
            }
        };
        PodCidrController c = start(settings("10.244.0.0/16").build(), counting);
        assertEquals(4, c.restoreReport().problems().size(), c.restoreReport().problems().toString());
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        assertTrue(c.isHealthy());
        SimFixture.await(WAIT, () -> !f.events(EventReasons.CIDR_CONFLICT).isEmpty()
                && !f.events(EventReasons.CIDR_OUTSIDE_CLUSTER_CIDR).isEmpty()
                && !f.events(EventReasons.CIDR_TOO_WIDE).isEmpty()
                && !f.events(EventReasons.CIDR_NOT_CANONICAL).isEmpty(), () -> "warning events");
        ObjectNode conflict = f.events(EventReasons.CIDR_CONFLICT).get(0);
        assertEquals("Warning", conflict.path("type").asText());
        assertEquals("Node", conflict.at("/involvedObject/kind").asText());
        // whichever of dup/first is older keeps the subnet; the other is reported
        Set<String> pair = Set.of("dup", "first");
        assertTrue(pair.contains(conflict.at("/involvedObject/name").asText()));
        assertEquals(List.of("10.244.7.1/24"), f.podCidrs("bad"), "never rewritten");
        f.sim.patch(ResourceType.NODES, null, "dup", "application/merge-patch+json",
                "{\"metadata\":{\"labels\":{\"touched\":\"yes\"}}}"); // another reconcile of a conflicting node
        Thread.sleep(300);
        assertEquals(4, conflicts.get(), "each problem is counted once, however often its node is reconciled");
        assertEquals(Optional.of("bad"), c.ipam().holderOf(Cidr.parse("10.244.7.0/24")), "held as Kubernetes reads it");
        assertEquals(3, c.status().failingClosed(), "the loser of the duplicate, the node outside the cluster CIDR and"
                + " the one whose /23 is wider than a node subnet");
        f.assertInvariants(c, NodeSelector.all(), Set.of("dup", "first", "bad", "misaligned", "outside"));
        for (int i = 0; i < 5; i++) {
            String mine = f.podCidrs("n" + i).get(0);
            assertFalse(Set.of("10.244.1.0/24", "10.244.9.0/24", "10.244.4.0/24", "10.244.5.0/24", "10.244.7.0/24")
                    .contains(mine), "n" + i + " got a subnet in use: " + mine);
        }
    }

    @Test
    void aNodeWithAnotherNodesSubnetKeepsItsTaintsUntilTheOtherNodeIsGone() throws Exception {
        List<String> taint = List.of(TKE_TAINT + ":NoSchedule");
        f.sim.createNode(SimFixture.node("first", Map.of(), taint, "10.244.9.0/24"));
        Thread.sleep(1100); // creation timestamps have one-second resolution: "first" is the older
        f.sim.createNode(SimFixture.node("second", Map.of(), taint, "10.244.9.0/24"));
        f.sim.createNode(SimFixture.node("outside", Map.of(), taint, "192.168.5.0/24"));
        PodCidrController c = start(settings("10.244.0.0/16").removeTaints(List.of(TaintRule.parse(TKE_TAINT)))
                .build());
        SimFixture.await(WAIT, () -> !f.taintKeys("first").contains(TKE_TAINT), () -> "taint of first");
        SimFixture.await(WAIT, () -> f.events(EventReasons.CIDR_CONFLICT).stream()
                .anyMatch(e -> e.at("/involvedObject/name").asText().equals("second")), () -> "conflict event");
        ObjectNode event = f.events(EventReasons.CIDR_CONFLICT).get(0);
        assertTrue(event.path("message").asText().contains("node first"), event.toString());
        assertTrue(event.path("message").asText().contains("keeps the taints"), event.toString());
        Thread.sleep(300);
        assertTrue(f.taintKeys("second").contains(TKE_TAINT), "fails closed: a duplicate stays unschedulable");
        assertTrue(f.taintKeys("outside").contains(TKE_TAINT), "nothing vouches for a foreign range");
        assertEquals(2, c.status().failingClosed());
        assertEquals(Map.of(io.github.podcidr.ipam.NodeReport.Kind.DUPLICATE, 1,
                io.github.podcidr.ipam.NodeReport.Kind.OUTSIDE_POOLS, 1), c.status().nodesByFinding());

        f.sim.deleteNode("first");
        SimFixture.await(WAIT, () -> !f.taintKeys("second").contains(TKE_TAINT), () -> "taint of second after the"
                + " holder left: " + f.taintKeys("second"));
        assertEquals(Optional.of("second"), c.ipam().holderOf(Cidr.parse("10.244.9.0/24")));
        assertEquals(1, c.status().failingClosed());
        assertTrue(f.taintKeys("outside").contains(TKE_TAINT));
        assertEquals(Map.of(io.github.podcidr.ipam.NodeReport.Kind.OUTSIDE_POOLS, 1), c.status().nodesByFinding());
    }

    @Test
    void aSubnetHeldForAnUnansweredWriteIsFreedWhenTheNodeLeavesTheSelection() throws Exception {
        NodeSelector selector = NodeSelector.parse("[{\"key\":\"pool\",\"operator\":\"In\",\"values\":[\"a\"]}]");
        PodCidrController c = start(settings("10.244.0.0/16").nodeSelector(selector).build());
        f.sim.faults().failNext("patch", "nodes", 1_000, 503); // no write lands; the outcome looks unknown
        f.sim.createNode(SimFixture.node("n", Map.of("pool", "a"), List.of()));
        SimFixture.await(WAIT, () -> c.ipam().assignmentOf("n").isPresent(), () -> "held while the write fails");
        f.sim.patch(ResourceType.NODES, null, "n", "application/merge-patch+json",
                "{\"metadata\":{\"labels\":{\"pool\":\"b\"}}}");
        SimFixture.await(WAIT, () -> c.ipam().assignmentOf("n").isEmpty(), () -> "freed after a live read");
        f.sim.faults().clear();
        assertEquals(List.of(), f.podCidrs("n"));
        assertEquals(0, c.ipam().stats().get(0).allocated());
    }

    @Test
    void aPatchRefusedByValidationIsReportedAndNotRetriedUntilTheNodeChanges() throws Exception {
        java.util.Map<String, Integer> failures = new java.util.concurrent.ConcurrentHashMap<>();
        PodCidrController c = start(settings("10.244.0.0/16").build(), new ControllerMetrics() {
            @Override
            public void writeFailed(String reason) {
                failures.merge(reason, 1, Integer::sum);
            }
        });
        f.sim.faults().failNext("patch", "nodes", 1, 422); // a cause names spec.podCIDRs, as validation writes it
        f.sim.createNode(SimFixture.node("n", Map.of(), List.of()));
        SimFixture.await(WAIT, () -> !f.events(EventReasons.CIDR_ASSIGNMENT_FAILED).isEmpty(), () -> "event");
        assertTrue(f.events(EventReasons.CIDR_ASSIGNMENT_FAILED).get(0).path("message").asText()
                .contains("not retried until the node changes"));
        Thread.sleep(1_500); // a retry with backoff would have come within 50 ms, 100 ms, ...
        assertEquals(1, f.patches(), "one patch, no retry of a patch validation refused");
        assertEquals(Map.of("invalid", 1), failures);
        assertEquals(List.of(), f.podCidrs("n"));
        f.sim.patch(ResourceType.NODES, null, "n", "application/merge-patch+json",
                "{\"spec\":{\"taints\":[{\"key\":\"x.example/changed\",\"effect\":\"NoSchedule\"}]}}");
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT); // a change reconcile reads (not any label: it keeps few)
        assertEquals(2, f.patches());
        f.assertInvariants(c, NodeSelector.all(), Set.of());
    }

    @Test
    void aPatchWhoseGuardFailsIsReadAgainAndRetried() throws Exception {
        java.util.Map<String, Integer> failures = new java.util.concurrent.ConcurrentHashMap<>();
        PodCidrController c = start(settings("10.244.0.0/16").removeTaints(TaintRule.parseList(TKE_TAINT)).build(),
                new ControllerMetrics() {
                    @Override
                    public void writeFailed(String reason) {
                        failures.merge(reason, 1, Integer::sum);
                    }
                });
        // the taint list moves between the cache's read and the patch: the taint test at its index fails (422 with
        // empty details), and the node is read again and written
        f.sim.faults().latency("patch", "nodes", Duration.ofMillis(300));
        f.sim.createNode(SimFixture.node("n", Map.of(), List.of(TKE_TAINT + ":NoSchedule")));
        SimFixture.await(WAIT, () -> f.patches() == 1, () -> "the controller's patch is on its way");
        f.sim.patch(ResourceType.NODES, null, "n", "application/json-patch+json",
                "[{\"op\":\"add\",\"path\":\"/spec/taints/0\",\"value\":{\"key\":\"a.example/first\","
                        + "\"effect\":\"NoSchedule\"}}]");
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        SimFixture.await(WAIT, () -> !f.taintKeys("n").contains(TKE_TAINT), () -> "taints " + f.taintKeys("n"));
        assertTrue(f.taintKeys("n").contains("a.example/first"), "the other writer's taint is kept");
        assertEquals(Map.of("conflict", 1), failures, "the guard failed once; nothing was taken as invalid");
        assertTrue(f.events(EventReasons.CIDR_ASSIGNMENT_FAILED).isEmpty());
        f.assertInvariants(c, NodeSelector.all(), Set.of());
    }

    @Test
    void aNodeHeldByAFinalizerKeepsItsSubnetUntilItIsGone() throws Exception {
        ObjectNode held = SimFixture.node("held", Map.of(), List.of());
        held.with("metadata").putArray("finalizers").add("example.com/hold");
        f.sim.createNode(held);
        PodCidrController c = start(settings("10.244.0.0/23").build()); // 2 subnets
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        String subnet = f.podCidrs("held").get(0);
        f.sim.deleteNode("held");
        assertTrue(f.sim.getNode("held").at("/metadata/deletionTimestamp").isTextual());
        f.createNodes("n", 2); // only one subnet is free
        SimFixture.await(WAIT, () -> f.unassigned(NodeSelector.all(), 1).size() == 1, () -> "one node waiting");
        assertEquals(subnet, c.ipam().assignmentOf("held").orElseThrow().podCidrs().get(0), "still held");
        f.sim.patch(ResourceType.NODES, null, "held", "application/merge-patch+json",
                "{\"metadata\":{\"finalizers\":null}}");
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        f.assertInvariants(c, NodeSelector.all(), Set.of());
        assertTrue(List.of(f.podCidrs("n0").get(0), f.podCidrs("n1").get(0)).contains(subnet),
                "the freed subnet went to the waiting node");
    }

    @Test
    void selectorAndTaintRulesInAllThreeFormsWithOneWritePerNode() throws Exception {
        NodeSelector selector = NodeSelector.parse(
                "[{\"key\":\"pool\",\"operator\":\"In\",\"values\":[\"external\"]}]");
        List<TaintRule> rules = TaintRule.parseList(TKE_TAINT + ",example.com/a:NoExecute,example.com/b=x:NoSchedule");
        List<String> taints = List.of(TKE_TAINT + ":NoSchedule", "example.com/a:NoExecute", "example.com/a:NoSchedule",
                "example.com/b=x:NoSchedule", "example.com/b=y:NoExecute", "keep.me/please:NoSchedule");
        f.sim.createNode(SimFixture.node("sel", Map.of("pool", "external"), taints));
        f.sim.createNode(SimFixture.node("other", Map.of("pool", "internal"), taints));
        f.sim.createNode(SimFixture.node("plain", Map.of("pool", "external"), List.of()));
        PodCidrController c = start(settings("10.244.0.0/16").nodeSelector(selector).removeTaints(rules).build());
        f.awaitAllAssigned(selector, 1, WAIT);
        SimFixture.await(WAIT, () -> f.taintKeys("other").size() == 4, () -> "taints of other: "
                + f.taintKeys("other"));
        // the API server's admission appends the not-ready taint at creation; no rule names it, so it stays
        List<String> left = List.of("example.com/a", "example.com/b", "keep.me/please", SimFixture.NOT_READY_TAINT);
        assertEquals(left, f.taintKeys("sel"));
        assertEquals(left, f.taintKeys("other"));
        assertEquals("NoSchedule", f.sim.getNode("sel").at("/spec/taints/0/effect").asText());
        assertEquals("y", f.sim.getNode("sel").at("/spec/taints/1/value").asText());
        assertEquals(List.of(), f.podCidrs("other"), "not selected: no pod CIDR");
        f.assertInvariants(c, selector, Set.of());
        assertEquals(3, f.patches(), "one write per node: CIDR and taints together");
    }

    @Test
    void exhaustionRaisesAnEventAndRecoversWhenANodeIsDeleted() throws Exception {
        f.createNodes("n", 2);
        PodCidrController c = start(settings("10.244.0.0/24").nodeMaskIpv4(25).build()); // 2 subnets
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        f.createNode("waiting");
        SimFixture.await(WAIT, () -> !f.events(EventReasons.CIDR_NOT_AVAILABLE).isEmpty(), () -> "exhaustion event");
        ObjectNode e = f.events(EventReasons.CIDR_NOT_AVAILABLE).get(0);
        assertEquals("waiting", e.at("/involvedObject/name").asText());
        assertTrue(e.path("message").asText().contains("no free IPV4 subnet for node waiting"), e.toString());
        assertEquals(1, c.status().waitingForRoom());
        f.sim.deleteNode("n0");
        f.awaitAllAssigned(NodeSelector.all(), 1, Duration.ofSeconds(5)); // woken by the release, not by backoff
        f.assertInvariants(c, NodeSelector.all(), Set.of());
        assertEquals(0, c.status().waitingForRoom());
    }

    @Test
    void aConcurrentTaintWriterIsNotClobbered() throws Exception {
        f.sim.createNode(SimFixture.node("race", Map.of(), List.of("other.io/first:NoSchedule",
                TKE_TAINT + ":NoSchedule")));
        f.sim.faults().latency("patch", "nodes", Duration.ofMillis(1500));
        PodCidrController c = start(settings("10.244.0.0/16").removeTaints(TaintRule.parseList(TKE_TAINT)).build());
        // while the controller's patch waits, someone else removes the first taint and adds one at the end
        Thread.sleep(300);
        f.sim.patch(ResourceType.NODES, null, "race", "application/json-patch+json",
                "[{\"op\":\"remove\",\"path\":\"/spec/taints/0\"},"
                        + "{\"op\":\"add\",\"path\":\"/spec/taints/-\",\"value\":{\"key\":\"other.io/late\","
                        + "\"effect\":\"NoExecute\"}}]");
        f.sim.faults().clear();
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        SimFixture.await(WAIT, () -> !f.taintKeys("race").contains(TKE_TAINT), () -> "taint removal");
        assertEquals(List.of(SimFixture.NOT_READY_TAINT, "other.io/late"), f.taintKeys("race"),
                "the other writer's taint survives (after the not-ready taint that admission appended)");
        assertTrue(f.patches() >= 2, "the first patch failed its test and was retried");
        f.assertInvariants(c, NodeSelector.all(), Set.of());
    }

    @Test
    void dryRunWritesNothing() throws Exception {
        f.sim.createNode(SimFixture.node("n", Map.of(), List.of(TKE_TAINT + ":NoSchedule")));
        PodCidrController c = start(settings("10.244.0.0/16").dryRun(true)
                .removeTaints(TaintRule.parseList(TKE_TAINT)).build());
        SimFixture.await(WAIT, () -> c.status().queueDepth() == 0 && c.ipam().nodeCount() == 1, () -> "decision");
        Thread.sleep(200);
        assertEquals(0, f.patches());
        assertEquals(0, f.sim.requests().count("create", "events"));
        assertEquals(List.of(), f.podCidrs("n"));
    }

    @Test
    void nodesOutsideTheSelectionKeepTheirSubnetsAndOccupySpace() throws Exception {
        NodeSelector selector = NodeSelector.parse("[{\"key\":\"pool\",\"operator\":\"Exists\"}]");
        f.sim.createNode(SimFixture.node("foreign", Map.of(), List.of(), "10.244.0.0/24"));
        f.sim.createNode(SimFixture.node("mine", Map.of("pool", "a"), List.of()));
        PodCidrController c = start(settings("10.244.0.0/23").nodeSelector(selector).build());
        f.awaitAllAssigned(selector, 1, WAIT);
        assertEquals(List.of("10.244.1.0/24"), f.podCidrs("mine"));
        f.assertInvariants(c, selector, new HashSet<>());
    }

    @Test
    void aLabelChangeMovesANodeIntoTheSelection() throws Exception {
        NodeSelector selector = NodeSelector.parse("[{\"key\":\"pool\",\"operator\":\"In\",\"values\":[\"a\"]}]");
        f.sim.createNode(SimFixture.node("later", Map.of("pool", "b"), List.of()));
        PodCidrController c = start(settings("10.244.0.0/16").nodeSelector(selector).build());
        Thread.sleep(300);
        assertEquals(List.of(), f.podCidrs("later"));
        f.sim.patch(ResourceType.NODES, null, "later", "application/merge-patch+json",
                "{\"metadata\":{\"labels\":{\"pool\":\"a\"}}}");
        f.awaitAllAssigned(selector, 1, WAIT);
        assertEquals(1, f.podCidrs("later").size());
        f.assertInvariants(c, selector, Set.of());
    }

    @Test
    void theInitialListIsTwoRequestsAndTheCacheKeepsOnlyWhatReconcileReads() throws Exception {
        io.github.podcidr.apiserver.NodeGenerator gen = new io.github.podcidr.apiserver.NodeGenerator(3);
        for (int i = 0; i < 120; i++) {
            f.sim.createNode(gen.node(i, i % 2 == 0));
        }
        PodCidrController c = start(settings("10.244.0.0/16").listPageSize(50)
                .removeTaints(TaintRule.parseList(TKE_TAINT)).build());
        assertEquals(2, f.sim.requests().count("list", "nodes"),
                "one node from etcd for the current revision, then all 120 from the watch cache, not pages of 50");
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        SimFixture.await(WAIT, () -> f.patches() == 120, () -> "one write per node: " + f.patches());
        f.assertInvariants(c, NodeSelector.all(), Set.of());
    }
}
