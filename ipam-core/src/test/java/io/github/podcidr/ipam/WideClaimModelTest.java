package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.Transformer;

/**
 * Model-based test of pod CIDRs wider than a node subnet, of any width, on pools far too large to list:
 * {@code 10.0.0.0/8} cut into /25s (131,072 subnets, a reserved /16 in it) and {@code fd00::/32} cut into /64s (2^32
 * subnets, a reserved /48 in it), under random assignments, adoptions of plain subnets (inside and outside claims),
 * adoptions of wide claims from a /24 to {@code 0.0.0.0/0} and {@code ::/0}, value changes and releases.
 *
 * <p>The model is a list of nodes, each with at most one plain subnet or one wide claim per family; free counts come
 * from merging the claims' index intervals by hand (sorting them), independent of the ledger's counted ranges. After
 * every step:
 * <ul>
 *   <li>no subnet handed out overlaps a live claim of another node, and none is handed out twice;</li>
 *   <li>what is free in each pool is the pool minus reserved ranges, minus plain subnets, minus the union of the live
 *       claims, so after every release exactly what nobody else covers came free;</li>
 *   <li>each wide node holds its claim minus reserved and plain subnets ({@link NodeIpam#wideClaims()});</li>
 *   <li>plain nodes are vouched for and hold their subnet whether adopted before or after a claim over it.</li>
 * </ul>
 */
class WideClaimModelTest {

    private static final Cidr V4 = c("10.0.0.0/8");
    private static final Cidr V6 = c("fd00::/32");
    private static final int V4_BITS = 25;
    private static final int V6_BITS = 64;
    private static final Cidr V4_RESERVED = c("10.255.0.0/16");
    private static final Cidr V6_RESERVED = c("fd00:0:ffff::/48");
    private static final List<String> NODES = List.of("n0", "n1", "n2", "n3", "n4", "n5");
    private static final List<String> CLAIMS = List.of("0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9",
            "10.64.0.0/10", "10.254.0.0/15", "10.1.2.0/24", "10.0.0.0/23", "::/0", "fd00::/33", "fd00:0:8000::/33",
            "fd00::/31", "fd00:0:4000::/34", "fd00:0:ff00::/40", "fd00::/62", "fd00:0:1::/48");
    private static final List<String> PLAIN = List.of("10.0.0.0/25", "10.0.0.128/25", "10.1.2.0/25",
            "10.127.255.128/25", "10.128.0.0/25", "10.255.0.0/25", "10.254.255.128/25", "fd00::/64",
            "fd00:0:7fff:ffff::/64", "fd00:0:8000::/64", "fd00:0:1::/64", "fd00:0:ffff::/64");

    static final class World {
        final NodeIpam ipam = NodeIpam.builder().addPool(V4, V4_BITS).addPool(V6, V6_BITS)
                .reserve(V4_RESERVED).reserve(V6_RESERVED).build();
        /** Node to its plain subnets (own, vouched for). */
        final Map<String, List<Cidr>> plain = new HashMap<>();
        /** Node to its wide claims. */
        final Map<String, List<Cidr>> wide = new HashMap<>();

        @Override
        public String toString() {
            return "plain=" + plain + " wide=" + wide;
        }
    }

    private static Action.Independent<World> assign() {
        return () -> Arbitraries.of(NODES).map(node -> Transformer.mutate("assign " + node, w -> {
            if (w.plain.containsKey(node) || w.wide.containsKey(node)) {
                return; // it has pod CIDRs in the API: the controller adopts it, never assigns
            }
            Optional<NodeAssignment> a = w.ipam.tryAssign(node);
            if (a.isEmpty()) {
                return;
            }
            for (Cidr got : a.get().cidrs()) {
                w.wide.forEach((other, claims) -> claims.forEach(claim -> assertFalse(got.overlaps(claim),
                        got + " handed to " + node + " inside " + claim + " of " + other)));
                w.plain.forEach((other, own) -> assertFalse(own.contains(got), got + " handed out twice"));
                assertFalse((got.family() == IpFamily.IPV4 ? V4_RESERVED : V6_RESERVED).overlaps(got), "reserved");
            }
            w.plain.put(node, a.get().cidrs());
        }));
    }

