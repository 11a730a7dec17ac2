package io.github.podcidr.ipam;

import java.util.Arrays;

/**
 * A bitmap for pools too large for one dense bitmap (up to 2^32 subnets, such as an IPv6 /32 cut into /64s), and for
 * sets that are sparse in any pool. The index space is cut into blocks of {@link #BLOCK_BITS} bits, each kept in the
 * smallest of three forms, as RoaringBitmap does:
 * <ul>
 *   <li>absent: all clear, or all set when its bit in a dense {@link HierarchicalBitmap} of full blocks is set;</li>
 *   <li>an <em>array container</em> while few bits are set: a {@code char[]} whose element 0 is the count and
 *       elements 1..count the set offsets in increasing order, at most {@link #ARRAY_MAX} of them (8 KiB, the size of
 *       a bitmap block); one set bit costs 24 bytes;</li>
 *   <li>a <em>bitmap container</em> above: a {@link HierarchicalBitmap} of 2^16 bits (8 KiB), turned back into an
 *       array when it falls to half of {@link #ARRAY_MAX}, so that a block that hovers at the threshold is not
 *       converted on every change.</li>
 * </ul>
 * Containers are found through a two-level directory indexed by block number (256 blocks per leaf, a leaf created on
 * first use and kept: at most 256 KiB for 2^32 bits), with no hashing and no boxed keys. So 65,536 set bits spread over
 * all 65,536 blocks of a 2^32 index cost about 1.8 MiB, and an empty 2^32 index about 9 KiB.
 *
 * @implNote {@link #nextClear(long)} asks the summary for the first non-full block (O(log64 blocks)) and searches at
 *     most two blocks: in a bitmap container O(log64 2^16) words; in an array container a binary search, then a
 *     second one for the end of the run of consecutive offsets (offset minus position is non-decreasing in a sorted
 *     array of distinct values). A block that is partly set always has a clear bit at or after offset 0.
 *     {@link #set(long)} and {@link #clear(long)} cost O(log64) word operations in a bitmap container and a binary
 *     search plus a move of at most {@link #ARRAY_MAX} chars in an array container (amortized by doubling when the
 *     array grows); converting a container costs one pass over it. {@link #setRange(long, long)} marks whole blocks
 *     full without creating them.
 */
final class SparseBitmap implements OccupancyIndex {
    /** log2 of the bits per block: 2^16 bits are 8 KiB, small enough to create on demand. */
    static final int BLOCK_SHIFT = 16;
    /** Bits per block. */
    static final int BLOCK_BITS = 1 << BLOCK_SHIFT;
    private static final int BLOCK_MASK = BLOCK_BITS - 1;
    /** Most offsets in an array container: 4,096 chars take the 8 KiB of a bitmap container. */
    static final int ARRAY_MAX = 4096;
    /** Blocks per leaf of the directory. */
    private static final int LEAF_SHIFT = 8;
    private static final int LEAF_MASK = (1 << LEAF_SHIFT) - 1;

    private final long capacity;
    /** Most offsets in an array container; {@link #ARRAY_MAX} except in tests that exercise the conversions. */
    private final int arrayMax;
    /** Bit b set: block b is full (and has no container). */
    private final HierarchicalBitmap fullBlocks;
    /** Container of block b at directory[b >>> 8][b & 255]: null, a char[] array container or a bitmap container. */
    private final Object[][] directory;
    private long cardinality;

    SparseBitmap(long capacity) {
        this(capacity, ARRAY_MAX);
    }

