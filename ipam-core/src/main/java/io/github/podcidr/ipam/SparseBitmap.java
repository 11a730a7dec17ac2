package io.github.podcidr.ipam;

import java.util.HashMap;
import java.util.Map;

/**
 * A bitmap for pools too large for one dense bitmap (up to 2^32 subnets, such as an IPv6 /32 cut into /64s). The
 * index space is cut into blocks of {@link #BLOCK_BITS} bits; a block exists only while it is partly set. A dense
 * {@link HierarchicalBitmap} over the blocks marks the full ones. So an absent block is all clear unless its summary
 * bit says full, and memory grows with what is set, not with the pool: an empty 2^32 pool costs about 8 KiB.
 *
 * @implNote {@link #nextClear(long)} asks the summary for the first non-full block (O(log64 blocks)) and searches at
 *     most two blocks; a block that is partly set always has a clear bit at or after offset 0. {@link #set(long)}
 *     and {@link #clear(long)} are one hash look-up plus O(log64) word operations; a block that fills up or empties
 *     is dropped. {@link #setRange(long, long)} marks whole blocks full without creating them.
 */
final class SparseBitmap implements OccupancyIndex {
    /** log2 of the bits per block: 2^16 bits are 8 KiB, small enough to create on demand. */
    static final int BLOCK_SHIFT = 16;
    /** Bits per block. */
    static final int BLOCK_BITS = 1 << BLOCK_SHIFT;
    private static final int BLOCK_MASK = BLOCK_BITS - 1;

    private final long capacity;
    /** Bit b set: block b is full (and absent from {@link #blocks}). */
    private final HierarchicalBitmap fullBlocks;
    /** Blocks that are partly set; never empty, never full. */
    private final Map<Integer, HierarchicalBitmap> blocks = new HashMap<>();
    private long cardinality;
    /** The block used last, to spare the hash look-up while filling one block. */
    private int lastKey = -1;
    private HierarchicalBitmap lastBlock;

    SparseBitmap(long capacity) {
        if (capacity <= DENSE_LIMIT || capacity > (1L << 32) || (capacity & BLOCK_MASK) != 0) {
            throw new IllegalArgumentException("sparse bitmap capacity must be a multiple of " + BLOCK_BITS
                    + " above " + DENSE_LIMIT + " and at most 2^32: " + capacity);
        }
        this.capacity = capacity;
        this.fullBlocks = new HierarchicalBitmap((int) (capacity >>> BLOCK_SHIFT));
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public long cardinality() {
        return cardinality;
    }

    private HierarchicalBitmap block(int key) {
        if (key == lastKey) {
            return lastBlock;
        }
        HierarchicalBitmap block = blocks.get(key);
        if (block != null) {
            lastKey = key;
            lastBlock = block;
        }
        return block;
    }

    private void drop(int key) {
        blocks.remove(key);
        if (key == lastKey) {
            lastKey = -1;
            lastBlock = null;
        }
    }

    @Override
    public boolean get(long index) {
        int key = (int) (index >>> BLOCK_SHIFT);
        HierarchicalBitmap block = block(key);
        return block != null ? block.get(index & BLOCK_MASK) : fullBlocks.get(key);
    }

    @Override
    public boolean set(long index) {
        int key = (int) (index >>> BLOCK_SHIFT);
        HierarchicalBitmap block = block(key);
        if (block == null) {
            if (fullBlocks.get(key)) {
                return false;
            }
            block = new HierarchicalBitmap(BLOCK_BITS);
            blocks.put(key, block);
            lastKey = key;
            lastBlock = block;
        }
        if (!block.set(index & BLOCK_MASK)) {
            return false;
        }
        cardinality++;
        if (block.isFull()) {
            drop(key);
            fullBlocks.set(key);
        }
        return true;
    }

    @Override
    public boolean clear(long index) {
        int key = (int) (index >>> BLOCK_SHIFT);
        HierarchicalBitmap block = block(key);
        if (block == null) {
            if (!fullBlocks.get(key)) {
                return false;
            }
            block = new HierarchicalBitmap(BLOCK_BITS);
            block.setRange(0, BLOCK_BITS);
            fullBlocks.clear(key);
            blocks.put(key, block);
        }
        if (!block.clear(index & BLOCK_MASK)) {
            return false;
        }
        cardinality--;
        if (block.cardinality() == 0) {
            drop(key);
        }
        return true;
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
            HierarchicalBitmap block = block(key);
            if (start == blockStart && stop == blockStart + BLOCK_BITS) {
                flipped += BLOCK_BITS - (block == null ? 0 : block.cardinality());
                if (block != null) {
                    drop(key);
                }
                fullBlocks.set(key);
            } else {
                if (block == null) {
                    block = new HierarchicalBitmap(BLOCK_BITS);
                    blocks.put(key, block);
                }
                flipped += block.setRange(start - blockStart, stop - blockStart);
                if (block.isFull()) {
                    drop(key);
                    fullBlocks.set(key);
                }
            }
            start = stop;
        }
        cardinality += flipped;
        return flipped;
    }

    @Override
    public long nextClear(long from) {
        if (from >= capacity) {
            return capacity;
        }
        int key = (int) (from >>> BLOCK_SHIFT);
        long offset = from & BLOCK_MASK;
        while (true) {
            long next = fullBlocks.nextClear(key);
            if (next >= fullBlocks.capacity()) {
                return capacity;
            }
            if (next != key) {
                key = (int) next;
                offset = 0;
            }
            HierarchicalBitmap block = block(key);
            long base = (long) key << BLOCK_SHIFT;
            if (block == null) {
                return base + offset;
            }
            long found = block.nextClear(offset);
            if (found < BLOCK_BITS) {
                return base + found;
            }
            key++;
            offset = 0;
        }
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
            HierarchicalBitmap block = block(key);
            if (block != null) {
                long found = block.nextSet(start - base, Math.min(BLOCK_BITS, end - base));
                if (found < Math.min(BLOCK_BITS, end - base)) {
                    return base + found;
                }
            }
            start = base + BLOCK_BITS;
        }
        return to;
    }

    @Override
    public long retainedBytes() {
        // map entry with boxed key (~48 bytes) per block, plus the table
        long bytes = 64 + fullBlocks.retainedBytes() + 16 + 4L * Math.max(16, blocks.size() * 2);
        for (HierarchicalBitmap block : blocks.values()) {
            bytes += 48 + block.retainedBytes();
        }
        return bytes;
    }

    @Override
    public void checkInvariants() {
        fullBlocks.checkInvariants();
        long count = fullBlocks.cardinality() * BLOCK_BITS;
        for (Map.Entry<Integer, HierarchicalBitmap> e : blocks.entrySet()) {
            HierarchicalBitmap block = e.getValue();
            block.checkInvariants();
            if (fullBlocks.get(e.getKey())) {
                throw new IllegalStateException("block " + e.getKey() + " is marked full but present");
            }
            if (block.cardinality() == 0 || block.isFull()) {
                throw new IllegalStateException("block " + e.getKey() + " is kept with " + block.cardinality()
                        + " bits set");
            }
            count += block.cardinality();
        }
        if (count != cardinality) {
            throw new IllegalStateException("cardinality " + cardinality + " but " + count + " bits set");
        }
    }
}
