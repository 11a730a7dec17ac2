package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.Transformer;

/**
 * Properties of {@link NodeIpam} under random sequences of assign, release and adopt (with valid, duplicate,
 * outside, misaligned and malformed pod CIDRs) on small dual-stack clusters with two pools per family, so that
 * exhaustion, pool order and conflicts happen often:
 * <ul>
 *   <li>no subnet is ever held by two nodes, and the pools agree with the node map ({@code checkInvariants});</li>
 *   <li>a successful assign gives exactly one subnet per family and keeps what the node had;</li>
 *   <li>a failed assign changes nothing (all or nothing);</li>
 *   <li>a new subnet comes from the second pool of a family only when the first is full;</li>
 *   <li>assign and release are idempotent; adopt never takes anything from another node.</li>
 * </ul>
 */
class NodeIpamStatefulTest {

    private static final List<String> NODES = List.of("n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7");
    /** Pod CIDR texts a node may be found with: subnets of every pool, outside, misaligned and malformed values. */
    private static final List<String> FOUND = List.of(
            "10.0.0.0/32", "10.0.0.1/32", "10.0.0.3/32", "10.0.1.0/32", "10.0.1.1/32",
            "fd00::/128", "fd00::2/128", "fd00:1::/128", "fd00:1::1/128",
            "10.0.0.0/31", "10.0.0.2/31", "192.168.0.0/32", "fd01::/128", "fd00::/127",
            "10.0.0.1/31", "not-a-cidr", "10.0.0.01/32", "");

    static final class World {
        final NodeIpam ipam = NodeIpam.builder()
                .addPool(Cidr.parse("10.0.0.0/30"), 32)     // IPv4 pool 1: 4 subnets
                .addPool(Cidr.parse("10.0.1.0/31"), 32)     // IPv4 pool 2: 2 subnets
                .addPool(Cidr.parse("fd00::/126"), 128)     // IPv6 pool 1: 4 subnets
                .addPool(Cidr.parse("fd00:1::/127"), 128)   // IPv6 pool 2: 2 subnets
                .build();

        Map<String, Optional<NodeAssignment>> snapshot() {
            Map<String, Optional<NodeAssignment>> all = new HashMap<>();
            for (String n : NODES) {
                all.put(n, ipam.assignmentOf(n));
            }
            return all;
        }

        @Override
        public String toString() {
            return snapshot().toString();
        }
    }

    private static Action.Independent<World> assign() {
        return () -> Arbitraries.of(NODES).map(node -> Transformer.mutate("assign " + node, w -> {
            Optional<NodeAssignment> before = w.ipam.assignmentOf(node);
            // assign frees what the node held for a misaligned pod CIDR, which changes where there is room
            boolean heldMisaligned = w.ipam.nodeNames().contains(node)
                    && heldCount(w, node) > before.map(b -> b.cidrs().size()).orElse(0);
            List<PoolStats> statsBefore = w.ipam.stats();
            Map<String, Optional<NodeAssignment>> others = w.snapshot();
            others.remove(node);
            NodeAssignment a;
            try {
                a = w.ipam.assign(node);
            } catch (PoolExhaustedException e) {
                if (heldMisaligned) {
                    return; // what it held for the misaligned CIDR was freed; nothing else changed
                }
                assertEquals(statsBefore, w.ipam.stats(), "a failed assign takes nothing");
                assertEquals(before, w.ipam.assignmentOf(node));
                boolean someFamilyFull = false;
                for (IpFamily f : w.ipam.families()) {
                    boolean has = before.flatMap(b -> b.cidr(f)).isPresent();
                    long free = statsBefore.stream().filter(s -> s.family() == f).mapToLong(PoolStats::free).sum();
                    someFamilyFull |= !has && free == 0;
                }
                assertTrue(someFamilyFull, "exhaustion only when a needed family has no free subnet");
                return;
            }
            assertEquals(w.ipam.families().size(), a.cidrs().size());
            for (int i = 0; i < a.cidrs().size(); i++) {
                assertEquals(w.ipam.families().get(i), a.cidrs().get(i).family(), "primary family first");
            }
            before.ifPresent(b -> assertTrue(a.cidrs().containsAll(b.cidrs()), "keeps what it had"));
            for (Cidr got : a.cidrs()) {
                if (before.isPresent() && before.get().cidrs().contains(got) || heldMisaligned) {
                    continue;
                }
                // pools of the family in order: the pool of the new subnet must be the first that had room
                PoolStats firstWithRoom = statsBefore.stream()
                        .filter(s -> s.family() == got.family() && s.free() > 0).findFirst().orElseThrow();
                assertTrue(firstWithRoom.cluster().contains(got), got + " should come from " + firstWithRoom);
            }
            assertEquals(a, w.ipam.assign(node), "idempotent");
            Map<String, Optional<NodeAssignment>> after = w.snapshot();
            after.remove(node);
            assertEquals(others, after, "other nodes are untouched");
        }));
    }

