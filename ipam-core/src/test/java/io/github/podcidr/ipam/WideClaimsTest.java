package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pod CIDRs wider than one node subnet (a mistyped mask, a supernet of the cluster range, {@code 0.0.0.0/0}): the
 * node holds every node subnet its value overlaps, so no other node gets an address inside it, and it is not vouched
 * for, so it keeps its taints until an operator deletes or re-registers it.
 */
class WideClaimsTest {

    private static Cidr c(String s) {
        return Cidr.parse(s);
    }

    private static NodeIpam dualStack() {
        return NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).addPool(c("fd00:10:244::/56"), 64).build();
    }

    /** Each row: a node's pod CIDR beside plain nodes, what it holds, how it is reported. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            10.244.0.0/15         | 256 | OVERSIZED  | false | 256 node subnets
            0.0.0.0/0             | 256 | OVERSIZED  | false | 256 node subnets
            10.244.0.0/16         | 256 | OVERSIZED  | false | 256 node subnets
            10.244.8.0/22         | 4   | OVERSIZED  | false | 4 node subnets
            10.244.8.0/23         | 2   | OVERSIZED  | false | 2 node subnets
            10.244.8.0/25         | 1   | MISALIGNED | true  | the free subnets it overlaps are held
            fd00:10:244::/55      | 256 | OVERSIZED  | false | 256 node subnets
            ::/0                  | 256 | OVERSIZED  | false | 256 node subnets
            fd00:10:244:8::/62    | 4   | OVERSIZED  | false | 4 node subnets
            fd00:10:244:8::/80    | 1   | MISALIGNED | true  | the free subnets it overlaps are held
            """)
    void aWideClaimHoldsWhatItOverlapsAndFailsClosed(String claim, int held, NodeReport.Kind kind, boolean vouched,
                                                     String messagePart) {
        NodeIpam ipam = dualStack();
        IpFamily family = c(claim).family();
        String other = family == IpFamily.IPV4 ? "fd00:10:244:ff::/64" : "10.244.255.0/24";
        NodeReport r = ipam.adopt("wide", List.of(claim, other));
        assertEquals(List.of(kind), r.findings().stream().map(NodeReport.Finding::kind).toList(), r.toString());
        assertEquals(vouched, r.vouched());
        assertEquals(!vouched, kind.failsClosed());
        String message = r.findings().get(0).message();
        assertTrue(message.contains(messagePart), message);
        if (kind == NodeReport.Kind.OVERSIZED) {
            assertTrue(message.contains("delete the node object, or register the node again with a pod CIDR of one /"
                    + (family == IpFamily.IPV4 ? 24 : 64) + " node subnet"), message);
            assertEquals(Map.of("wide", (long) held), ipam.wideClaims());
        } else {
            assertEquals(Map.of(), ipam.wideClaims());
        }
        int pool = family == IpFamily.IPV4 ? 0 : 1;
        assertEquals(held, ipam.stats().get(pool).allocated());
        // Plain nodes beside it never get a subnet inside the claim.
        for (int i = 0; i < 300; i++) {
            Optional<NodeAssignment> a = ipam.tryAssign("plain-" + i);
            if (a.isEmpty()) {
                break;
            }
            for (Cidr s : a.get().cidrs()) {
                assertFalse(s.overlaps(c(claim)), s + " handed out inside " + claim);
            }
        }
        IpamInvariants.check(ipam);
        assertTrue(ipam.release("wide"));
        assertEquals(Map.of(), ipam.wideClaims());
        IpamInvariants.check(ipam);
    }

    @Test
    void aSupernetOfTheClusterRangeHoldsThePoolAndExhaustionNamesIt() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.assign("before"); // 10.244.0.0/24: stays with its node
        NodeReport r = ipam.adopt("mistyped", List.of("10.244.0.0/15"));
        assertFalse(r.vouched());
        assertEquals(List.of(NodeReport.Kind.OVERSIZED, NodeReport.Kind.DUPLICATE),
                r.findings().stream().map(NodeReport.Finding::kind).toList());
        assertTrue(r.findings().get(0).message().startsWith("pod CIDR 10.244.0.0/15 is wider than one /24 node subnet;"
                + " it holds 255 node subnets (every free one it overlaps; 1 other node holds the rest)"),
                r.findings().get(0).message());
        assertEquals(Optional.of("before"), ipam.holderOf(c("10.244.0.0/24")), "never taken from another node");
        assertEquals(Map.of("mistyped", 255L), ipam.wideClaims());
        assertEquals(Optional.empty(), ipam.tryAssign("new"));
        PoolExhaustedException e = assertThrows(PoolExhaustedException.class, () -> ipam.assign("new"));
        assertTrue(e.getMessage().startsWith("no free IPV4 subnet for node new: the pool is full"), e.getMessage());
        assertTrue(e.getMessage().endsWith("; 255 of these subnets are held by 1 node whose pod CIDR is wider than a"
                + " node subnet: mistyped (255); deleting it frees them"), e.getMessage());

        assertTrue(ipam.release("mistyped"));
        assertEquals(Optional.of(c("10.244.1.0/24")), ipam.tryAssign("new").map(a -> a.cidrs().get(0)));
        IpamInvariants.check(ipam);
    }

    @Test
    void reAdoptingAWideClaimKeepsWhatItHoldsAndStaysWide() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.0.0.0/8"), 24).build();
        NodeReport first = ipam.adopt("wide", List.of("10.0.0.0/8"));
        assertTrue(first.findings().get(0).message().contains("holds 65536 node subnets"));
        NodeReport again = ipam.adopt("wide", List.of("10.0.0.0/8"));
        assertEquals(first, again);
        assertEquals(65_536, ipam.stats().get(0).allocated());
        assertEquals(Map.of("wide", 65_536L), ipam.wideClaims());
        IpamInvariants.check(ipam);
    }

    @Test
    void aWideClaimThatBecomesOneSubnetIsVouchedAndFreesTheRest() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("n", List.of("10.244.8.0/22"));
        NodeReport r = ipam.adopt("n", List.of("10.244.8.0/24"));
        assertTrue(r.vouched());
        assertEquals(Map.of(), ipam.wideClaims());
        assertEquals(1, ipam.stats().get(0).allocated());
        IpamInvariants.check(ipam);
    }

    @Test
    void assigningANodeWithAWideClaimFreesItAndForgetsIt() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("n", List.of("10.244.8.0/22"));
        ipam.assign("n"); // the API shows no pod CIDR any more: the node was registered again
        assertEquals(Map.of(), ipam.wideClaims());
        assertEquals(1, ipam.stats().get(0).allocated());
        IpamInvariants.check(ipam);
    }

    @Test
    void aClaimOfAnyWidthHoldsEveryFreeSubnetItOverlaps() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.0.0.0/8"), 25).build(); // 131,072 subnets
        ipam.assign("before");
        NodeReport r = ipam.adopt("huge", List.of("0.0.0.0/0"));
        assertFalse(r.vouched());
        String m = r.findings().get(0).message();
        assertTrue(m.startsWith("pod CIDR 0.0.0.0/0 is wider than one /25 node subnet; it holds 131071 node subnets"
                + " (every free one it overlaps; 1 other node holds the rest)"), m);
        assertEquals(Map.of("huge", 131_071L), ipam.wideClaims());
        assertEquals(Optional.empty(), ipam.tryAssign("new"));
        assertEquals(131_072, ipam.stats().get(0).allocated());
        IpamInvariants.check(ipam);
        assertTrue(ipam.release("huge"));
        assertEquals(131_071, ipam.stats().get(0).free());
        IpamInvariants.check(ipam);
    }

    @Test
    void halfOfA2To32SubnetIpv6PoolIsHeldAsOneRange() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("fd00::/32"), 64).build(); // 2^32 subnets
        NodeReport r = ipam.adopt("half", List.of("fd00::/33"));
        assertTrue(r.findings().get(0).message().contains("it holds 2147483648 node subnets"), r.toString());
        assertEquals(Map.of("half", 1L << 31), ipam.wideClaims());
        assertEquals(1L << 31, ipam.stats().get(0).free());
        Cidr next = ipam.assign("plain").cidrs().get(0);
        assertEquals(c("fd00:0:8000::/64"), next, "the first subnet outside the claim");
        assertEquals(List.of(c("fd00::/33")), ipam.holdings().get("half"));
        IpamInvariants.check(ipam);
        ipam.release("half");
        assertEquals((1L << 32) - 1, ipam.stats().get(0).free());
        IpamInvariants.check(ipam);
    }

    @Test
    void releasingAWideClaimLeavesReservedSubnetsReserved() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).reserve(c("10.244.8.0/23")).build();
        NodeReport r = ipam.adopt("wide", List.of("10.244.8.0/22"));
        assertTrue(r.findings().get(0).message().contains("it holds 2 node subnets (every free one it overlaps;"
                + " 2 are reserved)"), r.toString());
        assertEquals(Map.of("wide", 2L), ipam.wideClaims());
        assertEquals(Optional.empty(), ipam.holderOf(c("10.244.8.0/24")), "reserved, not held");
        assertEquals(Optional.of("wide"), ipam.holderOf(c("10.244.10.0/24")));
        ipam.release("wide");
        assertEquals(new PoolStats(c("10.244.0.0/16"), 24, 256, 0, 2), ipam.stats().get(0));
        for (int i = 0; i < 254; i++) {
            Cidr got = ipam.assign("n" + i).cidrs().get(0);
            assertFalse(c("10.244.8.0/23").overlaps(got), got + " is reserved");
        }
        IpamInvariants.check(ipam);
    }

    @Test
    void releasingAWideClaimLeavesOtherNodesSubnetsWithThem() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("plain", List.of("10.244.9.0/24"));
        ipam.adopt("misaligned", List.of("10.244.10.128/25"));
        ipam.adopt("wide", List.of("10.244.8.0/22"));
        assertEquals(Map.of("wide", 2L), ipam.wideClaims());
        ipam.release("wide");
        assertEquals(Optional.of("plain"), ipam.holderOf(c("10.244.9.0/24")));
        assertEquals(Optional.of("misaligned"), ipam.holderOf(c("10.244.10.0/24")));
        assertEquals(2, ipam.stats().get(0).allocated());
        IpamInvariants.check(ipam);
    }

    @Test
    void whatTwoWideClaimsShareStaysHeldUntilBothAreReleased() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("a", List.of("10.244.8.0/22"));
        ipam.adopt("b", List.of("10.244.8.0/21"));
        assertEquals(Map.of("a", 4L, "b", 8L), ipam.wideClaims(), "the four of a are shared");
        assertEquals(8, ipam.stats().get(0).allocated());
        ipam.release("b");
        assertEquals(4, ipam.stats().get(0).allocated(), "only what b alone covered is free");
        assertEquals(Optional.of("a"), ipam.holderOf(c("10.244.11.0/24")));
        assertEquals(Optional.empty(), ipam.holderOf(c("10.244.12.0/24")));
        ipam.adopt("b", List.of("10.244.8.0/21"));
        ipam.release("a");
        assertEquals(8, ipam.stats().get(0).allocated(), "b covers all of a");
        assertEquals(Map.of("b", 8L), ipam.wideClaims());
        IpamInvariants.check(ipam);
    }

    @Test
    void aSubnetReleasedInsideALiveClaimIsHeldForItNotHandedOut() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/30"), 32).build(); // 4 subnets
        ipam.adopt("plain", List.of("10.244.0.1/32"));
        ipam.adopt("wide", List.of("10.244.0.0/31"));
        assertEquals(Map.of("wide", 1L), ipam.wideClaims());
        ipam.release("plain");
        assertEquals(Optional.of("wide"), ipam.holderOf(c("10.244.0.1/32")), "held for the claim, fail closed");
        assertEquals(Map.of("wide", 2L), ipam.wideClaims());
        assertEquals(c("10.244.0.2/32"), ipam.assign("x").cidrs().get(0));
        assertEquals(c("10.244.0.3/32"), ipam.assign("y").cidrs().get(0));
        assertEquals(Optional.empty(), ipam.tryAssign("z"), "nothing inside the claim is handed out");
        ipam.release("wide");
        assertEquals(c("10.244.0.0/32"), ipam.assign("z").cidrs().get(0));
        IpamInvariants.check(ipam);
    }

    @Test
    void aWideClaimFixedToOneSubnetInsideItKeepsThatSubnetAndFreesTheRest() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).reserve(c("10.244.11.0/24")).build();
        ipam.adopt("plain", List.of("10.244.8.0/24"));
        ipam.adopt("n", List.of("10.244.8.0/22"));
        NodeReport r = ipam.adopt("n", List.of("10.244.9.0/24"));
        assertTrue(r.vouched(), r.toString());
        assertEquals(Map.of(), ipam.wideClaims());
        assertEquals(Optional.of("plain"), ipam.holderOf(c("10.244.8.0/24")));
        assertEquals(Optional.empty(), ipam.holderOf(c("10.244.10.0/24")), "free again");
        assertEquals(new PoolStats(c("10.244.0.0/16"), 24, 256, 2, 1), ipam.stats().get(0));
        IpamInvariants.check(ipam);
    }

    /** A plain node's subnet inside a wide claim is its own, vouched for, whether it is adopted first or last. */
    @Test
    void aPlainNodeInsideAWideClaimGetsTheSameResultInEitherOrder() {
        List<ExistingNode> plainFirst = List.of(new ExistingNode("plain", List.of("10.244.9.0/24")),
                new ExistingNode("wide", List.of("10.244.8.0/22")));
        NodeIpam a = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        NodeIpam b = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        RestoreReport ra = a.restore(plainFirst);
        RestoreReport rb = b.restore(List.of(plainFirst.get(1), plainFirst.get(0)));
        assertEquals(a.holdings(), b.holdings());
        assertEquals(Map.of("wide", 3L), b.wideClaims());
        for (RestoreReport r : List.of(ra, rb)) {
            NodeReport plain = r.nodes().stream().filter(n -> n.node().equals("plain")).findFirst().orElseThrow();
            assertTrue(plain.vouched(), plain.toString());
            assertEquals(List.of(c("10.244.9.0/24")), plain.adopted());
        }
        IpamInvariants.check(a);
        IpamInvariants.check(b);
    }
}