    /** For tests: a smaller array threshold makes the conversions happen with few bits. */
    SparseBitmap(long capacity, int arrayMax) {
        if (capacity <= 0 || capacity > (1L << 32) || (capacity & BLOCK_MASK) != 0) {
            throw new IllegalArgumentException("sparse bitmap capacity must be a multiple of " + BLOCK_BITS
                    + " from " + BLOCK_BITS + " to 2^32: " + capacity);
        }
        if (arrayMax < 2 || arrayMax > ARRAY_MAX) {
            throw new IllegalArgumentException("array threshold must be 2 to " + ARRAY_MAX + ": " + arrayMax);
        }
        this.capacity = capacity;
        this.arrayMax = arrayMax;
        int blocks = (int) (capacity >>> BLOCK_SHIFT);
        this.fullBlocks = new HierarchicalBitmap(blocks);
        this.directory = new Object[(blocks + LEAF_MASK) >>> LEAF_SHIFT][];
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public long cardinality() {
        return cardinality;
    }

    private Object container(int key) {
        Object[] leaf = directory[key >>> LEAF_SHIFT];
        return leaf == null ? null : leaf[key & LEAF_MASK];
    }

    private void store(int key, Object container) {
        Object[] leaf = directory[key >>> LEAF_SHIFT];
        if (leaf == null) {
            if (container == null) {
                return;
            }
            leaf = new Object[1 << LEAF_SHIFT];
            directory[key >>> LEAF_SHIFT] = leaf;
        }
        leaf[key & LEAF_MASK] = container;
    }

    @Override
    public boolean get(long index) {
        int key = (int) (index >>> BLOCK_SHIFT);
        int offset = (int) (index & BLOCK_MASK);
        Object c = container(key);
        if (c == null) {
            return fullBlocks.get(key);
        }
        if (c instanceof char[] array) {
            return Arrays.binarySearch(array, 1, array[0] + 1, (char) offset) >= 0;
        }
        return ((HierarchicalBitmap) c).get(offset);
    }

    @Override
    public boolean set(long index) {
        int key = (int) (index >>> BLOCK_SHIFT);
        int offset = (int) (index & BLOCK_MASK);
        Object c = container(key);
        if (c == null) {
            if (fullBlocks.get(key)) {
                return false;
            }
            char[] array = new char[2];
            array[0] = 1;
            array[1] = (char) offset;
            store(key, array);
            cardinality++;
            return true;
        }
        if (c instanceof char[] array) {
            int count = array[0];
            int at = Arrays.binarySearch(array, 1, count + 1, (char) offset);
            if (at >= 0) {
                return false;
            }
            cardinality++;
            if (count == arrayMax) {
                HierarchicalBitmap bitmap = toBitmap(array);
                bitmap.set(offset);
                store(key, bitmap);
                return true;
            }
            int insert = -at - 1;
            char[] target = array;
            if (count + 1 == array.length) {
                target = new char[Math.min(arrayMax, 2 * count) + 1]; // double, up to the threshold
                System.arraycopy(array, 0, target, 0, insert);
            }
            System.arraycopy(array, insert, target, insert + 1, count + 1 - insert);
            target[insert] = (char) offset;
            target[0] = (char) (count + 1);
            if (target != array) {
                store(key, target);
            }
            return true;
        }
        HierarchicalBitmap bitmap = (HierarchicalBitmap) c;
        if (!bitmap.set(offset)) {
            return false;
        }
        cardinality++;
        if (bitmap.isFull()) {
            store(key, null);
            fullBlocks.set(key);
        }
        return true;
    }

    @Override
    public boolean clear(long index) {
        int key = (int) (index >>> BLOCK_SHIFT);
        int offset = (int) (index & BLOCK_MASK);
        Object c = container(key);
        if (c == null) {
            if (!fullBlocks.get(key)) {
                return false;
            }
            HierarchicalBitmap bitmap = new HierarchicalBitmap(BLOCK_BITS);
            bitmap.setRange(0, BLOCK_BITS);
            bitmap.clear(offset);
            fullBlocks.clear(key);
            store(key, bitmap);
            cardinality--;
            return true;
        }
        if (c instanceof char[] array) {
            int count = array[0];
            int at = Arrays.binarySearch(array, 1, count + 1, (char) offset);
            if (at < 0) {
                return false;
            }
            cardinality--;
            if (count == 1) {
                store(key, null);
                return true;
            }
            int capacityNow = array.length - 1;
            char[] target = array;
            if (count - 1 <= capacityNow / 4) {
                target = new char[capacityNow / 2 + 1]; // shrink, so memory follows what is set
                System.arraycopy(array, 0, target, 0, at);
            }
            System.arraycopy(array, at + 1, target, at, count - at);
            target[0] = (char) (count - 1);
            if (target != array) {
                store(key, target);
            }
            return true;
        }
        HierarchicalBitmap bitmap = (HierarchicalBitmap) c;
        if (!bitmap.clear(offset)) {
            return false;
        }
        cardinality--;
        if (bitmap.cardinality() <= arrayMax / 2) {
            store(key, toArray(bitmap));
        }
        return true;
    }

    private static HierarchicalBitmap toBitmap(char[] array) {
        HierarchicalBitmap bitmap = new HierarchicalBitmap(BLOCK_BITS);
        for (int i = 1; i <= array[0]; i++) {
            bitmap.set(array[i]);
        }
        return bitmap;
    }

    private static char[] toArray(HierarchicalBitmap bitmap) {
        int count = (int) bitmap.cardinality();
        char[] array = new char[count + 1];
        array[0] = (char) count;
        int i = 1;
        for (long b = bitmap.nextSet(0, BLOCK_BITS); b < BLOCK_BITS; b = bitmap.nextSet(b + 1, BLOCK_BITS)) {
            array[i++] = (char) b;
        }
        return array;
    }

    @Override
    public long setRange(long from, long to) {
        long flipped = 0;
        long start = from;
        while (start < to) {
            int key = (int) (start >>> BLOCK_SHIFT);
            long blockStart = (long) key << BLOCK_SHIFT;
            long stop = Math.min(to, blockStart + BLOCK_BITS);
            if (fullBlocks.get(key)) {
                start = stop;
                continue;
            }
            Object c = container(key);
            long before = blockCardinality(c);
            if (start == blockStart && stop == blockStart + BLOCK_BITS) {
                store(key, null);
                fullBlocks.set(key);
                flipped += BLOCK_BITS - before;
            } else {
                flipped += setRangeInBlock(key, c, (int) (start - blockStart), (int) (stop - blockStart));
            }
            start = stop;
        }
        cardinality += flipped;
        return flipped;
    }

    /** Sets offsets [from, to) of a block that is not full; returns how many were clear. */
    private long setRangeInBlock(int key, Object c, int from, int to) {
        if (c instanceof char[] array && array[0] + (to - from) <= arrayMax) {
            // merge two sorted runs into a new array: the old offsets and from..to-1
            int count = array[0];
            char[] merged = new char[count + (to - from) + 1];
            int n = 1;
            int i = 1;
            int v = from;
            while (i <= count || v < to) {
                if (v >= to || (i <= count && array[i] < v)) {
                    merged[n++] = array[i++];
                } else {
                    if (i <= count && array[i] == v) {
                        i++;
                    }
                    merged[n++] = (char) v++;
                }
            }
            int newCount = n - 1;
            merged[0] = (char) newCount;
            store(key, newCount + 1 == merged.length ? merged : Arrays.copyOf(merged, newCount + 1));
            return newCount - count;
        }
        if (c == null && to - from <= arrayMax) {
            char[] array = new char[to - from + 1];
            array[0] = (char) (to - from);
            for (int v = from; v < to; v++) {
                array[v - from + 1] = (char) v;
            }
            store(key, array);
            return to - from;
        }
        HierarchicalBitmap bitmap = c == null ? new HierarchicalBitmap(BLOCK_BITS)
                : c instanceof char[] array ? toBitmap(array) : (HierarchicalBitmap) c;
        long flipped = bitmap.setRange(from, to);
        if (bitmap.isFull()) {
            store(key, null);
            fullBlocks.set(key);
        } else if (bitmap.cardinality() <= arrayMax / 2) {
            store(key, toArray(bitmap));
        } else {
            store(key, bitmap);
        }
        return flipped;
    }

    @Override
    public long clearRange(long from, long to) {
        long flipped = 0;
        long start = from;
        while (start < to) {
            int key = (int) (start >>> BLOCK_SHIFT);
            long blockStart = (long) key << BLOCK_SHIFT;
            long stop = Math.min(to, blockStart + BLOCK_BITS);
            boolean whole = start == blockStart && stop == blockStart + BLOCK_BITS;
            if (fullBlocks.get(key)) {
                fullBlocks.clear(key);
                if (whole) {
                    flipped += BLOCK_BITS;
                } else {
                    HierarchicalBitmap bitmap = new HierarchicalBitmap(BLOCK_BITS);
                    bitmap.setRange(0, BLOCK_BITS);
                    flipped += bitmap.clearRange(start - blockStart, stop - blockStart);
                    storeCleared(key, bitmap);
                }
            } else {
                Object c = container(key);
                if (c == null) {
                    start = stop;
                    continue;
                }
                if (whole) {
                    flipped += blockCardinality(c);
                    store(key, null);
                } else if (c instanceof char[] array) {
                    flipped += clearRangeInArray(key, array, (int) (start - blockStart), (int) (stop - blockStart));
                } else {
                    HierarchicalBitmap bitmap = (HierarchicalBitmap) c;
                    flipped += bitmap.clearRange(start - blockStart, stop - blockStart);
                    storeCleared(key, bitmap);
                }
            }
            start = stop;
        }
        cardinality -= flipped;
        return flipped;
    }

    /** Stores a bitmap container after bits were cleared: none left, few (an array) or still many. */
    private void storeCleared(int key, HierarchicalBitmap bitmap) {
        long left = bitmap.cardinality();
        store(key, left == 0 ? null : left <= arrayMax / 2 ? toArray(bitmap) : bitmap);
    }

    /** Drops offsets [from, to) from an array container; returns how many were set. */
    private long clearRangeInArray(int key, char[] array, int from, int to) {
        int count = array[0];
        int lo = Arrays.binarySearch(array, 1, count + 1, (char) from);
        lo = lo >= 0 ? lo : -lo - 1; // first position holding an offset >= from
        int hi = to >= BLOCK_BITS ? count + 1 : Arrays.binarySearch(array, 1, count + 1, (char) to);
        hi = hi >= 0 ? hi : -hi - 1; // first position holding an offset >= to
        int removed = hi - lo;
        if (removed == 0) {
            return 0;
        }
        int left = count - removed;
        if (left == 0) {
            store(key, null);
            return removed;
        }
        char[] kept = new char[left + 1];
        kept[0] = (char) left;
        System.arraycopy(array, 1, kept, 1, lo - 1);
        System.arraycopy(array, hi, kept, lo, count + 1 - hi);
        store(key, kept);
        return removed;
    }

    private static long blockCardinality(Object c) {
        if (c == null) {
            return 0;
        }
        return c instanceof char[] array ? array[0] : ((HierarchicalBitmap) c).cardinality();
    }

    @Override
    public long nextClear(long from) {
        if (from >= capacity) {
            return capacity;
        }
        int key = (int) (from >>> BLOCK_SHIFT);
        int offset = (int) (from & BLOCK_MASK);
        while (true) {
            long next = fullBlocks.nextClear(key);
            if (next >= fullBlocks.capacity()) {
                return capacity;
            }
            if (next != key) {
                key = (int) next;
                offset = 0;
            }
            long base = (long) key << BLOCK_SHIFT;
            long found = nextClearInBlock(container(key), offset);
            if (found < BLOCK_BITS) {
                return base + found;
            }
            key++;
            offset = 0;
        }
    }

    /** The first clear offset at or after {@code offset} in a block that is not full, or {@link #BLOCK_BITS}. */
    private static long nextClearInBlock(Object c, int offset) {
        if (c == null) {
            return offset;
        }
        if (!(c instanceof char[] array)) {
            return ((HierarchicalBitmap) c).nextClear(offset);
        }
        int count = array[0];
        int p = Arrays.binarySearch(array, 1, count + 1, (char) offset);
        if (p < 0) {
            return offset;
        }
        // offset is set: find the end of its run of consecutive offsets. In a sorted array of distinct values,
        // array[j] - j never decreases, and stays equal exactly along such a run.
        int runKey = array[p] - p;
        int lo = p + 1;
        int hi = count + 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (array[mid] - mid > runKey) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return array[lo - 1] + 1; // BLOCK_BITS when the run reaches the end of the block
    }

    @Override
    public long nextSet(long from, long to) {
        long start = from;
        long end = Math.min(to, capacity);
        while (start < end) {
            int key = (int) (start >>> BLOCK_SHIFT);
            long base = (long) key << BLOCK_SHIFT;
            if (fullBlocks.get(key)) {
                return start;
            }
            Object[] leaf = directory[key >>> LEAF_SHIFT];
            if (leaf == null) {
                // no container in this leaf: skip to its next full block, or past it
                long leafEnd = (key | LEAF_MASK) + 1L;
                long full = fullBlocks.nextSet(key, Math.min(leafEnd, fullBlocks.capacity()));
                start = (full < leafEnd ? full : leafEnd) << BLOCK_SHIFT;
                continue;
            }
            Object c = leaf[key & LEAF_MASK];
            long limit = Math.min(BLOCK_BITS, end - base);
            long found = nextSetInBlock(c, (int) (start - base), limit);
            if (found < limit) {
                return base + found;
            }
            start = base + BLOCK_BITS;
        }
        return to;
    }

    /** The first set offset in [from, limit) of a block that is not full, or {@code limit}. */
    private static long nextSetInBlock(Object c, int from, long limit) {
        if (c == null) {
            return limit;
        }
        if (c instanceof char[] array) {
            int count = array[0];
            int p = Arrays.binarySearch(array, 1, count + 1, (char) from);
            int at = p >= 0 ? p : -p - 1;
            return at <= count && array[at] < limit ? array[at] : limit;
        }
        return ((HierarchicalBitmap) c).nextSet(from, limit);
    }

    @Override
    public long retainedBytes() {
        // object, directory array, summary of full blocks; then leaves and containers
        long bytes = 32 + align(16 + 4L * directory.length) + fullBlocks.retainedBytes();
        for (Object[] leaf : directory) {
            if (leaf == null) {
                continue;
            }
            bytes += align(16 + 4L * leaf.length);
            for (Object c : leaf) {
                if (c instanceof char[] array) {
                    bytes += align(16 + 2L * array.length);
                } else if (c != null) {
                    bytes += ((HierarchicalBitmap) c).retainedBytes();
                }
            }
        }
        return bytes;
    }

    private static long align(long bytes) {
        return (bytes + 7) & ~7L;
    }

    @Override
    public void checkInvariants() {
        fullBlocks.checkInvariants();
        long count = fullBlocks.cardinality() * BLOCK_BITS;
        int blocks = (int) (capacity >>> BLOCK_SHIFT);
        for (int key = 0; key < blocks; key++) {
            Object c = container(key);
            if (c == null) {
                continue;
            }
            if (fullBlocks.get(key)) {
                throw new IllegalStateException("block " + key + " is marked full but has a container");
            }
            if (c instanceof char[] array) {
                int n = array[0];
                if (n < 1 || n > arrayMax || n >= array.length) {
                    throw new IllegalStateException("array container of block " + key + " holds " + n
                            + " offsets in " + (array.length - 1) + " places");
                }
                for (int i = 2; i <= n; i++) {
                    if (array[i] <= array[i - 1]) {
                        throw new IllegalStateException("array container of block " + key + " is not increasing"
                                + " at " + i);
                    }
                }
                count += n;
            } else {
                HierarchicalBitmap bitmap = (HierarchicalBitmap) c;
                bitmap.checkInvariants();
                if (bitmap.cardinality() <= arrayMax / 2 || bitmap.isFull()) {
                    throw new IllegalStateException("bitmap container of block " + key + " is kept with "
                            + bitmap.cardinality() + " bits set");
                }
                count += bitmap.cardinality();
            }
        }
        if (count != cardinality) {
            throw new IllegalStateException("cardinality " + cardinality + " but " + count + " bits set");
        }
    }
}
