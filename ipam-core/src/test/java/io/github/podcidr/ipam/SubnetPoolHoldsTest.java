package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * A pool's held ranges (what {@link NodeIpam} holds for pod CIDRs wider than a node subnet) against a model of plain
 * sets: random holds (overlapping), unholds, reserves, unreserves, occupies, releases and allocations, on a dense pool
 * (every index compared) and on a 2^32-subnet sparse one (counts, allocations and the indices near block ends):
 * <ul>
 *   <li>allocated = occupied, plus held and neither reserved nor occupied; reserved = reserved and not occupied;</li>
 *   <li>nothing is handed out that a live hold, a reserved range or an occupation covers;</li>
 *   <li>an unhold frees exactly what no other hold, reserved range or occupation covers;</li>
 *   <li>{@code unreserve} frees exactly the reserved subnets that nothing else covers.</li>
 * </ul>
 */
class SubnetPoolHoldsTest {

    /** kind: 0 hold, 1 unhold (the n-th live hold), 2 reserve, 3 unreserve, 4 occupy, 5 release, 6 allocate. */
    record Op(int kind, long at, int bits) {
    }

    private static final class Model {
        final long window;
        final BitSet reserved = new BitSet();
        final BitSet occupied = new BitSet();
        final List<long[]> holds = new ArrayList<>();

        Model(long window) {
            this.window = window;
        }

        boolean held(long i) {
            for (long[] h : holds) {
                if (i >= h[0] && i < h[1]) {
                    return true;
                }
            }
            return false;
        }

        boolean free(long i) {
            return !reserved.get((int) i) && !occupied.get((int) i) && !held(i);
        }

        BitSet heldUnion() {
            BitSet h = new BitSet();
            holds.forEach(s -> h.set((int) s[0], (int) s[1]));
            return h;
        }

        long free() {
            BitSet taken = heldUnion();
            taken.or(reserved);
            taken.or(occupied);
            return window - taken.cardinality();
        }

        long allocated() {
            long n = occupied.cardinality();
            BitSet h = heldUnion();
            h.andNot(reserved);
            h.andNot(occupied);
            return n + h.cardinality();
        }

        long reservedOnly() {
            BitSet r = (BitSet) reserved.clone();
            r.andNot(occupied);
            return r.cardinality();
        }
    }

    private static void run(SubnetPool pool, long window, List<Op> ops, boolean everyIndex) {
        Model m = new Model(window);
        long capacity = pool.capacity();
        long outside = capacity - window; // free throughout: no operation touches it
        for (Op op : ops) {
            long span = Math.min(window, 1L << op.bits());
            long from = Math.min(op.at() / span * span, window - span);
            long to = from + span;
            Cidr range = Cidr.of(pool.subnet(from).address(), pool.nodePrefixLength() - Long.numberOfTrailingZeros(span));
            switch (op.kind()) {
                case 0 -> {
                    pool.hold(from, to);
                    m.holds.add(new long[] {from, to});
                }
                case 1 -> {
                    if (m.holds.isEmpty()) {
                        assertThrows(IllegalStateException.class, () -> pool.unhold(from, to));
                        continue;
                    }
                    long[] h = m.holds.remove((int) (op.at() % m.holds.size()));
                    pool.unhold(h[0], h[1]);
                }
                case 2 -> {
                    pool.reserve(range);
                    m.reserved.set((int) from, (int) to);
                }
                case 3 -> {
                    BitSet freed = m.reserved.get((int) from, (int) to);
                    freed.andNot(m.occupied.get((int) from, (int) to));
                    freed.andNot(m.heldUnion().get((int) from, (int) to));
                    long expectFreed = freed.cardinality();
                    m.reserved.clear((int) from, (int) to);
                    assertEquals(expectFreed, pool.unreserve(range), "unreserve " + range);
                }
                case 4 -> {
                    assertEquals(!m.occupied.get((int) from), pool.occupy(pool.subnet(from)));
                    m.occupied.set((int) from);
                }
                case 5 -> {
                    assertEquals(m.occupied.get((int) from), pool.release(pool.subnet(from)));
                    m.occupied.clear((int) from);
                }
                default -> {
                    Optional<Cidr> got = pool.tryAllocate();
                    if (got.isPresent()) {
                        long i = pool.indexOf(got.get());
                        if (i < window) {
                            assertTrue(m.free(i), got.get() + " was not free");
                            m.occupied.set((int) i);
                        } else {
                            pool.release(got.get()); // keep the outside free, as the model assumes
                        }
                    } else {
                        assertEquals(0, outside);
                        for (long i = 0; i < window; i++) {
                            assertFalse(m.free(i), "pool full but " + i + " is free");
                        }
                    }
                }
            }
            pool.checkInvariants();
            assertEquals(m.allocated(), pool.stats().allocated(), "allocated");
            assertEquals(m.reservedOnly(), pool.stats().reserved(), "reserved");
            assertEquals(m.free() + outside, pool.stats().free(), "free: an unhold frees what nothing else covers");
            List<Long> probe = new ArrayList<>();
            if (everyIndex) {
                for (long i = 0; i < window; i++) {
                    probe.add(i);
                }
            } else {
                for (long edge = 0; edge <= window; edge += SparseBitmap.BLOCK_BITS) {
                    for (long d = -2; d <= 1; d++) {
                        if (edge + d >= 0 && edge + d < window) {
                            probe.add(edge + d);
                        }
                    }
                }
                probe.add(from);
                probe.add(to - 1);
            }
            for (long i : probe) {
                boolean held = m.held(i) && !m.reserved.get((int) i);
                assertEquals(m.occupied.get((int) i) || held, pool.isAllocated(pool.subnet(i)), "allocated " + i);
                assertEquals(m.occupied.get((int) i), pool.isOccupied(pool.subnet(i)), "occupied " + i);
                assertEquals(held && !m.occupied.get((int) i), pool.isHeldOnly(i), "held only " + i);
                assertEquals(m.reserved.get((int) i), pool.isReserved(pool.subnet(i)), "reserved " + i);
            }
        }
        if (everyIndex) {
            PoolOccupancy cells = pool.occupancy(SubnetPool.MAX_OCCUPANCY_CELLS); // one cell per subnet
            for (int i = 0; i < window; i++) {
                boolean occupied = m.occupied.get(i);
                boolean reserved = m.reserved.get(i);
                assertEquals(occupied || m.held(i) && !reserved ? 1 : 0, cells.allocatedCount(i), "cell " + i);
                assertEquals(reserved && !occupied ? 1 : 0, cells.reservedCount(i), "cell " + i);
            }
        }
        PoolOccupancy o = pool.occupancy(64);
        long allocated = 0;
        long reserved = 0;
        for (int cell = 0; cell < o.cells(); cell++) {
            allocated += o.allocatedCount(cell);
            reserved += o.reservedCount(cell);
            assertTrue(o.free(cell) >= 0);
        }
        assertEquals(pool.stats().allocated(), allocated, "cells add up to the stats");
        assertEquals(pool.stats().reserved(), reserved);
    }

