package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeAssignment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Allocation on a real kube-apiserver 1.20: {@link ControllerRunner} in process, authenticated as the chart's
 * ServiceAccount with the chart's RBAC, every check made on what the server stores and on its audit log.
 */
class AllocationRealIT extends RealTier {
    private static final String TKE_TAINT = NodeGenerator.TKE_ENI_TAINT_KEY;
    private static final Duration CONVERGE = Duration.ofSeconds(150);

    private static ControllerSettings settings(String cluster, int mask) {
        return ControllerSettings.builder().clusterCidrs(List.of(Cidr.parse(cluster))).nodeMaskIpv4(mask)
                .removeTaints(TaintRule.parseList(TKE_TAINT)).build();
    }

    /** One replica with the chart's default election timings, leading and restored. */
    private RealReplicas.Replica startController(ControllerSettings s) throws Exception {
        replicas = new RealReplicas(f, s, Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));
        RealReplicas.Replica r = replicas.start("real-0");
        assertEquals(r, replicas.awaitLeader(Duration.ofSeconds(60)));
        return r;
    }

    /**
     * 2,000 realistic TKE nodes, a quarter tainted, with planted cases: three already holding a subnet of the pool
     * (one tainted), a pair created with the same pod CIDR, one holding a CIDR outside the cluster CIDR, one created
     * without spec. Every other node gets exactly one subnet in one write, no two overlap, the configured taint goes,
     * the server's not-ready taint stays.
     */
    @Test
    void twoThousandRealisticNodesOneSubnetAndOneWriteEach() throws Exception {
        int n = 2000;
        NodeGenerator gen = new NodeGenerator(11);
        // Planted indices. Tainted = i % 4 == 1 for every node, planted ones included, and both of the duplicate
        // pair, so that the pair shows which one fails closed.
        Map<Integer, String> preset = Map.of(0, "10.244.200.0/27", 1, "10.244.200.32/27", 2, "10.244.200.64/27");
        String duplicated = "10.244.201.0/27";
        Set<Integer> duplicatePair = Set.of(4, 5);
        int outside = 9;
        String outsideCidr = "10.245.0.0/27";
        int hostBits = 13;
        String hostBitsCidr = "10.244.202.7/27"; // stored as sent; Kubernetes reads it as 10.244.202.0/27
        int withoutSpec = 6;
        List<ObjectNode> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean tainted = i % 4 == 1 || duplicatePair.contains(i);
            ObjectNode node;
            if (preset.containsKey(i)) {
                node = gen.node(i, tainted, preset.get(i));
            } else if (duplicatePair.contains(i)) {
                node = gen.node(i, tainted, duplicated);
            } else if (i == outside) {
                node = gen.node(i, tainted, outsideCidr);
            } else if (i == hostBits) {
                node = gen.node(i, tainted, hostBitsCidr);
            } else {
                node = gen.node(i, tainted);
            }
            if (i == withoutSpec) {
                node.remove("spec");
            }
            nodes.add(node);
        }
        Duration created = f.createNodes(nodes, 4);
        Set<String> conflicting = new TreeSet<>();
        duplicatePair.forEach(i -> conflicting.add(NodeGenerator.name(i)));
        conflicting.add(NodeGenerator.name(outside));
        Set<String> presetNames = new TreeSet<>();
        preset.keySet().forEach(i -> presetNames.add(NodeGenerator.name(i)));
        presetNames.add(NodeGenerator.name(hostBits));
        Set<String> toAssign = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            toAssign.add(NodeGenerator.name(i));
        }
        toAssign.removeAll(conflicting);
        toAssign.removeAll(presetNames);

        int mark = f.auditMark();
        long started = System.nanoTime();
        RealReplicas.Replica r = startController(settings("10.244.0.0/16", 27));
        Duration ready = Duration.ofNanos(System.nanoTime() - started);
        RealFixture.await(CONVERGE, () -> r.assigned.get() >= toAssign.size(),
                () -> r.assigned.get() + " of " + toAssign.size() + " assigned, write failures " + r.writeFailures);
        Duration allAssigned = Duration.ofNanos(r.lastAssignedAt.get() - started);
        RealFixture.await(CONVERGE, () -> r.controller().status().queueDepth() == 0, () -> "queue drained");
        AtomicReference<Map<String, ObjectNode>> stored = new AtomicReference<>();
        RealFixture.await(CONVERGE, () -> {
            stored.set(f.nodes());
            return unfinished(stored.get(), toAssign, conflicting).isEmpty();
        }, () -> "stored nodes not yet done: " + unfinished(stored.get(), toAssign, conflicting));
        Map<String, ObjectNode> all = stored.get();

        assertEquals(n, all.size());
        Cidr cluster = Cidr.parse("10.244.0.0/16");
        for (String name : toAssign) {
            List<String> cidrs = RealFixture.podCidrs(all.get(name));
            assertEquals(1, cidrs.size(), () -> name + " has " + cidrs);
            Cidr c = RealFixture.asKubernetesReadsIt(cidrs.get(0));
            assertTrue(cluster.contains(c) && c.prefixLength() == 27, () -> name + " got " + c);
            assertEquals(Optional.of(cidrs), r.controller().ipam().assignmentOf(name).map(NodeAssignment::podCidrs),
                    () -> name + ": the controller and the API server disagree");
        }
        preset.forEach((i, c) -> assertEquals(List.of(c), RealFixture.podCidrs(all.get(NodeGenerator.name(i))),
                "a preset pod CIDR is kept"));
        duplicatePair.forEach(i -> assertEquals(List.of(duplicated),
                RealFixture.podCidrs(all.get(NodeGenerator.name(i))), "pod CIDRs are never rewritten"));
        assertEquals(List.of(outsideCidr), RealFixture.podCidrs(all.get(NodeGenerator.name(outside))));
        assertEquals(List.of(hostBitsCidr), RealFixture.podCidrs(all.get(NodeGenerator.name(hostBits))),
                "the server stores host bits as sent");
        assertEquals(Optional.of(NodeGenerator.name(hostBits)),
                r.controller().ipam().holderOf(Cidr.parse("10.244.202.0/27")), "held as Kubernetes reads it");
        RealFixture.assertNoOverlap(all, List.of(duplicatePairNames(duplicatePair)));

        // Fail closed: of the duplicate pair, the node that does not hold the subnet keeps its taint and has an event
        // naming the holder; the node outside the cluster CIDR keeps its taint too. Everything else is untainted.
        String winner = r.controller().ipam().holderOf(Cidr.parse(duplicated)).orElseThrow();
        String loser = duplicatePairNames(duplicatePair).stream().filter(x -> !x.equals(winner)).findFirst()
                .orElseThrow();
        Set<String> keepTaint = Set.of(loser, NodeGenerator.name(outside));
        RealFixture.await(CONVERGE, () -> f.events("reason=" + EventReasons.CIDR_CONFLICT).stream()
                .anyMatch(e -> e.at("/involvedObject/name").asText().equals(loser)
                        && e.path("message").asText().contains("node " + winner)), () -> "conflict event on " + loser);
        RealFixture.await(CONVERGE, () -> f.events("reason=" + EventReasons.CIDR_OUTSIDE_CLUSTER_CIDR).stream()
                .anyMatch(e -> e.at("/involvedObject/name").asText().equals(NodeGenerator.name(outside))),
                () -> "outside event");
        RealFixture.await(CONVERGE, () -> !RealFixture.taintKeys(f.node(winner)).contains(TKE_TAINT),
                () -> "taint removed from the holder " + winner);
        assertEquals(2, r.controller().status().failingClosed());
        assertTrue(all.get(NodeGenerator.name(withoutSpec)).has("spec"), "1.20 stores spec {} for a node sent"
                + " without one");

        for (Map.Entry<String, ObjectNode> e : f.nodes().entrySet()) {
            List<String> keys = RealFixture.taintKeys(e.getValue());
            assertTrue(keys.contains(RealFixture.NOT_READY_TAINT), () -> e.getKey() + " lost the server's not-ready"
                    + " taint: " + keys);
            if (keepTaint.contains(e.getKey())) {
                assertTrue(keys.contains(TKE_TAINT), () -> e.getKey() + " lost " + TKE_TAINT + " although its pod"
                        + " CIDR cannot be vouched for");
            } else {
                assertFalse(keys.contains(TKE_TAINT), () -> e.getKey() + " still has " + TKE_TAINT);
            }
        }

        Map<String, Integer> patches = f.nodePatchesByNode(mark);
        Set<String> needWrite = new TreeSet<>(toAssign);
        preset.keySet().stream().filter(i -> i % 4 == 1).forEach(i -> needWrite.add(NodeGenerator.name(i)));
        needWrite.add(NodeGenerator.name(hostBits)); // tainted: its taint goes
        needWrite.add(winner); // tainted: its taint goes
        Set<String> noWrite = new TreeSet<>(presetNames);
        noWrite.addAll(keepTaint);
        noWrite.removeAll(needWrite);
        Map<Integer, Integer> histogram = RealFixture.writesPerNode(patches, needWrite);
        assertEquals(Map.of(1, needWrite.size()), histogram, "node patches per node that needed a write");
        for (String name : noWrite) {
            assertEquals(0, patches.getOrDefault(name, 0), name + " needed no write");
        }
        System.out.printf("real allocation: nodes=%d created_in_ms=%d leader_ready_ms=%d all_assigned_ms=%d"
                        + " assigned=%d writes_per_node=%s (over %d nodes that needed one) write_failures=%s"
                        + " conflicts=%s requests_by_verb=%s failed_requests=%s 403s=%d%n",
                n, created.toMillis(), ready.toMillis(), allAssigned.toMillis(), r.assigned.get(), histogram,
                needWrite.size(), r.writeFailures, r.conflicts, f.requestsByVerb(mark), f.failedRequests(mark),
                f.forbidden().size());
    }

    private static Set<String> duplicatePairNames(Set<Integer> pair) {
        Set<String> out = new HashSet<>();
        pair.forEach(i -> out.add(NodeGenerator.name(i)));
        return out;
    }

    /** Nodes whose stored state is not final yet: no pod CIDR, or the configured taint still on. */
    private static List<String> unfinished(Map<String, ObjectNode> all, Set<String> toAssign, Set<String> skip) {
        List<String> out = new ArrayList<>();
        if (all == null) {
            return List.of("(not read)");
        }
        for (Map.Entry<String, ObjectNode> e : all.entrySet()) {
            if (skip.contains(e.getKey())) {
                continue;
            }
            if (toAssign.contains(e.getKey()) && RealFixture.podCidrs(e.getValue()).isEmpty()
                    || RealFixture.taintKeys(e.getValue()).contains(TKE_TAINT)) {
                out.add(e.getKey());
            }
        }
        return out.size() > 10 ? out.subList(0, 10) : out;
    }

    /**
     * Nodes that join with a pod CIDR already set while the controller runs are adopted: never rewritten, their
     * subnets never handed to another node, and the only write they get is the removal of a configured taint.
     */
    @Test
    void nodesJoiningWithAPodCidrAreAdoptedNotRewritten() throws Exception {
        NodeGenerator gen = new NodeGenerator(13);
        RealReplicas.Replica r = startController(settings("10.244.0.0/24", 27));
        int mark = f.auditMark();
        f.createNodes(List.of(gen.node(0), gen.node(1)), 2);
        RealFixture.await(CONVERGE, () -> r.assigned.get() >= 2, () -> r.assigned.get() + " of 2 assigned");
        // The next subnets the pool would hand out (it allocates next-fit): taken by joiners now.
        String taintedJoiner = NodeGenerator.name(10);
        String plainJoiner = NodeGenerator.name(11);
        f.createNode(gen.node(10, true, "10.244.0.64/27"));
        f.createNode(gen.node(11, false, "10.244.0.96/27"));
        RealFixture.await(CONVERGE, () -> r.controller().ipam().assignmentOf(taintedJoiner).isPresent()
                && r.controller().ipam().assignmentOf(plainJoiner).isPresent(), () -> "joiners adopted");
        RealFixture.await(CONVERGE, () -> !RealFixture.taintKeys(f.node(taintedJoiner)).contains(TKE_TAINT),
                () -> "taint removed from " + taintedJoiner);
        f.createNodes(List.of(gen.node(2), gen.node(3)), 2);
        RealFixture.await(CONVERGE, () -> r.assigned.get() >= 4, () -> r.assigned.get() + " of 4 assigned");
        RealFixture.await(CONVERGE, () -> r.controller().status().queueDepth() == 0, () -> "queue drained");

        Map<String, ObjectNode> all = f.nodes();
        assertEquals(List.of("10.244.0.64/27"), RealFixture.podCidrs(all.get(taintedJoiner)));
        assertEquals(List.of("10.244.0.96/27"), RealFixture.podCidrs(all.get(plainJoiner)));
        assertEquals(List.of("10.244.0.64/27"), r.controller().ipam().assignmentOf(taintedJoiner).orElseThrow()
                .podCidrs());
        assertEquals(List.of("10.244.0.96/27"), r.controller().ipam().assignmentOf(plainJoiner).orElseThrow()
                .podCidrs());
        assertTrue(RealFixture.taintKeys(all.get(plainJoiner)).contains(RealFixture.NOT_READY_TAINT));
        for (int i = 0; i < 4; i++) {
            assertEquals(1, RealFixture.podCidrs(all.get(NodeGenerator.name(i))).size());
        }
        RealFixture.assertNoOverlap(all, List.of());
        Map<String, Integer> patches = f.nodePatchesByNode(mark);
        assertEquals(1, patches.getOrDefault(taintedJoiner, 0), "one write to the tainted joiner: its taint");
        assertEquals(0, patches.getOrDefault(plainJoiner, 0), "no write to a joiner with nothing to change");
        System.out.printf("real joiners: patches=%s requests_by_verb=%s%n", patches, f.requestsByVerb(mark));
    }
}
