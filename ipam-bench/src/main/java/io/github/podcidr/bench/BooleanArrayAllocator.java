package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;

/**
 * Baseline 1, the allocator of the Go podcidr-controller ({@code pkg/cidr/allocator.go}) ported line for line: one
 * {@code boolean} per subnet, a circular next-fit scan from {@code nextCandidate} that tests one entry at a time
 * ({@code (nextCandidate + i) % total}), and a release that moves {@code nextCandidate} back to the released index
 * when it is lower, so a released subnet is reused at once. On a full pool the scan visits every entry before it
 * fails. The Go mutex is left out (see {@link SubnetAllocator}); results go through {@link SubnetCodec}.
 *
 * @implNote allocate is O(n) in the worst case (a full or nearly full pool); memory is one byte per subnet, so a pool
 *     of 2^32 subnets cannot be represented (a Java array holds fewer than 2^31 entries; Go would need 4 GiB).
 */
public final class BooleanArrayAllocator implements SubnetAllocator {
    private final SubnetCodec codec;
    private final int total;
    private final boolean[] allocated;
    private int nextCandidate;

    /**
     * Creates an empty pool.
     *
     * @param cluster the range to cut up
     * @param nodePrefixLength the prefix length of each subnet
     * @throws UnsupportedOperationException if the pool has 2^31 subnets or more
     */
    public BooleanArrayAllocator(Cidr cluster, int nodePrefixLength) {
        this.codec = new SubnetCodec(cluster, nodePrefixLength);
        if (codec.capacity() > (1L << 30)) {
            throw new UnsupportedOperationException("a boolean per subnet for " + codec.capacity()
                    + " subnets does not fit in one Java array");
        }
        this.total = (int) codec.capacity();
        this.allocated = new boolean[total];
    }

    @Override
    public Cidr allocate() {
        for (int i = 0; i < total; i++) {
            int idx = (nextCandidate + i) % total;
            if (!allocated[idx]) {
                allocated[idx] = true;
                nextCandidate = (idx + 1) % total;
                return codec.toCidr(idx);
            }
        }
        throw BaselineExhaustedException.INSTANCE;
    }

    /** {@link #allocate()} with null for the exception, as the Go original returns its error value. */
    @Override
    public Cidr tryAllocate() {
        for (int i = 0; i < total; i++) {
            int idx = (nextCandidate + i) % total;
            if (!allocated[idx]) {
                allocated[idx] = true;
                nextCandidate = (idx + 1) % total;
                return codec.toCidr(idx);
            }
        }
        return null; // Go: return "", the package's exhaustion error
    }

    @Override
    public boolean occupy(Cidr subnet) {
        return occupyParsed(subnet, subnet.toString());
    }

    @Override
    public boolean occupyParsed(Cidr subnet, String text) {
        int idx = (int) codec.toIndex(subnet, text);
        boolean was = allocated[idx];
        allocated[idx] = true;
        return !was;
    }

    @Override
    public boolean release(Cidr subnet) {
        int idx = (int) codec.toIndex(subnet);
        boolean was = allocated[idx];
        allocated[idx] = false;
        // as in Go: reset nextCandidate to allow immediate reuse of the released CIDR
        if (idx < nextCandidate) {
            nextCandidate = idx;
        }
        return was;
    }

    @Override
    public long capacity() {
        return total;
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
