package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link SubnetPool#occupancy(int)} against the pool's own per-subnet answers: after random occupies, releases and
 * reserved ranges, every cell counts exactly the allocated and reserved subnets of its block, the cells add up to
 * {@link PoolStats}, and the cell size is the capacity over the number of cells. Small pools are checked subnet by
 * subnet, large and sparse ones (up to 2^32 subnets) through the model of what was occupied.
 */
class PoolOccupancyPropertiesTest {

    /** A pool shape: the cluster range and the node prefix length. */
    record Shape(String cluster, int nodePrefix) {
    }

    @Provide
    Arbitrary<Shape> shapes() {
        return Arbitraries.of(new Shape("10.244.0.0/16", 24), new Shape("10.0.0.0/8", 24),
                new Shape("10.244.0.0/24", 24), new Shape("10.244.0.0/20", 28), new Shape("fd00::/48", 64),
                new Shape("fd00::/40", 64), new Shape("fd00::/32", 64));
    }

    @Property(tries = 200)
    void cellsCountWhatTheyCover(@ForAll("shapes") Shape shape, @ForAll @IntRange(min = 1, max = 20) int cellBits,
                                 @ForAll("seeds") List<Long> picks, @ForAll("seeds") List<Long> releases,
                                 @ForAll("seeds") List<Long> reservedStarts,
                                 @ForAll @IntRange(min = 0, max = 12) int reservedBits) {
        SubnetPool pool = SubnetPool.of(Cidr.parse(shape.cluster()), shape.nodePrefix());
        long capacity = pool.capacity();
        TreeSet<Long> allocated = new TreeSet<>();
        for (long p : picks.subList(0, picks.size() / 2)) {
            long i = Math.floorMod(p, capacity);
            pool.occupy(pool.subnet(i));
            allocated.add(i);
        }
        List<long[]> reservedRanges = new ArrayList<>();
        for (long r : reservedStarts.subList(0, Math.min(3, reservedStarts.size()))) {
            long span = Math.min(capacity, 1L << reservedBits);
            long start = Math.floorMod(r, capacity) / span * span; // aligned, as a CIDR's subnets are
            pool.reserve(Cidr.of(pool.subnet(start).address(),
                    shape.nodePrefix() - Long.numberOfTrailingZeros(span)));
            reservedRanges.add(new long[] {start, start + span});
        }
        for (long p : picks.subList(picks.size() / 2, picks.size())) {
            long i = Math.floorMod(p, capacity);
            pool.occupy(pool.subnet(i)); // also inside reserved ranges now
            allocated.add(i);
        }
        for (long r : releases) {
            long i = Math.floorMod(r, capacity);
            pool.release(pool.subnet(i));
            allocated.remove(i);
        }

        PoolOccupancy o = pool.occupancy(1 << cellBits);
        assertEquals(Math.min(capacity, 1L << cellBits), o.cells(), "cells");
        assertEquals(capacity / o.cells(), o.subnetsPerCell(), "subnets per cell");
        assertEquals(pool.stats(), o.stats(), "stats at the same instant");

        long[] expectAllocated = new long[o.cells()];
        long[] expectReserved = new long[o.cells()];
        if (capacity <= 4096) {
            for (long i = 0; i < capacity; i++) {
                Cidr s = pool.subnet(i);
                if (pool.isAllocated(s)) {
                    expectAllocated[o.cellOf(i)]++;
                } else if (pool.isReserved(s)) {
                    expectReserved[o.cellOf(i)]++;
                }
            }
        } else {
            for (long i : allocated) {
                expectAllocated[o.cellOf(i)]++;
            }
            TreeSet<Long> reservedFree = new TreeSet<>();
            for (long[] r : reservedRanges) {
                for (long i = r[0]; i < r[1]; i++) {
                    if (!allocated.contains(i)) {
                        reservedFree.add(i);
                    }
                }
            }
            for (long i : reservedFree) {
                expectReserved[o.cellOf(i)]++;
            }
        }
        long sumAllocated = 0;
        long sumReserved = 0;
        for (int c = 0; c < o.cells(); c++) {
            assertEquals(expectAllocated[c], o.allocated(c), "allocated in cell " + c);
            assertEquals(expectReserved[c], o.reserved(c), "reserved in cell " + c);
            assertTrue(o.free(c) >= 0, "free in cell " + c);
            sumAllocated += o.allocated(c);
            sumReserved += o.reserved(c);
        }
        assertEquals(pool.stats().allocated(), sumAllocated, "allocated over all cells");
        assertEquals(pool.stats().reserved(), sumReserved, "reserved over all cells");
    }

