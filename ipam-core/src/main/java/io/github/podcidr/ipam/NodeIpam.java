// The public face of the node layer: one lock over the pool layout, the ledger, allocation and adoption.
package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.function.Function;
import java.util.function.Supplier;

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
 *   <li>Dual-stack: a node gets one subnet per configured family, primary (the first pool's) first, all or nothing.
 *       Pools of a family are used in order, so a cluster grows by appending a range.</li>
 *   <li>{@link #assign(String)}, {@link #release(String)} and {@link #adopt(String, List)} are idempotent;
 *       {@code release} frees exactly the subnets of that node.</li>
 *   <li>Named groups of pools ({@link NodeGroup}) have their own ranges and sizes; the pools of {@link
 *       Builder#addPool} form the group {@value #DEFAULT_GROUP}. Group ranges never overlap.</li>
 *   <li>A subnet is never held by two nodes (bar wide pod CIDRs sharing what they both cover): a node found with
 *       another's is reported and does not get it. Nothing here rewrites a node: pod CIDRs are immutable.</li>
 * </ul>
 *
 * <p>Thread-safe: one lock, as operations take microseconds, under which package-private parts do one job each: the
 * fixed pool layout, the ledger of holdings, allocation, and adoption of the values found on nodes.
 */
public final class NodeIpam {
    /** The name of the group formed by the pools of {@link Builder#addPool(Cidr, int)}. */
    public static final String DEFAULT_GROUP = "default";

    private final Object lock = new Object();
    private final PoolLayout layout;
    private final Ledger ledger;
    private final Assigner assigner;
    private final Adopter adopter;

    private NodeIpam(PoolLayout layout) {
        this.layout = layout;
        this.ledger = new Ledger(layout);
        this.assigner = new Assigner(layout, ledger);
        this.adopter = new Adopter(layout, ledger);
    }

    /** Runs a query or a change under the lock. */
    private <T> T locked(Supplier<T> action) {
        synchronized (lock) {
            return action.get();
        }
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
        private final List<NodeGroup.Pool> pools = new ArrayList<>();
        private final List<Cidr> reserved = new ArrayList<>();
        private final List<NodeGroup> named = new ArrayList<>();

        private Builder() {}

        /**
         * Appends a pool. Pools of a family are used in the order they are added.
         *
         * @param cluster the range, e.g. {@code 10.244.0.0/16}
         * @param nodePrefixLength the prefix length of each node's subnet, e.g. 24
         * @return this builder
         * @throws InvalidPoolException if the sizes do not fit (see {@link SubnetPool#of(Cidr, int)})
         */
        public Builder addPool(Cidr cluster, int nodePrefixLength) {
            SubnetPool.checkShape(cluster, nodePrefixLength);
            pools.add(new NodeGroup.Pool(cluster, nodePrefixLength));
            return this;
        }

        /**
         * Adds a named group of pools, for {@link NodeIpam#assign(String, String)}; its ranges and name must differ
         * from every other group's.
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
         * Builds a cluster view, all subnets free but the reserved ones, sharing no state with earlier builds.
         *
         * @return the new instance
         * @throws InvalidPoolException if there is no pool, two pools overlap (in one group or in two), or two groups
         *     have the same name
         */
        public NodeIpam build() {
            return new NodeIpam(PoolLayout.of(pools, named, reserved));
        }
    }

    /**
     * Returns the groups, the default group first when there is one (without the ranges of
     * {@link Builder#reserve(Cidr)}, which apply to every group), then the named groups in the order added.
     *
     * @return the groups' descriptions
     */
    public List<NodeGroup> groups() {
        return layout.specs();
    }

    /**
     * Returns the group whose ranges contain or overlap a CIDR: where a node's pod CIDR belongs.
     *
     * @param cidr a CIDR, e.g. a node's pod CIDR
     * @return the group's name, or empty if the CIDR overlaps no range
     */
    public Optional<String> groupOf(Cidr cidr) {
        return Optional.ofNullable(layout.groupOverlapping(Objects.requireNonNull(cidr, "cidr"))).map(g -> g.name());
    }

    /**
     * Returns the families of every group, primary first, in order of first appearance (the default group's first).
     *
     * @return one or two families
     */
    public List<IpFamily> families() {
        return layout.families;
    }

    /**
     * Does {@code assign(node, DEFAULT_GROUP)}.
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
     * Gives a node one subnet per family of a group, from that group's pools, keeping the families it holds already
     * (whichever group they came from: a write of them may have landed). Call it for a node without pod CIDRs in the
     * API: subnets held for a misaligned pod CIDR (an earlier node of that name) are freed.
     *
     * @param node the node name
     * @param group the name of the node's group
     * @return the node's subnets, the group's primary family first
     * @throws PoolExhaustedException if a family of the group has no free subnet in its pools; nothing is allocated
     * @throws UnknownGroupException if no group has that name
     */
    public NodeAssignment assign(String node, String group) {
        PoolLayout.Group g = layout.group(group);
        return locked(() -> assigner.assignOrThrow(node, g));
    }

    /**
     * Does {@code tryAssign(node, DEFAULT_GROUP)}.
     *
     * @param node the node name
     * @return the node's subnets, primary family first, or empty if some family has no free subnet
     * @throws UnknownGroupException if there is no default group (only named groups were added)
     */
    public Optional<NodeAssignment> tryAssign(String node) {
        return tryAssign(node, DEFAULT_GROUP);
    }

    /**
     * Does what {@link #assign(String, String)} does, but a full group gives an empty result, not an exception.
     *
     * @param node the node name
     * @param group the name of the node's group
     * @return the node's subnets, or empty if some family of the group has no free subnet in the group's pools
     * @throws UnknownGroupException if no group has that name
     */
    public Optional<NodeAssignment> tryAssign(String node, String group) {
        PoolLayout.Group g = layout.group(group);
        return locked(() -> assigner.tryAssign(node, g));
    }

    /**
     * Frees every subnet a node holds. Call it only when the node is gone from the API. A wide pod CIDR frees exactly
     * what it held: reserved subnets, other nodes' and what another wide pod CIDR covers stay as they are.
     *
     * @param node the node name
     * @return true if the node held anything (a wide pod CIDR counts, even if all it covers is held by others)
     */
    public boolean release(String node) {
        return locked(() -> ledger.release(node));
    }

    /**
     * Returns the subnets a node holds, one per family at most: those it is or will be written with. A node that
     * holds only subnets for a misaligned or wide pod CIDR has none (see {@link #holdings()}).
     *
     * @param node the node name
     * @return the node's subnets, or empty if it holds none
     */
    public Optional<NodeAssignment> assignmentOf(String node) {
        return locked(() -> ledger.assignmentOf(node));
    }

    /**
     * Returns the node that holds a subnet (of several wide pod CIDRs that share it, the first one found).
     *
     * @param subnet a pool subnet
     * @return the holder's name, or empty if the subnet is free, reserved or not a pool subnet
     */
    public Optional<String> holderOf(Cidr subnet) {
        return locked(() -> Optional.ofNullable(ledger.holderOf(subnet)));
    }

    /**
     * Tells whether a node holds any subnet, including those held for a misaligned or wide pod CIDR. O(1).
     *
     * @param node the node name
     * @return true if the node holds at least one subnet
     */
    public boolean holdsAny(String node) {
        return locked(() -> ledger.holdsAny(node));
    }

    /**
     * Returns the names of the nodes that hold subnets (for misaligned and wide pod CIDRs too).
     *
     * @return a sorted snapshot
     */
    public SortedSet<String> nodeNames() {
        return locked(ledger::nodeNames);
    }

    /**
     * Returns every node's assignment at one instant, for a status page or an export (separate calls could see a node
     * twice); a node holding only subnets for a misaligned or wide pod CIDR has none ({@link #holdings()} lists it).
     *
     * @return node name to its subnets (one per family at most), for nodes holding at least one; sorted by name
     */
    public SortedMap<String, NodeAssignment> snapshot() {
        return locked(ledger::snapshot);
    }

    /**
     * Returns every subnet every node holds at one instant, those held for misaligned and wide pod CIDRs too (each
     * wide one's as the fewest CIDRs covering exactly them, possibly none), so every node of {@link #nodeNames()}
     * is here, a node holding only those (pod CIDR {@code 10.244.0.0/15}) too.
     *
     * @return node name to what it holds (its assignment first, then the others in address order), sorted by name
     */
    public SortedMap<String, List<Cidr>> holdings() {
        return locked(ledger::holdings);
    }

    /**
     * Returns the number of nodes in {@link #nodeNames()}.
     *
     * @return the number of nodes known
     */
    public int nodeCount() {
        return locked(ledger::nodeCount);
    }

    /**
     * Returns the nodes with a pod CIDR wider than one node subnet ({@link NodeReport.Kind#OVERSIZED}) and how many
     * subnets each holds (overlapping ones share): the first suspects when a pool is exhausted.
     *
     * @return node name to the subnets held for its wide pod CIDRs (0 if others hold all it covers, which it still
     *     keeps from being handed out when they are freed), sorted by name; empty if none
     */
    public SortedMap<String, Long> wideClaims() {
        return locked(ledger::wideClaims);
    }

    /**
     * Makes what a node holds agree with its pod CIDRs in the API, as {@link NodeReport} describes, for the default
     * group if any. A node with no value is left as it is: {@link #release(String)} it once the API confirms that.
     *
     * @param node the node name
     * @param podCidrs the node's {@code spec.podCIDRs} texts as found (may be malformed); null elements are ignored
     * @return what was adopted and what was found
     */
    public NodeReport adopt(String node, List<String> podCidrs) {
        return locked(() -> adopter.adopt(node, layout.defaultGroup(), podCidrs));
    }

    /**
     * Does what {@link #adopt(String, List)} does for a node of a group (by its labels; null for none). A value in
     * another group's range is held all the same ({@link NodeReport.Kind#IN_OTHER_GROUP}).
     *
     * @param node the node name
     * @param group the name of the node's group, or null if it belongs to none
     * @param podCidrs the node's {@code spec.podCIDRs} texts as found (may be malformed); null elements are ignored
     * @return what was adopted and what was found
     * @throws UnknownGroupException if the group is not null and no group has that name
     */
    public NodeReport adopt(String node, String group, List<String> podCidrs) {
        PoolLayout.Group g = group == null ? null : layout.group(group);
        return locked(() -> adopter.adopt(node, g, podCidrs));
    }

    /**
     * Adopts every existing node as {@link #adopt(String, List)} does, in the order given (oldest first: the older of
     * two nodes claiming one subnet keeps it), then resumes allocation in each pool past the newest node's subnet,
     * where the previous leader's cursor stood, so a subnet released just before a failover is not reused at once.
     *
     * @param existing the nodes and their pod CIDR texts
     * @return one report per node that has at least one pod CIDR
     */
    public RestoreReport restore(Collection<ExistingNode> existing) {
        return restore(existing, n -> layout.defaultGroup() != null ? DEFAULT_GROUP : null);
    }

    /**
     * Does what {@link #restore(Collection)} does, adopting each node for its group (see {@link #adopt(String,
     * String, List)}).
     *
     * @param existing the nodes and their pod CIDR texts, oldest first
     * @param groupOf the name of each node's group, or null for a node that belongs to none
     * @return one report per node that has at least one pod CIDR
     * @throws UnknownGroupException if {@code groupOf} names a group that does not exist; nodes before it are adopted
     */
    public RestoreReport restore(Collection<ExistingNode> existing, Function<? super ExistingNode, String> groupOf) {
        Objects.requireNonNull(groupOf, "groupOf");
        return locked(() -> adopter.restore(existing, groupOf));
    }

    /**
     * Returns the usage of every pool of one group, in configured order.
     *
     * @param group the group's name
     * @return one snapshot per pool of the group
     * @throws UnknownGroupException if no group has that name
     */
    public List<PoolStats> stats(String group) {
        PoolLayout.Group g = layout.group(group);
        return locked(() -> PoolLayout.stats(g.pools));
    }

    /**
     * Returns the usage of every pool, in configured order, group by group (see {@link #groups()}).
     *
     * @return one snapshot per pool
     */
    public List<PoolStats> stats() {
        return locked(() -> PoolLayout.stats(layout.pools));
    }

    /**
     * Returns a picture of every pool at one instant ({@link SubnetPool#occupancy(int)}), cheaper than a snapshot.
     *
     * @param maxCells the most cells per pool, 2 to {@value SubnetPool#MAX_OCCUPANCY_CELLS}, rounded down to 2^k
     * @return one picture per pool
     * @throws IllegalArgumentException if {@code maxCells} is out of range
     * @implNote One scan of each pool's bitmap under the lock: about 1,000 word operations per 2^16 subnets.
     */
    public List<PoolOccupancy> occupancy(int maxCells) {
        return locked(() -> layout.occupancy(maxCells));
    }

    /** Recounts everything (see {@code Ledger.checkInvariants}); for tests (the test utility {@code IpamInvariants}). */
    void checkInvariants() {
        synchronized (lock) {
            ledger.checkInvariants();
        }
    }
}
