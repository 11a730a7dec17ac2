package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
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
 * Model-based test of adoption as a controller drives it: a model of the API server (nodes and their immutable pod
 * CIDRs) next to a {@link NodeIpam}, under random sequences of node creation (with pod CIDRs set by someone else:
 * duplicates, host bits, leading zeros, misaligned, foreign, unreadable), deletion, writes by others, and the
 * controller's reconcile, whose writes land or not without the controller learning which (an unanswered write).
 *
 * <p>After every step, for every node the controller has looked at since its last change in the API:
 * <ul>
 *   <li>what it holds is exactly what its pod CIDRs claim (as Kubernetes reads them) minus what other nodes hold;
 *       without pod CIDRs, at most one in-flight assignment (one subnet per family);</li>
 *   <li>a node gone from the API holds nothing;</li>
 *   <li>nodes the controller vouches for never overlap each other (the ones it cannot vouch for keep their
 *       taints).</li>
 * </ul>
 */
class AdoptionModelTest {

    private static final List<String> NODES = List.of("n0", "n1", "n2", "n3", "n4", "n5");
    private static final List<Cidr> SUBNETS = List.of(
            c("10.0.0.0/32"), c("10.0.0.1/32"), c("10.0.0.2/32"), c("10.0.0.3/32"),
            c("fd00::/128"), c("fd00::1/128"), c("fd00::2/128"), c("fd00::3/128"));

    /** How Kubernetes reads each value (written out by hand: the oracle), and the pool subnets it covers. */
    private static final Map<String, Claim> VALUES = new HashMap<>();

    static {
        claim("10.0.0.0/32", IpFamily.IPV4, false, "10.0.0.0/32");
        claim("10.0.0.2/32", IpFamily.IPV4, false, "10.0.0.2/32");
        claim("10.0.0.0/31", IpFamily.IPV4, false, "10.0.0.0/32", "10.0.0.1/32");        // wider than a subnet
        claim("10.0.0.3/31", IpFamily.IPV4, false, "10.0.0.2/32", "10.0.0.3/32");        // host bits set, wide
        claim("10.0.0.01/32", IpFamily.IPV4, false, "10.0.0.1/32");                      // leading zero, decimal
        claim("192.168.0.0/32", IpFamily.IPV4, true);                                    // outside the pool
        claim("fd00::1/128", IpFamily.IPV6, false, "fd00::1/128");
        claim("fd00::/127", IpFamily.IPV6, false, "fd00::/128", "fd00::1/128");          // wider than a subnet
        claim("fd00:0::3/128", IpFamily.IPV6, false, "fd00::3/128");                     // not canonical
        claim("fd01::/128", IpFamily.IPV6, true);                                        // outside the pool
        VALUES.put("not-a-cidr", null);                                                  // unreadable
    }

    /**
     * A value's family, whether it lies outside every pool, and the pool subnets it covers; a value covering more
     * than one is wider than a node subnet, which is held but never vouched for.
     */
    private record Claim(IpFamily family, boolean outside, Set<Cidr> subnets) {
        boolean wide() {
            return subnets.size() > 1;
        }
    }

    private static void claim(String value, IpFamily family, boolean outside, String... subnets) {
        Set<Cidr> s = new LinkedHashSet<>();
        for (String sub : subnets) {
            s.add(c(sub));
        }
        VALUES.put(value, new Claim(family, outside, s));
    }

    static final class World {
        final NodeIpam ipam = NodeIpam.builder()
                .addPool(c("10.0.0.0/30"), 32)
                .addPool(c("fd00::/126"), 128)
                .build();
        /** The API server: node name to its pod CIDR texts (empty: none yet; immutable once set). */
        final Map<String, List<String>> api = new HashMap<>();
        /** Nodes the controller reconciled since their last change in the API. */
        final Set<String> synced = new HashSet<>();
        /** The report of each node's last adopt while it is synced. */
        final Map<String, NodeReport> reports = new HashMap<>();

        void changed(String node) {
            synced.remove(node);
            reports.remove(node);
        }

        /** What the reconciler does for a node; a write lands in the API or not, unknown to the controller. */
        void reconcile(String node, boolean writeLands) {
            List<String> values = api.get(node);
            if (values == null) {
                ipam.release(node);
                reports.remove(node);
            } else if (!values.isEmpty()) {
                reports.put(node, ipam.adopt(node, values));
            } else {
                reports.remove(node);
                Optional<NodeAssignment> a = ipam.tryAssign(node);
                if (a.isPresent() && writeLands) {
                    api.put(node, a.get().podCidrs());
                    changed(node);
                    wakeConflicts(node);
                    return;
                }
            }
            synced.add(node);
            wakeConflicts(node);
        }

        /** A released or replaced subnet may resolve other nodes' conflicts: the controller re-queues them. */
        void wakeConflicts(String except) {
            for (Map.Entry<String, NodeReport> e : List.copyOf(reports.entrySet())) {
                if (!e.getKey().equals(except) && !e.getValue().vouched()) {
                    changed(e.getKey());
                }
            }
        }

        Set<Cidr> held(String node) {
            Set<Cidr> held = new LinkedHashSet<>();
            for (Cidr s : SUBNETS) {
                if (ipam.holderOf(s).equals(Optional.of(node))) {
                    held.add(s);
                }
            }
            return held;
        }

        @Override
        public String toString() {
            return "api=" + api + " synced=" + synced;
        }
    }

