// Hands out subnets to nodes that have none, all or nothing per group, and says why when a group is full.
package io.github.podcidr.ipam;

import java.util.List;

/**
 * Allocation for {@link NodeIpam#assign(String, String)}: the node's missing families of its group, each from the
 * group's first pool of that family with room, all or nothing. Not thread-safe: {@link NodeIpam}'s lock guards it.
 */
final class Assigner {
    private final PoolLayout layout;
    private final Ledger ledger;

    Assigner(PoolLayout layout, Ledger ledger) {
        this.layout = layout;
        this.ledger = ledger;
    }

    /**
     * Allocates the node's missing families of a group, all or nothing. Subnets held for a misaligned pod CIDR are
     * freed first: a node that is assigned has no pod CIDR in the API.
     *
     * @return null when the node holds a subnet of every family of the group; else the first family without room
     *     (then nothing was allocated)
     */
    IpFamily assign(String node, PoolLayout.Group group) {
        java.util.Objects.requireNonNull(node, "node");
        Ledger.Holding holding = ledger.dropMisaligned(node, ledger.holding(node));
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
                holding = ledger.open(node);
            }
            holding.group = group;
            for (SubnetPool pool : chosen) {
                if (pool != null) {
                    ledger.recordAllocated(node, holding, pool.allocate());
                }
            }
        }
        return null;
    }

    /** Does {@link #assign(String, PoolLayout.Group)}; throws {@link #exhausted} if a family has no room. */
    NodeAssignment assignOrThrow(String node, PoolLayout.Group group) {
        IpFamily full = assign(node, group);
        if (full != null) {
            throw exhausted(node, full, group);
        }
        return ledger.assignmentOf(node, ledger.holding(node));
    }

    /** Does {@link #assign(String, PoolLayout.Group)}; empty if a family has no room. */
    java.util.Optional<NodeAssignment> tryAssign(String node, PoolLayout.Group group) {
        return assign(node, group) != null ? java.util.Optional.empty()
                : java.util.Optional.of(ledger.assignmentOf(node, ledger.holding(node)));
    }

    private static SubnetPool firstPoolWithRoom(List<SubnetPool> ofFamily) {
        for (SubnetPool p : ofFamily) {
            if (p.stats().free() > 0) {
                return p;
            }
        }
        return null;
    }

    /** The exception for a group with no room in a family: every pool's figures, and the wide pod CIDRs in them. */
    PoolExhaustedException exhausted(String node, IpFamily family, PoolLayout.Group group) {
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
        boolean onlyDefault = layout.groups.size() == 1 && group.name().equals(NodeIpam.DEFAULT_GROUP);
        return new PoolExhaustedException("no free " + family + " subnet " + (onlyDefault ? "" : "in group "
                + group.name() + " ") + "for node " + node + ": "
                + (full.size() == 1 ? "the pool is" : "all " + full.size() + " " + family + " pools are")
                + " full (" + detail + "); delete nodes or add a range" + (onlyDefault ? "" : " to the group")
                + ledger.wideHoldersIn(full),
                last.cluster(), last.nodePrefixLength(), s.capacity(), s.allocated() + s.reserved(), group.name());
    }
}
