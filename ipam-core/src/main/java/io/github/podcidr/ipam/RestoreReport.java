package io.github.podcidr.ipam;

import java.util.List;

/**
 * What {@link NodeIpam#restore(java.util.Collection)} made of the existing nodes: one {@link NodeReport} per node
 * that had at least one pod CIDR, in the order the nodes were given.
 *
 * @param nodes the per-node reports; immutable
 */
public record RestoreReport(List<NodeReport> nodes) {

    /**
     * Creates a report; the list is copied.
     *
     * @param nodes the per-node reports
     */
    public RestoreReport {
        nodes = List.copyOf(nodes);
    }

    /**
     * Returns the reports of nodes with something to look at (duplicates, misfits, malformed values, missing family).
     *
     * @return the reports whose {@link NodeReport#hasProblems()} is true
     */
    public List<NodeReport> problems() {
        return nodes.stream().filter(NodeReport::hasProblems).toList();
    }

    /**
     * Returns the number of subnets now held by the restored nodes.
     *
     * @return the sum of the adopted subnets of all reports
     */
    public long adoptedSubnets() {
        long n = 0;
        for (NodeReport r : nodes) {
            n += r.adopted().size();
        }
        return n;
    }
}
