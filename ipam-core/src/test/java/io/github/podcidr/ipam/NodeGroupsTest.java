package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Named groups of pools in {@link NodeIpam}: assignment, exhaustion, adoption and configuration errors per group. */
class NodeGroupsTest {

    /** Cloud nodes in the default group (/24 each), registered IDC nodes in their own dual-stack range (/26 each). */
    private static NodeIpam cloudAndIdc() {
        return NodeIpam.builder()
                .addPool(c("10.244.0.0/16"), 24)
                .addGroup(NodeGroup.builder("idc")
                        .addPool(c("10.250.0.0/24"), 26)
                        .addPool(c("fd00:250::/62"), 64)
                        .reserve(c("10.250.0.192/26"))
                        .build())
                .build();
    }

    @Test
    void assignTakesFromTheNodesGroupOnlyWithTheGroupsMask() {
        NodeIpam ipam = cloudAndIdc();
        assertEquals(List.of(c("10.250.0.0/26"), c("fd00:250::/64")), ipam.assign("idc-1", "idc").cidrs());
        assertEquals(List.of(c("10.244.0.0/24")), ipam.assign("cloud-1").cidrs());
        assertEquals(List.of(c("10.244.1.0/24")), ipam.assign("cloud-2", NodeIpam.DEFAULT_GROUP).cidrs());
        assertEquals(List.of(c("10.250.0.64/26"), c("fd00:250:0:1::/64")), ipam.assign("idc-2", "idc").cidrs());
        assertEquals(List.of(c("10.250.0.64/26"), c("fd00:250:0:1::/64")), ipam.assign("idc-2", "idc").cidrs(),
                "idempotent");
        IpamInvariants.check(ipam);
    }

