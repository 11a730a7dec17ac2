package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * Model-based test of named groups as a controller drives them: nodes carry a group label that may change (or name
 * no group), get subnets by {@link NodeIpam#tryAssign(String, String)} whose writes land or not, are found with pod
 * CIDRs of any group set by someone else, are deleted, and the controller fails over (a new instance restores every
 * node). Three small groups with different ranges, families and masks make exhaustion and moves frequent.
 *
 * <p>Checked after every step or in it:
 * <ul>
 *   <li>a subnet is never held twice ({@code checkInvariants});</li>
 *   <li>a subnet allocated for a node lies in a range of the node's group (by a hand-written table, not by asking
 *       the instance);</li>
 *   <li>a failed assign names nothing of another group full: it fails only when the node's group has no room;</li>
 *   <li>a node adopted for a group reports {@code IN_OTHER_GROUP} exactly for the values it holds from another
 *       group's range, and keeps them;</li>
 *   <li>restore is idempotent: restoring the same nodes again changes no assignment and gives the same reports.</li>
 * </ul>
 */
class NodeGroupsModelTest {

    private static final List<String> NODES = List.of("n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7");
    /** Group labels a node may carry; null: no selector matches it. */
    private static final List<Optional<String>> LABELS = List.of(
            Optional.of(NodeIpam.DEFAULT_GROUP), Optional.of("a"), Optional.of("b"), Optional.empty());

    /** The oracle: each group's ranges, written out by hand. */
    private static final Map<String, List<Cidr>> RANGES = new LinkedHashMap<>();

    static {
        RANGES.put(NodeIpam.DEFAULT_GROUP, List.of(c("10.2.0.0/31")));
        RANGES.put("a", List.of(c("10.0.0.0/30"), c("fd00::/126")));
        RANGES.put("b", List.of(c("10.1.0.0/29")));
    }

    /** Pod CIDRs other tools may have set: a subnet of every group, and one outside them all. */
    private static final List<String> FOUND = List.of(
            "10.0.0.1/32", "fd00::2/128", "10.1.0.2/31", "10.1.0.6/31", "10.2.0.1/32", "192.168.0.0/32");

    static NodeIpam newIpam() {
        return NodeIpam.builder()
                .addPool(c("10.2.0.0/31"), 32)                                       // default: 2 x /32, IPv4
                .addGroup(NodeGroup.builder("a").addPool(c("10.0.0.0/30"), 32)      // a: 4 x /32 and 4 x /128
                        .addPool(c("fd00::/126"), 128).build())
                .addGroup(NodeGroup.builder("b").addPool(c("10.1.0.0/29"), 31)      // b: 4 x /31, IPv4
                        .build())
                .build();
    }

