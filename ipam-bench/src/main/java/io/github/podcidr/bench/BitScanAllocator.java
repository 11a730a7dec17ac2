package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import java.util.BitSet;

/**
 * Baseline 2, Kubernetes' CIDRSet ({@code pkg/controller/nodeipam/ipam/cidrset/cidr_set.go}) ported line for line:
 * one bit per subnet (a {@link BitSet} for Go's {@code big.Int}), a counter that makes a full pool fail at once, and
 * otherwise a scan that tests one bit at a time from {@code nextCandidate}, wrapping round. Release never moves
 * {@code nextCandidate} back; occupy and release change the counter only when a bit flips. The mutex and the
 * Prometheus metrics of the original are left out; results go through {@link SubnetCodec}.
 *
 * @implNote allocate is O(n) bit tests in the worst case (a nearly full pool), O(1) on a full one; memory is one bit
 *     per subnet. {@link BitSet} stops below 2^31 bits, so a pool of 2^32 subnets cannot be represented (Kubernetes
 *     refuses more than 2^16 subnets per IPv6 range).
 */
public final class BitScanAllocator implements SubnetAllocator {
    private final SubnetCodec codec;
    private final int maxCidrs;
    private final BitSet used;
    private int allocatedCidrs;
    private int nextCandidate;

    /**
     * Creates an empty pool.
     *
     * @param cluster the range to cut up
     * @param nodePrefixLength the prefix length of each subnet
     * @throws UnsupportedOperationException if the pool has 2^31 subnets or more
     */
    public BitScanAllocator(Cidr cluster, int nodePrefixLength) {
        this.codec = new SubnetCodec(cluster, nodePrefixLength);
        if (codec.capacity() > (1L << 30)) {
            throw new UnsupportedOperationException("a java.util.BitSet of " + codec.capacity()
                    + " bits is not possible");
        }
        this.maxCidrs = (int) codec.capacity();
        this.used = new BitSet(maxCidrs);
    }

    @Override
    public Cidr allocate() {
        if (allocatedCidrs == maxCidrs) {
            throw BaselineExhaustedException.INSTANCE;
        }
        int candidate = nextCandidate;
        for (int i = 0; i < maxCidrs; i++) {
            if (!used.get(candidate)) {
                break;
            }
            candidate = (candidate + 1) % maxCidrs;
        }
        nextCandidate = (candidate + 1) % maxCidrs;
        used.set(candidate);
        allocatedCidrs++;
        return codec.toCidr(candidate);
    }

    @Override
    public Cidr tryAllocate() {
        if (allocatedCidrs == maxCidrs) {
            return null; // Go: return nil, ErrCIDRRangeNoCIDRsRemaining
        }
        // the same search as allocate(), kept apart so that allocate() stays the port it was (same size for the JIT)
        int candidate = nextCandidate;
        for (int i = 0; i < maxCidrs; i++) {
            if (!used.get(candidate)) {
                break;
            }
            candidate = (candidate + 1) % maxCidrs;
        }
        nextCandidate = (candidate + 1) % maxCidrs;
        used.set(candidate);
        allocatedCidrs++;
        return codec.toCidr(candidate);
    }

    @Override
    public boolean occupy(Cidr subnet) {
        return occupyParsed(subnet, subnet.toString());
    }

    @Override
    public boolean occupyParsed(Cidr subnet, String text) {
        int i = (int) codec.toIndex(subnet, text);
        if (used.get(i)) {
            return false;
        }
        used.set(i);
        allocatedCidrs++;
        return true;
    }

    @Override
    public boolean release(Cidr subnet) {
        int i = (int) codec.toIndex(subnet);
        if (!used.get(i)) {
            return false;
        }
        used.clear(i);
        allocatedCidrs--;
        return true;
    }

    @Override
    public long capacity() {
        return maxCidrs;
    }

    @Override
    public Cidr cluster() {
        return codec.cluster();
    }

    @Override
    public int nodePrefixLength() {
        return codec.nodePrefixLength();
    }
}
