package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random sequences of plain assignments, wide pod CIDRs (from a /22 in the pool to {@code 0.0.0.0/0}) and releases on
 * a small pool: no subnet overlapping a wide claim is ever handed to another node while the wide node exists (nodes
 * failing closed are adopted again after each release, as the controller re-queues them), the wide node is never
 * vouched for, and when it is released exactly what it alone covered comes free (not what another claim shares).
 */
class WideClaimPropertiesTest {

    private static final Cidr POOL = Cidr.parse("10.244.0.0/20"); // 16 subnets of /24

    /** One step: 0 assign a plain node, 1 adopt a wide claim, 2 release a node. */
    record Step(int verb, int node, int prefix, int offset) {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        return net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 7), Arbitraries.integers().between(0, 23),
                Arbitraries.integers().between(0, 15)).as(Step::new).list().ofMaxSize(40);
    }

    @Property(tries = 300)
    void nothingInsideAWideClaimIsHandedOutWhileItsNodeExists(@ForAll("steps") List<Step> steps) {
        NodeIpam ipam = NodeIpam.builder().addPool(POOL, 24).build();
        Map<String, Cidr> wide = new HashMap<>();
        for (Step s : steps) {
            String node = "n" + s.node();
            switch (s.verb()) {
                case 0 -> {
                    if (ipam.holdsAny(node) || wide.containsKey(node)) {
                        break; // it would get what it holds: nothing is handed out
                    }
                    Optional<NodeAssignment> a = ipam.tryAssign(node);
                    for (Cidr got : a.map(NodeAssignment::cidrs).orElse(List.of())) {
                        wide.forEach((holder, claim) -> assertFalse(got.overlaps(claim),
                                got + " handed to " + node + " inside " + claim + " of " + holder));
                    }
                }
                case 1 -> {
                    if (ipam.holdsAny(node) || wide.containsKey(node)) {
                        break; // it has a pod CIDR already, and pod CIDRs cannot be changed once set
                    }
                    int prefix = s.prefix(); // 0 to 23: wider than a /24 node subnet
                    Cidr claim = Cidr.parseLenient(String.format("10.244.%d.0/%d", s.offset(), prefix));
                    if (!claim.overlaps(POOL)) {
                        break;
                    }
                    NodeReport r = ipam.adopt(node, List.of(claim.toString()));
                    assertFalse(r.vouched(), claim + " is wider than a node subnet");
                    assertEquals(NodeReport.Kind.OVERSIZED, r.findings().get(0).kind());
                    wide.put(node, claim);
                    for (int i = 0; i < 16; i++) {
                        Cidr subnet = Cidr.parse("10.244." + i + ".0/24");
                        if (subnet.overlaps(claim)) {
                            assertTrue(ipam.holderOf(subnet).isPresent(), subnet + " inside " + claim + " is free");
                        }
                    }
                }
                default -> {
                    wide.remove(node);
                    ipam.release(node);
                    assertFalse(ipam.holdsAny(node));
                    // What is free is exactly what no live claim covers and no node holds as its own subnet.
                    long free = 0;
                    for (int i = 0; i < 16; i++) {
                        Cidr subnet = Cidr.parse("10.244." + i + ".0/24");
                        boolean covered = wide.values().stream().anyMatch(subnet::overlaps);
                        boolean own = ipam.snapshot().values().stream().anyMatch(a -> a.cidrs().contains(subnet));
                        assertEquals(!covered && !own, ipam.holderOf(subnet).isEmpty(), subnet + " after " + node);
                        free += covered || own ? 0 : 1;
                    }
                    assertEquals(free, ipam.stats().get(0).free(), "what " + node + " alone held is free");
                    // As the controller does: a release may resolve the conflicts of nodes failing closed, so
                    // they are adopted again (which changes nothing now: their claims are held throughout).
                    wide.forEach((other, c) -> ipam.adopt(other, List.of(c.toString())));
                }
            }
            for (Map.Entry<String, Cidr> e : wide.entrySet()) {
                assertTrue(ipam.holdsAny(e.getKey()) && ipam.wideClaims().containsKey(e.getKey()),
                        e.getKey() + " is listed while its claim " + e.getValue() + " is live");
            }
            assertTrue(wide.keySet().containsAll(ipam.wideClaims().keySet()), "only wide nodes are listed");
            IpamInvariants.check(ipam);
        }
    }
}
