package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;

/**
 * A pool as written in the benchmarks' {@code pool} parameters: the cluster range, {@code >}, the node prefix length.
 *
 * <pre>{@code
 * PoolSpec p = PoolSpec.parse("10.0.0.0/8>24");   // 10.0.0.0/8 cut into /24 subnets: 65,536
 * }</pre>
 *
 * @param cluster the range to cut up
 * @param nodePrefixLength the prefix length of each subnet
 */
public record PoolSpec(Cidr cluster, int nodePrefixLength) {

    /**
     * Parses {@code <cidr>><prefix length>}.
     *
     * @param text e.g. {@code fd00::/48>64}
     * @return the pool
     */
    public static PoolSpec parse(String text) {
        int gt = text.indexOf('>');
        if (gt < 0) {
            throw new IllegalArgumentException("\"" + text + "\" is not a pool; expected <cluster cidr>><node prefix"
                    + " length>, e.g. 10.0.0.0/8>24");
        }
        return new PoolSpec(Cidr.parse(text.substring(0, gt)), Integer.parseInt(text.substring(gt + 1)));
    }

    /**
     * Returns the number of subnets.
     *
     * @return 2^(node prefix length - cluster prefix length)
     */
    public long capacity() {
        return 1L << (nodePrefixLength - cluster.prefixLength());
    }
}