    private static Arbitrary<List<Op>> ops(long window, int maxBits, List<Long> spots) {
        Arbitrary<Long> at = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(0, window - 1)),
                net.jqwik.api.Tuple.of(2, Arbitraries.of(spots)));
        return Combinators.combine(Arbitraries.integers().between(0, 6), at, Arbitraries.integers().between(0, maxBits))
                .as(Op::new).list().ofMaxSize(40);
    }

    @Provide
    Arbitrary<List<Op>> denseOps() {
        return ops(256, 8, List.of(0L, 1L, 63L, 64L, 128L, 255L));
    }

    @Property(tries = 300)
    void aDensePoolAgreesWithTheModel(@ForAll("denseOps") List<Op> ops) {
        run(SubnetPool.of(Cidr.parse("10.244.0.0/20"), 28), 256, ops, true);
    }

    @Provide
    Arbitrary<List<Op>> sparseOps() {
        long block = SparseBitmap.BLOCK_BITS;
        return ops(4 * block, 18, List.of(0L, block - 1, block, 2 * block + 5, 4 * block - 1));
    }

    @Property(tries = 60)
    void aSparse2To32PoolAgreesWithTheModel(@ForAll("sparseOps") List<Op> ops) {
        run(SubnetPool.of(Cidr.parse("fd00::/32"), 64), 4L * SparseBitmap.BLOCK_BITS, ops, false);
    }

    @Test
    void holdingAWhole2To32PoolAndReleasingItTakesRangeOperationsOnly() {
        SubnetPool pool = SubnetPool.of(Cidr.parse("fd00::/32"), 64);
        pool.occupy(pool.subnet(7));
        pool.reserve(Cidr.parse("fd00:0:ffff::/48"));
        pool.hold(0, pool.capacity());
        pool.hold(1L << 31, pool.capacity());
        assertEquals(new PoolStats(pool.cluster(), 64, 1L << 32, (1L << 32) - 65_536, 65_536), pool.stats());
        assertEquals(Optional.empty(), pool.tryAllocate());
        assertEquals(List.of(Cidr.parse("fd00::/62"), Cidr.parse("fd00:0:0:4::/63"), Cidr.parse("fd00:0:0:6::/64")),
                pool.heldBlocks(0, 8).subList(0, 3));
        pool.unhold(0, pool.capacity());
        assertEquals((1L << 31) - 1, pool.stats().free(), "the second hold keeps the upper half");
        assertTrue(pool.release(pool.subnet(7)));
        pool.unhold(1L << 31, pool.capacity());
        assertEquals((1L << 32) - 65_536, pool.stats().free());
        pool.checkInvariants();
    }
}
