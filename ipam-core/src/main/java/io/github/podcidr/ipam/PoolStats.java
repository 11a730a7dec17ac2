package io.github.podcidr.ipam;

/**
 * A snapshot of one pool's usage. {@code allocated + reserved + free() == capacity}.
 *
 * @param cluster the pool's range, e.g. {@code 10.244.0.0/16}
 * @param nodePrefixLength the prefix length of the subnets it hands out, e.g. 24
 * @param capacity the number of subnets, {@code 2^(nodePrefixLength - cluster.prefixLength())}
 * @param allocated subnets handed out or occupied, and those {@link NodeIpam} holds for a node's pod CIDR wider than
 *     a node subnet (see {@link NodeIpam#wideClaims()})
 * @param reserved subnets held back by {@link SubnetPool#reserve(Cidr)} and not allocated
 */
public record PoolStats(Cidr cluster, int nodePrefixLength, long capacity, long allocated, long reserved) {

    /**
     * Returns the number of subnets that {@link SubnetPool#allocate()} can still hand out.
     *
     * @return {@code capacity - allocated - reserved}
     */
    public long free() {
        return capacity - allocated - reserved;
    }

    /**
     * Returns the family of the pool.
     *
     * @return the family of {@link #cluster()}
     */
    public IpFamily family() {
        return cluster.family();
    }
}
