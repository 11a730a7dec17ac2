// Which node holds which subnet, kept in step with the pools' occupancy.
package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
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
 * The holdings of every node: per family, at most one of its own subnet (what the node is or will be written with),
 * the subnet held for a misaligned pod CIDR, or a pod CIDR wider than a node subnet held as one index range per pool
 * it overlaps ({@link SubnetPool#hold(long, long)}); and the reverse map from individually held subnet to node. Every
 * change goes through here, so a subnet is occupied in its pool exactly when a node holds it individually, and a
 * range is held in its pool exactly as often as live wide claims cover it.
 *
 * <p>A wide claim holds every subnet it overlaps that is neither reserved nor held individually by a node, so its
 * memory and the time to take or drop it do not grow with its width. Two wide claims that overlap share what they
 * both cover: it comes free when the last of them is released. A node whose pod CIDR is exactly a subnet inside a
 * live wide claim, or a misaligned one inside it, holds that subnet whether it is adopted before or after the wide
 * node (a wide claim never takes a subnet a node names); released, it is held by the claim again, not handed out.
 * Not thread-safe: {@link NodeIpam}'s lock guards it.
 */
final class Ledger {
    private final PoolLayout layout;
    /** Node name to what it holds. */
    private final Map<String, Holding> nodes = new HashMap<>();
    /** Subnet to the node that holds it individually: its own subnet, or one held for a misaligned pod CIDR. */
    private final Map<Cidr, String> holders = new HashMap<>();
    /** Nodes with a pod CIDR wider than a node subnet, in the order first found. */
    private final Set<String> wideNodes = new LinkedHashSet<>();

    /** What one node holds: per family, at most one of its subnet, a misaligned one's subnet, or a wide claim. */
    static final class Holding {
        final Cidr[] byFamily = new Cidr[IpFamily.values().length];
        /** Per family: the subnet held for a pod CIDR that overlaps one node subnet without being it; or null. */
        final Cidr[] misaligned = new Cidr[IpFamily.values().length];
        /** Per family: a pod CIDR wider than a node subnet, held as a range in every pool it overlaps; or null. */
        final Cidr[] wide = new Cidr[IpFamily.values().length];
        /** The group the node was last assigned or adopted for; orders its subnets. Null when unknown. */
        PoolLayout.Group group;

        boolean isEmpty() {
            for (int f = 0; f < byFamily.length; f++) {
                if (byFamily[f] != null || misaligned[f] != null || wide[f] != null) {
                    return false;
                }
            }
            return true;
        }

        boolean isWide() {
            for (Cidr c : wide) {
                if (c != null) {
                    return true;
                }
            }
            return false;
        }
    }

    Ledger(PoolLayout layout) {
        this.layout = layout;
    }

    Holding holding(String node) {
        return nodes.get(node);
    }

    /**
     * The node that holds a subnet: the one holding it individually, else the first wide node (in the order found)
     * whose claim holds it; null if it is free, reserved or not a pool subnet.
     */
    String holderOf(Cidr subnet) {
        String individual = holders.get(subnet);
        if (individual != null) {
            return individual;
        }
        SubnetPool pool = layout.poolWithSubnet(subnet);
        if (pool == null || !pool.isHeldOnly(pool.indexOf(subnet))) {
            return null;
        }
        for (String n : wideNodes) {
            Cidr claim = nodes.get(n).wide[subnet.family().ordinal()];
            if (claim != null && claim.overlaps(subnet)) {
                return n;
            }
        }
        return null;
    }

    /** The node that holds a subnet as its own or for a misaligned pod CIDR; null if none does. */
    String individualHolderOf(Cidr subnet) {
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

    /** Frees what a node held for misaligned or wide pod CIDRs; drops the node if it then holds nothing. */
    Holding dropMisaligned(String node, Holding holding) {
        if (holding == null) {
            return null;
        }
        for (int f = 0; f < holding.byFamily.length; f++) {
            if (holding.misaligned[f] != null) {
                free(holding.misaligned[f]);
                holding.misaligned[f] = null;
            }
            if (holding.wide[f] != null) {
                unholdWide(holding.wide[f]);
                holding.wide[f] = null;
            }
        }
        wideNodes.remove(node);
        if (holding.isEmpty()) {
            nodes.remove(node);
            return null;
        }
        return holding;
    }

    /** Frees every subnet and range of a node; false if it held none. */
    boolean release(String node) {
        java.util.Objects.requireNonNull(node, "node");
        Holding holding = nodes.remove(node);
        wideNodes.remove(node);
        if (holding == null) {
            return false;
        }
        for (int f = 0; f < holding.byFamily.length; f++) {
            if (holding.byFamily[f] != null) {
                free(holding.byFamily[f]);
            }
            if (holding.misaligned[f] != null) {
                free(holding.misaligned[f]);
            }
            if (holding.wide[f] != null) {
                unholdWide(holding.wide[f]);
            }
        }
        return true;
    }

    private void free(Cidr subnet) {
        holders.remove(subnet);
        layout.poolWithSubnet(subnet).release(subnet);
    }

    /** Holds the range a wide claim overlaps in every pool of its family. */
    private void holdWide(Cidr claim) {
        for (SubnetPool p : layout.poolsOf(claim.family())) {
            long[] span = p.overlapIndices(claim);
            if (span != null) {
                p.hold(span[0], span[1]);
            }
        }
    }

    /** Undoes {@link #holdWide(Cidr)}: frees what no other claim or node still holds. */
    private void unholdWide(Cidr claim) {
        for (SubnetPool p : layout.poolsOf(claim.family())) {
            long[] span = p.overlapIndices(claim);
            if (span != null) {
                p.unhold(span[0], span[1]);
            }
        }
    }

    /** Occupies a subnet for a node unless it holds it already; the subnet is free or the node's. */
    private void take(String node, Cidr subnet) {
        if (subnet != null && !node.equals(holders.get(subnet))) {
            layout.poolWithSubnet(subnet).occupy(subnet);
            holders.put(subnet, node);
        }
    }

    /**
     * Makes the node hold exactly one thing in a family (or nothing, all three null): {@code exact} as its subnet of
     * the family, {@code misaligned} as the subnet held for a misaligned pod CIDR, or {@code wide}, a pod CIDR wider
     * than a node subnet; whatever else it held in that family is freed. {@code exact} and {@code misaligned} are free
     * or the node's already. The new holding is taken before the old is dropped, so what both cover never comes
     * free, and a wide claim that stays the same is left as it is (no range operation).
     *
     * @return the node's holding, or null if it now holds nothing
     */
    Holding replaceFamily(String node, Holding holding, IpFamily family, Cidr exact, Cidr misaligned, Cidr wide) {
        if (holding == null) {
            if (exact == null && misaligned == null && wide == null) {
                return null;
            }
            holding = open(node);
        }
        int f = family.ordinal();
        Cidr oldWide = holding.wide[f];
        if (wide != null && !wide.equals(oldWide)) {
            holdWide(wide);
        }
        take(node, exact);
        take(node, misaligned);
        Cidr oldExact = holding.byFamily[f];
        Cidr oldMisaligned = holding.misaligned[f];
        holding.byFamily[f] = exact;
        holding.misaligned[f] = misaligned;
        holding.wide[f] = wide;
        for (Cidr old : new Cidr[] {oldExact, oldMisaligned}) {
            if (old != null && !old.equals(exact) && !old.equals(misaligned)) {
                free(old);
            }
        }
        if (oldWide != null && !oldWide.equals(wide)) {
            unholdWide(oldWide);
        }
        if (holding.isWide()) {
            wideNodes.add(node);
        } else {
            wideNodes.remove(node);
        }
        if (holding.isEmpty()) {
            nodes.remove(node);
            return null;
        }
        return holding;
    }

    /** Records the group the node was adopted for. */
    void finishAdoption(Holding holding, PoolLayout.Group group) {
        if (holding != null) {
            holding.group = group;
        }
    }

    /** The number of subnets a wide claim holds: in its ranges, neither reserved nor held individually. */
    long heldFor(Cidr claim) {
        return heldFor(claim, layout.poolsOf(claim.family()));
    }

    private long heldFor(Cidr claim, List<SubnetPool> pools) {
        long n = 0;
        for (SubnetPool p : pools) {
            long[] span = p.family() == claim.family() ? p.overlapIndices(claim) : null;
            if (span != null) {
                n += p.heldIn(span[0], span[1]);
            }
        }
        return n;
    }

    /**
     * Finds the nodes holding subnets individually inside a wide claim: how many, and the names of the first
     * {@code limit} in address order.
     *
     * @return the count; {@code names} receives at most {@code limit} names
     */
    long holdersInside(Cidr claim, int limit, List<String> names) {
        long n = 0;
        for (SubnetPool p : layout.poolsOf(claim.family())) {
            long[] span = p.overlapIndices(claim);
            if (span == null) {
                continue;
            }
            n += p.occupiedIn(span[0], span[1]); // one node per subnet: a node holds one subnet per family
            for (long i = p.nextOccupied(span[0], span[1]); i < span[1] && names.size() < limit;
                    i = i + 1 < span[1] ? p.nextOccupied(i + 1, span[1]) : span[1]) {
                names.add(holders.get(p.subnet(i)));
            }
        }
        return n;
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
            Holding h = e.getValue();
            List<Cidr> held = new ArrayList<>(assignmentOf(e.getKey(), h).cidrs());
            List<Cidr> others = new ArrayList<>();
            for (int f = 0; f < h.byFamily.length; f++) {
                if (h.misaligned[f] != null) {
                    others.add(h.misaligned[f]);
                }
                if (h.wide[f] != null) {
                    for (SubnetPool p : layout.poolsOf(h.wide[f].family())) {
                        long[] span = p.overlapIndices(h.wide[f]);
                        if (span != null) {
                            others.addAll(p.heldBlocks(span[0], span[1]));
                        }
                    }
                }
            }
            Collections.sort(others);
            held.addAll(others);
            all.put(e.getKey(), List.copyOf(held));
        }
        return Collections.unmodifiableSortedMap(all);
    }

    SortedMap<String, Long> wideClaims() {
        TreeMap<String, Long> all = new TreeMap<>();
        for (String n : wideNodes) {
            long held = 0;
            for (Cidr claim : nodes.get(n).wide) {
                if (claim != null) {
                    held += heldFor(claim);
                }
            }
            all.put(n, held);
        }
        return Collections.unmodifiableSortedMap(all);
    }

    /** Names the nodes whose pod CIDRs wider than a node subnet hold subnets of some pools; empty if none does. */
    String wideHoldersIn(List<SubnetPool> full) {
        StringBuilder out = new StringBuilder();
        long total = 0;
        int named = 0;
        for (String n : wideNodes) {
            long inFull = 0;
            for (Cidr claim : nodes.get(n).wide) {
                if (claim != null) {
                    inFull += heldFor(claim, full);
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
     * and the pools disagree: a subnet held individually twice or not occupied, a pool's held ranges other than the
     * live wide claims' spans. O(nodes + pool size); for tests.
     */
    void checkInvariants() {
        Map<Cidr, String> seen = new HashMap<>();
        Map<SubnetPool, CountedRanges> spans = new IdentityHashMap<>();
        for (Map.Entry<String, Holding> e : nodes.entrySet()) {
            Holding h = e.getValue();
            if (h.isEmpty()) {
                throw new IllegalStateException("node " + e.getKey() + " is kept with nothing held");
            }
            for (IpFamily family : IpFamily.values()) {
                int f = family.ordinal();
                int things = (h.byFamily[f] != null ? 1 : 0) + (h.misaligned[f] != null ? 1 : 0)
                        + (h.wide[f] != null ? 1 : 0);
                if (things > 1) {
                    throw new IllegalStateException("node " + e.getKey() + " holds " + things + " things of "
                            + family);
                }
                for (Cidr c : new Cidr[] {h.byFamily[f], h.misaligned[f]}) {
                    if (c == null) {
                        continue;
                    }
                    String other = seen.put(c, e.getKey());
                    if (other != null) {
                        throw new IllegalStateException(c + " is held by " + other + " and " + e.getKey());
                    }
                    SubnetPool p = layout.poolWithSubnet(c);
                    if (c.family() != family || p == null || !p.isOccupied(c)) {
                        throw new IllegalStateException(c + " of node " + e.getKey() + " is not occupied in a pool");
                    }
                }
                if (h.wide[f] != null) {
                    for (SubnetPool p : layout.poolsOf(family)) {
                        long[] span = p.overlapIndices(h.wide[f]);
                        if (span != null) {
                            spans.computeIfAbsent(p, x -> new CountedRanges()).add(span[0], span[1]);
                        }
                    }
                }
            }
            if (h.isWide() != wideNodes.contains(e.getKey())) {
                throw new IllegalStateException("node " + e.getKey() + " is " + (h.isWide() ? "" : "not ")
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
        long occupied = 0;
        for (SubnetPool p : layout.pools) {
            p.checkInvariants();
            occupied += p.occupiedCount();
            CountedRanges expected = spans.getOrDefault(p, new CountedRanges());
            if (!expected.equals(p.holds())) {
                throw new IllegalStateException("pool " + p.cluster() + " holds " + p.holds() + " but the wide"
                        + " claims span " + expected);
            }
        }
        if (occupied != holders.size()) {
            throw new IllegalStateException(occupied + " subnets occupied in pools but " + holders.size()
                    + " held by nodes");
        }
    }
}