    private static long heldCount(World w, String node) {
        long n = 0;
        for (PoolStats p : w.ipam.stats()) {
            for (long i = 0; i < p.capacity(); i++) {
                Cidr subnet = SubnetPool.of(p.cluster(), p.nodePrefixLength()).subnet(i);
                if (w.ipam.holderOf(subnet).equals(Optional.of(node))) {
                    n++;
                }
            }
        }
        return n;
    }

    private static Action.Independent<World> release() {
        return () -> Arbitraries.of(NODES).map(node -> Transformer.mutate("release " + node, w -> {
            Optional<NodeAssignment> before = w.ipam.assignmentOf(node);
            w.ipam.release(node);
            assertFalse(w.ipam.release(node), "a second release finds nothing");
            assertEquals(Optional.empty(), w.ipam.assignmentOf(node));
            // free, unless a live pod CIDR wider than a node subnet covers it: then it is held for that one
            before.ifPresent(b -> b.cidrs().forEach(c -> w.ipam.holderOf(c).ifPresent(h -> {
                assertNotEquals(node, h);
                assertTrue(w.ipam.wideClaims().containsKey(h), c + " of released " + node + " went to " + h);
            })));
        }));
    }

    private static Action.Independent<World> adopt() {
        return () -> net.jqwik.api.Combinators.combine(Arbitraries.of(NODES),
                        Arbitraries.of(FOUND).list().ofMaxSize(3))
                .as((node, found) -> Transformer.mutate("adopt " + node + " " + found, w -> {
                    Map<String, Optional<NodeAssignment>> others = w.snapshot();
                    others.remove(node);
                    NodeReport r = w.ipam.adopt(node, found);
                    for (Cidr c : r.adopted()) {
                        assertEquals(Optional.of(node), w.ipam.holderOf(c));
                    }
                    for (NodeReport.Finding d : r.findings(NodeReport.Kind.DUPLICATE)) {
                        assertNotEquals(node, d.holder());
                    }
                    long nonNull = found.stream().filter(v -> v != null).count();
                    long classified = r.adopted().size() + r.findings().stream()
                            .filter(f -> f.kind() != NodeReport.Kind.MISSING_FAMILY
                                    && f.kind() != NodeReport.Kind.NON_CANONICAL
                                    && f.kind() != NodeReport.Kind.IN_RESERVED_RANGE).count();
                    assertTrue(classified >= nonNull, "every value is classified: " + r);
                    Map<String, Optional<NodeAssignment>> after = w.snapshot();
                    after.remove(node);
                    assertEquals(others, after, "adopt never takes from another node");
                }));
    }

    @Provide
    Arbitrary<ActionChain<World>> chains() {
        return ActionChain.startWith(World::new)
                .withAction(3, assign())
                .withAction(2, release())
                .withAction(2, adopt())
                .withMaxTransformations(60);
    }

    @Property(tries = 400)
    void noSubnetIsEverHeldTwiceAndAssignIsAllOrNothing(@ForAll("chains") ActionChain<World> chain) {
        chain.withInvariant("pools and holders agree", w -> w.ipam.checkInvariants()).run();
    }

    @Property(tries = 50)
    void restoreThenAssignNeverHandsOutARestoredSubnet(
            @ForAll("existingNodes") List<List<String>> existing) {
        World w = new World();
        List<ExistingNode> nodes = new ArrayList<>();
        for (int i = 0; i < existing.size(); i++) {
            nodes.add(new ExistingNode("old" + i, existing.get(i)));
        }
        RestoreReport report = w.ipam.restore(nodes);
        w.ipam.checkInvariants();
        Map<Cidr, String> restored = new HashMap<>();
        for (NodeReport r : report.nodes()) {
            r.adopted().forEach(c -> assertEquals(null, restored.put(c, r.node()), "adopted twice: " + c));
        }
        for (String n : NODES) {
            try {
                for (Cidr c : w.ipam.assign(n).cidrs()) {
                    assertFalse(restored.containsKey(c), c + " was restored for " + restored.get(c));
                }
            } catch (PoolExhaustedException e) {
                break;
            }
        }
        w.ipam.checkInvariants();
    }

    @Provide
    Arbitrary<List<List<String>>> existingNodes() {
        return Arbitraries.of(FOUND).list().ofMaxSize(3).list().ofMaxSize(8);
    }
}