    /**
     * A pool of 2^32 subnets ({@code fd00::/32} cut into /64) whose reserved spans reach up to the whole pool: a cell
     * then covers up to 2^31 subnets, and its counts must neither overflow nor saturate in the long accessors.
     */
    @Property(tries = 30)
    void countsOfHugeCellsDoNotOverflow(@ForAll @IntRange(min = 1, max = 20) int cellBits,
                                        @ForAll("seeds") List<Long> reservedStarts,
                                        @ForAll("spanBits") List<Integer> reservedBits,
                                        @ForAll("seeds") List<Long> picks) {
        SubnetPool pool = SubnetPool.of(Cidr.parse("fd00::/32"), 64);
        long capacity = pool.capacity();
        assertEquals(1L << 32, capacity);
        List<long[]> ranges = new ArrayList<>();
        for (int k = 0; k < Math.min(reservedStarts.size(), reservedBits.size()) && k < 3; k++) {
            long span = 1L << reservedBits.get(k);
            long start = Math.floorMod(reservedStarts.get(k), capacity) / span * span;
            pool.reserve(Cidr.of(pool.subnet(start).address(), 64 - reservedBits.get(k)));
            ranges.add(new long[] {start, start + span});
        }
        TreeSet<Long> allocated = new TreeSet<>();
        for (long p : picks) {
            long i = Math.floorMod(p, capacity);
            pool.occupy(pool.subnet(i));
            allocated.add(i);
        }
        PoolOccupancy o = pool.occupancy(1 << cellBits);
        long perCell = o.subnetsPerCell();
        long sumAllocated = 0;
        long sumReserved = 0;
        for (int c = 0; c < o.cells(); c++) {
            long cellStart = c * perCell;
            long cellEnd = cellStart + perCell;
            long reservedHere = 0;
            for (long i = cellStart; i < cellEnd; ) { // walk the union of the ranges inside the cell
                long next = cellEnd;
                boolean inRange = false;
                for (long[] r : ranges) {
                    if (r[0] <= i && i < r[1]) {
                        inRange = true;
                        next = Math.min(next, r[1]);
                    } else if (r[0] > i) {
                        next = Math.min(next, r[0]);
                    }
                }
                if (inRange) {
                    reservedHere += next - i;
                }
                i = next;
            }
            long allocatedHere = allocated.subSet(cellStart, cellEnd).size();
            for (long i : allocated.subSet(cellStart, cellEnd)) {
                final long at = i;
                if (ranges.stream().anyMatch(r -> r[0] <= at && at < r[1])) {
                    reservedHere--; // allocated inside a reserved range counts as allocated only
                }
            }
            assertEquals(allocatedHere, o.allocatedCount(c), "allocated in cell " + c);
            assertEquals(reservedHere, o.reservedCount(c), "reserved in cell " + c);
            assertEquals(perCell - allocatedHere - reservedHere, o.free(c), "free in cell " + c);
            assertTrue(o.free(c) >= 0 && o.reservedCount(c) >= 0, "no negative count in cell " + c);
            assertEquals((int) Math.min(reservedHere, Integer.MAX_VALUE), o.reserved(c), "int view saturates");
            sumAllocated += o.allocatedCount(c);
            sumReserved += o.reservedCount(c);
        }
        assertEquals(pool.stats().allocated(), sumAllocated, "allocated over all cells");
        assertEquals(pool.stats().reserved(), sumReserved, "reserved over all cells");
        assertEquals(capacity, sumAllocated + sumReserved + pool.stats().free(), "the pool adds up");
    }

