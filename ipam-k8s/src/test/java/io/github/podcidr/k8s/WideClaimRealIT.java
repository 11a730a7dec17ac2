package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pod CIDRs wider than one node subnet on kube-apiserver 1.20 (it accepts any valid CIDR): a /22 in a pool of /24s,
 * a supernet of the cluster range and {@code 0.0.0.0/0}, beside plain nodes (issue 27, item 1). Such a node holds every
 * node subnet its claim overlaps, because Flannel routes the whole claim to it and lets its pods take addresses
 * anywhere in it; it keeps its taints, gets a {@code CIDRTooWide} event, and nodes that find no room are told which
 * node holds the pool.
 */
class WideClaimRealIT extends RealTier {
    private static final String TKE_TAINT = NodeGenerator.TKE_ENI_TAINT_KEY;
    private static final Duration CONVERGE = Duration.ofSeconds(120);

    @Test
    void wideClaimsHoldWhatTheyOverlapKeepTheirTaintsAndAreReported() throws Exception {
        ControllerSettings s = ControllerSettings.builder().clusterCidrs(List.of(Cidr.parse("10.244.0.0/16")))
                .removeTaints(TaintRule.parseList(TKE_TAINT)).build();
        replicas = new RealReplicas(f, s, Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));
        NodeGenerator gen = new NodeGenerator(27);
        String wide = NodeGenerator.name(100);
        f.createNode(gen.node(100, true, "10.244.8.0/22"));
        RealReplicas.Replica r = replicas.start("real-0");
        assertEquals(r, replicas.awaitLeader(Duration.ofSeconds(60)));

        // A /22 beside 20 plain nodes: they get subnets, none inside the /22; the wide node keeps its taint.
        f.createNodes(plain(gen, 0, 20), 4);
        RealFixture.await(CONVERGE, () -> r.assigned.get() == 20, () -> r.assigned + " of 20 assigned");
        RealFixture.await(CONVERGE, () -> r.controller().status().queueDepth() == 0, () -> "queue drained");
        Cidr quarter = Cidr.parse("10.244.8.0/22");
        for (int i = 0; i < 20; i++) {
            Cidr mine = Cidr.parse(RealFixture.podCidrs(f.node(NodeGenerator.name(i))).get(0));
            assertFalse(quarter.overlaps(mine), NodeGenerator.name(i) + " got " + mine + " inside the /22");
        }
        assertTrue(RealFixture.taintKeys(f.node(wide)).contains(TKE_TAINT), "a wide claim is not vouched for");
        assertEquals(List.of("10.244.8.0/22"), RealFixture.podCidrs(f.node(wide)), "never rewritten");
        assertTrue(r.controller().status().isFailingClosed(wide));
        assertEquals(Map.of(NodeReport.Kind.OVERSIZED, 1), r.controller().status().nodesByFinding());
        RealFixture.await(CONVERGE, () -> !tooWide(wide).isEmpty(), () -> "a CIDRTooWide event on " + wide);
        String message = tooWide(wide).get(0).path("message").asText();
        assertTrue(message.contains("10.244.8.0/22"), message);

        // A supernet of the cluster range and 0.0.0.0/0: every free subnet is theirs; new nodes wait, and their
        // CIDRNotAvailable event names what holds the pool. Both wide nodes keep their taints.
        String supernet = NodeGenerator.name(101);
        String everything = NodeGenerator.name(102);
        f.createNode(gen.node(101, true, "10.244.0.0/15"));
        f.createNode(gen.node(102, true, "0.0.0.0/0"));
        RealFixture.await(CONVERGE, () -> r.controller().status().isFailingClosed(supernet)
                && r.controller().status().isFailingClosed(everything), () -> "both fail closed");
        f.createNodes(plain(gen, 20, 25), 2);
        RealFixture.await(CONVERGE, () -> r.controller().status().waitingForRoom() == 5,
                () -> r.controller().status().waitingForRoom() + " of 5 waiting for room");
        RealFixture.await(CONVERGE, () -> !f.events("reason=CIDRNotAvailable").isEmpty(), () -> "exhaustion events;"
                + " events now: " + f.events("type=Warning").stream().map(e -> e.path("reason").asText() + "/"
                + e.at("/involvedObject/name").asText()).toList() + "; failed requests " + f.failedRequests(0)
                + "; all requests " + f.requestsByVerb(0));
        String why = f.events("reason=CIDRNotAvailable").get(0).path("message").asText();
        assertTrue(why.contains(supernet) || why.contains(everything), "the exhaustion names the wide claim: " + why);
        for (String n : List.of(wide, supernet, everything)) {
            assertTrue(RealFixture.taintKeys(f.node(n)).contains(TKE_TAINT), n + " keeps its taint");
        }
        Map<String, ObjectNode> all = f.nodes();
        for (int i = 20; i < 25; i++) {
            assertEquals(List.of(), RealFixture.podCidrs(all.get(NodeGenerator.name(i))), "nothing inside a claim");
        }

        // The operator deletes the two: the waiting nodes get subnets, none inside the /22 that is still there.
        f.deleteNode(supernet);
        f.deleteNode(everything);
        RealFixture.await(CONVERGE, () -> r.assigned.get() == 25, () -> r.assigned + " of 25 assigned");
        for (int i = 20; i < 25; i++) {
            Cidr mine = Cidr.parse(RealFixture.podCidrs(f.node(NodeGenerator.name(i))).get(0));
            assertFalse(quarter.overlaps(mine), NodeGenerator.name(i) + " got " + mine + " inside the /22");
        }
        RealFixture.assertNoOverlap(f.nodes(), List.of());
        System.out.printf("[wide-claim-real] /22 held 4 subnets beside 20 nodes; /15 and 0.0.0.0/0 held the rest; 5"
                + " nodes waited and got subnets once both were deleted; exhaustion said: %s%n", why);
    }

    private static List<ObjectNode> plain(NodeGenerator gen, int from, int to) {
        List<ObjectNode> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(gen.node(i));
        }
        return out;
    }

    private static List<JsonNode> tooWide(String node) {
        return f.events("reason=" + EventReasons.CIDR_TOO_WIDE + ",involvedObject.name=" + node);
    }
}
