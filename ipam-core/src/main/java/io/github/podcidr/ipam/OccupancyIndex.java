package io.github.podcidr.ipam;

/**
 * Which subnets of a pool are unavailable (allocated or reserved): a set of indices {@code 0 <= i < capacity()}.
 * Two forms: {@link HierarchicalBitmap} for pools up to {@link #DENSE_LIMIT} subnets, {@link SparseBitmap} above,
 * whose memory follows what is occupied rather than the size of the pool (a sorted array per sparse block).
 */
interface OccupancyIndex {
    /** Largest pool kept as one dense bitmap: 2^24 subnets cost 2 MiB plus 1.6% of summary words. */
    long DENSE_LIMIT = 1L << 24;

    /** The index for a pool's subnets: dense up to {@link #DENSE_LIMIT}, sparse above. */
    static OccupancyIndex forCapacity(long capacity) {
        return capacity <= DENSE_LIMIT ? new HierarchicalBitmap((int) capacity) : new SparseBitmap(capacity);
    }

    /**
     * An index for a set expected to hold few of its indices wherever they are (such as the subnets allocated inside
     * reserved ranges): sparse from one block of {@link SparseBitmap#BLOCK_BITS} up, so its memory follows what is set.
     */
    static OccupancyIndex forFewOf(long capacity) {
        return capacity < SparseBitmap.BLOCK_BITS ? new HierarchicalBitmap((int) capacity) : new SparseBitmap(capacity);
    }

    /** Number of indices, the first invalid one; the "not found" answer of {@link #nextClear(long)}. */
    long capacity();

    /** Number of set indices. */
    long cardinality();

    boolean get(long index);

    /** Sets an index; true if it was clear. */
    boolean set(long index);

    /** Clears an index; true if it was set. */
    boolean clear(long index);

    /** Sets every index in [from, to); returns how many were clear. */
    long setRange(long from, long to);

    /** Clears every index in [from, to); returns how many were set. */
    long clearRange(long from, long to);

    /** The first clear index at or after {@code from}, or {@link #capacity()} if there is none. */
    long nextClear(long from);

    /**
     * The first set index in [from, to), or {@code to} if there is none. A plain scan (O(n/64) words): used only when
     * a range is reserved after allocations were made, never on the allocation path.
     */
    long nextSet(long from, long to);

    /** Estimated heap bytes held by the index, for stats and benchmarks. */
    long retainedBytes();

    /** Recounts everything and throws {@link IllegalStateException} if an internal invariant is broken. */
    void checkInvariants();
}