    private static Action.Independent<World> adoptPlain() {
        return () -> Combinators.combine(Arbitraries.of(NODES), Arbitraries.of(PLAIN))
                .as((node, value) -> Transformer.mutate("adopt " + node + " " + value, w -> {
                    if (w.plain.containsKey(node) || w.wide.containsKey(node)
                            || w.plain.values().stream().anyMatch(l -> l.contains(c(value)))) {
                        return; // pod CIDRs are immutable; a duplicate of a plain subnet is NodeIpamTest's matter
                    }
                    NodeReport r = w.ipam.adopt(node, List.of(value));
                    assertEquals(List.of(c(value)), r.adopted(), r.toString());
                    assertTrue(r.findings().stream().allMatch(f -> f.kind() == NodeReport.Kind.MISSING_FAMILY
                            || f.kind() == NodeReport.Kind.IN_RESERVED_RANGE), "vouched inside any claim: " + r);
                    w.plain.put(node, List.of(c(value)));
                }));
    }

    private static Action.Independent<World> adoptWide() {
        return () -> Combinators.combine(Arbitraries.of(NODES), Arbitraries.of(CLAIMS))
                .as((node, value) -> Transformer.mutate("adopt " + node + " " + value, w -> {
                    if (w.plain.containsKey(node)) {
                        return;
                    }
                    // a node with a claim may be found with another value (re-registered): the new one counts
                    NodeReport r = w.ipam.adopt(node, List.of(value));
                    assertFalse(r.vouched());
                    assertEquals(1, r.findings(NodeReport.Kind.OVERSIZED).size(), r.toString());
                    w.wide.put(node, List.of(c(value)));
                }));
    }

    private static Action.Independent<World> release() {
        return () -> Arbitraries.of(NODES).map(node -> Transformer.mutate("release " + node, w -> {
            w.ipam.release(node);
            w.plain.remove(node);
            w.wide.remove(node);
            assertFalse(w.ipam.holdsAny(node));
        }));
    }

    private static void check(World w) {
        IpamInvariants.check(w.ipam);
        List<PoolStats> stats = w.ipam.stats();
        assertEquals(expectedFree(w, V4, V4_BITS, V4_RESERVED), stats.get(0).free(), "IPv4 free");
        assertEquals(expectedFree(w, V6, V6_BITS, V6_RESERVED), stats.get(1).free(), "IPv6 free");
        Map<String, Long> held = new TreeMap<>();
        w.wide.forEach((node, claims) -> held.put(node, claims.stream().mapToLong(claim -> claim.family()
                == IpFamily.IPV4 ? heldBy(w, claim, V4, V4_BITS, V4_RESERVED)
                : heldBy(w, claim, V6, V6_BITS, V6_RESERVED)).sum()));
        assertEquals(held, w.ipam.wideClaims());
        w.plain.forEach((node, own) -> own.forEach(s -> assertEquals(Optional.of(node), w.ipam.holderOf(s))));
    }

    /** capacity - |reserved U plain U claims|, by sorting and merging index intervals. */
    private static long expectedFree(World w, Cidr pool, int bits, Cidr reserved) {
        List<long[]> taken = new ArrayList<>();
        taken.add(span(reserved, pool, bits));
        w.plain.values().forEach(l -> l.stream().filter(pool::overlaps).forEach(s -> taken.add(span(s, pool, bits))));
        w.wide.values().forEach(l -> l.stream().filter(pool::overlaps).forEach(s -> taken.add(span(s, pool, bits))));
        return (1L << (bits - pool.prefixLength())) - unionSize(taken);
    }

