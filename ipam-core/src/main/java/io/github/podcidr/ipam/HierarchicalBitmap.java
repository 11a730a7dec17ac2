package io.github.podcidr.ipam;

import java.util.Arrays;

/**
 * A dense bitmap with summary levels: bit {@code j} of level {@code k+1} is set exactly when word {@code j} of level
 * {@code k} is full (all 64 bits set). Finding the next clear bit skips full words through the summaries.
 *
 * <p>Padding: bits past the logical size in the last word of every level are kept set, so that a partly used last
 * word can still become "full" and a search never returns an index past the end.
 *
 * @implNote {@link #nextClear(long)} reads at most two words per level (one going up, one coming down), so it is
 *     O(log64 n) word operations whatever the fill or fragmentation: 4 levels for 2^24 bits. {@link #set(long)} and
 *     {@link #clear(long)} touch one word per level at most. Memory is n/64 words plus about 1/63 of that.
 */
final class HierarchicalBitmap implements OccupancyIndex {
    /** levels[0] holds the bits; levels[k + 1] summarises which words of levels[k] are full; the last has one word. */
    private final long[][] levels;
    /** Number of logical bits. */
    private final int size;
    /** Number of set logical bits (padding excluded). */
    private int cardinality;

    HierarchicalBitmap(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive: " + size);
        }
        this.size = size;
        int depth = 1;
        for (long words = wordsFor(size); words > 1; words = wordsFor(words)) {
            depth++;
        }
        levels = new long[depth][];
        long bits = size;
        for (int k = 0; k < depth; k++) {
            int words = (int) wordsFor(bits);
            long[] level = new long[words];
            int used = (int) (bits & 63);
            if (used != 0) {
                level[words - 1] = -1L << used; // padding bits past the end are "set"
            }
            levels[k] = level;
            bits = words;
        }
    }

    private static long wordsFor(long bits) {
        return (bits + 63) >>> 6;
    }

    @Override
    public long capacity() {
        return size;
    }

    @Override
    public long cardinality() {
        return cardinality;
    }

    /** True if no bit can be set any more. */
    boolean isFull() {
        return cardinality == size;
    }

    @Override
    public boolean get(long index) {
        int i = (int) index;
        return (levels[0][i >>> 6] & (1L << i)) != 0; // Java masks the shift distance to 6 bits
    }

    @Override
    public boolean set(long index) {
        int i = (int) index;
        long[] words = levels[0];
        int w = i >>> 6;
        long old = words[w];
        long now = old | (1L << i);
        if (now == old) {
            return false;
        }
        words[w] = now;
        cardinality++;
        if (now == -1L) {
            markFull(1, w);
        }
        return true;
    }

    @Override
    public boolean clear(long index) {
        int i = (int) index;
        long[] words = levels[0];
        int w = i >>> 6;
        long old = words[w];
        long now = old & ~(1L << i);
        if (now == old) {
            return false;
        }
        words[w] = now;
        cardinality--;
        if (old == -1L) {
            markNotFull(1, w);
        }
        return true;
    }

    /** Records in level {@code k} that word {@code child} of level {@code k - 1} became full. */
    private void markFull(int k, int child) {
        for (; k < levels.length; k++) {
            long[] words = levels[k];
            int w = child >>> 6;
            long now = words[w] | (1L << child);
            words[w] = now;
            if (now != -1L) {
                return;
            }
            child = w;
        }
    }

    /** Records in level {@code k} that word {@code child} of level {@code k - 1} is no longer full. */
    private void markNotFull(int k, int child) {
        for (; k < levels.length; k++) {
            long[] words = levels[k];
            int w = child >>> 6;
            long old = words[w];
            words[w] = old & ~(1L << child);
            if (old != -1L) {
                return;
            }
            child = w;
        }
    }

    @Override
    public long setRange(long from, long to) {
        long flipped = 0;
        int start = (int) from;
        int end = (int) to;
        long[] words = levels[0];
        while (start < end) {
            int w = start >>> 6;
            int stop = Math.min(end, (w + 1) << 6);
            // mask of bits [start & 63, stop - w*64) in word w; the second shift is 64 - count, done as >>> on -1L
            int count = stop - start;
            long mask = (-1L >>> (64 - count)) << (start & 63);
            long old = words[w];
            long now = old | mask;
            if (now != old) {
                words[w] = now;
                flipped += Long.bitCount(now ^ old);
                if (now == -1L) {
                    markFull(1, w);
                }
            }
            start = stop;
        }
        cardinality += (int) flipped;
        return flipped;
    }

    @Override
    public long clearRange(long from, long to) {
        long flipped = 0;
        int start = (int) from;
        int end = (int) to;
        long[] words = levels[0];
        while (start < end) {
            int w = start >>> 6;
            int stop = Math.min(end, (w + 1) << 6);
            int count = stop - start;
            long mask = (-1L >>> (64 - count)) << (start & 63); // as in setRange
            long old = words[w];
            long now = old & ~mask;
            if (now != old) {
                words[w] = now;
                flipped += Long.bitCount(now ^ old);
                if (old == -1L) {
                    markNotFull(1, w);
                }
            }
            start = stop;
        }
        cardinality -= (int) flipped;
        return flipped;
    }

    @Override
    public long nextClear(long from) {
        if (from >= size) {
            return size;
        }
        int index = (int) from;
        int k = 0;
        // Go up until a word has a clear bit at or after the position; each level up moves to the next word.
        while (true) {
            long[] words = levels[k];
            int w = index >>> 6;
            if (w >= words.length) {
                return size;
            }
            long clear = ~words[w] & (-1L << index); // -1L << index keeps bits at or above index & 63
            if (clear != 0) {
                index = (w << 6) + Long.numberOfTrailingZeros(clear);
                break;
            }
            if (k == levels.length - 1) {
                return size;
            }
            k++;
            index = w + 1;
        }
        // Come down: a clear summary bit promises a word with a clear bit below it.
        while (k > 0) {
            k--;
            index = (index << 6) + Long.numberOfTrailingZeros(~levels[k][index]);
        }
        return index < size ? index : size;
    }

    @Override
    public long nextSet(long from, long to) {
        long end = Math.min(to, size);
        long[] words = levels[0];
        for (long i = from; i < end; ) {
            int w = (int) (i >>> 6);
            long set = words[w] & (-1L << i); // the shift distance is taken mod 64: bits at or above i & 63
            if (set != 0) {
                long found = ((long) w << 6) + Long.numberOfTrailingZeros(set);
                return found < end ? found : to;
            }
            i = (long) (w + 1) << 6;
        }
        return to;
    }

    @Override
    public long retainedBytes() {
        long bytes = 16 + 16 + 4L * levels.length; // object, levels array
        for (long[] level : levels) {
            bytes += 16 + 8L * level.length;
        }
        return bytes;
    }

    @Override
    public void checkInvariants() {
        long[] bits = levels[0];
        long count = 0;
        for (long word : bits) {
            count += Long.bitCount(word);
        }
        int padding = (int) (((long) bits.length << 6) - size);
        if (count - padding != cardinality) {
            throw new IllegalStateException("cardinality " + cardinality + " but " + (count - padding) + " bits set");
        }
        for (int k = 1; k < levels.length; k++) {
            long[] below = levels[k - 1];
            long[] level = levels[k];
            for (int j = 0; j < ((long) level.length << 6); j++) {
                boolean summary = (level[j >>> 6] & (1L << j)) != 0;
                boolean full = j >= below.length || below[j] == -1L;
                if (summary != full) {
                    throw new IllegalStateException("level " + k + " bit " + j + " is " + summary
                            + " but the word below is " + (full ? "full" : "not full"));
                }
            }
        }
        if (levels[levels.length - 1].length != 1) {
            throw new IllegalStateException("top level has " + levels[levels.length - 1].length + " words");
        }
    }

    @Override
    public String toString() {
        return "HierarchicalBitmap[size=" + size + ", set=" + cardinality + ", levels=" + levels.length
                + ", top=" + Arrays.toString(levels[levels.length - 1]) + "]";
    }
}
