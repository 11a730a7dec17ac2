package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.ipam.Cidr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Leadership, exhaustion and node deletion on a real kube-apiserver 1.20: {@link ControllerRunner} replicas in
 * process, each with its own clients and identity, authenticated as the chart's ServiceAccount with the chart's RBAC.
 */
class LifecycleRealIT extends RealTier {
    private static final String TKE_TAINT = NodeGenerator.TKE_ENI_TAINT_KEY;
    private static final Duration CONVERGE = Duration.ofSeconds(120);
    /** Short election timings so that a takeover after a kill takes seconds; the Lease counts whole seconds. */
    private static final Duration LEASE = Duration.ofSeconds(5);
    private static final Duration RENEW = Duration.ofSeconds(3);
    private static final Duration RETRY = Duration.ofSeconds(1);
    private static final String FINALIZER = "podcidr.test/hold";

    private RealReplicas replicas(String cluster, int mask) {
        ControllerSettings s = ControllerSettings.builder().clusterCidrs(List.of(Cidr.parse(cluster)))
                .nodeMaskIpv4(mask).removeTaints(TaintRule.parseList(TKE_TAINT)).build();
        replicas = new RealReplicas(f, s, LEASE, RENEW, RETRY);
        return replicas;
    }

    private static List<ObjectNode> realisticNodes(NodeGenerator gen, int from, int to) {
        List<ObjectNode> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(gen.node(i, i % 4 == 1));
        }
        return out;
    }

    /** Waits until every stored node has one pod CIDR and no configured taint; returns them. */
    private static Map<String, ObjectNode> awaitAllAssigned(int expected) {
        AtomicReference<Map<String, ObjectNode>> stored = new AtomicReference<>(Map.of());
        RealFixture.await(CONVERGE, () -> {
            stored.set(f.nodes());
            return stored.get().size() == expected && stored.get().values().stream().allMatch(
                    n -> RealFixture.podCidrs(n).size() == 1 && !RealFixture.taintKeys(n).contains(TKE_TAINT));
        }, () -> stored.get().size() + " nodes; without a pod CIDR or still tainted: " + stored.get().values()
                .stream().filter(n -> RealFixture.podCidrs(n).size() != 1
                        || RealFixture.taintKeys(n).contains(TKE_TAINT))
                .map(n -> n.at("/metadata/name").asText()).limit(10).toList());
        return stored.get();
    }

    /**
     * The leader stops dead (no Lease release) while it assigns 500 nodes; the standby takes the Lease once it
     * expires and finishes; no subnet is on two nodes and no node is written by a replica the Lease did not name.
     */
    @Test
    void leaderKilledMidRunStandbyFinishes() throws Exception {
        int n = 500;
        f.createNodes(realisticNodes(new NodeGenerator(21), 0, n), 4);
        int mark = f.auditMark();
        RealReplicas rs = replicas("10.244.0.0/16", 26);
        RealReplicas.Replica a = rs.start("real-a");
        assertEquals(a, rs.awaitLeader(CONVERGE));
        RealReplicas.Replica b = rs.start("real-b");
        RealFixture.await(CONVERGE, () -> a.assigned.get() >= 150, () -> a.assigned.get() + " of 150 assigned");
        long killed = System.nanoTime();
        a.kill();
        RealFixture.await(CONVERGE, () -> "real-b".equals(f.leaseHolder()), () -> "the standby takes the Lease");
        Duration leaseTaken = Duration.ofNanos(System.nanoTime() - killed);
        assertEquals(b, rs.awaitLeader(CONVERGE));
        Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
        // writes in flight at the kill still complete (sent before it), so count the killed leader's after that
        int byA = a.assigned.get();
        Map<String, ObjectNode> all = awaitAllAssigned(n);
        RealFixture.assertNoOverlap(all, List.of());
        assertEquals(List.of(), rs.violations, "node writes by a replica the Lease did not name");
        RealFixture.await(CONVERGE, () -> a.lost.get() == 1, () -> "the dead leader ended its term");
        assertTrue(b.assigned.get() > 0, "the standby finished the run");
        assertEquals(n, byA + b.assigned.get(), "assignments written by the two leaders");
        Map<String, Integer> patches = f.nodePatchesByNode(mark);
        Map<Integer, Integer> histogram = RealFixture.writesPerNode(patches, all.keySet());
        assertEquals(Map.of(1, n), histogram, "node patches per node");
        System.out.printf("real leader kill: nodes=%d assigned_by_killed=%d assigned_by_standby=%d lease_taken_ms=%d"
                        + " takeover_ms=%d (to restored and ready; lease %d s, renew %d s, retry %d s)"
                        + " writes_per_node=%s write_failures=%s%n",
                n, byA, b.assigned.get(), leaseTaken.toMillis(), takeover.toMillis(), LEASE.toSeconds(),
                RENEW.toSeconds(),
                RETRY.toSeconds(), histogram, b.writeFailures);
    }

    /**
     * A graceful stop releases the Lease: it no longer names the stopped replica once {@code close()} returns, the
     * standby leads well within one lease duration, and the last replica's stop leaves the Lease held by nobody.
     */
    @Test
    void gracefulStopReleasesTheLease() throws Exception {
        f.createNodes(realisticNodes(new NodeGenerator(22), 0, 40), 4);
        RealReplicas rs = replicas("10.244.0.0/16", 24);
        RealReplicas.Replica a = rs.start("real-a");
        assertEquals(a, rs.awaitLeader(CONVERGE));
        RealReplicas.Replica b = rs.start("real-b");
        awaitAllAssigned(40);
        long stopped = System.nanoTime();
        a.runner.close();
        Duration closeTook = Duration.ofNanos(System.nanoTime() - stopped);
        assertNotEquals("real-a", f.leaseHolder(), "the Lease still names the replica that stopped");
        RealFixture.await(CONVERGE, () -> "real-b".equals(f.leaseHolder()), () -> "the standby takes the Lease");
        Duration leaseTaken = Duration.ofNanos(System.nanoTime() - stopped);
        assertEquals(b, rs.awaitLeader(CONVERGE));
        Duration takeover = Duration.ofNanos(System.nanoTime() - stopped);
        assertTrue(takeover.compareTo(LEASE) < 0, () -> "the standby took " + takeover.toMillis() + " ms, as if"
                + " the Lease had expired rather than been released");
        assertEquals(0, a.lost.get(), "a graceful stop is not a lost lease");
        f.createNodes(realisticNodes(new NodeGenerator(22), 40, 50), 4);
        Map<String, ObjectNode> all = awaitAllAssigned(50);
        RealFixture.assertNoOverlap(all, List.of());
        b.runner.close();
        JsonNode lease = f.lease();
        assertNull(f.leaseHolder(), () -> "released by the last replica: " + lease);
        assertEquals(List.of(), rs.violations, "node writes by a replica the Lease did not name");
        System.out.printf("real graceful stop: close_ms=%d lease_taken_ms=%d takeover_ms=%d (to restored and ready;"
                        + " lease %d s, retry %d s) lease_after_last_stop=%s%n",
                closeTook.toMillis(), leaseTaken.toMillis(), takeover.toMillis(), LEASE.toSeconds(), RETRY.toSeconds(), lease.get("spec"));
    }

    /**
     * A pool of four subnets and six nodes: four assigned, two wait with a CIDRNotAvailable Warning event that the
     * real server accepts; deleting two nodes gives the waiting ones exactly the freed subnets.
     */
    @Test
    void exhaustionAndRecovery() throws Exception {
        NodeGenerator gen = new NodeGenerator(23);
        f.createNodes(realisticNodes(gen, 0, 6), 2);
        int mark = f.auditMark();
        RealReplicas rs = replicas("10.244.0.0/28", 30);
        RealReplicas.Replica r = rs.start("real-0");
        assertEquals(r, rs.awaitLeader(CONVERGE));
        RealFixture.await(CONVERGE, () -> r.assigned.get() == 4 && r.exhausted.size() == 2,
                () -> "assigned " + r.assigned.get() + ", waiting " + r.exhausted.keySet());
        Map<String, ObjectNode> all = f.nodes();
        List<String> waiting = new ArrayList<>(new TreeSet<>(r.exhausted.keySet()));
        for (String name : waiting) {
            assertEquals(List.of(), RealFixture.podCidrs(all.get(name)), name + " waits without a pod CIDR");
        }
        RealFixture.await(CONVERGE, () -> waiting.stream().allMatch(w -> !notAvailableEvents(all.get(w)).isEmpty()),
                () -> "CIDRNotAvailable events for " + waiting + "; the controller's event requests: "
                        + f.controllerRequestsSince(mark).stream().filter(e -> "events".equals(e.resource()))
                        .toList());
        for (String name : waiting) {
            JsonNode e = notAvailableEvents(all.get(name)).get(0);
            assertEquals("default", e.at("/metadata/namespace").asText(), "events about Nodes go to default");
            assertEquals("Node", e.at("/involvedObject/kind").asText());
            assertEquals(name, e.at("/involvedObject/name").asText());
            assertEquals("Warning", e.path("type").asText());
            assertTrue(e.path("message").asText().contains("10.244.0.0/28"), () -> "message names the pool: " + e);
        }
        List<String> eventWrites = f.controllerRequestsSince(mark).stream()
                .filter(e -> "events".equals(e.resource())).map(e -> e.verb() + " " + e.namespace() + " " + e.code())
                .toList();
        assertTrue(eventWrites.size() >= waiting.size() && eventWrites.stream().allMatch(
                w -> w.matches("(create|patch) default 20[01]")), () -> "event writes accepted: " + eventWrites);

        List<String> assigned = new ArrayList<>();
        all.forEach((name, node) -> {
            if (!RealFixture.podCidrs(node).isEmpty()) {
                assigned.add(name);
            }
        });
        Set<String> freed = new TreeSet<>();
        for (String name : assigned.subList(0, 2)) {
            freed.addAll(RealFixture.podCidrs(all.get(name)));
            f.deleteNode(name);
        }
        Map<String, ObjectNode> after = awaitAllAssigned(4);
        Set<String> taken = new TreeSet<>();
        waiting.forEach(w -> taken.addAll(RealFixture.podCidrs(after.get(w))));
        assertEquals(freed, taken, "the waiting nodes got the freed subnets");
        RealFixture.assertNoOverlap(after, List.of());
        System.out.printf("real exhaustion: waiting=%s events=%d freed=%s requests_by_verb=%s%n", waiting,
                f.events("reason=" + EventReasons.CIDR_NOT_AVAILABLE).size(), freed, f.requestsByVerb(mark));
    }

    private static List<JsonNode> notAvailableEvents(JsonNode node) {
        return f.events("reason=" + EventReasons.CIDR_NOT_AVAILABLE + ",involvedObject.uid="
                + RealFixture.uid(node));
    }

    /**
     * A node with a finalizer that is deleted stays (deletionTimestamp set) and keeps its subnet; once the finalizer
     * is removed the node goes, its subnet is released and the next node gets it.
     */
    @Test
    void nodeBeingDeletedKeepsItsSubnetUntilGone() throws Exception {
        NodeGenerator gen = new NodeGenerator(24);
        List<ObjectNode> nodes = realisticNodes(gen, 0, 4);
        nodes.get(0).with("metadata").putArray("finalizers").add(FINALIZER);
        f.createNodes(nodes, 2);
        String held = NodeGenerator.name(0);
        RealReplicas rs = replicas("10.244.0.0/28", 30);
        RealReplicas.Replica r = rs.start("real-0");
        assertEquals(r, rs.awaitLeader(CONVERGE));
        Map<String, ObjectNode> all = awaitAllAssigned(4);
        List<String> subnet = RealFixture.podCidrs(all.get(held));

        f.deleteNode(held);
        ObjectNode terminating = f.node(held);
        assertTrue(terminating.at("/metadata/deletionTimestamp").isTextual(), "deleted, held by its finalizer");
        // Created after the deletion was stored, so the controller's watch delivers it after the node's update:
        // when it finds no room for this one, it has seen the deletion.
        String late = NodeGenerator.name(4);
        f.createNode(gen.node(4, false));
        RealFixture.await(CONVERGE, () -> r.exhausted.containsKey(late), () -> late + " found no room");
        assertEquals(List.of(), RealFixture.podCidrs(f.node(late)), "no subnet while the node being deleted has it");
        assertEquals(subnet, RealFixture.podCidrs(f.node(held)));
        assertEquals(Optional.of(held), r.controller().ipam().holderOf(Cidr.parse(subnet.get(0))),
                "the controller keeps the subnet of a node being deleted");

        f.mergePatchNode(held, "{\"metadata\":{\"finalizers\":null}}");
        Map<String, ObjectNode> after = awaitAllAssigned(4);
        assertEquals(subnet, RealFixture.podCidrs(after.get(late)), "the released subnet went to the next node");
        assertTrue(r.controller().ipam().assignmentOf(held).isEmpty(), "nothing held for the deleted node");
        RealFixture.assertNoOverlap(after, List.of());
    }
}