    /** How Kubernetes reads a value: from the table, or for the controller's own (canonical) writes, the subnet. */
    private static Claim read(String value) {
        if (VALUES.containsKey(value)) {
            return VALUES.get(value);
        }
        Cidr own = Cidr.parse(value);
        return new Claim(own.family(), false, Set.of(own));
    }

    /** The pool subnets a node's values claim, family by family (the first value of each family counts). */
    private static Set<Cidr> claimed(List<String> values) {
        Set<Cidr> all = new LinkedHashSet<>();
        Set<IpFamily> seen = new HashSet<>();
        for (String v : values) {
            Claim c = read(v);
            if (c != null && seen.add(c.family())) {
                all.addAll(c.subnets());
            }
        }
        return all;
    }

    /**
     * Whether a node's values can be vouched for regardless of other nodes: readable, in the pools, one per family,
     * none wider than a node subnet.
     */
    private static boolean readable(List<String> values) {
        Set<IpFamily> seen = new HashSet<>();
        for (String v : values) {
            Claim c = read(v);
            if (c == null || c.outside() || c.wide() || !seen.add(c.family())) {
                return false;
            }
        }
        return true;
    }

    private static Arbitrary<List<String>> someValues() {
        return Arbitraries.of(List.copyOf(VALUES.keySet())).list().ofMinSize(1).ofMaxSize(2);
    }

    private static Action.Independent<World> create() {
        return () -> Combinators.combine(Arbitraries.of(NODES), someValues(), Arbitraries.integers().between(0, 2))
                .as((node, values, bare) -> Transformer.mutate("create " + node + (bare > 0 ? "" : " " + values),
                        w -> {
                            if (!w.api.containsKey(node)) {
                                w.api.put(node, bare > 0 ? List.of() : values);
                                w.changed(node);
                            }
                        }));
    }

    private static Action.Independent<World> delete() {
        return () -> Arbitraries.of(NODES).map(node -> Transformer.mutate("delete " + node, w -> {
            w.api.remove(node);
            w.changed(node);
        }));
    }

    private static Action.Independent<World> writtenByOthers() {
        return () -> Combinators.combine(Arbitraries.of(NODES), someValues())
                .as((node, values) -> Transformer.mutate("others write " + node + " " + values, w -> {
                    if (w.api.containsKey(node) && w.api.get(node).isEmpty()) {
                        w.api.put(node, values);
                        w.changed(node);
                    }
                }));
    }

    private static Action.Independent<World> reconcile() {
        return () -> Combinators.combine(Arbitraries.of(NODES), Arbitraries.of(true, false))
                .as((node, lands) -> Transformer.mutate("reconcile " + node + (lands ? "" : " (write lost)"),
                        w -> w.reconcile(node, lands)));
    }

    private static Action.Independent<World> deselectedAndConfirmedEmpty() {
        return () -> Arbitraries.of(NODES).map(node -> Transformer.mutate("deselect " + node, w -> {
            if (w.api.containsKey(node) && w.api.get(node).isEmpty()) {
                w.ipam.release(node); // the reconciler frees it after a live read shows no pod CIDR
                w.wakeConflicts(node); // and re-queues the nodes failing closed
            }
        }));
    }

    private static void check(World w) {
        w.ipam.checkInvariants();
        for (String node : w.synced) {
            List<String> values = w.api.get(node);
            Set<Cidr> held = w.held(node);
            if (values == null) {
                assertEquals(Set.of(), held, node + " is gone from the API");
                assertFalse(w.ipam.nodeNames().contains(node));
            } else if (values.isEmpty()) {
                List<Cidr> inFlight = w.ipam.assignmentOf(node).map(NodeAssignment::cidrs).orElse(List.of());
                assertEquals(new LinkedHashSet<>(inFlight), held, node + ": at most one in-flight assignment");
                assertTrue(inFlight.size() <= 2);
            } else {
                Set<Cidr> claimed = claimed(values);
                assertTrue(claimed.containsAll(held), node + " holds " + held + " beyond its claim " + claimed);
                for (Cidr s : claimed) {
                    assertTrue(w.ipam.holderOf(s).isPresent(), s + " claimed by " + node + " is held by someone");
                }
                NodeReport r = w.reports.get(node);
                boolean allHeld = held.equals(claimed);
                assertEquals(readable(values) && allHeld, r.vouched(), node + " " + values + ": " + r);
                for (Cidr a : r.adopted()) {
                    assertTrue(held.contains(a));
                }
            }
        }
        // Safety: the nodes the controller vouches for (and untaints) never overlap.
        Map<Cidr, String> owner = new HashMap<>();
        for (Map.Entry<String, NodeReport> e : w.reports.entrySet()) {
            if (!e.getValue().vouched()) {
                continue;
            }
            for (Cidr s : claimed(w.api.get(e.getKey()))) {
                String other = owner.put(s, e.getKey());
                assertEquals(null, other, s + " vouched for on " + other + " and " + e.getKey());
            }
        }
    }

    @Provide
    Arbitrary<ActionChain<World>> chains() {
        return ActionChain.startWith(World::new)
                .withAction(3, create())
                .withAction(1, delete())
                .withAction(2, writtenByOthers())
                .withAction(5, reconcile())
                .withAction(1, deselectedAndConfirmedEmpty())
                .withMaxTransformations(80);
    }

    @Property(tries = 600)
    void heldIsWhatTheApiSaysPlusAtMostOneInFlightAssignment(@ForAll("chains") ActionChain<World> chain) {
        chain.withInvariant("held set agrees with the API", AdoptionModelTest::check).run();
    }

    private static Cidr c(String s) {
        return Cidr.parse(s);
    }
}
