package io.github.podcidr.k8s;

import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.PoolStats;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The text of a {@code CIDRNotAvailable} event and log line: which pools of a node's group are full, and which nodes
 * with pod CIDRs wider than a node subnet hold them, so that an operator knows what to delete or add.
 */
final class Exhaustion {
    private Exhaustion() {
    }

    /**
     * Returns why a node found no room: the usage of the pools of each family of its group that is full, e.g.
     * {@code no free IPV4 subnet for node n: the pool is full (10.244.0.0/24 /25: 2 of 2 in use)}; with named groups,
     * {@code no free IPV4 subnet in group idc for node n: ...}; then the nodes with wide pod CIDRs, if any.
     *
     * @param ipam the allocator
     * @param name the node that found no room
     * @param group its group
     * @param namedGroups whether the cluster has named node groups (then the group is named)
     * @return the text
     */
    static String message(NodeIpam ipam, String name, String group, boolean namedGroups) {
        List<PoolStats> stats = ipam.stats(group);
        String in = namedGroups ? " in group " + group : "";
        List<IpFamily> families = ipam.groups().stream().filter(g -> g.name().equals(group))
                .findFirst().map(NodeGroup::families).orElse(ipam.families());
        StringBuilder out = new StringBuilder();
        for (IpFamily family : families) {
            List<PoolStats> of = stats.stream().filter(s -> s.family() == family).toList();
            if (of.stream().anyMatch(s -> s.free() > 0)) {
                continue;
            }
            out.append(out.length() == 0 ? "" : "; ").append("no free ").append(family).append(" subnet").append(in)
                    .append(" for node ").append(name).append(": ").append(of.size() == 1 ? "the pool is" : "all "
                            + of.size() + " " + family + " pools are").append(" full (");
            for (int i = 0; i < of.size(); i++) {
                PoolStats s = of.get(i);
                out.append(i == 0 ? "" : "; ").append(s.cluster()).append(" /").append(s.nodePrefixLength())
                        .append(": ").append(s.allocated() + s.reserved()).append(" of ").append(s.capacity())
                        .append(" in use");
            }
            out.append(")");
        }
        Map<String, Long> wide = ipam.wideClaims();
        if (!wide.isEmpty()) {
            // the first suspects: one mistyped node can hold a whole pool
            out.append("; nodes whose pod CIDR is wider than a node subnet hold ").append(wide.entrySet().stream()
                    .limit(5).map(e -> e.getKey() + " (" + e.getValue() + " subnets)")
                    .collect(Collectors.joining(", "))).append(wide.size() > 5 ? " and " + (wide.size() - 5)
                            + " more" : "").append(": delete them or re-register them with a pod CIDR of the node"
                            + " size");
        }
        return out.append("; delete nodes or add a range").append(in.isEmpty() ? "" : " to the group").toString();
    }
}
