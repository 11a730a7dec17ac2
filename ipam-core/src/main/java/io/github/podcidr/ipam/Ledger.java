// Which node holds which subnet, kept in step with the pools' occupancy.
package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The holdings of every node: at most one subnet per family (what the node is or will be written with) plus the
 * subnets held for a misaligned or wide pod CIDR, and the reverse map from subnet to node. Every change goes through
 * here, so a subnet is allocated in its pool exactly when a node holds it. Not thread-safe: {@link NodeIpam}'s lock
 * guards it.
 */
final class Ledger {
    private final PoolLayout layout;
    /** Node name to what it holds. */
    private final Map<String, Holding> nodes = new HashMap<>();
    /** Subnet to the node that holds it. */
    private final Map<Cidr, String> holders = new HashMap<>();
    /** Nodes holding subnets for a pod CIDR wider than a node subnet, in the order first found. */
    private final Set<String> wideNodes = new LinkedHashSet<>();

    /** What one node holds: at most one subnet per family, plus subnets held for misaligned CIDRs. */
    static final class Holding {
        final Cidr[] byFamily = new Cidr[IpFamily.values().length];
        List<Cidr> heldForMisaligned;
        /** Per family: the subnets held for a misaligned CIDR are for one wider than a node subnet. */
        final boolean[] wide = new boolean[IpFamily.values().length];
        /** The group the node was last assigned or adopted for; orders its subnets. Null when unknown. */
        PoolLayout.Group group;

        boolean isEmpty() {
            for (Cidr c : byFamily) {
                if (c != null) {
                    return false;
                }
            }
            return heldForMisaligned == null || heldForMisaligned.isEmpty();
        }

        boolean isWide() {
            for (boolean w : wide) {
                if (w) {
                    return true;
                }
            }
            return false;
        }

        /** The subnets held for wide CIDRs. */
        long wideHeld() {
            long n = 0;
            if (heldForMisaligned != null) {
                for (Cidr c : heldForMisaligned) {
                    if (wide[c.family().ordinal()]) {
                        n++;
                    }
                }
            }
            return n;
        }
    }

    Ledger(PoolLayout layout) {
        this.layout = layout;
    }

    Holding holding(String node) {
        return nodes.get(node);
    }

    String holderOf(Cidr subnet) {
        return holders.get(subnet);
    }

    boolean holdsAny(String node) {
        return nodes.containsKey(node);
    }

    int nodeCount() {
        return nodes.size();
    }

