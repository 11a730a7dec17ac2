package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Node groups (issue 16) against the simulated API server over HTTP, at 2,000 nodes: cloud nodes in the default group
 * (10.244.0.0/16 cut into /27), registered IDC nodes, picked by their instance-type label, in their own dual-stack
 * group (10.250.0.0/22 cut into /28: 64 subnets, and fd00:250::/56 into /64); the IDC group runs out while the cloud
 * group keeps assigning, nodes move between groups by their labels, nodes are deleted, and a new leader restores.
 */
class NodeGroupsIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    static final String TYPE = "node.kubernetes.io/instance-type";
    static final String EXTERNAL = "EXTERNAL";
    static final Cidr CLOUD = Cidr.parse("10.244.0.0/16");
    static final Cidr IDC4 = Cidr.parse("10.250.0.0/22");
    static final Cidr IDC6 = Cidr.parse("fd00:250::/56");

    private final SimFixture f = new SimFixture();
    private final List<PodCidrController> controllers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        controllers.forEach(PodCidrController::close);
        f.close();
    }

    static ControllerSettings settings() {
        NodeGroup idc = NodeGroup.builder("idc").addPool(IDC4, 28).addPool(IDC6, 64).build();
        return ControllerSettings.builder()
                .clusterCidrs(List.of(CLOUD)).nodeMaskIpv4(27)
                .nodeGroups(List.of(new NodeGroupSettings(idc, NodeSelector.of(List.of(
                        new NodeSelector.Requirement(TYPE, NodeSelector.Operator.In, List.of(EXTERNAL)))))))
                .workers(4)
                .build();
    }

    /** Counts exhaustion per group and problems per kind, as the Prometheus metrics do. */
    static final class Counting implements ControllerMetrics {
        final Map<String, AtomicInteger> exhausted = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> problems = new ConcurrentHashMap<>();

        @Override
        public void exhausted(String node, String group) {
            exhausted.computeIfAbsent(group, g -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void conflict(String kind) {
            problems.computeIfAbsent(kind, g -> new AtomicInteger()).incrementAndGet();
        }

        int exhaustedIn(String group) {
            AtomicInteger n = exhausted.get(group);
            return n == null ? 0 : n.get();
        }
    }

    private PodCidrController start(ControllerMetrics metrics) throws Exception {
        PodCidrController c = new PodCidrController(f.clients(), settings(), metrics, WriteFence.OPEN);
        controllers.add(c);
        c.start();
        assertTrue(c.isReady());
        return c;
    }

    private void createCloud(String name) {
        f.sim.createNode(SimFixture.node(name, Map.of(TYPE, "S5.LARGE8"), List.of()));
    }

    private void createIdc(String name) {
        f.sim.createNode(SimFixture.node(name, Map.of(TYPE, EXTERNAL), List.of()));
    }

    private void relabel(String name, String type) {
        ObjectNode n = f.sim.getNode(name);
        ((ObjectNode) n.get("metadata").get("labels")).put(TYPE, type);
        f.sim.update(ResourceType.NODES, n);
    }

    private List<String> names(String prefix, java.util.function.Predicate<String> which) {
        List<String> out = new ArrayList<>();
        for (ObjectNode n : f.sim.list(ResourceType.NODES, null)) {
            String name = n.at("/metadata/name").asText();
            if (name.startsWith(prefix) && which.test(name)) {
                out.add(name);
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * Nodes of a prefix with pod CIDRs, each checked against the ranges of the group it was created in: a node whose
     * labels move it later keeps what it got.
     */
    private int assignedIn(String prefix) {
        int n = 0;
        for (String name : names(prefix, x -> true)) {
            List<String> cidrs = f.podCidrs(name);
            if (cidrs.isEmpty()) {
                continue;
            }
            n++;
            if (prefix.equals("idc")) {
                assertEquals(2, cidrs.size(), name + " " + cidrs);
                assertTrue(IDC4.contains(Cidr.parse(cidrs.get(0))) && cidrs.get(0).endsWith("/28"), name + cidrs);
                assertTrue(IDC6.contains(Cidr.parse(cidrs.get(1))) && cidrs.get(1).endsWith("/64"), name + cidrs);
            } else {
                assertEquals(1, cidrs.size(), name + " " + cidrs);
                assertTrue(CLOUD.contains(Cidr.parse(cidrs.get(0))) && cidrs.get(0).endsWith("/27"), name + cidrs);
            }
        }
        return n;
    }

    private void assertNoOverlap(PodCidrController c) {
        List<Map.Entry<Cidr, String>> all = new ArrayList<>();
        for (ObjectNode n : f.sim.list(ResourceType.NODES, null)) {
            String name = n.at("/metadata/name").asText();
            f.podCidrs(name).forEach(t -> all.add(Map.entry(Cidr.parse(t), name)));
        }
        all.sort(Map.Entry.comparingByKey());
        for (int i = 1; i < all.size(); i++) {
            Map.Entry<Cidr, String> a = all.get(i - 1);
            Map.Entry<Cidr, String> b = all.get(i);
            assertFalse(a.getKey().overlaps(b.getKey()), a + " overlaps " + b);
        }
        io.github.podcidr.ipam.IpamInvariants.check(c.ipam());
    }

    @Test
    void twoGroupsFillIndependentlyAndMovesAreReportedNotRewritten() throws Exception {
        for (int i = 0; i < 1900; i++) {
            createCloud("cloud" + i);
        }
        for (int i = 0; i < 100; i++) {
            createIdc("idc" + i);
        }
        Counting metrics = new Counting();
        PodCidrController c = start(metrics);

        // The IDC group holds 64 nodes; the other 36 wait, with events naming the group. The cloud group is not held
        // up by it: every cloud node gets its /27.
        SimFixture.await(WAIT, () -> assignedIn("cloud") == 1900 && assignedIn("idc") == 64
                        && c.status().waitingForRoom() == 36,
                () -> assignedIn("cloud") + " cloud, " + assignedIn("idc") + " idc assigned, "
                        + c.status().waitingForRoom() + " waiting");
        assertEquals(0, metrics.exhaustedIn(NodeIpam.DEFAULT_GROUP));
        assertTrue(metrics.exhaustedIn("idc") >= 36, metrics.exhausted::toString);
        SimFixture.await(WAIT, () -> f.events("CIDRNotAvailable").size() == 36, () -> f.events("CIDRNotAvailable")
                .size() + " CIDRNotAvailable events");
        String message = f.events("CIDRNotAvailable").get(0).path("message").asText();
        assertTrue(message.startsWith("no free IPV4 subnet in group idc for node idc"), message);
        assertTrue(message.contains("10.250.0.0/22 /28: 64 of 64 in use"), message);
        assertEquals(64, c.ipam().stats("idc").get(0).allocated());

        // The cloud group keeps assigning while the IDC group is full.
        for (int i = 1900; i < 1950; i++) {
            createCloud("cloud" + i);
        }
        SimFixture.await(WAIT, () -> assignedIn("cloud") == 1950, () -> "new cloud nodes assigned");

        // Churn in the IDC group: 20 holders deleted, 20 waiting nodes get their subnets.
        List<String> holders = names("idc", n -> !f.podCidrs(n).isEmpty()).subList(0, 20);
        holders.forEach(f.sim::deleteNode);
        SimFixture.await(WAIT, () -> assignedIn("idc") == 64 && c.status().waitingForRoom() == 16,
                () -> assignedIn("idc") + " idc assigned, " + c.status().waitingForRoom() + " waiting");

        // Labels move 30 cloud nodes into the IDC group: they keep their subnets (pod CIDRs are immutable) and are
        // reported; nothing is written to them, and the IDC group's capacity is untouched.
        long patchesBefore = f.patches();
        List<String> moved = names("cloud", n -> true).subList(0, 30);
        moved.forEach(n -> relabel(n, EXTERNAL));
        SimFixture.await(WAIT, () -> c.status().nodesByFinding().getOrDefault(NodeReport.Kind.IN_OTHER_GROUP, 0) == 30,
                () -> "in_other_group: " + c.status().nodesByFinding());
        SimFixture.await(WAIT, () -> f.events("CIDRInOtherGroup").size() == 30,
                () -> f.events("CIDRInOtherGroup").size() + " CIDRInOtherGroup events");
        String other = f.events("CIDRInOtherGroup").get(0).path("message").asText();
        assertTrue(other.contains("lies in a range of group default, but the node belongs to group idc"), other);
        assertEquals(30, metrics.problems.get("in_other_group").get());
        assertEquals(0, c.status().failingClosed(), "a node in another group's range keeps its taints off");
        assertEquals(1950, assignedIn("cloud"), "moved nodes keep their cloud subnet");
        assertEquals(64, c.ipam().stats("idc").get(0).allocated());
        // Ten move back: their reports clear.
        moved.subList(0, 10).forEach(n -> relabel(n, "S5.LARGE8"));
        SimFixture.await(WAIT, () -> c.status().nodesByFinding().getOrDefault(NodeReport.Kind.IN_OTHER_GROUP, 0) == 20,
                () -> "in_other_group after moving back: " + c.status().nodesByFinding());
        assertEquals(patchesBefore, f.patches(), "moves write nothing");
        assertNoOverlap(c);

        // A new leader restores every node into the group whose range holds it, reports the 20 still moved, and
        // writes nothing to nodes that have their pod CIDRs.
        c.close();
        long beforeRestart = f.patches();
        Counting again = new Counting();
        PodCidrController second = start(again);
        assertEquals(1950 + 64, second.restoreReport().nodes().size());
        assertEquals(20, second.restoreReport().problems().stream()
                .filter(r -> !r.findings(NodeReport.Kind.IN_OTHER_GROUP).isEmpty()).count());
        assertEquals(1950, second.ipam().stats(NodeIpam.DEFAULT_GROUP).get(0).allocated(),
                "the 20 moved nodes still hold their default-group subnets");
        assertEquals(64, second.ipam().stats("idc").get(0).allocated());
        SimFixture.await(WAIT, () -> second.status().waitingForRoom() == 16, () -> second.status().waitingForRoom() + " waiting");
        assertEquals(beforeRestart, f.patches(), "a restart writes nothing");
        assertNoOverlap(second);
    }

    @Test
    void withoutADefaultGroupNodesInNoGroupAreLeftAloneWithAnEvent() throws Exception {
        NodeGroup idc = NodeGroup.builder("idc").addPool(IDC4, 28).build();
        ControllerSettings s = ControllerSettings.builder()
                .nodeGroups(List.of(new NodeGroupSettings(idc, NodeSelector.of(List.of(
                        new NodeSelector.Requirement(TYPE, NodeSelector.Operator.In, List.of(EXTERNAL)))))))
                .workers(2).build();
        createIdc("idc0");
        createCloud("cloud0");
        PodCidrController c = new PodCidrController(f.clients(), s, ControllerMetrics.NONE, WriteFence.OPEN);
        controllers.add(c);
        c.start();
        SimFixture.await(WAIT, () -> !f.podCidrs("idc0").isEmpty() && f.events("NodeInNoGroup").size() == 1,
                () -> "idc0 assigned and one NodeInNoGroup event: " + f.events("NodeInNoGroup"));
        assertEquals(List.of("10.250.0.0/28"), f.podCidrs("idc0"));
        assertEquals(List.of(), f.podCidrs("cloud0"));
        ObjectNode event = f.events("NodeInNoGroup").get(0);
        assertEquals("cloud0", event.at("/involvedObject/name").asText());
        assertTrue(event.path("message").asText().startsWith("node matches the selector of no node group (idc) and"
                + " there is no default group"), event.toString());
    }
}
