package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The cluster's view of pod subnets: which node holds which subnet, over an ordered list of pools per family.
 *
 * <pre>{@code
 * NodeIpam ipam = NodeIpam.builder()
 *         .addPool(Cidr.parse("10.244.0.0/16"), 24)        // IPv4 first: the primary family
 *         .addPool(Cidr.parse("fd00:10:244::/56"), 64)
 *         .reserve(Cidr.parse("10.244.255.0/24"))
 *         .build();
 * ipam.restore(List.of(new ExistingNode("node-a", List.of("10.244.0.0/24", "fd00:10:244::/64"))));
 * NodeAssignment b = ipam.assign("node-b");   // [10.244.1.0/24, fd00:10:244:1::/64]
 * ipam.release("node-b");                      // when node-b is gone from the API
 * }</pre>
 *
 * <ul>
 *   <li>Dual-stack: a node gets one subnet per configured family, the primary family (the family of the first pool)
 *       first, all or nothing: if one family is exhausted, nothing is taken from the others.</li>
 *   <li>Several pools per family are used in order: when one is full the next is used, so a cluster grows by
 *       appending a range.</li>
 *   <li>{@link #assign(String)}, {@link #release(String)} and {@link #adopt(String, List)} are idempotent, and
 *       {@code release} frees exactly the subnets of that node.</li>
 *   <li>A subnet is never held by two nodes: a node found with another node's subnet is reported as a duplicate
 *       and does not get it (the first holder keeps it). Nothing here rewrites a node: pod CIDRs are immutable in
 *       Kubernetes, so conflicts are for an operator to resolve.</li>
 * </ul>
 *
 * <p>Thread-safe: every method runs under one lock. Operations take microseconds, so one lock is both the simplest
 * and the fastest choice for a controller's handful of worker threads.
 */
public final class NodeIpam {
    /**
     * Most subnets held for one misaligned pod CIDR (one that overlaps a pool without being one of its subnets). A
     * larger overlap means the configuration, not a node, is wrong; it is reported but not held.
     */
    public static final int MAX_SUBNETS_HELD_FOR_MISALIGNED = 65_536;

    private final Object lock = new Object();
    /** Configured families, primary first. */
    private final List<IpFamily> families;
    /** Pools by family, in configured order. */
    private final Map<IpFamily, List<SubnetPool>> poolsByFamily;
    /** All pools in configured order. */
    private final List<SubnetPool> pools;
    /** Node name to what it holds. */
    private final Map<String, Holding> nodes = new HashMap<>();
    /** Subnet to the node that holds it. */
    private final Map<Cidr, String> holders = new HashMap<>();

    /** What one node holds: at most one subnet per family, plus subnets held for misaligned CIDRs. */
    private static final class Holding {
        final Cidr[] byFamily = new Cidr[IpFamily.values().length];
        List<Cidr> heldForMisaligned;

        boolean isEmpty() {
            for (Cidr c : byFamily) {
                if (c != null) {
                    return false;
                }
            }
            return heldForMisaligned == null || heldForMisaligned.isEmpty();
        }
    }

    private NodeIpam(List<SubnetPool> pools) {
        this.pools = List.copyOf(pools);
        Map<IpFamily, List<SubnetPool>> byFamily = new EnumMap<>(IpFamily.class);
        List<IpFamily> order = new ArrayList<>();
        for (SubnetPool p : pools) {
            if (!byFamily.containsKey(p.family())) {
                order.add(p.family());
            }
            byFamily.computeIfAbsent(p.family(), f -> new ArrayList<>()).add(p);
        }
        this.families = List.copyOf(order);
        this.poolsByFamily = byFamily;
    }

    /**
     * Starts the description of a cluster: pools in order (the first pool's family is primary), then reserved ranges.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Collects pools and reserved ranges for a {@link NodeIpam}. Not thread-safe; use once. */
    public static final class Builder {
        private final List<SubnetPool> pools = new ArrayList<>();
        private final List<Cidr> reserved = new ArrayList<>();

        private Builder() {
        }

        /**
         * Appends a pool. Pools of a family are used in the order they are added.
         *
         * @param cluster the range, e.g. {@code 10.244.0.0/16}
         * @param nodePrefixLength the prefix length of each node's subnet, e.g. 24
         * @return this builder
         * @throws InvalidPoolException if the sizes do not fit (see {@link SubnetPool#of(Cidr, int)})
         */
        public Builder addPool(Cidr cluster, int nodePrefixLength) {
            pools.add(SubnetPool.of(cluster, nodePrefixLength));
            return this;
        }

        /**
         * Keeps a range out of every pool it overlaps (a service CIDR, a VPC range).
         *
         * @param range the range never to hand out
         * @return this builder
         */
        public Builder reserve(Cidr range) {
            reserved.add(Objects.requireNonNull(range, "range"));
            return this;
        }

        /**
         * Builds the cluster view, all subnets free but the reserved ones.
         *
         * @return the new instance
         * @throws InvalidPoolException if there is no pool or two pools overlap
         */
        public NodeIpam build() {
            if (pools.isEmpty()) {
                throw new InvalidPoolException("no pool configured; add at least one cluster range, e.g. 10.244.0.0/16"
                        + " cut into /24 subnets");
            }
            for (int i = 0; i < pools.size(); i++) {
                for (int j = i + 1; j < pools.size(); j++) {
                    Cidr a = pools.get(i).cluster();
                    Cidr b = pools.get(j).cluster();
                    if (a.overlaps(b)) {
                        throw new InvalidPoolException("pools " + a + " and " + b + " overlap; every address may"
                                + " belong to one pool only: remove one or use ranges that do not overlap");
                    }
                }
            }
            for (SubnetPool p : pools) {
                for (Cidr r : reserved) {
                    p.reserve(r);
                }
            }
            return new NodeIpam(pools);
        }
    }

    /**
     * Returns the configured families, primary first.
     *
     * @return one or two families
     */
    public List<IpFamily> families() {
        return families;
    }

    /**
     * Gives a node one subnet per configured family, or returns what it already holds. Families the node already
     * holds (e.g. after {@link #adopt(String, List)}) are kept; only missing ones are allocated.
     *
     * @param node the node name
     * @return the node's subnets, primary family first
     * @throws PoolExhaustedException if some family has no free subnet in any pool; then nothing was allocated
     */
    public NodeAssignment assign(String node) {
        Objects.requireNonNull(node, "node");
        synchronized (lock) {
            Holding holding = nodes.get(node);
            // Check every missing family first, so that exhaustion of one takes nothing from the others.
            List<SubnetPool> chosen = new ArrayList<>(families.size());
            for (IpFamily family : families) {
                if (holding != null && holding.byFamily[family.ordinal()] != null) {
                    continue;
                }
                SubnetPool pool = firstPoolWithRoom(family);
                if (pool == null) {
                    throw exhausted(node, family);
                }
                chosen.add(pool);
            }
            if (!chosen.isEmpty()) {
                if (holding == null) {
                    holding = new Holding();
                    nodes.put(node, holding);
                }
                for (SubnetPool pool : chosen) {
                    Cidr subnet = pool.allocate();
                    holding.byFamily[pool.family().ordinal()] = subnet;
                    holders.put(subnet, node);
                }
            }
            return assignmentOf(node, holding);
        }
    }

    private SubnetPool firstPoolWithRoom(IpFamily family) {
        for (SubnetPool p : poolsByFamily.get(family)) {
            PoolStats s = p.stats();
            if (s.free() > 0) {
                return p;
            }
        }
        return null;
    }

    private PoolExhaustedException exhausted(String node, IpFamily family) {
        List<SubnetPool> full = poolsByFamily.get(family);
        StringBuilder detail = new StringBuilder();
        for (SubnetPool p : full) {
            PoolStats s = p.stats();
            detail.append(detail.length() == 0 ? "" : "; ").append(p.cluster()).append(" /")
                    .append(p.nodePrefixLength()).append(": ").append(s.allocated() + s.reserved()).append(" of ")
                    .append(s.capacity()).append(" in use");
        }
        SubnetPool last = full.get(full.size() - 1);
        PoolStats s = last.stats();
        return new PoolExhaustedException("no free " + family + " subnet for node " + node + ": "
                + (full.size() == 1 ? "the pool is" : "all " + full.size() + " " + family + " pools are")
                + " full (" + detail + "); delete nodes or add a range", last.cluster(), last.nodePrefixLength(),
                s.capacity(), s.allocated() + s.reserved());
    }

    /**
     * Frees every subnet a node holds. Call it only when the node is gone from the API.
     *
     * @param node the node name
     * @return true if the node held anything
     */
    public boolean release(String node) {
        Objects.requireNonNull(node, "node");
        synchronized (lock) {
            Holding holding = nodes.remove(node);
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
    }

    private void free(Cidr subnet) {
        holders.remove(subnet);
        poolWithSubnet(subnet).release(subnet);
    }

    /**
     * Returns the subnets a node holds, one per family at most.
     *
     * @param node the node name
     * @return the node's subnets, or empty if it holds none
     */
    public Optional<NodeAssignment> assignmentOf(String node) {
        synchronized (lock) {
            Holding holding = nodes.get(node);
            if (holding == null) {
                return Optional.empty();
            }
            NodeAssignment a = assignmentOf(node, holding);
            return a.cidrs().isEmpty() ? Optional.empty() : Optional.of(a);
        }
    }

    private NodeAssignment assignmentOf(String node, Holding holding) {
        List<Cidr> cidrs = new ArrayList<>(families.size());
        if (holding != null) {
            for (IpFamily f : families) {
                Cidr c = holding.byFamily[f.ordinal()];
                if (c != null) {
                    cidrs.add(c);
                }
            }
        }
        return new NodeAssignment(node, cidrs);
    }

    /**
     * Returns the node that holds a subnet.
     *
     * @param subnet a pool subnet
     * @return the holder's name, or empty if the subnet is free, reserved or not a pool subnet
     */
    public Optional<String> holderOf(Cidr subnet) {
        synchronized (lock) {
            return Optional.ofNullable(holders.get(subnet));
        }
    }

    /**
     * Returns the names of the nodes that hold at least one subnet (including subnets held for misaligned CIDRs).
     *
     * @return a sorted snapshot
     */
    public java.util.SortedSet<String> nodeNames() {
        synchronized (lock) {
            return java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(nodes.keySet()));
        }
    }

    /**
     * Returns the number of nodes that hold at least one subnet.
     *
     * @return the number of nodes known
     */
    public int nodeCount() {
        synchronized (lock) {
            return nodes.size();
        }
    }

    /**
     * Records the pod CIDRs a node already has in the API, as for a node that joins with a pod CIDR already set.
     * Each valid CIDR that is one of a pool's subnets and is free becomes the node's; if the node held another subnet
     * of that family in memory (one we allocated but that never reached the node), that one is freed. Nothing is
     * ever taken from another node. See {@link NodeReport} for how each CIDR is classified.
     *
     * @param node the node name
     * @param podCidrs the node's {@code spec.podCIDRs} texts as found (may be malformed); null elements are ignored
     * @return what was adopted and what was wrong
     */
    public NodeReport adopt(String node, List<String> podCidrs) {
        Objects.requireNonNull(node, "node");
        synchronized (lock) {
            return adoptLocked(node, podCidrs);
        }
    }

    /**
     * Adopts the pod CIDRs of every existing node, in the order given; when two nodes claim one subnet, the first
     * keeps it. Give the nodes oldest first so that the older node wins. Meant for a new instance at the start of
     * leadership; on a used instance it behaves as {@link #adopt(String, List)} for each node.
     *
     * @param existing the nodes and their pod CIDR texts
     * @return one report per node that has at least one pod CIDR
     */
    public RestoreReport restore(Collection<ExistingNode> existing) {
        List<NodeReport> reports = new ArrayList<>();
        synchronized (lock) {
            for (ExistingNode n : existing) {
                if (!n.podCidrs().isEmpty()) {
                    reports.add(adoptLocked(n.name(), n.podCidrs()));
                }
            }
        }
        return new RestoreReport(reports);
    }

    private NodeReport adoptLocked(String node, List<String> values) {
        List<Cidr> adopted = new ArrayList<>(2);
        List<NodeReport.Duplicate> duplicates = new ArrayList<>(0);
        List<Cidr> outside = new ArrayList<>(0);
        List<Cidr> misaligned = new ArrayList<>(0);
        List<NodeReport.Malformed> malformed = new ArrayList<>(0);
        boolean[] seen = new boolean[IpFamily.values().length];
        boolean any = false;
        for (String value : values) {
            if (value == null) {
                continue;
            }
            any = true;
            CidrParser parser = new CidrParser(value);
            Cidr c = parser.parse();
            if (c == null) {
                malformed.add(new NodeReport.Malformed(value, parser.error()));
                continue;
            }
            if (seen[c.family().ordinal()]) {
                malformed.add(new NodeReport.Malformed(value, "\"" + value + "\" is a second " + c.family()
                        + " pod CIDR; a node has at most one per family, the first is used"));
                continue;
            }
            seen[c.family().ordinal()] = true;
            SubnetPool pool = poolWithSubnet(c);
            if (pool != null) {
                String holder = holders.get(c);
                if (node.equals(holder)) {
                    Holding holding = nodes.get(node);
                    Cidr previous = holding.byFamily[c.family().ordinal()];
                    if (!c.equals(previous)) {
                        // held for a misaligned CIDR of this node until now: it becomes the node's subnet
                        holding.heldForMisaligned.remove(c);
                        if (previous != null) {
                            free(previous);
                        }
                        holding.byFamily[c.family().ordinal()] = c;
                    }
                    adopted.add(c);
                } else if (holder != null) {
                    duplicates.add(new NodeReport.Duplicate(c, holder));
                } else {
                    Holding holding = nodes.computeIfAbsent(node, k -> new Holding());
                    Cidr previous = holding.byFamily[c.family().ordinal()];
                    if (previous != null) {
                        free(previous); // allocated for this node but never written: the API says otherwise
                    }
                    pool.occupy(c);
                    holders.put(c, node);
                    holding.byFamily[c.family().ordinal()] = c;
                    adopted.add(c);
                }
            } else if (!holdMisaligned(node, c, duplicates)) {
                outside.add(c);
            } else {
                misaligned.add(c);
            }
        }
        List<IpFamily> missing = new ArrayList<>(0);
        if (any) {
            for (IpFamily f : families) {
                if (!seen[f.ordinal()]) {
                    missing.add(f);
                }
            }
        }
        Holding holding = nodes.get(node);
        if (holding != null && holding.isEmpty()) {
            nodes.remove(node);
        }
        return new NodeReport(node, adopted, duplicates, outside, misaligned, malformed, missing);
    }

    /**
     * Holds for a node the free subnets that a misaligned CIDR overlaps, and reports subnets another node holds.
     * Returns false if the CIDR overlaps no pool.
     */
    private boolean holdMisaligned(String node, Cidr c, List<NodeReport.Duplicate> duplicates) {
        boolean overlapsAny = false;
        List<SubnetPool> candidates = poolsByFamily.get(c.family());
        if (candidates == null) {
            return false;
        }
        for (SubnetPool pool : candidates) {
            long[] span = pool.overlapIndices(c);
            if (span == null) {
                continue;
            }
            overlapsAny = true;
            if (span[1] - span[0] > MAX_SUBNETS_HELD_FOR_MISALIGNED) {
                continue;
            }
            for (long i = span[0]; i < span[1]; i++) {
                Cidr subnet = pool.subnet(i);
                String holder = holders.get(subnet);
                if (holder != null) {
                    if (!holder.equals(node)) {
                        duplicates.add(new NodeReport.Duplicate(c, holder));
                    }
                } else if (pool.occupy(subnet)) {
                    Holding holding = nodes.computeIfAbsent(node, k -> new Holding());
                    if (holding.heldForMisaligned == null) {
                        holding.heldForMisaligned = new ArrayList<>(1);
                    }
                    holding.heldForMisaligned.add(subnet);
                    holders.put(subnet, node);
                }
            }
        }
        return overlapsAny;
    }

    private SubnetPool poolWithSubnet(Cidr subnet) {
        List<SubnetPool> candidates = poolsByFamily.get(subnet.family());
        if (candidates != null) {
            for (SubnetPool p : candidates) {
                if (p.hasSubnet(subnet)) {
                    return p;
                }
            }
        }
        return null;
    }

    /**
     * Returns the usage of every pool, in configured order.
     *
     * @return one snapshot per pool
     */
    public List<PoolStats> stats() {
        synchronized (lock) {
            List<PoolStats> all = new ArrayList<>(pools.size());
            for (SubnetPool p : pools) {
                all.add(p.stats());
            }
            return List.copyOf(all);
        }
    }

    /**
     * Recounts everything and throws {@link IllegalStateException} if the node map, the holder map and the pools
     * disagree, or a subnet is held twice. O(nodes + pool size); for tests, never on a hot path.
     */
    public void checkInvariants() {
        synchronized (lock) {
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
                    SubnetPool p = poolWithSubnet(c);
                    if (p == null || !p.isAllocated(c)) {
                        throw new IllegalStateException(c + " of node " + e.getKey() + " is not allocated in a pool");
                    }
                }
            }
            if (!seen.equals(holders)) {
                throw new IllegalStateException("holder map disagrees with the nodes: " + holders.size() + " vs "
                        + seen.size());
            }
            long allocated = 0;
            for (SubnetPool p : pools) {
                p.checkInvariants();
                allocated += p.stats().allocated();
            }
            if (allocated != holders.size()) {
                throw new IllegalStateException(allocated + " subnets allocated in pools but " + holders.size()
                        + " held by nodes");
            }
        }
    }
}