    @Provide
    Arbitrary<List<Integer>> spanBits() {
        // Spans from one subnet to the whole pool, the large ones (2^31, 2^32) often.
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 32)),
                net.jqwik.api.Tuple.of(2, Arbitraries.of(30, 31, 32)))
                .list().ofMinSize(1).ofMaxSize(3);
    }

    @Example
    void halfOfAHugePoolReservedIsCountedInFull() {
        SubnetPool pool = SubnetPool.of(Cidr.parse("fd00::/32"), 64);
        pool.reserve(Cidr.parse("fd00::/33"));
        PoolOccupancy o = pool.occupancy(2);
        assertEquals(1L << 31, o.subnetsPerCell());
        assertEquals(1L << 31, o.reservedCount(0));
        assertEquals(Integer.MAX_VALUE, o.reserved(0), "the int view saturates");
        assertEquals(0, o.free(0));
        assertEquals(1L << 31, o.free(1));
    }

    @Provide
    Arbitrary<List<Long>> seeds() {
        return Arbitraries.longs().between(0, Long.MAX_VALUE / 2).list().ofMaxSize(40);
    }

    @Property(tries = 50)
    void firstSubnetOfACellIsTheSubnetAtItsStart(@ForAll("shapes") Shape shape,
                                                 @ForAll @IntRange(min = 1, max = 20) int cellBits,
                                                 @ForAll @IntRange(min = 0) int pick) {
        SubnetPool pool = SubnetPool.of(Cidr.parse(shape.cluster()), shape.nodePrefix());
        PoolOccupancy o = pool.occupancy(1 << cellBits);
        int cell = Math.floorMod(pick, o.cells());
        assertEquals(pool.subnet(cell * o.subnetsPerCell()), o.firstSubnet(cell));
        assertEquals(cell, o.cellOf(pool.indexOf(o.firstSubnet(cell))));
    }

    @Example
    void rejectsCellLimitsOutOfRange() {
        SubnetPool pool = SubnetPool.of(Cidr.parse("10.244.0.0/16"), 24);
        assertThrows(IllegalArgumentException.class, () -> pool.occupancy(1));
        assertThrows(IllegalArgumentException.class, () -> pool.occupancy(SubnetPool.MAX_OCCUPANCY_CELLS + 1));
        assertEquals(128, pool.occupancy(200).cells(), "rounded down to a power of two");
    }

    @Example
    void nodeIpamPicturesEveryPoolInOrder() {
        NodeIpam ipam = NodeIpam.builder().addPool(Cidr.parse("10.244.0.0/24"), 26)
                .addPool(Cidr.parse("fd00::/48"), 64).reserve(Cidr.parse("10.244.0.192/26")).build();
        ipam.assign("a");
        ipam.assign("b");
        List<PoolOccupancy> all = ipam.occupancy(65_536);
        assertEquals(2, all.size());
        assertEquals(4, all.get(0).cells());
        assertEquals(List.of(1, 1, 0, 0), List.of(all.get(0).allocated(0), all.get(0).allocated(1),
                all.get(0).allocated(2), all.get(0).allocated(3)));
        assertEquals(1, all.get(0).reserved(3));
        assertEquals(65_536, all.get(1).cells());
        assertEquals(1, all.get(1).subnetsPerCell(), "2^16 subnets: one cell each");
        assertEquals(1, all.get(1).allocated(0));
        assertEquals(1, all.get(1).allocated(1));
        assertEquals(1, ipam.occupancy(256).get(1).subnetsPerCell() / 256, "summarised: blocks of 256 subnets");
        assertEquals(2, ipam.occupancy(256).get(1).allocated(0), "both /64s in the first block");
        assertEquals(ipam.stats(), all.stream().map(PoolOccupancy::stats).toList());
    }
}
