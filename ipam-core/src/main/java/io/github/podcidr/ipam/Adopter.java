// Turns the pod CIDR values found on a node into what it holds and what is reported about them.
package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Adoption for {@link NodeIpam#adopt(String, String, List)} and {@link NodeIpam#restore(Collection, Function)}: reads
 * each value as Kubernetes does, classifies it ({@link NodeReport.Kind}), and makes the node's holdings agree with
 * it, family by family, never taking a subnet from another node. Not thread-safe: {@link NodeIpam}'s lock guards it.
 */
final class Adopter {
    private final PoolLayout layout;
    private final Ledger ledger;

    Adopter(PoolLayout layout, Ledger ledger) {
        this.layout = layout;
        this.ledger = ledger;
    }

    /**
     * Adopts every node in the order given, then resumes allocation in each pool just past the subnet of the last
     * node given that holds one there (with the nodes oldest first, where the previous instance's cursor stood).
     */
    RestoreReport restore(Collection<ExistingNode> existing, Function<? super ExistingNode, String> groupOf) {
        List<NodeReport> reports = new ArrayList<>();
        Map<SubnetPool, Cidr> lastAdopted = new IdentityHashMap<>();
        for (ExistingNode n : existing) {
            if (!n.podCidrs().isEmpty()) {
                String name = groupOf.apply(n);
                NodeReport r = adopt(n.name(), name == null ? null : layout.group(name), n.podCidrs());
                for (Cidr c : r.adopted()) {
                    lastAdopted.put(layout.poolWithSubnet(c), c);
                }
                reports.add(r);
            }
        }
        lastAdopted.forEach(SubnetPool::moveCursorPast);
        return new RestoreReport(reports);
    }

    /** Adopts one node's values for a group (null: none); see {@link NodeIpam#adopt(String, String, List)}. */
    NodeReport adopt(String node, PoolLayout.Group selected, List<String> values) {
        java.util.Objects.requireNonNull(node, "node");
        List<NodeReport.Finding> findings = new ArrayList<>(0);
        Cidr[] claims = new Cidr[IpFamily.values().length];
        boolean any = false;
        for (String value : values) {
            if (value == null) {
                continue;
            }
            any = true;
            CidrParser parser = new CidrParser(value);
            Cidr c = parser.parseLenient();
            if (c == null) {
                findings.add(NodeReport.Finding.malformed(value, parser.error()));
            } else if (!layout.poolsByFamily.containsKey(c.family())) {
                findings.add(NodeReport.Finding.unconfiguredFamily(value, c));
            } else if (claims[c.family().ordinal()] != null) {
                findings.add(NodeReport.Finding.secondOfFamily(value, c, claims[c.family().ordinal()]));
            } else {
                claims[c.family().ordinal()] = c;
                if (parser.nonCanonical()) {
                    findings.add(NodeReport.Finding.nonCanonical(value, c, parser.nonCanonicalDetail()));
                }
            }
        }
        if (!any) {
            return new NodeReport(node, List.of(), List.of());
        }
        PoolLayout.Group reference = selected != null ? selected : firstGroupOf(claims);
        List<IpFamily> expected = reference != null ? reference.families : layout.families;
        List<Cidr> adopted = new ArrayList<>(layout.families.size());
        Ledger.Holding holding = ledger.holding(node);
        for (IpFamily family : layout.families) {
            Cidr claim = claims[family.ordinal()];
            List<Cidr> keep = List.of();
            boolean wide = false;
            Cidr exact = null;
            if (claim == null) {
                if (!expected.contains(family)) {
                    holding = ledger.replaceFamily(node, holding, family, null, keep, false);
                    continue;
                }
                findings.add(NodeReport.Finding.missingFamily(family));
            } else {
                SubnetPool pool = layout.poolWithSubnet(claim);
                if (pool != null) {
                    String holder = ledger.holderOf(claim);
                    if (holder == null || holder.equals(node)) {
                        exact = claim;
                        keep = List.of(claim);
                        PoolLayout.Group owner = layout.groupOf(pool);
                        if (selected != null && owner != selected) {
                            findings.add(NodeReport.Finding.inOtherGroup(claim, owner.name(), selected.name()));
                        }
                        if (pool.isReserved(claim)) {
                            findings.add(NodeReport.Finding.inReservedRange(claim, pool.cluster()));
                        }
                    } else {
                        findings.add(NodeReport.Finding.duplicate(claim, holder));
                    }
                } else {
                    keep = new ArrayList<>();
                    wide = overlapped(node, selected, claim, keep, findings);
                }
            }
            holding = ledger.replaceFamily(node, holding, family, exact, keep, wide);
            if (exact != null) {
                adopted.add(exact);
            }
        }
        ledger.finishAdoption(node, holding, reference);
        return new NodeReport(node, orderedBy(reference, adopted), findings);
    }

    /** The group of the first claim that overlaps a range, in family order; null if none does. */
    private PoolLayout.Group firstGroupOf(Cidr[] claims) {
        for (IpFamily f : layout.families) {
            Cidr c = claims[f.ordinal()];
            if (c != null) {
                PoolLayout.Group g = layout.groupOverlapping(c);
                if (g != null) {
                    return g;
                }
            }
        }
        return null;
    }

    /** Puts the subnets of a group's families first, in the group's order, the others after in global order. */
    private static List<Cidr> orderedBy(PoolLayout.Group group, List<Cidr> cidrs) {
        if (group == null || cidrs.size() < 2) {
            return cidrs;
        }
        List<Cidr> ordered = new ArrayList<>(cidrs.size());
        for (IpFamily f : group.families) {
            for (Cidr c : cidrs) {
                if (c.family() == f) {
                    ordered.add(c);
                }
            }
        }
        for (Cidr c : cidrs) {
            if (!ordered.contains(c)) {
                ordered.add(c);
            }
        }
        return ordered;
    }

    /**
     * Finds what a CIDR that is not one of a pool's subnets overlaps: the free subnets go to {@code keep}, subnets of
     * other nodes become one duplicate finding per holder.
     *
     * <p>A CIDR wider than one node subnet (a /22 in a pool of /24s, a supernet of the cluster range, 0.0.0.0/0) is
     * held in full but not vouched for ({@link NodeReport.Kind#OVERSIZED} fails closed). Holding it all is what keeps
     * it safe: Flannel routes a node's whole pod CIDR to that node and lets its pods take any address in it, so any
     * subnet inside it handed to another node could collide with that node's pods. Not vouching keeps the node out of
     * service (its taints stay), since no node subnet size explains it. The operator deletes the node object or
     * registers it again with a pod CIDR of one node subnet, and its subnets come free.
     *
     * @return true if the CIDR is wider than a node subnet of a pool it overlaps
     */
    private boolean overlapped(String node, PoolLayout.Group selected, Cidr claim, List<Cidr> keep,
            List<NodeReport.Finding> findings) {
        boolean overlapsAny = false;
        boolean wide = false;
        List<String> tooManyIn = new ArrayList<>(0);
        PoolLayout.Group otherGroup = null;
        boolean inSelected = false;
        int nodePrefix = -1;
        Set<String> otherHolders = new LinkedHashSet<>(0);
        for (SubnetPool pool : layout.poolsOf(claim.family())) {
            long[] span = pool.overlapIndices(claim);
            if (span == null) {
                continue;
            }
            overlapsAny = true;
            if (claim.prefixLength() < pool.nodePrefixLength()) {
                wide = true;
                nodePrefix = pool.nodePrefixLength();
            }
            PoolLayout.Group owner = layout.groupOf(pool);
            if (owner == selected) {
                inSelected = true;
            } else if (otherGroup == null) {
                otherGroup = owner;
            }
            if (span[1] - span[0] > NodeIpam.MAX_SUBNETS_HELD_FOR_MISALIGNED) {
                tooManyIn.add(pool.cluster() + " (" + (span[1] - span[0]) + ")");
                continue;
            }
            for (long i = span[0]; i < span[1]; i++) {
                Cidr subnet = pool.subnet(i);
                String holder = ledger.holderOf(subnet);
                if (holder == null || holder.equals(node)) {
                    keep.add(subnet);
                } else {
                    otherHolders.add(holder);
                }
            }
        }
        if (!overlapsAny) {
            findings.add(NodeReport.Finding.outsidePools(claim));
            return false;
        }
        findings.add(wide ? NodeReport.Finding.oversized(claim, nodePrefix, keep.size(), otherHolders.size(), tooManyIn)
                : NodeReport.Finding.misaligned(claim));
        if (selected != null && !inSelected) {
            findings.add(NodeReport.Finding.inOtherGroup(claim, otherGroup.name(), selected.name()));
        }
        for (String holder : otherHolders) {
            findings.add(NodeReport.Finding.duplicate(claim, holder));
        }
        return wide;
    }
}
