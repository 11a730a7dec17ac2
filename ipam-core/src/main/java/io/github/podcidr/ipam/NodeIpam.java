package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

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
 *   <li>Named groups of pools ({@link NodeGroup}, added by {@link Builder#addGroup(NodeGroup)}) give different
 *       kinds of nodes subnets from different ranges and of different sizes: {@link #assign(String, String)} takes
 *       subnets from that group's pools only. The pools of {@link Builder#addPool(Cidr, int)} form the group named
 *       {@value #DEFAULT_GROUP}, which the methods without a group use. Ranges of different groups never overlap,
 *       so every subnet belongs to exactly one group; a node found with a subnet of another group than the one it
 *       is adopted for keeps it and is reported ({@link NodeReport.Kind#IN_OTHER_GROUP}).</li>
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
     * Most subnets of one pool held for one misaligned pod CIDR (one that overlaps a pool without being one of its
     * subnets, such as a pod CIDR wider than a node subnet). They are held one by one, so a larger overlap (more than
     * a /8 cut into /24s) is reported ({@link NodeReport.Kind#OVERSIZED}, failing closed) but not held in that pool.
     */
    public static final int MAX_SUBNETS_HELD_FOR_MISALIGNED = 65_536;

    /** The name of the group formed by the pools of {@link Builder#addPool(Cidr, int)}. */
    public static final String DEFAULT_GROUP = "default";

    private final Object lock = new Object();
    /** Families of all groups, in order of first appearance (the default group's first), primary first. */
    private final List<IpFamily> families;
    /** Pools of all groups by family, group by group in configured order: for finding a subnet's pool. */
    private final Map<IpFamily, List<SubnetPool>> poolsByFamily;
    /** All pools, group by group in configured order. */
    private final List<SubnetPool> pools;
    /** The groups: the default group first when there is one, then the named groups in the order added. */
    private final Map<String, Group> groups;
    /** The group of each pool. */
    private final Map<SubnetPool, Group> groupOfPool = new IdentityHashMap<>();
    /** Node name to what it holds. */
    private final Map<String, Holding> nodes = new HashMap<>();
    /** Subnet to the node that holds it. */
    private final Map<Cidr, String> holders = new HashMap<>();
    /** Nodes holding subnets for a pod CIDR wider than a node subnet, in the order first found. */
    private final java.util.Set<String> wideNodes = new java.util.LinkedHashSet<>();

    /** One group's pools, as the allocator uses them. */
    private static final class Group {
        final NodeGroup spec;
        /** The group's families, primary first. */
        final List<IpFamily> families;
        /** The group's pools by family, in configured order. */
        final Map<IpFamily, List<SubnetPool>> poolsByFamily = new EnumMap<>(IpFamily.class);
        /** The group's pools in configured order. */
        final List<SubnetPool> pools;

        Group(NodeGroup spec, List<SubnetPool> pools) {
            this.spec = spec;
            this.families = spec.families();
            this.pools = List.copyOf(pools);
            for (SubnetPool p : pools) {
                poolsByFamily.computeIfAbsent(p.family(), f -> new ArrayList<>()).add(p);
            }
        }

        String name() {
            return spec.name();
        }
    }

    /** What one node holds: at most one subnet per family, plus subnets held for misaligned CIDRs. */
    private static final class Holding {
        final Cidr[] byFamily = new Cidr[IpFamily.values().length];
        List<Cidr> heldForMisaligned;
        /** Per family: the subnets held for a misaligned CIDR are for one wider than a node subnet. */
        final boolean[] wide = new boolean[IpFamily.values().length];
        /** The group the node was last assigned or adopted for; orders its subnets. Null when unknown. */
        Group group;

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

        /** Subnets held for wide CIDRs, of one family or (null) of all. */
        long wideHeld(IpFamily family) {
            long n = 0;
            if (heldForMisaligned != null) {
                for (Cidr c : heldForMisaligned) {
                    if ((family == null || c.family() == family) && wide[c.family().ordinal()]) {
                        n++;
                    }
                }
            }
            return n;
        }
    }

    private NodeIpam(List<Group> groups) {
        Map<String, Group> byName = new LinkedHashMap<>();
        List<SubnetPool> all = new ArrayList<>();
        for (Group g : groups) {
            byName.put(g.name(), g);
            for (SubnetPool p : g.pools) {
                all.add(p);
                groupOfPool.put(p, g);
            }
        }
        this.groups = java.util.Collections.unmodifiableMap(byName);
        this.pools = List.copyOf(all);
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

    /**
     * Collects pools, groups and reserved ranges for a {@link NodeIpam}. Not thread-safe. Each {@link #build()} makes
     * an independent instance with its own pools, so one builder may serve as a template.
     */
    public static final class Builder {
        /** The pools of the default group as given, checked at once; build() makes fresh copies. */
        private final List<SubnetPool> pools = new ArrayList<>();
        private final List<Cidr> reserved = new ArrayList<>();
        private final List<NodeGroup> named = new ArrayList<>();

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
         * Adds a named group of pools, for {@link NodeIpam#assign(String, String)}. Its ranges must not overlap any
         * other range; its name must differ from every other group's and from {@value NodeIpam#DEFAULT_GROUP} when
         * {@link #addPool(Cidr, int)} is used.
         *
         * @param group the group
         * @return this builder
         */
        public Builder addGroup(NodeGroup group) {
            named.add(Objects.requireNonNull(group, "group"));
            return this;
        }

        /**
         * Keeps a range out of every pool it overlaps, in every group (a service CIDR, a VPC range).
         *
         * @param range the range never to hand out
         * @return this builder
         */
        public Builder reserve(Cidr range) {
            reserved.add(Objects.requireNonNull(range, "range"));
            return this;
        }

        /**
         * Builds a cluster view, all subnets free but the reserved ones. Every call returns a new instance that
         * shares no state with instances built before.
         *
         * @return the new instance
         * @throws InvalidPoolException if there is no pool, two pools overlap (in one group or in two), or two groups
         *     have the same name
         */
        public NodeIpam build() {
            if (pools.isEmpty() && named.isEmpty()) {
                throw new InvalidPoolException("no pool configured; add at least one cluster range, e.g. 10.244.0.0/16"
                        + " cut into /24 subnets");
            }
            List<NodeGroup> specs = new ArrayList<>(named.size() + 1);
            if (!pools.isEmpty()) {
                List<NodeGroup.Pool> defaults = new ArrayList<>(pools.size());
                for (SubnetPool p : pools) {
                    defaults.add(new NodeGroup.Pool(p.cluster(), p.nodePrefixLength()));
                }
                specs.add(new NodeGroup(DEFAULT_GROUP, defaults, List.of()));
            }
            java.util.Set<String> names = new java.util.HashSet<>();
            for (NodeGroup g : specs) {
                names.add(g.name());
            }
            for (NodeGroup g : named) {
                if (!names.add(g.name())) {
                    throw new InvalidPoolException(g.name().equals(DEFAULT_GROUP) && !pools.isEmpty()
                            ? "group name " + DEFAULT_GROUP + " is taken by the pools added with addPool; give the"
                                    + " group another name, e.g. idc"
                            : "two groups are named " + g.name() + "; every group needs its own name");
                }
                specs.add(g);
            }
            checkNoOverlap(specs);
            List<Group> built = new ArrayList<>(specs.size());
            for (NodeGroup g : specs) {
                List<SubnetPool> fresh = new ArrayList<>(g.pools().size());
                for (NodeGroup.Pool template : g.pools()) {
                    SubnetPool p = SubnetPool.of(template.cluster(), template.nodePrefixLength());
                    for (Cidr r : reserved) {
                        p.reserve(r);
                    }
                    for (Cidr r : g.reserved()) {
                        p.reserve(r);
                    }
                    fresh.add(p);
                }
                built.add(new Group(g, fresh));
            }
            return new NodeIpam(built);
        }

        /** Every pair of ranges, in one group or in two, must be disjoint. O(ranges^2): a handful at most. */
        private static void checkNoOverlap(List<NodeGroup> specs) {
            List<NodeGroup.Pool> all = new ArrayList<>();
            List<NodeGroup> owner = new ArrayList<>();
            for (NodeGroup g : specs) {
                for (NodeGroup.Pool p : g.pools()) {
                    all.add(p);
                    owner.add(g);
                }
            }
            boolean onlyDefault = specs.size() == 1 && specs.get(0).name().equals(DEFAULT_GROUP);
            for (int i = 0; i < all.size(); i++) {
                for (int j = i + 1; j < all.size(); j++) {
                    Cidr a = all.get(i).cluster();
                    Cidr b = all.get(j).cluster();
                    if (!a.overlaps(b)) {
                        continue;
                    }
                    String ga = owner.get(i).name();
                    String gb = owner.get(j).name();
                    if (onlyDefault) {
                        throw new InvalidPoolException("pools " + a + " and " + b + " overlap; every address may"
                                + " belong to one pool only: remove one or use ranges that do not overlap");
                    }
                    if (ga.equals(gb)) {
                        throw new InvalidPoolException("pools " + a + " and " + b + " of group " + ga + " overlap;"
                                + " every address may belong to one pool only: remove one or use ranges that do"
                                + " not overlap");
                    }
                    throw new InvalidPoolException("range " + a + " of group " + ga + " overlaps range " + b
                            + " of group " + gb + "; every address may belong to one group only, so that a node's"
                            + " pod CIDR tells its group: give the groups disjoint ranges, e.g. 10.244.0.0/16 and"
                            + " 10.250.0.0/16");
                }
            }
        }
    }

    /**
     * Returns the groups, the {@linkplain #DEFAULT_GROUP default group} first when there is one (its
     * {@link NodeGroup#reserved()} is empty: the ranges of {@link Builder#reserve(Cidr)} apply to every group and are
     * not listed), then the named groups in the order added.
     *
     * @return the groups' descriptions
     */
    public List<NodeGroup> groups() {
        List<NodeGroup> all = new ArrayList<>(groups.size());
        for (Group g : groups.values()) {
            all.add(g.spec);
        }
        return List.copyOf(all);
    }

    /**
     * Returns the group whose ranges contain or overlap a CIDR: where a node's pod CIDR belongs.
     *
     * @param cidr a CIDR, e.g. a node's pod CIDR
     * @return the group's name, or empty if the CIDR overlaps no range
     */
    public Optional<String> groupOf(Cidr cidr) {
        Objects.requireNonNull(cidr, "cidr");
        Group g = groupOverlapping(cidr);
        return g == null ? Optional.empty() : Optional.of(g.name());
    }

    private Group groupOverlapping(Cidr cidr) {
        List<SubnetPool> candidates = poolsByFamily.get(cidr.family());
        if (candidates != null) {
            for (SubnetPool p : candidates) {
                if (p.cluster().overlaps(cidr)) {
                    return groupOfPool.get(p);
                }
            }
        }
        return null;
    }

    private Group group(String name) {
        Objects.requireNonNull(name, "group");
        Group g = groups.get(name);
        if (g == null) {
            String known = String.join(", ", groups.keySet());
            throw new UnknownGroupException(name.equals(DEFAULT_GROUP)
                    ? "there is no default group: no pool was added with addPool, only the groups " + known
                            + "; name the node's group"
                    : "no group is named " + UntrustedText.quote(name) + "; the groups are " + known, name);
        }
        return g;
    }

    /**
     * Returns the configured families, primary first: those of every group, in order of first appearance (the default
     * group's first). See {@link NodeGroup#families()} for one group's.
     *
     * @return one or two families
     */
    public List<IpFamily> families() {
        return families;
    }

    /**
     * Gives a node one subnet per configured family, or returns what it already holds. Families the node already
     * holds (e.g. after {@link #adopt(String, List)}) are kept; only missing ones are allocated. Call it for a node
     * that has no pod CIDR in the API: subnets held for a misaligned pod CIDR (an earlier node of that name) are
     * freed, since such a node cannot have one.
     *
     * <p>Takes subnets from the {@linkplain #DEFAULT_GROUP default group}: {@code assign(node, DEFAULT_GROUP)}.
     *
     * @param node the node name
     * @return the node's subnets, primary family first
     * @throws PoolExhaustedException if some family has no free subnet in any pool; then nothing was allocated
     * @throws UnknownGroupException if there is no default group (only named groups were added)
     */
    public NodeAssignment assign(String node) {
        return assign(node, DEFAULT_GROUP);
    }

    /**
     * Gives a node one subnet per family of a group, from that group's pools only, or returns what it already
     * holds. Families the node already holds are kept, whichever group they came from (a write of them may have
     * landed, and pod CIDRs cannot be changed once set); only missing ones are allocated, from the group's pools.
     * Otherwise as {@link #assign(String)}.
     *
     * @param node the node name
     * @param group the name of the node's group
     * @return the node's subnets, the group's primary family first
     * @throws PoolExhaustedException if some family of the group has no free subnet in the group's pools (its
     *     {@link PoolExhaustedException#group()} names the group); then nothing was allocated
     * @throws UnknownGroupException if no group has that name
     */
    public NodeAssignment assign(String node, String group) {
        Objects.requireNonNull(node, "node");
        Group g = group(group);
        synchronized (lock) {
            IpFamily full = assignLocked(node, g);
            if (full != null) {
                throw exhausted(node, full, g);
            }
            return assignmentOf(node, nodes.get(node));
        }
    }

    /**
     * Does what {@link #assign(String)} does, but reports exhaustion by an empty result instead of an exception: the
     * cheap call for a controller that retries nodes while a pool is full. {@link #stats()} tells which pool is full.
     *
     * <p>Takes subnets from the {@linkplain #DEFAULT_GROUP default group}.
     *
     * @param node the node name
     * @return the node's subnets, primary family first, or empty if some family has no free subnet (then nothing
     *     was allocated)
     * @throws UnknownGroupException if there is no default group (only named groups were added)
     */
    public Optional<NodeAssignment> tryAssign(String node) {
        return tryAssign(node, DEFAULT_GROUP);
    }

    /**
     * Does what {@link #assign(String, String)} does, but reports exhaustion of the group by an empty result instead
     * of an exception. {@link #stats(String)} tells which pool of the group is full.
     *
     * @param node the node name
     * @param group the name of the node's group
     * @return the node's subnets, or empty if some family of the group has no free subnet in the group's pools
     * @throws UnknownGroupException if no group has that name
     */
    public Optional<NodeAssignment> tryAssign(String node, String group) {
        Objects.requireNonNull(node, "node");
        Group g = group(group);
        synchronized (lock) {
            if (assignLocked(node, g) != null) {
                return Optional.empty();
            }
            return Optional.of(assignmentOf(node, nodes.get(node)));
        }
    }

    /** Allocates the node's missing families of a group, all or nothing; returns the first family without room. */
    private IpFamily assignLocked(String node, Group group) {
        Holding holding = nodes.get(node);
        if (holding != null && holding.heldForMisaligned != null && !holding.heldForMisaligned.isEmpty()) {
            for (Cidr c : holding.heldForMisaligned) {
                free(c);
            }
            holding.heldForMisaligned = null;
            java.util.Arrays.fill(holding.wide, false);
            wideNodes.remove(node);
            if (holding.isEmpty()) {
                nodes.remove(node);
                holding = null;
            }
        }
        // Check every missing family first, so that exhaustion of one takes nothing from the others.
        SubnetPool[] chosen = null;
        List<IpFamily> wanted = group.families;
        for (int i = 0; i < wanted.size(); i++) {
            IpFamily family = wanted.get(i);
            if (holding != null && holding.byFamily[family.ordinal()] != null) {
                continue;
            }
            SubnetPool pool = firstPoolWithRoom(group.poolsByFamily.get(family));
            if (pool == null) {
                return family;
            }
            if (chosen == null) {
                chosen = new SubnetPool[wanted.size()];
            }
            chosen[i] = pool;
        }
        if (chosen != null) {
            if (holding == null) {
                holding = new Holding();
                nodes.put(node, holding);
            }
            holding.group = group;
            for (SubnetPool pool : chosen) {
                if (pool != null) {
                    Cidr subnet = pool.allocate();
                    holding.byFamily[pool.family().ordinal()] = subnet;
                    holders.put(subnet, node);
                }
            }
        }
        return null;
    }

    private static SubnetPool firstPoolWithRoom(List<SubnetPool> ofFamily) {
        for (SubnetPool p : ofFamily) {
            if (p.stats().free() > 0) {
                return p;
            }
        }
        return null;
    }

    private PoolExhaustedException exhausted(String node, IpFamily family, Group group) {
        List<SubnetPool> full = group.poolsByFamily.get(family);
        StringBuilder detail = new StringBuilder();
        for (SubnetPool p : full) {
            PoolStats s = p.stats();
            detail.append(detail.length() == 0 ? "" : "; ").append(p.cluster()).append(" /")
                    .append(p.nodePrefixLength()).append(": ").append(s.allocated() + s.reserved()).append(" of ")
                    .append(s.capacity()).append(" in use");
        }
        SubnetPool last = full.get(full.size() - 1);
        PoolStats s = last.stats();
        boolean onlyDefault = groups.size() == 1 && group.name().equals(DEFAULT_GROUP);
        return new PoolExhaustedException("no free " + family + " subnet " + (onlyDefault ? "" : "in group "
                + group.name() + " ") + "for node " + node + ": "
                + (full.size() == 1 ? "the pool is" : "all " + full.size() + " " + family + " pools are")
                + " full (" + detail + "); delete nodes or add a range" + (onlyDefault ? "" : " to the group")
                + wideHoldersIn(full),
                last.cluster(), last.nodePrefixLength(), s.capacity(), s.allocated() + s.reserved(), group.name());
    }

    /** Names the nodes whose pod CIDRs wider than a node subnet hold subnets of some pools; empty if none does. */
    private String wideHoldersIn(List<SubnetPool> full) {
        StringBuilder out = new StringBuilder();
        long total = 0;
        int named = 0;
        for (String n : wideNodes) {
            Holding h = nodes.get(n);
            long inFull = 0;
            for (Cidr c : h.heldForMisaligned) {
                if (h.wide[c.family().ordinal()] && full.contains(poolWithSubnet(c))) {
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
     * Returns the nodes that hold subnets for a pod CIDR wider than one node subnet (reported as
     * {@link NodeReport.Kind#OVERSIZED}), with the number of subnets each holds for it: for an operator who finds a
     * pool exhausted, such nodes are the first suspects.
     *
     * @return node name to the subnets held for its wide pod CIDRs (at least 1), sorted by name; empty if none
     */
    public java.util.SortedMap<String, Long> wideClaims() {
        synchronized (lock) {
            java.util.TreeMap<String, Long> all = new java.util.TreeMap<>();
            for (String n : wideNodes) {
                all.put(n, nodes.get(n).wideHeld(null));
            }
            return java.util.Collections.unmodifiableSortedMap(all);
        }
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
            // The node's group's primary family first, then any other family it holds.
            if (holding.group != null) {
                for (IpFamily f : holding.group.families) {
                    Cidr c = holding.byFamily[f.ordinal()];
                    if (c != null) {
                        cidrs.add(c);
                    }
                }
            }
            for (IpFamily f : families) {
                Cidr c = holding.byFamily[f.ordinal()];
                if (c != null && !cidrs.contains(c)) {
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
     * Tells whether a node holds any subnet, including subnets held for a misaligned pod CIDR. O(1), unlike a look
     * into {@link #nodeNames()}, which copies every name.
     *
     * @param node the node name
     * @return true if the node holds at least one subnet
     */
    public boolean holdsAny(String node) {
        synchronized (lock) {
            return nodes.containsKey(node);
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
     * Returns what every node holds, taken at one instant under the lock: a consistent picture for a status page or
     * an export, where separate {@link #assignmentOf(String)} calls could see a node twice or miss one.
     *
     * <p>A node that holds only subnets for a misaligned or wide pod CIDR has no assignment and is not listed here;
     * {@link #holdings()} lists it.
     *
     * @return node name to its subnets (one per family at most), for nodes holding at least one; sorted by name
     */
    public java.util.SortedMap<String, NodeAssignment> snapshot() {
        synchronized (lock) {
            java.util.TreeMap<String, NodeAssignment> all = new java.util.TreeMap<>();
            for (Map.Entry<String, Holding> e : nodes.entrySet()) {
                NodeAssignment a = assignmentOf(e.getKey(), e.getValue());
                if (!a.cidrs().isEmpty()) {
                    all.put(e.getKey(), a);
                }
            }
            return java.util.Collections.unmodifiableSortedMap(all);
        }
    }

    /**
     * Returns every subnet every node holds, taken at one instant under the lock: unlike {@link #snapshot()} and
     * {@link #assignmentOf(String)}, which give the subnets a node may be written with (one per family), this view
     * also shows the subnets held for misaligned and wide pod CIDRs, so a node that holds only those (e.g. one whose
     * pod CIDR is {@code 10.244.0.0/15}) appears here as it does in {@link #nodeNames()}, {@link #nodeCount()},
     * {@link #holdsAny(String)} and {@link #holderOf(Cidr)}.
     *
     * @return node name to its subnets (its subnet of each family first, primary first, then the others in address
     *     order), for every node holding at least one; sorted by name
     */
    public java.util.SortedMap<String, List<Cidr>> holdings() {
        synchronized (lock) {
            java.util.TreeMap<String, List<Cidr>> all = new java.util.TreeMap<>();
            for (Map.Entry<String, Holding> e : nodes.entrySet()) {
                List<Cidr> held = new ArrayList<>(assignmentOf(e.getKey(), e.getValue()).cidrs());
                if (e.getValue().heldForMisaligned != null) {
                    List<Cidr> others = new ArrayList<>(e.getValue().heldForMisaligned);
                    java.util.Collections.sort(others);
                    held.addAll(others);
                }
                all.put(e.getKey(), List.copyOf(held));
            }
            return java.util.Collections.unmodifiableSortedMap(all);
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
     * Makes what a node holds agree with the pod CIDRs it has in the API, family by family: the node holds the subnet
     * each value denotes (read as Kubernetes reads it, see {@link Cidr#parseLenient(String)}) when that subnet is free
     * or already the node's, and every other subnet it held for that family is freed (e.g. one allocated for it whose
     * write never landed: pod CIDRs are immutable once set, so the node can no longer get it). Nothing is ever taken
     * from another node. See {@link NodeReport.Kind} for how each value is classified.
     *
     * <p>A node with no value at all (an empty list, or only nulls) is left as it is: use {@link #release(String)}
     * once the API confirms it has none.
     *
     * <p>Adopts for the {@linkplain #DEFAULT_GROUP default group} when there is one (see
     * {@link #adopt(String, String, List)}), else for no group.
     *
     * @param node the node name
     * @param podCidrs the node's {@code spec.podCIDRs} texts as found (may be malformed); null elements are ignored
     * @return what was adopted and what was found
     */
    public NodeReport adopt(String node, List<String> podCidrs) {
        Objects.requireNonNull(node, "node");
        synchronized (lock) {
            return adoptLocked(node, groups.get(DEFAULT_GROUP), podCidrs);
        }
    }

    /**
     * Does what {@link #adopt(String, List)} does for a node that belongs to a group (by its labels). A value in the
     * range of another group is held for the node all the same, since pod CIDRs cannot be changed once set, and
     * reported as {@link NodeReport.Kind#IN_OTHER_GROUP} (which does not fail closed: the subnet is the node's
     * alone); a family of the group the node has no value of is reported as {@link NodeReport.Kind#MISSING_FAMILY}.
     * A node that belongs to no group (no selector matches it) still holds the subnets its values denote: give a
     * null group, and families are then checked against the group that holds its first value.
     *
     * @param node the node name
     * @param group the name of the node's group, or null if it belongs to none
     * @param podCidrs the node's {@code spec.podCIDRs} texts as found (may be malformed); null elements are ignored
     * @return what was adopted and what was found
     * @throws UnknownGroupException if the group is not null and no group has that name
     */
    public NodeReport adopt(String node, String group, List<String> podCidrs) {
        Objects.requireNonNull(node, "node");
        Group g = group == null ? null : group(group);
        synchronized (lock) {
            return adoptLocked(node, g, podCidrs);
        }
    }

    /**
     * Adopts the pod CIDRs of every existing node, in the order given; when two nodes claim one subnet, the first
     * keeps it. Give the nodes oldest first so that the older node wins. Meant for a new instance at the start of
     * leadership; on a used instance it behaves as {@link #adopt(String, List)} for each node.
     *
     * <p>Allocation then resumes in each pool just past the subnet of the last node given that holds one there: with
     * the nodes oldest first, that is the newest node's subnet, where the previous instance's next-fit cursor
     * stood. So a subnet released shortly before a failover is not handed out again at once (stale routes to it get
     * the time {@link SubnetPool#allocate()} promises); it comes round when the cursor does.
     *
     * @param existing the nodes and their pod CIDR texts
     * @return one report per node that has at least one pod CIDR
     */
    public RestoreReport restore(Collection<ExistingNode> existing) {
        Group fallback = groups.get(DEFAULT_GROUP);
        return restore(existing, n -> fallback == null ? null : DEFAULT_GROUP);
    }

    /**
     * Does what {@link #restore(Collection)} does, adopting each node for its group as
     * {@link #adopt(String, String, List)} does.
     *
     * @param existing the nodes and their pod CIDR texts, oldest first
     * @param groupOf the name of each node's group, or null for a node that belongs to none
     * @return one report per node that has at least one pod CIDR
     * @throws UnknownGroupException if {@code groupOf} names a group that does not exist; nodes before it are adopted
     */
    public RestoreReport restore(Collection<ExistingNode> existing, Function<? super ExistingNode, String> groupOf) {
        Objects.requireNonNull(groupOf, "groupOf");
        List<NodeReport> reports = new ArrayList<>();
        synchronized (lock) {
            // The subnet of the last node given (the newest) in each pool: the previous instance's cursor was just
            // past it, so allocation resumes there and a subnet released shortly before is not handed out first.
            Map<SubnetPool, Cidr> lastAdopted = new IdentityHashMap<>();
            for (ExistingNode n : existing) {
                if (!n.podCidrs().isEmpty()) {
                    String name = groupOf.apply(n);
                    NodeReport r = adoptLocked(n.name(), name == null ? null : group(name), n.podCidrs());
                    for (Cidr c : r.adopted()) {
                        lastAdopted.put(poolWithSubnet(c), c);
                    }
                    reports.add(r);
                }
            }
            lastAdopted.forEach(SubnetPool::moveCursorPast);
        }
        return new RestoreReport(reports);
    }

    private NodeReport adoptLocked(String node, Group selected, List<String> values) {
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
                findings.add(new NodeReport.Finding(NodeReport.Kind.MALFORMED, value, null, null, parser.error()));
                continue;
            }
            if (!poolsByFamily.containsKey(c.family())) {
                findings.add(new NodeReport.Finding(NodeReport.Kind.UNCONFIGURED_FAMILY, value, c, null, "pod CIDR "
                        + UntrustedText.quote(value) + " is " + c.family() + ", a family no cluster CIDR is configured"
                        + " for; it is left alone"));
                continue;
            }
            if (claims[c.family().ordinal()] != null) {
                findings.add(new NodeReport.Finding(NodeReport.Kind.SECOND_OF_FAMILY, value, c, null, "pod CIDR "
                        + UntrustedText.quote(value) + " is a second " + c.family() + " pod CIDR; a node has at most"
                        + " one per family and only the first, " + claims[c.family().ordinal()] + ", is used"));
                continue;
            }
            claims[c.family().ordinal()] = c;
            if (parser.nonCanonical()) {
                findings.add(new NodeReport.Finding(NodeReport.Kind.NON_CANONICAL, value, c, null, "pod CIDR "
                        + parser.nonCanonicalDetail() + " as Kubernetes does; that subnet is held for the node"));
            }
        }
        if (!any) {
            return new NodeReport(node, List.of(), List.of());
        }
        Group reference = selected != null ? selected : firstGroupOf(claims);
        List<IpFamily> expected = reference != null ? reference.families : families;
        List<Cidr> adopted = new ArrayList<>(families.size());
        Holding holding = nodes.get(node);
        for (IpFamily family : families) {
            Cidr claim = claims[family.ordinal()];
            List<Cidr> keep = List.of();
            boolean wideClaim = false;
            Cidr exact = null;
            if (claim == null) {
                if (!expected.contains(family)) {
                    holding = replaceFamily(node, holding, family, null, keep, false);
                    continue;
                }
                findings.add(new NodeReport.Finding(NodeReport.Kind.MISSING_FAMILY, family.toString(), null, null,
                        "node has no " + family + " pod CIDR although a cluster CIDR of that family is configured;"
                                + " pod CIDRs cannot be changed once set: recreate the node to give it one of each"
                                + " family"));
            } else {
                SubnetPool pool = poolWithSubnet(claim);
                if (pool != null) {
                    String holder = holders.get(claim);
                    if (holder == null || holder.equals(node)) {
                        exact = claim;
                        keep = List.of(claim);
                        Group owner = groupOfPool.get(pool);
                        if (selected != null && owner != selected) {
                            findings.add(inOtherGroup(claim, owner, selected));
                        }
                        if (pool.isReserved(claim)) {
                            findings.add(new NodeReport.Finding(NodeReport.Kind.IN_RESERVED_RANGE, claim.toString(),
                                    claim, null, "pod CIDR " + claim + " lies in a reserved range of " + pool.cluster()
                                            + "; it is held for the node, but check that the range is not in use"
                                            + " elsewhere (service CIDR, VPC)"));
                        }
                    } else {
                        findings.add(duplicate(claim, holder));
                    }
                } else {
                    keep = new ArrayList<>();
                    wideClaim = overlapped(node, selected, claim, keep, findings);
                }
            }
            holding = replaceFamily(node, holding, family, exact, keep, wideClaim);
            if (exact != null) {
                adopted.add(exact);
            }
        }
        if (holding != null) {
            holding.group = reference;
        }
        if (holding != null && holding.isWide()) {
            wideNodes.add(node);
        } else {
            wideNodes.remove(node);
        }
        return new NodeReport(node, orderedBy(reference, adopted), findings);
    }

    /** The group of the first claim that overlaps a range, in family order; null if none does. */
    private Group firstGroupOf(Cidr[] claims) {
        for (IpFamily f : families) {
            Cidr c = claims[f.ordinal()];
            if (c != null) {
                Group g = groupOverlapping(c);
                if (g != null) {
                    return g;
                }
            }
        }
        return null;
    }

    /** Puts the subnets of a group's families first, in the group's order, the others after in global order. */
    private static List<Cidr> orderedBy(Group group, List<Cidr> cidrs) {
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

    private static NodeReport.Finding inOtherGroup(Cidr claim, Group owner, Group selected) {
        return new NodeReport.Finding(NodeReport.Kind.IN_OTHER_GROUP, claim.toString(), claim, null, "pod CIDR "
                + claim + " lies in a range of group " + owner.name() + ", but the node belongs to group "
                + selected.name() + "; it keeps its subnet (pod CIDRs cannot be changed once set): recreate the"
                + " node to give it a subnet of group " + selected.name() + ", or change its labels back");
    }

    private static NodeReport.Finding duplicate(Cidr claim, String holder) {
        return new NodeReport.Finding(NodeReport.Kind.DUPLICATE, claim.toString(), claim, holder, "pod CIDR "
                + claim + " overlaps the subnet of node " + holder + ", which keeps it; pod CIDRs cannot be changed"
                + " once set: recreate one of the two nodes to give it a free subnet");
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
    private boolean overlapped(String node, Group selected, Cidr claim, List<Cidr> keep,
            List<NodeReport.Finding> findings) {
        boolean overlapsAny = false;
        boolean wide = false;
        List<String> tooManyIn = new ArrayList<>(0);
        Group otherGroup = null;
        boolean inSelected = false;
        int nodePrefix = -1;
        java.util.Set<String> otherHolders = new java.util.LinkedHashSet<>(0);
        for (SubnetPool pool : poolsByFamily.get(claim.family())) {
            long[] span = pool.overlapIndices(claim);
            if (span == null) {
                continue;
            }
            overlapsAny = true;
            if (claim.prefixLength() < pool.nodePrefixLength()) {
                wide = true;
                nodePrefix = pool.nodePrefixLength();
            }
            Group owner = groupOfPool.get(pool);
            if (owner == selected) {
                inSelected = true;
            } else if (otherGroup == null) {
                otherGroup = owner;
            }
            if (span[1] - span[0] > MAX_SUBNETS_HELD_FOR_MISALIGNED) {
                tooManyIn.add(pool.cluster() + " (" + (span[1] - span[0]) + ")");
                continue;
            }
            for (long i = span[0]; i < span[1]; i++) {
                Cidr subnet = pool.subnet(i);
                String holder = holders.get(subnet);
                if (holder == null || holder.equals(node)) {
                    keep.add(subnet);
                } else {
                    otherHolders.add(holder);
                }
            }
        }
        if (!overlapsAny) {
            findings.add(new NodeReport.Finding(NodeReport.Kind.OUTSIDE_POOLS, claim.toString(), claim, null,
                    "pod CIDR " + claim + " is outside every " + claim.family() + " cluster CIDR; nothing here can"
                            + " tell whether another node or network uses it"));
            return false;
        }
        if (wide) {
            findings.add(oversized(claim, nodePrefix, keep.size(), otherHolders.size(), tooManyIn));
        } else {
            findings.add(new NodeReport.Finding(NodeReport.Kind.MISALIGNED, claim.toString(), claim, null,
                    "pod CIDR " + claim + " overlaps a cluster CIDR without being one of its node subnets (other"
                            + " size or alignment); the free subnets it overlaps are held for the node"));
        }
        if (selected != null && !inSelected) {
            findings.add(inOtherGroup(claim, otherGroup, selected));
        }
        for (String holder : otherHolders) {
            findings.add(duplicate(claim, holder));
        }
        return wide;
    }

    /** The finding for a pod CIDR wider than one node subnet: what it holds, why it fails closed, what to do. */
    private static NodeReport.Finding oversized(Cidr claim, int nodePrefix, int held, int otherNodes,
            List<String> tooManyIn) {
        StringBuilder m = new StringBuilder("pod CIDR ").append(claim).append(" is wider than one /")
                .append(nodePrefix).append(" node subnet; it holds ").append(held).append(held == 1 ? " node subnet"
                        : " node subnets").append(" (every free one it overlaps")
                .append(otherNodes > 0 ? "; " + otherNodes + (otherNodes == 1 ? " other node holds" : " other nodes"
                        + " hold") + " the rest" : "")
                .append("), so that no other node gets an address inside it, and the node cannot be vouched for");
        if (!tooManyIn.isEmpty()) {
            m.append("; it overlaps more than ").append(MAX_SUBNETS_HELD_FOR_MISALIGNED).append(" node subnets of ")
                    .append(String.join(", ", tooManyIn)).append(", too many to hold, so other nodes may get"
                            + " subnets inside it there");
        }
        m.append(": delete the node object, or register the node again with a pod CIDR of one /").append(nodePrefix)
                .append(" node subnet, to free them");
        return new NodeReport.Finding(NodeReport.Kind.OVERSIZED, claim.toString(), claim, null, m.toString());
    }

    /**
     * Makes the node hold exactly {@code keep} in one family ({@code exact}, when set, as its subnet of the family,
     * else all of {@code keep} as held for a misaligned CIDR), freeing whatever else it held in that family.
     */
    private Holding replaceFamily(String node, Holding holding, IpFamily family, Cidr exact, List<Cidr> keep,
            boolean wide) {
        if (holding != null) {
            // A wide claim keeps up to MAX_SUBNETS_HELD_FOR_MISALIGNED subnets: look them up in a hash set, so that
            // re-adopting it is linear in what it holds, not quadratic (List.contains in a loop).
            java.util.Set<Cidr> kept = keep.size() <= 4 ? null : new java.util.HashSet<>(keep);
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
                holding = new Holding();
                nodes.put(node, holding);
            }
            for (Cidr c : keep) {
                if (!node.equals(holders.get(c))) {
                    poolWithSubnet(c).occupy(c);
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
     * Returns the usage of every pool of one group, in configured order.
     *
     * @param group the group's name
     * @return one snapshot per pool of the group
     * @throws UnknownGroupException if no group has that name
     */
    public List<PoolStats> stats(String group) {
        Group g = group(group);
        synchronized (lock) {
            List<PoolStats> all = new ArrayList<>(g.pools.size());
            for (SubnetPool p : g.pools) {
                all.add(p.stats());
            }
            return List.copyOf(all);
        }
    }

    /**
     * Returns the usage of every pool, in configured order, group by group (see {@link #groups()}).
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
     * Returns a picture of every pool, in configured order, taken under the lock at one instant: the allocated and
     * reserved subnets counted per cell of at most {@code maxCells} cells per pool (see
     * {@link SubnetPool#occupancy(int)}). For a status page: far cheaper than {@link #snapshot()}, as it copies no
     * node name and builds no CIDR.
     *
     * @param maxCells the most cells per pool, 2 to {@value SubnetPool#MAX_OCCUPANCY_CELLS}; rounded down to a
     *     power of two
     * @return one picture per pool
     * @throws IllegalArgumentException if {@code maxCells} is out of range
     * @implNote Holds the lock for one scan of each pool's occupancy bitmap: about a thousand word operations per
     *     2^16 subnets, plus one step per allocated subnet.
     */
    public List<PoolOccupancy> occupancy(int maxCells) {
        synchronized (lock) {
            List<PoolOccupancy> all = new ArrayList<>(pools.size());
            for (SubnetPool p : pools) {
                all.add(p.occupancy(maxCells));
            }
            return List.copyOf(all);
        }
    }

    /**
     * Recounts everything and throws {@link IllegalStateException} if the node map, the holder map and the pools
     * disagree, or a subnet is held twice. O(nodes + pool size); for tests (see the test utility
     * {@code IpamInvariants}), never on a hot path.
     */
    void checkInvariants() {
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
            for (Map.Entry<String, Holding> e : nodes.entrySet()) {
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
