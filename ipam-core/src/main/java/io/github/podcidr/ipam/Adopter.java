// Turns the pod CIDR values found on a node into what it holds and what is reported about them.
package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
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
            Cidr exact = null;
            Cidr misaligned = null;
            Cidr wide = null;
            Overlap wideOverlap = null;
            if (claim == null) {
                if (expected.contains(family)) {
                    findings.add(NodeReport.Finding.missingFamily(family));
                }
            } else {
                SubnetPool pool = layout.poolWithSubnet(claim);
                if (pool != null) {
                    String holder = ledger.individualHolderOf(claim);
                    if (holder == null || holder.equals(node)) {
                        exact = claim;
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
                    Overlap o = overlap(selected, claim);
                    if (o == null) {
                        findings.add(NodeReport.Finding.outsidePools(claim));
                    } else if (o.nodePrefix < 0) {
                        Cidr subnet = o.pool.subnet(o.pool.overlapIndices(claim)[0]);
                        String holder = ledger.individualHolderOf(subnet);
                        findings.add(NodeReport.Finding.misaligned(claim));
                        o.addOtherGroup(findings, claim, selected);
                        if (holder == null || holder.equals(node)) {
                            misaligned = subnet;
                        } else {
                            findings.add(NodeReport.Finding.duplicate(claim, holder));
                        }
                    } else {
                        wide = claim;
                        wideOverlap = o;
                    }
                }
            }
            holding = ledger.replaceFamily(node, holding, family, exact, misaligned, wide);
            if (wide != null) {
                reportWide(claim, wideOverlap, selected, findings);
            }
            if (exact != null) {
                adopted.add(exact);
            }
        }
        ledger.finishAdoption(holding, reference);
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

    /** Most nodes named in {@code DUPLICATE} findings of one wide claim (the OVERSIZED finding counts them all). */
    static final int MAX_HOLDERS_NAMED = 10;

    /** What a CIDR that is not one of a pool's subnets overlaps. */
    private static final class Overlap {
        /** A pool it overlaps (the only one when it is not wide). */
        SubnetPool pool;
        /** The node prefix length of a pool it is wider than a subnet of; -1 if it is not wider than one. */
        int nodePrefix = -1;
        boolean inSelected;
        PoolLayout.Group otherGroup;

        void addOtherGroup(List<NodeReport.Finding> findings, Cidr claim, PoolLayout.Group selected) {
            if (selected != null && !inSelected) {
                findings.add(NodeReport.Finding.inOtherGroup(claim, otherGroup.name(), selected.name()));
            }
        }
    }

    /** The pools a CIDR that is not one of their subnets overlaps, or null if it overlaps none. */
    private Overlap overlap(PoolLayout.Group selected, Cidr claim) {
        Overlap o = null;
        for (SubnetPool pool : layout.poolsOf(claim.family())) {
            if (!pool.cluster().overlaps(claim)) {
                continue;
            }
            if (o == null) {
                o = new Overlap();
                o.pool = pool;
            }
            if (claim.prefixLength() < pool.nodePrefixLength()) {
                o.nodePrefix = pool.nodePrefixLength();
            }
            PoolLayout.Group owner = layout.groupOf(pool);
            if (owner == selected) {
                o.inSelected = true;
            } else if (o.otherGroup == null) {
                o.otherGroup = owner;
            }
        }
        return o;
    }

    /**
     * Reports a CIDR wider than one node subnet once the ledger holds it: how many subnets it holds, the nodes
     * holding subnets inside it (the first {@link #MAX_HOLDERS_NAMED} named), and its group.
     *
     * <p>A CIDR wider than one node subnet (a /22 in a pool of /24s, a supernet of the cluster range, 0.0.0.0/0) is
     * held in full but not vouched for ({@link NodeReport.Kind#OVERSIZED} fails closed). Holding it all is what keeps
     * it safe: Flannel routes a node's whole pod CIDR to that node and lets its pods take any address in it, so any
     * subnet inside it handed to another node could collide with that node's pods. It is held as one index range per
     * pool, so a claim of any width (2^32 subnets of an IPv6 pool) costs the same, and there is no cap beyond which
     * other nodes could get subnets inside it. Not vouching keeps the node out of service (its taints stay), since no
     * node subnet size explains it. The operator deletes the node object or registers it again with a pod CIDR of one
     * node subnet, and its subnets come free.
     */
    private void reportWide(Cidr claim, Overlap o, PoolLayout.Group selected, List<NodeReport.Finding> findings) {
        long span = 0;
        for (SubnetPool p : layout.poolsOf(claim.family())) {
            long[] s = p.overlapIndices(claim);
            if (s != null) {
                span += s[1] - s[0];
            }
        }
        List<String> named = new ArrayList<>(0);
        long others = ledger.holdersInside(claim, MAX_HOLDERS_NAMED, named);
        long held = ledger.heldFor(claim);
        findings.add(NodeReport.Finding.oversized(claim, o.nodePrefix, held, others, span - held - others));
        o.addOtherGroup(findings, claim, selected);
        for (String holder : named) {
            findings.add(NodeReport.Finding.duplicate(claim, holder));
        }
    }
}
