package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Node groups (issue 16) on a real kube-apiserver 1.20, as the chart's ServiceAccount: 2,000 realistic TKE nodes,
 * 1,800 in the default group (10.244.0.0/16 cut into /27), 200 registered IDC nodes picked by their instance-type label
 * in the group {@code idc} (10.250.0.0/22 cut into /28: room for 64). The IDC group runs out while the default group
 * keeps assigning; deleted IDC nodes make room for waiting ones; cloud nodes relabelled into the IDC group keep their
 * subnets and are reported, with no write to them.
 */
class NodeGroupsRealIT extends RealTier {
    private static final Duration CONVERGE = Duration.ofSeconds(150);
    private static final String TYPE = "node.kubernetes.io/instance-type";
    private static final String EXTERNAL = "EXTERNAL";
    private static final Cidr CLOUD = Cidr.parse("10.244.0.0/16");
    private static final Cidr IDC = Cidr.parse("10.250.0.0/22");
    private static final int CLOUD_NODES = 1800;
    private static final int IDC_NODES = 200;

    private static ControllerSettings settings() {
        NodeGroup idc = NodeGroup.builder("idc").addPool(IDC, 28).build();
        return ControllerSettings.builder()
                .clusterCidrs(List.of(CLOUD)).nodeMaskIpv4(27)
                .nodeGroups(List.of(new NodeGroupSettings(idc, NodeSelector.of(List.of(
                        new NodeSelector.Requirement(TYPE, NodeSelector.Operator.In, List.of(EXTERNAL)))))))
                .removeTaints(TaintRule.parseList(NodeGenerator.TKE_ENI_TAINT_KEY))
                .build();
    }

    private static boolean idc(int i) {
        return i >= CLOUD_NODES;
    }

    /** Nodes with a pod CIDR in a range, each checked for the group's mask. */
    private static Set<String> holding(Map<String, ObjectNode> all, Cidr range, int mask) {
        Set<String> out = new TreeSet<>();
        for (Map.Entry<String, ObjectNode> e : all.entrySet()) {
            List<String> cidrs = RealFixture.podCidrs(e.getValue());
            if (!cidrs.isEmpty() && range.contains(Cidr.parse(cidrs.get(0)))) {
                assertEquals(1, cidrs.size(), e.getKey() + " " + cidrs);
                assertTrue(cidrs.get(0).endsWith("/" + mask), e.getKey() + " " + cidrs);
                out.add(e.getKey());
            }
        }
        return out;
    }

