package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;

/**
 * The names used in the benchmarks' {@code impl} parameter, and the factory behind them.
 */
public final class Implementations {
    /** ipam-core's {@code SubnetPool}. */
    public static final String OURS = "ours";
    /** The Go podcidr-controller's allocator, {@link BooleanArrayAllocator}. */
    public static final String BOOLEAN_ARRAY = "boolean-array";
    /** Kubernetes' CIDRSet, {@link BitScanAllocator}. */
    public static final String BIT_SCAN = "bit-scan";

    private Implementations() {
    }

    /**
     * Creates an empty pool of the named implementation.
     *
     * @param impl {@value #OURS}, {@value #BOOLEAN_ARRAY} or {@value #BIT_SCAN}
     * @param pool the pool, e.g. {@code 10.0.0.0/8>24}
     * @return the allocator
     */
    public static SubnetAllocator create(String impl, PoolSpec pool) {
        return create(impl, pool.cluster(), pool.nodePrefixLength());
    }

    /**
     * Creates an empty pool of the named implementation.
     *
     * @param impl {@value #OURS}, {@value #BOOLEAN_ARRAY} or {@value #BIT_SCAN}
     * @param cluster the range to cut up
     * @param nodePrefixLength the prefix length of each subnet
     * @return the allocator
     */
    public static SubnetAllocator create(String impl, Cidr cluster, int nodePrefixLength) {
        switch (impl) {
            case OURS:
                return new OurAllocator(cluster, nodePrefixLength);
            case BOOLEAN_ARRAY:
                return new BooleanArrayAllocator(cluster, nodePrefixLength);
            case BIT_SCAN:
                return new BitScanAllocator(cluster, nodePrefixLength);
            default:
                throw new IllegalArgumentException("unknown implementation \"" + impl + "\"; expected " + OURS + ", "
                        + BOOLEAN_ARRAY + " or " + BIT_SCAN);
        }
    }
}