    SortedSet<String> nodeNames() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(nodes.keySet()));
    }

    /** A new, empty holding for a node that holds nothing yet. */
    Holding open(String node) {
        Holding h = new Holding();
        nodes.put(node, h);
        return h;
    }

    /** Records a subnet just allocated in its pool as the node's subnet of its family. */
    void recordAllocated(String node, Holding holding, Cidr subnet) {
        holding.byFamily[subnet.family().ordinal()] = subnet;
        holders.put(subnet, node);
    }

    /** Frees the subnets a node held for misaligned or wide pod CIDRs; drops the node if it then holds nothing. */
    Holding dropMisaligned(String node, Holding holding) {
        if (holding == null || holding.heldForMisaligned == null || holding.heldForMisaligned.isEmpty()) {
            return holding;
        }
        for (Cidr c : holding.heldForMisaligned) {
            free(c);
        }
        holding.heldForMisaligned = null;
        Arrays.fill(holding.wide, false);
        wideNodes.remove(node);
        if (holding.isEmpty()) {
            nodes.remove(node);
            return null;
        }
        return holding;
    }

    /** Frees every subnet of a node; false if it held none. */
    boolean release(String node) {
        java.util.Objects.requireNonNull(node, "node");
        Holding holding = nodes.remove(node);
        wideNodes.remove(node);
        if (holding == null) {
            return false;
        }
        for (Cidr c : holding.byFamily) {
            if (c != null) {
                free(c);
            }
        }
        if (holding.heldForMisaligned != null) {
            for (Cidr c : holding.heldForMisaligned) {
                free(c);
            }
        }
        return true;
    }

    private void free(Cidr subnet) {
        holders.remove(subnet);
        layout.poolWithSubnet(subnet).release(subnet);
    }

    /**
     * Makes the node hold exactly {@code keep} in one family ({@code exact}, when set, as its subnet of the family,
     * else all of {@code keep} as held for a misaligned CIDR, {@code wide} telling whether that CIDR is wider than a
     * node subnet), freeing whatever else it held in that family. Every subnet in {@code keep} is free or the
     * node's already.
     *
     * @return the node's holding, or null if it now holds nothing
     */
    Holding replaceFamily(String node, Holding holding, IpFamily family, Cidr exact, List<Cidr> keep, boolean wide) {
        if (holding != null) {
            // A wide claim keeps up to MAX_SUBNETS_HELD_FOR_MISALIGNED subnets: look them up in a hash set, so that
            // re-adopting it is linear in what it holds, not quadratic (List.contains in a loop).
            Set<Cidr> kept = keep.size() <= 4 ? null : new HashSet<>(keep);
            Cidr previous = holding.byFamily[family.ordinal()];
            if (previous != null && !(kept == null ? keep.contains(previous) : kept.contains(previous))) {
                free(previous);
            }
            holding.byFamily[family.ordinal()] = null;
            if (holding.heldForMisaligned != null) {
                holding.heldForMisaligned.removeIf(c -> {
                    if (c.family() == family) {
                        if (!(kept == null ? keep.contains(c) : kept.contains(c))) {
                            free(c);
                        }
                        return true; // kept ones are added back from keep below
                    }
                    return false;
                });
            }
        }
        if (!keep.isEmpty()) {
            if (holding == null) {
                holding = open(node);
            }
            for (Cidr c : keep) {
                if (!node.equals(holders.get(c))) {
                    layout.poolWithSubnet(c).occupy(c);
                    holders.put(c, node);
                }
            }
            if (exact != null) {
                holding.byFamily[family.ordinal()] = exact;
            } else {
                if (holding.heldForMisaligned == null) {
                    holding.heldForMisaligned = new ArrayList<>(keep.size());
                }
                holding.heldForMisaligned.addAll(keep);
            }
        }
        if (holding != null) {
            holding.wide[family.ordinal()] = wide && exact == null && !keep.isEmpty();
        }
        if (holding != null && holding.isEmpty()) {
            nodes.remove(node);
            return null;
        }
        return holding;
    }

    /** Records the group the node was adopted for and whether it now holds subnets for a wide pod CIDR. */
    void finishAdoption(String node, Holding holding, PoolLayout.Group group) {
        if (holding != null) {
            holding.group = group;
        }
        if (holding != null && holding.isWide()) {
            wideNodes.add(node);
        } else {
            wideNodes.remove(node);
        }
    }

    /** The node's subnet of each family, its group's primary family first, then any other family it holds. */
    NodeAssignment assignmentOf(String node, Holding holding) {
        List<Cidr> cidrs = new ArrayList<>(layout.families.size());
        if (holding != null) {
            if (holding.group != null) {
                for (IpFamily f : holding.group.families) {
                    Cidr c = holding.byFamily[f.ordinal()];
                    if (c != null) {
                        cidrs.add(c);
                    }
                }
            }
            for (IpFamily f : layout.families) {
                Cidr c = holding.byFamily[f.ordinal()];
                if (c != null && !cidrs.contains(c)) {
                    cidrs.add(c);
                }
            }
        }
        return new NodeAssignment(node, cidrs);
    }

    Optional<NodeAssignment> assignmentOf(String node) {
        Holding holding = nodes.get(node);
        if (holding == null) {
            return Optional.empty();
        }
        NodeAssignment a = assignmentOf(node, holding);
        return a.cidrs().isEmpty() ? Optional.empty() : Optional.of(a);
    }

    SortedMap<String, NodeAssignment> snapshot() {
        TreeMap<String, NodeAssignment> all = new TreeMap<>();
        for (Map.Entry<String, Holding> e : nodes.entrySet()) {
            NodeAssignment a = assignmentOf(e.getKey(), e.getValue());
            if (!a.cidrs().isEmpty()) {
                all.put(e.getKey(), a);
            }
        }
        return Collections.unmodifiableSortedMap(all);
    }

    SortedMap<String, List<Cidr>> holdings() {
        TreeMap<String, List<Cidr>> all = new TreeMap<>();
        for (Map.Entry<String, Holding> e : nodes.entrySet()) {
            List<Cidr> held = new ArrayList<>(assignmentOf(e.getKey(), e.getValue()).cidrs());
            if (e.getValue().heldForMisaligned != null) {
                List<Cidr> others = new ArrayList<>(e.getValue().heldForMisaligned);
                Collections.sort(others);
                held.addAll(others);
            }
            all.put(e.getKey(), List.copyOf(held));
        }
        return Collections.unmodifiableSortedMap(all);
    }

    SortedMap<String, Long> wideClaims() {
        TreeMap<String, Long> all = new TreeMap<>();
        for (String n : wideNodes) {
            all.put(n, nodes.get(n).wideHeld());
        }
        return Collections.unmodifiableSortedMap(all);
    }

    /** Names the nodes whose pod CIDRs wider than a node subnet hold subnets of some pools; empty if none does. */
    String wideHoldersIn(List<SubnetPool> full) {
        StringBuilder out = new StringBuilder();
        long total = 0;
        int named = 0;
        for (String n : wideNodes) {
            Holding h = nodes.get(n);
            long inFull = 0;
            for (Cidr c : h.heldForMisaligned) {
                if (h.wide[c.family().ordinal()] && full.contains(layout.poolWithSubnet(c))) {
                    inFull++;
                }
            }
            if (inFull > 0) {
                total += inFull;
                if (named++ < 5) {
                    out.append(named == 1 ? "" : ", ").append(n).append(" (").append(inFull).append(')');
                }
            }
        }
        if (total == 0) {
            return "";
        }
        return "; " + total + " of these subnets are held by " + named + (named == 1 ? " node" : " nodes")
                + " whose pod CIDR is wider than a node subnet: " + out + (named > 5 ? ", ..." : "")
                + "; deleting " + (named == 1 ? "it" : "them") + " frees them";
    }

    /**
     * Recounts everything and throws {@link IllegalStateException} if the node map, the holder map, the wide list
     * and the pools disagree, or a subnet is held twice. O(nodes + pool size); for tests.
     */
    void checkInvariants() {
        Map<Cidr, String> seen = new HashMap<>();
        for (Map.Entry<String, Holding> e : nodes.entrySet()) {
            List<Cidr> all = new ArrayList<>();
            for (Cidr c : e.getValue().byFamily) {
                if (c != null) {
                    all.add(c);
                }
            }
            if (e.getValue().heldForMisaligned != null) {
                all.addAll(e.getValue().heldForMisaligned);
            }
            if (all.isEmpty()) {
                throw new IllegalStateException("node " + e.getKey() + " is kept with nothing held");
            }
            for (Cidr c : all) {
                String other = seen.put(c, e.getKey());
                if (other != null) {
                    throw new IllegalStateException(c + " is held by " + other + " and " + e.getKey());
                }
                SubnetPool p = layout.poolWithSubnet(c);
                if (p == null || !p.isAllocated(c)) {
                    throw new IllegalStateException(c + " of node " + e.getKey() + " is not allocated in a pool");
                }
            }
            if (e.getValue().isWide() != wideNodes.contains(e.getKey())) {
                throw new IllegalStateException("node " + e.getKey() + " is " + (e.getValue().isWide() ? "" : "not ")
                        + "wide but " + (wideNodes.contains(e.getKey()) ? "" : "not ") + "listed as such");
            }
        }
        if (!nodes.keySet().containsAll(wideNodes)) {
            throw new IllegalStateException("a node listed as wide holds nothing: " + wideNodes);
        }
        if (!seen.equals(holders)) {
            throw new IllegalStateException("holder map disagrees with the nodes: " + holders.size() + " vs "
                    + seen.size());
        }
        long allocated = 0;
        for (SubnetPool p : layout.pools) {
            p.checkInvariants();
            allocated += p.stats().allocated();
        }
        if (allocated != holders.size()) {
            throw new IllegalStateException(allocated + " subnets allocated in pools but " + holders.size()
                    + " held by nodes");
        }
    }
}
