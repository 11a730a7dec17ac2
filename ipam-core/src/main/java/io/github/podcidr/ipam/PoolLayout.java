// The fixed arrangement of a cluster's pools: which groups exist, their pools by family, and where a CIDR belongs.
package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The groups and pools of a {@link NodeIpam}, fixed when it is built: validated from the descriptions alone (names,
 * sizes, overlaps), then each pool built once. The pools' occupancy changes; which pools exist and where each CIDR
 * belongs does not.
 */
final class PoolLayout {
    /** Families of all groups, in order of first appearance (the default group's first), primary first. */
    final List<IpFamily> families;
    /** Pools of all groups by family, group by group in configured order: for finding a subnet's pool. */
    final Map<IpFamily, List<SubnetPool>> poolsByFamily;
    /** All pools, group by group in configured order. */
    final List<SubnetPool> pools;
    /** The groups: the default group first when there is one, then the named groups in the order added. */
    final Map<String, Group> groups;
    /** The group of each pool. */
    private final Map<SubnetPool, Group> groupOfPool = new IdentityHashMap<>();

    /** One group's pools, as the allocator uses them. */
    static final class Group {
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

    private PoolLayout(List<Group> built) {
        Map<String, Group> byName = new LinkedHashMap<>();
        List<SubnetPool> all = new ArrayList<>();
        for (Group g : built) {
            byName.put(g.name(), g);
            for (SubnetPool p : g.pools) {
                all.add(p);
                groupOfPool.put(p, g);
            }
        }
        this.groups = Collections.unmodifiableMap(byName);
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
     * Checks the descriptions and builds every pool once, with the reserved ranges of all groups and of its own.
     *
     * @param defaults the pools of the default group, in order; may be empty
     * @param named the named groups, in order
     * @param reserved the ranges reserved in every group
     * @throws InvalidPoolException if there is no pool, two groups share a name, or two ranges overlap
     */
    static PoolLayout of(List<NodeGroup.Pool> defaults, List<NodeGroup> named, List<Cidr> reserved) {
        if (defaults.isEmpty() && named.isEmpty()) {
            throw new InvalidPoolException("no pool configured; add at least one cluster range, e.g. 10.244.0.0/16"
                    + " cut into /24 subnets");
        }
        List<NodeGroup> specs = new ArrayList<>(named.size() + 1);
        if (!defaults.isEmpty()) {
            specs.add(new NodeGroup(NodeIpam.DEFAULT_GROUP, defaults, List.of()));
        }
        Set<String> names = new HashSet<>();
        for (NodeGroup g : specs) {
            names.add(g.name());
        }
        for (NodeGroup g : named) {
            if (!names.add(g.name())) {
                throw new InvalidPoolException(g.name().equals(NodeIpam.DEFAULT_GROUP) && !defaults.isEmpty()
                        ? "group name " + NodeIpam.DEFAULT_GROUP + " is taken by the pools added with addPool; give"
                                + " the group another name, e.g. idc"
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
        return new PoolLayout(built);
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
        boolean onlyDefault = specs.size() == 1 && specs.get(0).name().equals(NodeIpam.DEFAULT_GROUP);
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

    /** The group named so; throws {@link UnknownGroupException} if there is none. */
    Group group(String name) {
        java.util.Objects.requireNonNull(name, "group");
        Group g = groups.get(name);
        if (g == null) {
            String known = String.join(", ", groups.keySet());
            throw new UnknownGroupException(name.equals(NodeIpam.DEFAULT_GROUP)
                    ? "there is no default group: no pool was added with addPool, only the groups " + known
                            + "; name the node's group"
                    : "no group is named " + UntrustedText.quote(name) + "; the groups are " + known, name);
        }
        return g;
    }

    /** The default group, or null when only named groups were added. */
    Group defaultGroup() {
        return groups.get(NodeIpam.DEFAULT_GROUP);
    }

    /** The group of one of the layout's pools. */
    Group groupOf(SubnetPool pool) {
        return groupOfPool.get(pool);
    }

    /** The group whose ranges contain or overlap a CIDR, or null. */
    Group groupOverlapping(Cidr cidr) {
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

    /** The pool that has the CIDR as one of its subnets, or null. */
    SubnetPool poolWithSubnet(Cidr subnet) {
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

    /** The descriptions of the groups, in order. */
    List<NodeGroup> specs() {
        List<NodeGroup> all = new ArrayList<>(groups.size());
        for (Group g : groups.values()) {
            all.add(g.spec);
        }
        return List.copyOf(all);
    }

    /** The figures of some pools, in their order. */
    static List<PoolStats> stats(List<SubnetPool> of) {
        List<PoolStats> all = new ArrayList<>(of.size());
        for (SubnetPool p : of) {
            all.add(p.stats());
        }
        return List.copyOf(all);
    }

    /** A picture of every pool, in order (see {@link SubnetPool#occupancy(int)}). */
    List<PoolOccupancy> occupancy(int maxCells) {
        List<PoolOccupancy> all = new ArrayList<>(pools.size());
        for (SubnetPool p : pools) {
            all.add(p.occupancy(maxCells));
        }
        return List.copyOf(all);
    }

    /** The pools of a family, all groups; empty if none is configured. */
    List<SubnetPool> poolsOf(IpFamily family) {
        return poolsByFamily.getOrDefault(family, List.of());
    }
}