    @Test
    void theIdcGroupRunsOutWhileTheDefaultGroupKeepsAssigning() throws Exception {
        NodeGenerator gen = new NodeGenerator(16);
        List<ObjectNode> nodes = new ArrayList<>();
        Set<String> cloud = new TreeSet<>();
        Set<String> idcNodes = new TreeSet<>();
        for (int i = 0; i < CLOUD_NODES + IDC_NODES; i++) {
            ObjectNode n = gen.node(i, i % 4 == 1);
            if (idc(i)) {
                ((ObjectNode) n.get("metadata").get("labels")).put(TYPE, EXTERNAL);
                idcNodes.add(NodeGenerator.name(i));
            } else {
                cloud.add(NodeGenerator.name(i));
            }
            nodes.add(n);
        }
        Duration created = f.createNodes(nodes, 4);
        int mark = f.auditMark();
        long started = System.nanoTime();
        replicas = new RealReplicas(f, settings(), Duration.ofSeconds(15), Duration.ofSeconds(10),
                Duration.ofSeconds(2));
        RealReplicas.Replica r = replicas.start("real-0");
        assertEquals(r, replicas.awaitLeader(Duration.ofSeconds(60)));

        RealFixture.await(CONVERGE, () -> r.controller().status().waitingForRoom() == IDC_NODES - 64
                        && r.assigned.get() == CLOUD_NODES + 64,
                () -> r.assigned.get() + " assigned, " + r.controller().status().waitingForRoom() + " waiting");
        Duration filled = Duration.ofNanos(System.nanoTime() - started);
        Map<String, ObjectNode> all = f.nodes();
        assertEquals(cloud, holding(all, CLOUD, 27), "every cloud node has a /27 of the default group");
        Set<String> idcHolders = holding(all, IDC, 28);
        assertEquals(64, idcHolders.size());
        assertTrue(idcNodes.containsAll(idcHolders), "only IDC nodes hold IDC subnets");
        RealFixture.assertNoOverlap(all, List.of());
        RealFixture.await(CONVERGE, () -> f.events("reason=" + EventReasons.CIDR_NOT_AVAILABLE).size()
                        == IDC_NODES - 64, () -> f.events("reason=" + EventReasons.CIDR_NOT_AVAILABLE).size()
                        + " CIDRNotAvailable events");
        JsonNode exhausted = f.events("reason=" + EventReasons.CIDR_NOT_AVAILABLE).get(0);
        assertTrue(idcNodes.contains(exhausted.at("/involvedObject/name").asText()), exhausted.toString());
        assertTrue(exhausted.path("message").asText().startsWith("no free IPV4 subnet in group idc for node "),
                exhausted.toString());

        // The default group keeps assigning while the IDC group is full.
        List<ObjectNode> more = new ArrayList<>();
        for (int i = CLOUD_NODES + IDC_NODES; i < CLOUD_NODES + IDC_NODES + 20; i++) {
            more.add(gen.node(i, false));
            cloud.add(NodeGenerator.name(i));
        }
        f.createNodes(more, 2);
        RealFixture.await(CONVERGE, () -> holding(f.nodes(), CLOUD, 27).size() == cloud.size(),
                () -> "the 20 new cloud nodes assigned");

        // Ten IDC holders deleted: ten waiting IDC nodes get their subnets.
        List<String> deleted = new ArrayList<>(idcHolders).subList(0, 10);
        deleted.forEach(f::deleteNode);
        RealFixture.await(CONVERGE, () -> r.controller().status().waitingForRoom() == IDC_NODES - 64 - 10
                        && holding(f.nodes(), IDC, 28).size() == 64,
                () -> r.controller().status().waitingForRoom() + " waiting, " + holding(f.nodes(), IDC, 28).size()
                        + " IDC holders");

        // Ten cloud nodes relabelled into the IDC group keep their /27 and are reported; nothing writes to them.
        int relabelMark = f.auditMark();
        List<String> moved = new ArrayList<>(cloud).subList(0, 10);
        Map<String, List<String>> before = new java.util.HashMap<>();
        for (String name : moved) {
            before.put(name, RealFixture.podCidrs(f.node(name)));
            f.mergePatchNode(name, "{\"metadata\":{\"labels\":{\"" + TYPE + "\":\"" + EXTERNAL + "\"}}}");
        }
        RealFixture.await(CONVERGE, () -> r.controller().status().nodesByFinding()
                        .getOrDefault(NodeReport.Kind.IN_OTHER_GROUP, 0) == 10,
                () -> "in_other_group: " + r.controller().status().nodesByFinding());
        RealFixture.await(CONVERGE, () -> f.events("reason=" + EventReasons.CIDR_IN_OTHER_GROUP).size() == 10,
                () -> f.events("reason=" + EventReasons.CIDR_IN_OTHER_GROUP).size() + " CIDRInOtherGroup events");
        for (String name : moved) {
            assertEquals(before.get(name), RealFixture.podCidrs(f.node(name)), name + " keeps its pod CIDR");
        }
        Map<String, Integer> patches = f.nodePatchesByNode(relabelMark);
        for (String name : moved) {
            assertEquals(0, patches.getOrDefault(name, 0), name + " is not written");
        }
        assertEquals(0, r.controller().status().failingClosed());
        RealFixture.assertNoOverlap(f.nodes(), List.of());
        System.out.printf("real node groups: nodes=%d (cloud=%d idc=%d, idc room 64) created_in_ms=%d"
                        + " filled_ms=%d requests_by_verb=%s failed_requests=%s conflicts=%s%n",
                CLOUD_NODES + IDC_NODES, CLOUD_NODES, IDC_NODES, created.toMillis(), filled.toMillis(),
                f.requestsByVerb(mark), f.failedRequests(mark), r.conflicts);
    }
}
