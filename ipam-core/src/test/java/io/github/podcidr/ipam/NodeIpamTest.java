package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NodeIpamTest {

    private static Cidr c(String s) {
        return Cidr.parse(s);
    }

    private static NodeIpam dualStack() {
        return NodeIpam.builder()
                .addPool(c("10.244.0.0/16"), 24)
                .addPool(c("fd00:10:244::/56"), 64)
                .build();
    }

    @Test
    void assignsOneSubnetPerFamilyPrimaryFirstAndIsIdempotent() {
        NodeIpam ipam = dualStack();
        NodeAssignment a = ipam.assign("node-a");
        assertEquals(List.of("10.244.0.0/24", "fd00:10:244::/64"), a.podCidrs());
        assertEquals(a, ipam.assign("node-a"));
        assertEquals(Optional.of(a), ipam.assignmentOf("node-a"));
        assertEquals(Optional.of("node-a"), ipam.holderOf(c("fd00:10:244::/64")));
        assertEquals(List.of("10.244.1.0/24", "fd00:10:244:1::/64"), ipam.assign("node-b").podCidrs());
        ipam.checkInvariants();
    }

    @Test
    void theFirstPoolsFamilyIsPrimary() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("fd00::/120"), 124).addPool(c("10.0.0.0/24"), 28).build();
        assertEquals(List.of(IpFamily.IPV6, IpFamily.IPV4), ipam.families());
        assertEquals(List.of("fd00::/124", "10.0.0.0/28"), ipam.assign("n").podCidrs());
    }

    @Test
    void releaseFreesExactlyTheNodesSubnetsAndIsIdempotent() {
        NodeIpam ipam = dualStack();
        ipam.assign("a");
        ipam.assign("b");
        assertTrue(ipam.release("a"));
        assertFalse(ipam.release("a"));
        assertEquals(Optional.empty(), ipam.assignmentOf("a"));
        assertEquals(Optional.empty(), ipam.holderOf(c("10.244.0.0/24")));
        assertEquals(Optional.of("b"), ipam.holderOf(c("10.244.1.0/24")));
        assertEquals(1, ipam.stats().get(0).allocated());
        assertEquals(1, ipam.nodeCount());
        ipam.checkInvariants();
    }

    @Test
    void dualStackIsAllOrNothingWhenOneFamilyIsExhausted() {
        NodeIpam ipam = NodeIpam.builder()
                .addPool(c("10.0.0.0/24"), 26)      // 4 IPv4 subnets
                .addPool(c("fd00::/127"), 128)      // 2 IPv6 subnets
                .build();
        ipam.assign("a");
        ipam.assign("b");
        List<PoolStats> before = ipam.stats();
        PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> ipam.assign("c"));
        assertEquals("no free IPV6 subnet for node c: the pool is full (fd00::/127 /128: 2 of 2 in use); delete"
                + " nodes or add a range", e.getMessage());
        assertEquals(c("fd00::/127"), e.pool());
        assertEquals(before, ipam.stats(), "the IPv4 subnet was not taken");
        assertEquals(Optional.empty(), ipam.assignmentOf("c"));
        ipam.release("a");
        assertEquals(List.of("10.0.0.128/26", "fd00::/128"), ipam.assign("c").podCidrs());
        ipam.checkInvariants();
    }

    @Test
    void poolsOfAFamilyFillInOrder() {
        NodeIpam ipam = NodeIpam.builder()
                .addPool(c("10.244.0.0/23"), 24)
                .addPool(c("10.245.0.0/24"), 25)
                .build();
        assertEquals("10.244.0.0/24", ipam.assign("a").cidrs().get(0).toString());
        assertEquals("10.244.1.0/24", ipam.assign("b").cidrs().get(0).toString());
        assertEquals("10.245.0.0/25", ipam.assign("c").cidrs().get(0).toString());
        ipam.release("a");
        assertEquals("10.244.0.0/24", ipam.assign("d").cidrs().get(0).toString(), "the first pool has room again");
        assertEquals("10.245.0.128/25", ipam.assign("e").cidrs().get(0).toString());
        PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> ipam.assign("f"));
        assertTrue(e.getMessage().startsWith("no free IPV4 subnet for node f: all 2 IPV4 pools are full"
                + " (10.244.0.0/23 /24: 2 of 2 in use; 10.245.0.0/24 /25: 2 of 2 in use)"), e.getMessage());
    }

    @Test
    void reservedRangesApplyToEveryPool() {
        NodeIpam ipam = NodeIpam.builder()
                .addPool(c("10.244.0.0/23"), 24)
                .addPool(c("10.96.0.0/23"), 24)
                .reserve(c("10.96.0.0/24"))
                .reserve(c("10.244.0.0/24"))
                .build();
        assertEquals("10.244.1.0/24", ipam.assign("a").cidrs().get(0).toString());
        assertEquals("10.96.1.0/24", ipam.assign("b").cidrs().get(0).toString());
        assertThrows(PoolExhaustedException.class, () -> ipam.assign("c"));
    }

    @Test
    void refusesOverlappingPoolsAndNoPool() {
        InvalidPoolException overlap = assertThrows(InvalidPoolException.class, () -> NodeIpam.builder()
                .addPool(c("10.244.0.0/16"), 24).addPool(c("10.244.128.0/17"), 24).build());
        assertEquals("pools 10.244.0.0/16 and 10.244.128.0/17 overlap; every address may belong to one pool only:"
                + " remove one or use ranges that do not overlap", overlap.getMessage());
        InvalidPoolException none = assertThrows(InvalidPoolException.class, () -> NodeIpam.builder().build());
        assertTrue(none.getMessage().startsWith("no pool configured"), none.getMessage());
    }

    /** One row per classification: what restore makes of each kind of existing node. */
    @Test
    void restoreClassifiesEveryKindOfExistingNode() {
        NodeIpam ipam = dualStack();
        RestoreReport report = ipam.restore(List.of(
                new ExistingNode("fresh", List.of()),
                new ExistingNode("ok", List.of("10.244.5.0/24", "fd00:10:244:5::/64")),
                new ExistingNode("dup", List.of("10.244.5.0/24", "fd00:10:244:6::/64")),
                new ExistingNode("outside", List.of("192.168.0.0/24", "fd00:10:244:7::/64")),
                new ExistingNode("misaligned", List.of("10.244.8.0/23", "fd00:10:244:8::/64")),
                new ExistingNode("malformed", List.of("10.244.10.1/24", "fd00:10:244:10::/64")),
                new ExistingNode("single", List.of("10.244.11.0/24")),
                new ExistingNode("twice", List.of("10.244.12.0/24", "10.244.13.0/24", "fd00:10:244:12::/64"))));

        assertEquals(7, report.nodes().size(), "a node without pod CIDRs is not reported");
        NodeReport ok = report.nodes().get(0);
        assertEquals(List.of(c("10.244.5.0/24"), c("fd00:10:244:5::/64")), ok.adopted());
        assertFalse(ok.hasProblems());

        NodeReport dup = report.nodes().get(1);
        assertEquals(List.of(new NodeReport.Finding(NodeReport.Kind.DUPLICATE, "10.244.5.0/24", c("10.244.5.0/24"),
                "ok", dup.findings().get(0).message())), dup.findings());
        assertTrue(dup.findings().get(0).message().contains("overlaps the subnet of node ok, which keeps it"));
        assertEquals(List.of(c("fd00:10:244:6::/64")), dup.adopted());
        assertEquals(Optional.of("ok"), ipam.holderOf(c("10.244.5.0/24")), "the first holder keeps it");
        assertFalse(dup.vouched(), "a duplicate fails closed");

        NodeReport outside = report.nodes().get(2);
        assertEquals(List.of(NodeReport.Kind.OUTSIDE_POOLS), kinds(outside));
        assertEquals(c("192.168.0.0/24"), outside.findings().get(0).cidr());
        assertFalse(outside.vouched());

        NodeReport misaligned = report.nodes().get(3);
        assertEquals(List.of(NodeReport.Kind.OVERSIZED), kinds(misaligned), "a /23 is wider than a /24 node subnet");
        assertEquals(Optional.of("misaligned"), ipam.holderOf(c("10.244.8.0/24")), "overlapped subnets are held");
        assertEquals(Optional.of("misaligned"), ipam.holderOf(c("10.244.9.0/24")));
        assertFalse(misaligned.vouched(), "every subnet it overlaps is held for it, but it is not vouched for");

        NodeReport hostBits = report.nodes().get(4);
        assertEquals(List.of(NodeReport.Kind.NON_CANONICAL), kinds(hostBits));
        assertEquals("10.244.10.1/24", hostBits.findings().get(0).value());
        assertEquals(List.of(c("10.244.10.0/24"), c("fd00:10:244:10::/64")), hostBits.adopted(),
                "read as Kubernetes reads it: host bits masked");
        assertTrue(hostBits.vouched());

        NodeReport single = report.nodes().get(5);
        assertEquals(List.of(NodeReport.Kind.MISSING_FAMILY), kinds(single));
        assertEquals("IPV6", single.findings().get(0).value());
        assertEquals(List.of(c("10.244.11.0/24")), single.adopted());
        assertTrue(single.vouched());

        NodeReport twice = report.nodes().get(6);
        assertEquals(List.of(c("10.244.12.0/24"), c("fd00:10:244:12::/64")), twice.adopted());
        assertEquals(List.of(NodeReport.Kind.SECOND_OF_FAMILY), kinds(twice));
        assertTrue(twice.findings().get(0).message().contains("is a second IPV4 pod CIDR"));

        assertEquals(6, report.problems().size());
        assertEquals(10, report.adoptedSubnets());
        ipam.checkInvariants();

        // Nothing restored is handed out again, and the misaligned node's subnets come back when it goes.
        for (int i = 0; i < 240; i++) {
            NodeAssignment a = ipam.assign("new-" + i);
            assertFalse(List.of("10.244.5.0/24", "10.244.8.0/24", "10.244.9.0/24", "10.244.10.0/24",
                    "10.244.11.0/24", "10.244.12.0/24").contains(a.podCidrs().get(0)), a.toString());
        }
        assertTrue(ipam.release("misaligned"));
        assertEquals(Optional.empty(), ipam.holderOf(c("10.244.9.0/24")));
        ipam.checkInvariants();
    }

    @Test
    void adoptRecordsANodeThatJoinsWithAPodCidrSoItIsNeverHandedOutAgain() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/30"), 32).build(); // 4 subnets
        NodeReport r = ipam.adopt("joined", List.of("10.244.0.1/32"));
        assertEquals(List.of(c("10.244.0.1/32")), r.adopted());
        assertEquals("10.244.0.0/32", ipam.assign("a").podCidrs().get(0));
        assertEquals("10.244.0.2/32", ipam.assign("b").podCidrs().get(0));
        assertEquals(r, ipam.adopt("joined", List.of("10.244.0.1/32")), "adopt is idempotent");
    }

    @Test
    void adoptReplacesAnAllocationThatNeverReachedTheNode() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        assertEquals("10.244.0.0/24", ipam.assign("n").podCidrs().get(0));
        // another writer gave the node 10.244.9.0/24 before our patch landed; the API is the truth
        NodeReport r = ipam.adopt("n", List.of("10.244.9.0/24"));
        assertEquals(List.of(c("10.244.9.0/24")), r.adopted());
        assertEquals(Optional.empty(), ipam.holderOf(c("10.244.0.0/24")));
        assertEquals(List.of("10.244.9.0/24"), ipam.assignmentOf("n").orElseThrow().podCidrs());
        ipam.checkInvariants();
    }

    @Test
    void aMisalignedCidrThatLaterBecomesAlignedKeepsItsSubnet() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("n", List.of("10.244.0.0/23"));
        NodeReport r = ipam.adopt("n", List.of("10.244.0.0/24"));
        assertEquals(List.of(c("10.244.0.0/24")), r.adopted());
        assertEquals(List.of("10.244.0.0/24"), ipam.assignmentOf("n").orElseThrow().podCidrs());
        ipam.checkInvariants();
    }

    @Test
    void aMisalignedCidrThatLaterBecomesAlignedFreesTheOtherSubnetsItHeld() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("n", List.of("10.244.0.0/23"));
        assertEquals(Optional.of("n"), ipam.holderOf(c("10.244.1.0/24")));
        ipam.adopt("n", List.of("10.244.0.0/24"));
        assertEquals(Optional.empty(), ipam.holderOf(c("10.244.1.0/24")), "not claimed by the API value any more");
        assertEquals(255, ipam.stats().get(0).free());
        ipam.checkInvariants();
    }

    @Test
    void aDuplicateFoundAfterAnUnansweredWriteFreesTheSubnetThatCanNeverReachTheNode() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("old", List.of("10.244.7.0/24"));
        assertEquals("10.244.0.0/24", ipam.assign("n").podCidrs().get(0)); // written, no answer
        // meanwhile someone else gave n a copy of old's subnet: pod CIDRs are immutable, ours can never land
        NodeReport r = ipam.adopt("n", List.of("10.244.7.0/24"));
        assertEquals(List.of(NodeReport.Kind.DUPLICATE), kinds(r));
        assertFalse(r.vouched());
        assertEquals(Optional.empty(), ipam.holderOf(c("10.244.0.0/24")), "freed");
        assertEquals(Optional.empty(), ipam.assignmentOf("n"), "never reports a subnet the node cannot get");
        ipam.checkInvariants();
    }

    @Test
    void anUnreadableOrForeignValueAlsoFreesTheFamilysInFlightSubnet() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).addPool(c("fd00::/48"), 64).build();
        ipam.assign("a");
        ipam.assign("b");
        NodeReport ra = ipam.adopt("a", List.of("not-a-cidr", "fd00:0:0:5::/64"));
        assertEquals(List.of(c("fd00:0:0:5::/64")), ra.adopted());
        assertEquals(List.of(NodeReport.Kind.MALFORMED, NodeReport.Kind.MISSING_FAMILY), kinds(ra));
        NodeReport rb = ipam.adopt("b", List.of("192.168.3.0/24"));
        assertEquals(List.of(NodeReport.Kind.OUTSIDE_POOLS, NodeReport.Kind.MISSING_FAMILY), kinds(rb));
        assertEquals(Optional.empty(), ipam.assignmentOf("b"), "both families replaced by what the API says");
        assertEquals(256, ipam.stats().get(0).free());
        assertEquals(65_535, ipam.stats().get(1).free());
        ipam.checkInvariants();
    }

    @Test
    void aMisalignedCidrOverOtherNodesIsReportedOncePerHolder() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("x", List.of("10.244.0.0/24"));
        ipam.adopt("y", List.of("10.244.1.0/24"));
        NodeReport r = ipam.adopt("wide", List.of("10.244.0.0/22"));
        assertEquals(List.of(NodeReport.Kind.OVERSIZED, NodeReport.Kind.DUPLICATE, NodeReport.Kind.DUPLICATE),
                kinds(r));
        assertEquals(List.of("x", "y"), r.findings(NodeReport.Kind.DUPLICATE).stream()
                .map(NodeReport.Finding::holder).toList());
        assertFalse(r.vouched());
        assertEquals(Optional.of("wide"), ipam.holderOf(c("10.244.3.0/24")), "the free part is still held");
        ipam.checkInvariants();
    }

    @Test
    void anUnconfiguredFamilyAndAReservedRangeHaveTheirOwnKinds() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).reserve(c("10.244.255.0/24")).build();
        NodeReport r = ipam.adopt("n", List.of("10.244.255.0/24", "fd00::/64"));
        assertEquals(List.of(NodeReport.Kind.UNCONFIGURED_FAMILY, NodeReport.Kind.IN_RESERVED_RANGE), kinds(r));
        assertEquals(List.of(c("10.244.255.0/24")), r.adopted());
        assertTrue(r.vouched(), "neither conflicts with another node");
        assertTrue(ipam.adopt("m", List.of("10.244.255.0/24")).findings(NodeReport.Kind.DUPLICATE).size() == 1,
                "a reserved subnet a node holds is still defended against duplicates");
        ipam.checkInvariants();
    }

    @Test
    void everyBuildGivesAnIndependentInstance() {
        NodeIpam.Builder b = NodeIpam.builder().addPool(c("10.244.0.0/30"), 32).reserve(c("10.244.0.3/32"));
        NodeIpam one = b.build();
        NodeIpam two = b.build();
        assertEquals("10.244.0.0/32", one.assign("a").podCidrs().get(0));
        assertEquals("10.244.0.0/32", two.assign("a").podCidrs().get(0), "no pool shared with the first build");
        assertEquals(1, two.stats().get(0).reserved());
        one.checkInvariants();
        two.checkInvariants();
    }

    @Test
    void tryAssignReportsExhaustionWithoutTakingAnything() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/31"), 32).addPool(c("fd00::/127"), 128).build();
        assertTrue(ipam.tryAssign("a").isPresent());
        ipam.adopt("b", List.of("10.244.0.1/32"));
        List<PoolStats> before = ipam.stats();
        assertEquals(Optional.empty(), ipam.tryAssign("c"), "IPv4 is full");
        assertEquals(before, ipam.stats(), "no IPv6 subnet was taken either");
        NodeAssignment b = ipam.tryAssign("b").orElseThrow();
        assertEquals(List.of("10.244.0.1/32", "fd00::1/128"), b.podCidrs(), "b only needed IPv6");
    }

    @Test
    void snapshotListsEveryNodeOnce() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("c", List.of("10.244.0.0/23")); // misaligned: holds subnets but has no assignment
        ipam.assign("b");
        ipam.assign("a");
        assertEquals(List.of("a", "b"), List.copyOf(ipam.snapshot().keySet()));
        assertTrue(ipam.holdsAny("c"), "holds subnets for its misaligned CIDR");
        assertFalse(ipam.holdsAny("d"));
        assertEquals(ipam.assignmentOf("a").orElseThrow(), ipam.snapshot().get("a"));
    }

    private static List<NodeReport.Kind> kinds(NodeReport r) {
        return r.findings().stream().map(NodeReport.Finding::kind).toList();
    }
}