    /** |claim| - |claim ∩ (reserved U plain)|: plain subnets are single indices, reserved one interval. */
    private static long heldBy(World w, Cidr claim, Cidr pool, int bits, Cidr reserved) {
        if (!claim.overlaps(pool)) {
            return 0;
        }
        long[] c = span(claim, pool, bits);
        long[] r = span(reserved, pool, bits);
        long n = c[1] - c[0] - Math.max(0, Math.min(c[1], r[1]) - Math.max(c[0], r[0]));
        for (List<Cidr> own : w.plain.values()) {
            for (Cidr s : own) {
                long[] i = s.family() == pool.family() ? span(s, pool, bits) : null;
                if (i != null && i[0] >= c[0] && i[0] < c[1] && !(i[0] >= r[0] && i[0] < r[1])) {
                    n--;
                }
            }
        }
        return n;
    }

    /** The subnet indices [from, to) a CIDR overlaps in a pool, clipped to it. */
    private static long[] span(Cidr range, Cidr pool, int bits) {
        if (range.contains(pool)) {
            return new long[] {0, 1L << (bits - pool.prefixLength())};
        }
        SubnetPool p = SubnetPool.of(pool, bits);
        long first = p.overlapIndices(range)[0];
        return new long[] {first, first + (range.prefixLength() >= bits ? 1 : 1L << (bits - range.prefixLength()))};
    }

    private static long unionSize(List<long[]> intervals) {
        intervals.sort((a, b) -> Long.compare(a[0], b[0]));
        long size = 0;
        long start = -1;
        long end = -1;
        for (long[] i : intervals) {
            if (i[0] > end) {
                size += end - start;
                start = i[0];
                end = i[1];
            } else {
                end = Math.max(end, i[1]);
            }
        }
        return size + end - start;
    }

    @Provide
    Arbitrary<ActionChain<World>> chains() {
        return ActionChain.startWith(World::new)
                .withAction(3, assign())
                .withAction(2, adoptPlain())
                .withAction(3, adoptWide())
                .withAction(3, release())
                .withMaxTransformations(30);
    }

    @Property(tries = 120)
    void nothingInsideALiveClaimIsHandedOutAndReleasesFreeExactlyWhatNobodyElseCovers(
            @ForAll("chains") ActionChain<World> chain) {
        chain.withInvariant("free = pool - reserved - held", WideClaimModelTest::check).run();
    }

    /** Restoring the same nodes in any order gives the same holdings, and the same nodes are vouched for. */
    @Property(tries = 60)
    void restoreOrderDoesNotChangeWhatIsHeld(@ForAll("existing") List<ExistingNode> nodes, @ForAll long seed) {
        List<ExistingNode> shuffled = new ArrayList<>(nodes);
        Collections.shuffle(shuffled, new Random(seed));
        NodeIpam a = NodeIpam.builder().addPool(V4, V4_BITS).addPool(V6, V6_BITS).reserve(V4_RESERVED).build();
        NodeIpam b = NodeIpam.builder().addPool(V4, V4_BITS).addPool(V6, V6_BITS).reserve(V4_RESERVED).build();
        RestoreReport ra = a.restore(nodes);
        RestoreReport rb = b.restore(shuffled);
        assertEquals(a.holdings(), b.holdings());
        assertEquals(a.wideClaims(), b.wideClaims());
        assertEquals(a.stats(), b.stats());
        assertEquals(vouched(ra), vouched(rb));
        IpamInvariants.check(a);
        IpamInvariants.check(b);
    }

    private static Map<String, Boolean> vouched(RestoreReport r) {
        Map<String, Boolean> all = new TreeMap<>();
        r.nodes().forEach(n -> all.put(n.node(), n.vouched()));
        return all;
    }

    /** Nodes with distinct plain subnets (a duplicate's older node keeps it, by design) and any wide claims. */
    @Provide
    Arbitrary<List<ExistingNode>> existing() {
        return Arbitraries.subsetOf(PLAIN).flatMap(plain -> Arbitraries.of(CLAIMS).list().ofMaxSize(4)
                .map(claims -> {
                    List<ExistingNode> all = new ArrayList<>();
                    int i = 0;
                    for (String p : plain) {
                        all.add(new ExistingNode("plain" + i++, List.of(p)));
                    }
                    for (String claim : claims) {
                        all.add(new ExistingNode("wide" + i++, List.of(claim)));
                    }
                    return all;
                }));
    }

    private static Cidr c(String s) {
        return Cidr.parse(s);
    }
}