    @Test
    void exhaustionOfOneGroupNamesItAndLeavesTheOtherAssigning() {
        NodeIpam ipam = cloudAndIdc();
        ipam.assign("idc-1", "idc");
        ipam.assign("idc-2", "idc");
        ipam.assign("idc-3", "idc"); // 10.250.0.128/26; 10.250.0.192/26 is reserved
        PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> ipam.assign("idc-4", "idc"));
        assertEquals(Optional.of("idc"), e.group());
        assertEquals(c("10.250.0.0/24"), e.pool());
        assertEquals(26, e.nodePrefixLength());
        assertEquals(4, e.capacity());
        assertEquals(4, e.used());
        assertTrue(e.getMessage().startsWith("no free IPV4 subnet in group idc for node idc-4: the pool is full"),
                e.getMessage());
        assertEquals(Optional.empty(), ipam.tryAssign("idc-4", "idc"));
        assertFalse(ipam.holdsAny("idc-4"), "all or nothing: no IPv6 subnet taken");
        assertEquals(3, ipam.stats("idc").get(1).allocated());
        assertEquals(List.of(c("10.244.0.0/24")), ipam.assign("cloud-1").cidrs());
        ipam.release("idc-2");
        assertEquals(List.of(c("10.250.0.64/26"), c("fd00:250:0:3::/64")), ipam.assign("idc-4", "idc").cidrs());
        IpamInvariants.check(ipam);
    }

    @Test
    void theDefaultGroupAloneKeepsItsMessagesAndHasNoGroupInThem() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.0.0.0/31"), 32).build();
        ipam.assign("a");
        ipam.assign("b");
        PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> ipam.assign("c"));
        assertEquals("no free IPV4 subnet for node c: the pool is full (10.0.0.0/31 /32: 2 of 2 in use); delete nodes"
                + " or add a range", e.getMessage());
        assertEquals(Optional.of(NodeIpam.DEFAULT_GROUP), e.group());
        assertEquals(List.of(NodeIpam.DEFAULT_GROUP), ipam.groups().stream().map(NodeGroup::name).toList());
    }

    @Test
    void adoptingASubnetOfAnotherGroupKeepsItAndReportsIt() {
        NodeIpam ipam = cloudAndIdc();
        NodeReport moved = ipam.adopt("n1", NodeIpam.DEFAULT_GROUP, List.of("10.250.0.64/26", "fd00:250:0:2::/64"));
        assertEquals(List.of(c("10.250.0.64/26"), c("fd00:250:0:2::/64")), moved.adopted());
        assertEquals(2, moved.findings(NodeReport.Kind.IN_OTHER_GROUP).size(), moved.toString());
        assertTrue(moved.findings(NodeReport.Kind.IN_OTHER_GROUP).get(0).message()
                .contains("lies in a range of group idc, but the node belongs to group default"));
        assertTrue(moved.vouched(), "the subnet is the node's alone: not a reason to fail closed");
        assertEquals(List.of(), moved.findings(NodeReport.Kind.OUTSIDE_POOLS));
        assertEquals(Optional.of("n1"), ipam.holderOf(c("10.250.0.64/26")));
        // Assigning for its group now allocates nothing new: families held are kept.
        assertEquals(List.of(c("10.250.0.64/26"), c("fd00:250:0:2::/64")), ipam.assign("n1").cidrs());
        // No other node gets it, in either group.
        assertEquals(List.of(c("10.250.0.0/26"), c("fd00:250::/64")), ipam.assign("idc-1", "idc").cidrs());
        assertEquals(c("10.250.0.128/26"), ipam.assign("idc-2", "idc").cidrs().get(0));
        // Adopted for its own group: nothing to report.
        assertFalse(ipam.adopt("n1", "idc", List.of("10.250.0.64/26", "fd00:250:0:2::/64")).hasProblems());
        // For no group: held, nothing about groups.
        assertFalse(ipam.adopt("n1", null, List.of("10.250.0.64/26", "fd00:250:0:2::/64")).hasProblems());
        IpamInvariants.check(ipam);
    }

    @Test
    void aMisalignedValueInAnotherGroupIsReportedToo() {
        NodeIpam ipam = cloudAndIdc();
        NodeReport r = ipam.adopt("n1", NodeIpam.DEFAULT_GROUP, List.of("10.250.0.0/25"));
        assertEquals(1, r.findings(NodeReport.Kind.OVERSIZED).size(), "a /25 is wider than the group's /26s");
        assertEquals(1, r.findings(NodeReport.Kind.IN_OTHER_GROUP).size());
        assertEquals(Optional.of("n1"), ipam.holderOf(c("10.250.0.64/26")));
    }

    @Test
    void missingFamiliesAreThoseOfTheNodesGroup() {
        NodeIpam ipam = cloudAndIdc();
        assertFalse(ipam.adopt("cloud", NodeIpam.DEFAULT_GROUP, List.of("10.244.3.0/24")).hasProblems(),
                "the default group is IPv4 only");
        NodeReport idc = ipam.adopt("idc", "idc", List.of("10.250.0.0/26"));
        assertEquals(List.of("IPV6"), idc.findings(NodeReport.Kind.MISSING_FAMILY).stream()
                .map(NodeReport.Finding::value).toList());
        assertEquals(1, ipam.adopt("idc-2", null, List.of("10.250.0.64/26"))
                .findings(NodeReport.Kind.MISSING_FAMILY).size(), "no group: checked against the value's group");
    }

    @Test
    void restoreAdoptsEachNodeForItsGroup() {
        NodeIpam ipam = cloudAndIdc();
        Map<String, String> groupOf = Map.of("a", "idc", "b", "idc");
        RestoreReport report = ipam.restore(List.of(
                new ExistingNode("a", List.of("fd00:250::/64", "10.250.0.0/26")),
                new ExistingNode("b", List.of("10.244.0.0/24")),
                new ExistingNode("c", List.of("10.244.1.0/24"))), n -> groupOf.get(n.name()));
        assertEquals(List.of(c("10.250.0.0/26"), c("fd00:250::/64")), report.nodes().get(0).adopted(),
                "the group's primary family first");
        assertEquals(List.of(NodeReport.Kind.IN_OTHER_GROUP, NodeReport.Kind.MISSING_FAMILY),
                report.nodes().get(1).findings().stream().map(NodeReport.Finding::kind).toList());
        assertFalse(report.nodes().get(2).hasProblems());
        assertEquals(3, ipam.nodeCount());
    }

    @Test
    void rangesOfDifferentGroupsMustNotOverlap() {
        InvalidPoolException e = assertThrows(InvalidPoolException.class, () -> NodeIpam.builder()
                .addPool(c("10.244.0.0/16"), 24)
                .addGroup(NodeGroup.builder("idc").addPool(c("10.244.128.0/20"), 26).build())
                .build());
        assertEquals("range 10.244.0.0/16 of group default overlaps range 10.244.128.0/20 of group idc; every address"
                + " may belong to one group only, so that a node's pod CIDR tells its group: give the groups disjoint"
                + " ranges, e.g. 10.244.0.0/16 and 10.250.0.0/16", e.getMessage());
        InvalidPoolException within = assertThrows(InvalidPoolException.class, () -> NodeIpam.builder()
                .addGroup(NodeGroup.builder("gpu").addPool(c("10.1.0.0/16"), 24).addPool(c("10.1.2.0/24"), 26)
                        .build())
                .build());
        assertTrue(within.getMessage().startsWith("pools 10.1.0.0/16 and 10.1.2.0/24 of group gpu overlap"),
                within.getMessage());
    }

    @Test
    void groupNamesAreUniqueDnsLabels() {
        NodeGroup idc = NodeGroup.builder("idc").addPool(c("10.250.0.0/16"), 24).build();
        NodeGroup idc2 = NodeGroup.builder("idc").addPool(c("10.251.0.0/16"), 24).build();
        assertEquals("two groups are named idc; every group needs its own name", assertThrows(
                InvalidPoolException.class, () -> NodeIpam.builder().addGroup(idc).addGroup(idc2).build())
                .getMessage());
        NodeGroup named = NodeGroup.builder(NodeIpam.DEFAULT_GROUP).addPool(c("10.250.0.0/16"), 24).build();
        assertTrue(assertThrows(InvalidPoolException.class, () -> NodeIpam.builder()
                .addPool(c("10.244.0.0/16"), 24).addGroup(named).build()).getMessage()
                .startsWith("group name default is taken by the pools added with addPool"));
        assertEquals(List.of(NodeIpam.DEFAULT_GROUP), NodeIpam.builder().addGroup(named).build().groups().stream()
                .map(NodeGroup::name).toList(), "a group may be the default group when addPool is not used");
        for (String bad : List.of("", "IDC", "-idc", "idc-", "idc.nodes", "x".repeat(64), "idc\n")) {
            InvalidPoolException e = assertThrows(InvalidPoolException.class,
                    () -> NodeGroup.builder(bad).addPool(c("10.0.0.0/8"), 24).build(), bad);
            assertTrue(e.getMessage().contains("is not valid; expected 1 to 63 lower-case letters"), e.getMessage());
        }
        assertTrue(assertThrows(InvalidPoolException.class, () -> NodeGroup.builder("empty").build()).getMessage()
                .startsWith("group empty has no pool"));
        assertThrows(InvalidPoolException.class, () -> NodeGroup.builder("x").addPool(c("10.0.0.0/24"), 16));
    }

    @Test
    void unknownGroupsAreRefusedByName() {
        NodeIpam ipam = NodeIpam.builder()
                .addGroup(NodeGroup.builder("cloud").addPool(c("10.244.0.0/16"), 24).build())
                .addGroup(NodeGroup.builder("idc").addPool(c("10.250.0.0/16"), 26).build())
                .build();
        UnknownGroupException e = assertThrows(UnknownGroupException.class, () -> ipam.assign("n", "gpu"));
        assertEquals("no group is named \"gpu\"; the groups are cloud, idc", e.getMessage());
        assertEquals("gpu", e.group());
        UnknownGroupException noDefault = assertThrows(UnknownGroupException.class, () -> ipam.assign("n"));
        assertTrue(noDefault.getMessage().startsWith("there is no default group"), noDefault.getMessage());
        assertThrows(UnknownGroupException.class, () -> ipam.adopt("n", "gpu", List.of("10.244.0.0/24")));
        assertFalse(ipam.adopt("n", List.of("10.244.0.0/24")).hasProblems(), "without a default group: no group");
        assertEquals(Optional.of("idc"), ipam.groupOf(c("10.250.3.0/26")));
        assertEquals(Optional.of("idc"), ipam.groupOf(c("10.250.0.0/15")), "overlapping counts");
        assertEquals(Optional.empty(), ipam.groupOf(c("192.168.0.0/24")));
        assertEquals(List.of(IpFamily.IPV4), ipam.families());
        assertEquals(1, ipam.stats("idc").size());
        assertEquals(2, ipam.stats().size());
    }

    @Test
    void globalReservedRangesApplyToEveryGroup() {
        NodeIpam ipam = NodeIpam.builder()
                .addPool(c("10.244.0.0/30"), 32)
                .addGroup(NodeGroup.builder("idc").addPool(c("10.250.0.0/30"), 32).build())
                .reserve(c("10.244.0.0/31"))
                .reserve(c("10.250.0.0/31"))
                .build();
        assertEquals(2, ipam.stats(NodeIpam.DEFAULT_GROUP).get(0).reserved());
        assertEquals(2, ipam.stats("idc").get(0).reserved());
        assertEquals(List.of(), ipam.groups().get(0).reserved());
    }

    private static Cidr c(String s) {
        return Cidr.parse(s);
    }
}
