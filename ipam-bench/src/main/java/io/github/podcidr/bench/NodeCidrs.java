package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.ExistingNode;
import java.util.List;

/**
 * The node layer the S8 and S9 benchmarks drive: ipam-core's {@code NodeIpam} ({@link OurNodeCidrs}) or the same
 * bookkeeping over two baseline pools ({@link BaselineNodeCidrs}).
 */
public interface NodeCidrs {

    /**
     * Gives a node one subnet per family, or returns what it holds.
     *
     * @param node the node name
     * @return its subnets, primary family first
     */
    List<Cidr> assign(String node);

    /**
     * Frees the subnets of a node.
     *
     * @param node the node name
     * @return true if it held any
     */
    boolean release(String node);

    /**
     * Adopts the pod CIDRs of existing nodes, first come first served.
     *
     * @param nodes the nodes with their pod CIDR texts
     * @return the number of subnets adopted
     */
    long restore(List<ExistingNode> nodes);

    /**
     * Creates the node layer of an implementation over a dual-stack pair of pools, IPv4 primary.
     *
     * @param impl an implementation name from {@link Implementations}
     * @param ipv4 the IPv4 pool
     * @param ipv6 the IPv6 pool
     * @return an empty node layer
     */
    static NodeCidrs create(String impl, PoolSpec ipv4, PoolSpec ipv6) {
        if (Implementations.OURS.equals(impl)) {
            return new OurNodeCidrs(ipv4, ipv6);
        }
        return new BaselineNodeCidrs(Implementations.create(impl, ipv4), Implementations.create(impl, ipv6));
    }
}
