package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.ExistingNode;
import io.github.podcidr.ipam.NodeIpam;
import java.util.List;

/** ipam-core's {@link NodeIpam} behind {@link NodeCidrs}. */
public final class OurNodeCidrs implements NodeCidrs {
    private final NodeIpam ipam;

    /**
     * Creates a dual-stack {@link NodeIpam}, IPv4 primary.
     *
     * @param ipv4 the IPv4 pool
     * @param ipv6 the IPv6 pool
     */
    public OurNodeCidrs(PoolSpec ipv4, PoolSpec ipv6) {
        this.ipam = NodeIpam.builder()
                .addPool(ipv4.cluster(), ipv4.nodePrefixLength())
                .addPool(ipv6.cluster(), ipv6.nodePrefixLength())
                .build();
    }

    @Override
    public List<Cidr> assign(String node) {
        return ipam.assign(node).cidrs();
    }

    @Override
    public boolean release(String node) {
        return ipam.release(node);
    }

    @Override
    public long restore(List<ExistingNode> nodes) {
        return ipam.restore(nodes).adoptedSubnets();
    }

    /**
     * Returns the wrapped instance.
     *
     * @return the node IPAM
     */
    public NodeIpam ipam() {
        return ipam;
    }
}