    private static String groupOf(Cidr subnet) {
        for (Map.Entry<String, List<Cidr>> e : RANGES.entrySet()) {
            for (Cidr r : e.getValue()) {
                if (r.contains(subnet)) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    static final class World {
        NodeIpam ipam = newIpam();
        /** The API server: node name to its pod CIDR texts (empty: none yet; immutable once set). */
        final Map<String, List<String>> api = new HashMap<>();
        /** The group label of each node in the API (null: no group). */
        final Map<String, String> label = new HashMap<>();
        /** Creation order, oldest first, as a controller restores. */
        final List<String> created = new ArrayList<>();

        void reconcile(String node, boolean writeLands) {
            List<String> values = api.get(node);
            String group = label.get(node);
            if (values == null) {
                ipam.release(node);
            } else if (!values.isEmpty()) {
                checkAdoption(node, group, values, ipam.adopt(node, group, values));
            } else if (group != null) {
                Set<Cidr> before = new HashSet<>(ipam.assignmentOf(node).map(NodeAssignment::cidrs).orElse(List.of()));
                Map<String, Long> freeBefore = freeByGroup();
                Optional<NodeAssignment> a = ipam.tryAssign(node, group);
                if (a.isEmpty()) {
                    assertTrue(freeBefore.get(group) == 0 || familyFull(group),
                            "assign for group " + group + " failed with room in it: " + ipam.stats(group));
                    return;
                }
                for (Cidr s : a.get().cidrs()) {
                    if (!before.contains(s)) {
                        assertEquals(group, groupOf(s), s + " allocated for " + node + " of group " + group);
                    }
                }
                if (writeLands) {
                    api.put(node, a.get().podCidrs());
                }
            }
        }

        private boolean familyFull(String group) {
            Map<IpFamily, Long> free = new HashMap<>();
            for (PoolStats s : ipam.stats(group)) {
                free.merge(s.family(), s.free(), Long::sum);
            }
            return free.containsValue(0L);
        }

        private Map<String, Long> freeByGroup() {
            Map<String, Long> free = new HashMap<>();
            for (String g : RANGES.keySet()) {
                free.put(g, ipam.stats(g).stream().mapToLong(PoolStats::free).sum());
            }
            return free;
        }

        private void checkAdoption(String node, String group, List<String> values, NodeReport report) {
            int expected = 0;
            Set<IpFamily> seen = new HashSet<>();
            for (String v : values) {
                Cidr claim = Cidr.parseLenient(v);
                if (!seen.add(claim.family())) {
                    continue;
                }
                String owner = groupOf(claim);
                boolean held = ipam.holderOf(claim).equals(Optional.of(node));
                if (group != null && owner != null && !owner.equals(group) && held) {
                    expected++;
                }
            }
            assertEquals(expected, report.findings(NodeReport.Kind.IN_OTHER_GROUP).size(),
                    node + " of group " + group + " with " + values + ": " + report);
        }

        void failover() {
            NodeIpam fresh = newIpam();
            List<ExistingNode> existing = new ArrayList<>();
            for (String n : created) {
                existing.add(new ExistingNode(n, api.get(n)));
            }
            RestoreReport first = fresh.restore(existing, e -> label.get(e.name()));
            var afterFirst = fresh.snapshot();
            fresh.checkInvariants();
            RestoreReport second = fresh.restore(existing, e -> label.get(e.name()));
            assertEquals(afterFirst, fresh.snapshot(), "restore twice changes nothing");
            assertEquals(first, second, "restore twice reports the same");
            ipam = fresh;
        }

        @Override
        public String toString() {
            return "api=" + api + " labels=" + label;
        }
    }

    private static Action.Independent<World> create() {
        return () -> Combinators.combine(Arbitraries.of(NODES), Arbitraries.of(LABELS), Arbitraries.of(FOUND),
                Arbitraries.integers().between(0, 3))
                .as((node, label, found, bare) -> Transformer.mutate("create " + node + " in " + label.orElse("none")
                        + (bare > 0 ? "" : " with " + found), w -> {
                            if (!w.api.containsKey(node)) {
                                w.api.put(node, bare > 0 ? List.of() : List.of(found));
                                w.label.put(node, label.orElse(null));
                                w.created.add(node);
                            }
                        }));
    }

    private static Action.Independent<World> relabel() {
        return () -> Combinators.combine(Arbitraries.of(NODES), Arbitraries.of(LABELS))
                .as((node, label) -> Transformer.mutate("relabel " + node + " to " + label.orElse("none"), w -> {
                    if (w.api.containsKey(node)) {
                        w.label.put(node, label.orElse(null));
                    }
                }));
    }

    private static Action.Independent<World> delete() {
        return () -> Arbitraries.of(NODES).map(node -> Transformer.mutate("delete " + node, w -> {
            w.api.remove(node);
            w.label.remove(node);
            w.created.remove(node);
        }));
    }

    private static Action.Independent<World> reconcile() {
        return () -> Combinators.combine(Arbitraries.of(NODES), Arbitraries.of(true, false))
                .as((node, lands) -> Transformer.mutate("reconcile " + node + (lands ? "" : " (write lost)"),
                        w -> w.reconcile(node, lands)));
    }

    private static Action.Independent<World> failover() {
        return () -> Arbitraries.just(Transformer.mutate("failover", World::failover));
    }

    @Provide
    Arbitrary<ActionChain<World>> chains() {
        return ActionChain.startWith(World::new)
                .withAction(3, create())
                .withAction(1, relabel())
                .withAction(1, delete())
                .withAction(6, reconcile())
                .withAction(1, failover())
                .withMaxTransformations(80);
    }

    @Property(tries = 500)
    void subnetsComeFromTheNodesGroupAndMovesAreReported(@ForAll("chains") ActionChain<World> chain) {
        chain.withInvariant("no subnet held twice", w -> w.ipam.checkInvariants()).run();
    }

    /** Two groups with random IPv4 ranges: the instance builds exactly when no range of one overlaps one of the other. */
    @Property(tries = 300)
    void rangesOfDifferentGroupsNeverOverlap(@ForAll("ranges") List<Cidr> first, @ForAll("ranges") List<Cidr> second) {
        boolean disjointWithin = disjoint(first) && disjoint(second);
        boolean disjointAcross = true;
        for (Cidr a : first) {
            for (Cidr b : second) {
                disjointAcross &= !a.overlaps(b);
            }
        }
        NodeGroup.Builder one = NodeGroup.builder("one");
        NodeGroup.Builder two = NodeGroup.builder("two");
        first.forEach(r -> one.addPool(r, 28));
        second.forEach(r -> two.addPool(r, 28));
        NodeIpam.Builder b = NodeIpam.builder().addGroup(one.build()).addGroup(two.build());
        if (disjointWithin && disjointAcross) {
            NodeIpam ipam = b.build();
            for (Cidr r : first) {
                assertEquals(Optional.of("one"), ipam.groupOf(r));
            }
            for (Cidr r : second) {
                assertEquals(Optional.of("two"), ipam.groupOf(r));
            }
        } else {
            InvalidPoolException e = assertThrows(InvalidPoolException.class, b::build);
            assertTrue(e.getMessage().contains(disjointWithin ? "of group one overlaps range" : "overlap"),
                    e.getMessage());
        }
    }

    @Provide
    Arbitrary<List<Cidr>> ranges() {
        Arbitrary<Cidr> range = Combinators.combine(Arbitraries.integers().between(0, 15),
                Arbitraries.integers().between(20, 24))
                .as((block, prefix) -> Cidr.parseLenient("10." + (block * 16) + ".0.0/" + (block % 3 == 0 ? 12 : prefix)));
        return range.list().ofMinSize(1).ofMaxSize(3);
    }

    private static boolean disjoint(List<Cidr> ranges) {
        for (int i = 0; i < ranges.size(); i++) {
            for (int j = i + 1; j < ranges.size(); j++) {
                if (ranges.get(i).overlaps(ranges.get(j))) {
                    return false;
                }
            }
        }
        return true;
    }

    private static Cidr c(String s) {
        return Cidr.parse(s);
    }
}
