package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Both occupancy indexes against {@link BitSet} as the model: random sequences of set, clear, setRange, clearRange and
 * nextClear,
 * with the summary invariants recounted after every operation.
 */
class OccupancyIndexPropertiesTest {

    /** One operation: kind 0 set, 1 clear, 2 setRange, 3 nextClear(index), 4 clearRange(index, index + length). */
    record Op(int kind, long index, long length) {
    }

    private static Arbitrary<Op> ops(long capacity, List<Long> hotSpots) {
        Arbitrary<Long> anywhere = Arbitraries.longs().between(0, capacity - 1);
        Arbitrary<Long> near = Arbitraries.of(hotSpots).flatMap(h -> Arbitraries.longs()
                .between(Math.max(0, h - 70), Math.min(capacity - 1, h + 70)));
        Arbitrary<Long> index = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, anywhere), net.jqwik.api.Tuple.of(4, near));
        Arbitrary<Long> length = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(1, 200)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 140_000)));
        return Combinators.combine(Arbitraries.integers().between(0, 4), index, length).as(Op::new);
    }

    private static void run(OccupancyIndex index, List<Op> ops) {
        int capacity = (int) index.capacity();
        BitSet model = new BitSet(capacity);
        for (Op op : ops) {
            long i = op.index();
            switch (op.kind()) {
                case 0 -> {
                    assertEquals(!model.get((int) i), index.set(i), () -> "set " + i);
                    model.set((int) i);
                }
                case 1 -> {
                    assertEquals(model.get((int) i), index.clear(i), () -> "clear " + i);
                    model.clear((int) i);
                }
                case 2 -> {
                    int to = (int) Math.min(capacity, i + op.length());
                    int before = model.cardinality();
                    model.set((int) i, to);
                    assertEquals(model.cardinality() - before, index.setRange(i, to), () -> "setRange " + i);
                }
                case 4 -> {
                    int to = (int) Math.min(capacity, i + op.length());
                    int before = model.cardinality();
                    model.clear((int) i, to);
                    assertEquals(before - model.cardinality(), index.clearRange(i, to), () -> "clearRange " + i);
                }
                default -> {
                    int expected = model.nextClearBit((int) i);
                    assertEquals(Math.min(expected, capacity), index.nextClear(i), () -> "nextClear " + i);
                    int expectedSet = model.nextSetBit((int) i);
                    long to = Math.min(capacity, i + op.length());
                    assertEquals(expectedSet < 0 || expectedSet >= to ? to : expectedSet, index.nextSet(i, to),
                            () -> "nextSet " + i);
                }
            }
            index.checkInvariants();
            assertEquals(model.cardinality(), index.cardinality());
        }
        // every position the model can tell apart
        for (int i = model.nextSetBit(0); i >= 0; i = model.nextSetBit(i + 1)) {
            assertEquals(true, index.get(i));
        }
        assertEquals(model.nextClearBit(0) >= capacity ? capacity : model.nextClearBit(0), index.nextClear(0));
    }

    @Provide
    Arbitrary<List<Op>> smallOps() {
        return ops(200, List.of(0L, 63L, 64L, 128L, 199L)).list().ofMaxSize(300);
    }

    @Property(tries = 300)
    void denseBitmapsOfAnySizeMatchTheModel(@ForAll @IntRange(min = 1, max = 200) int size,
                                            @ForAll("smallOps") List<Op> ops) {
        List<Op> inRange = ops.stream().map(o -> new Op(o.kind(), o.index() % size, o.length())).toList();
        run(new HierarchicalBitmap(size), inRange);
    }

    @Provide
    Arbitrary<List<Op>> multiLevelOps() {
        long capacity = 1 << 20;
        return ops(capacity, List.of(0L, 4095L, 4096L, 262_143L, 262_144L, capacity - 1)).list().ofMaxSize(200);
    }

    @Property(tries = 40)
    void aFourLevelDenseBitmapMatchesTheModel(@ForAll("multiLevelOps") List<Op> ops) {
        run(new HierarchicalBitmap(1 << 20), ops);
    }

    @Provide
    Arbitrary<List<Op>> sparseOps() {
        long capacity = 1L << 25;
        long block = SparseBitmap.BLOCK_BITS;
        return ops(capacity, List.of(0L, block - 1, block, 3 * block, capacity - block, capacity - 1))
                .list().ofMaxSize(200);
    }

    @Property(tries = 40)
    void theSparseBitmapMatchesTheModel(@ForAll("sparseOps") List<Op> ops) {
        run(new SparseBitmap(1L << 25), ops);
    }

    @Provide
    Arbitrary<List<Op>> containerOps() {
        long capacity = 4L * SparseBitmap.BLOCK_BITS;
        long block = SparseBitmap.BLOCK_BITS;
        return Combinators.combine(Arbitraries.integers().between(0, 4),
                        Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, Arbitraries.longs().between(0, 40)),
                                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(0, block - 1))),
                        Arbitraries.of(0L, block - 30, block, 2 * block + 1000, capacity - 30),
                        Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(1, 12)),
                                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(1, 3 * block))))
                .as((kind, offset, spot, length) -> new Op(kind == 2 && length > 12 && offset % 3 != 0 ? 0 : kind,
                        Math.min(capacity - 1, spot + offset), length))
                .list().ofMaxSize(500);
    }

    /**
     * A threshold of 8 offsets makes array containers turn into bitmaps and back after a few operations, so every
     * conversion path (set past the threshold, clear down to half of it, ranges merged into arrays, a full block
     * cleared, a run of offsets up to the end of a block) is crossed many times.
     */
    @Property(tries = 200)
    void theSparseBitmapWithATinyArrayThresholdMatchesTheModel(@ForAll("containerOps") List<Op> ops) {
        run(new SparseBitmap(4L * SparseBitmap.BLOCK_BITS, 8), ops);
    }

    @Test
    void anArrayContainerFindsTheEndOfARunAndTheEndOfTheBlock() {
        SparseBitmap b = new SparseBitmap(2L * SparseBitmap.BLOCK_BITS);
        for (long i = 10; i < 3000; i++) {
            b.set(i);
        }
        b.set(3001);
        b.checkInvariants();
        assertEquals(0, b.nextClear(0));
        assertEquals(3000, b.nextClear(10));
        assertEquals(3000, b.nextClear(2999));
        assertEquals(3002, b.nextClear(3001));
        for (long i = SparseBitmap.BLOCK_BITS - 5; i < SparseBitmap.BLOCK_BITS; i++) {
            b.set(i);
        }
        assertEquals(SparseBitmap.BLOCK_BITS, b.nextClear(SparseBitmap.BLOCK_BITS - 5), "into the next block");
        assertEquals(10, b.nextSet(0, 100));
        assertEquals(SparseBitmap.BLOCK_BITS - 5, b.nextSet(3002, 2L * SparseBitmap.BLOCK_BITS));
        assertEquals(2L * SparseBitmap.BLOCK_BITS, b.nextSet(SparseBitmap.BLOCK_BITS, 2L * SparseBitmap.BLOCK_BITS));
    }

    @Test
    void aBlockFilledOneByOneBecomesABitmapThenFullAndComesBackWhenEmptied() {
        SparseBitmap b = new SparseBitmap(1L << 32);
        long base = 5L * SparseBitmap.BLOCK_BITS;
        long sparse = b.retainedBytes();
        for (long i = 0; i < SparseBitmap.BLOCK_BITS; i++) {
            assertEquals(base + i, b.nextClear(base));
            b.set(base + i);
            if (i == SparseBitmap.ARRAY_MAX - 1 || i == SparseBitmap.ARRAY_MAX || i == SparseBitmap.BLOCK_BITS - 1) {
                b.checkInvariants();
            }
        }
        assertEquals(base + SparseBitmap.BLOCK_BITS, b.nextClear(base));
        long full = b.retainedBytes();
        assertTrue(full <= sparse + 1100, () -> full + " bytes: a full block is a summary bit (and a directory leaf"
                + " of 1 KiB), no container");
        for (long i = SparseBitmap.BLOCK_BITS - 1; i >= 0; i--) {
            b.clear(base + i);
            if (i == SparseBitmap.ARRAY_MAX / 2 || i == SparseBitmap.ARRAY_MAX / 2 - 1 || i == 1) {
                b.checkInvariants();
            }
        }
        assertEquals(0, b.cardinality());
        b.checkInvariants();
        assertTrue(b.retainedBytes() <= sparse + 1100, () -> b.retainedBytes() + " bytes after emptying");
    }

    /** The case of the issue: one subnet in each of the 65,536 blocks of fd00::/32 cut into /64 (529 MiB before). */
    @Test
    void sixtyFiveThousandScatteredBitsOfA2To32IndexCostAtMostTwoMebibytes() {
        SparseBitmap b = new SparseBitmap(1L << 32);
        for (long block = 0; block < 65_536; block++) {
            b.set(block << SparseBitmap.BLOCK_SHIFT | ((block * 7919) & 0xFFFF));
        }
        b.checkInvariants();
        long bytes = b.retainedBytes();
        assertTrue(bytes <= 2L << 20, () -> bytes + " bytes");
        java.util.Random random = new java.util.Random(20261202);
        SparseBitmap r = new SparseBitmap(1L << 32);
        for (int i = 0; i < 65_536; i++) {
            r.set(random.nextLong() >>> 32);
        }
        long randomBytes = r.retainedBytes();
        assertTrue(randomBytes <= 2L << 20, () -> randomBytes + " bytes for random bits");
    }

    @Test
    void aFullDenseBitmapHasNoClearBitAndFreesOneAtATime() {
        HierarchicalBitmap b = new HierarchicalBitmap(1 << 18);
        assertEquals(1 << 18, b.setRange(0, 1 << 18));
        assertEquals(1 << 18, b.nextClear(0));
        b.clear(200_000);
        b.checkInvariants();
        assertEquals(200_000, b.nextClear(0));
        assertEquals(1 << 18, b.nextClear(200_001));
    }

    @Test
    void aFullSparseBlockIsRebuiltWhenOneBitIsCleared() {
        SparseBitmap b = new SparseBitmap(1L << 32);
        long blockStart = 7L * SparseBitmap.BLOCK_BITS;
        assertEquals(SparseBitmap.BLOCK_BITS, b.setRange(blockStart, blockStart + SparseBitmap.BLOCK_BITS));
        assertEquals(true, b.get(blockStart + 5));
        assertEquals(true, b.clear(blockStart + 5));
        b.checkInvariants();
        assertEquals(blockStart + 5, b.nextClear(blockStart));
        assertEquals(SparseBitmap.BLOCK_BITS - 1, b.cardinality());
        assertEquals(true, b.set(blockStart + 5));
        b.checkInvariants();
        assertEquals(blockStart + SparseBitmap.BLOCK_BITS, b.nextClear(blockStart));
    }

    @Test
    void anEmptyHugeSparseBitmapCostsKilobytes() {
        SparseBitmap b = new SparseBitmap(1L << 32);
        assertEquals(0, b.nextClear(0));
        long bytes = b.retainedBytes();
        org.junit.jupiter.api.Assertions.assertTrue(bytes < 16 * 1024, () -> bytes + " bytes");
    }
}
