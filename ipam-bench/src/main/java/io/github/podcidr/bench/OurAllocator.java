package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.SubnetPool;

/** ipam-core's {@link SubnetPool} behind {@link SubnetAllocator}: every call goes straight through. */
public final class OurAllocator implements SubnetAllocator {
    private final SubnetPool pool;

    /**
     * Creates an empty pool.
     *
     * @param cluster the range to cut up
     * @param nodePrefixLength the prefix length of each subnet
     */
    public OurAllocator(Cidr cluster, int nodePrefixLength) {
        this.pool = SubnetPool.of(cluster, nodePrefixLength);
    }

    @Override
    public Cidr allocate() {
        return pool.allocate();
    }

    @Override
    public Cidr tryAllocate() {
        return pool.tryAllocate().orElse(null);
    }

    @Override
    public boolean occupy(Cidr subnet) {
        return pool.occupy(subnet);
    }

    @Override
    public boolean release(Cidr subnet) {
        return pool.release(subnet);
    }

    @Override
    public long capacity() {
        return pool.capacity();
    }

    @Override
    public Cidr cluster() {
        return pool.cluster();
    }

    @Override
    public int nodePrefixLength() {
        return pool.nodePrefixLength();
    }

    @Override
    public boolean hasSubnet(Cidr cidr) {
        return pool.hasSubnet(cidr);
    }

    /**
     * Returns the wrapped pool.
     *
     * @return the pool
     */
    public SubnetPool pool() {
        return pool;
    }
}
