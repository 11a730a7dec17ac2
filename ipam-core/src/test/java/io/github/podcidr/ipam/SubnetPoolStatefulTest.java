package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.Transformer;

/**
 * Model-based test of {@link SubnetPool}: chains of allocate, occupy, release (also of subnets never allocated) and
 * reserve run against the pool and a simple model (a {@link TreeSet} of allocated indices and a map of reserved
 * intervals). After every action the counters, the allocation states and the next-fit cursor must agree, and the
 * pool's own invariants (bitmap summaries, counts) must hold. Small and huge pools, IPv4 and IPv6.
 */
class SubnetPoolStatefulTest {

    /** The pool under test and its model. */
    static final class World {
        final SubnetPool pool;
        final long capacity;
        final TreeSet<Long> allocated = new TreeSet<>();
        final TreeMap<Long, Long> reserved = new TreeMap<>(); // from -> to (exclusive), may overlap
        long cursor;

        World(String cluster, int nodePrefix) {
            pool = SubnetPool.of(Cidr.parse(cluster), nodePrefix);
            capacity = pool.capacity();
        }

        boolean isReserved(long i) {
            for (Map.Entry<Long, Long> e : reserved.headMap(i, true).entrySet()) {
                if (i < e.getValue()) {
                    return true;
                }
            }
            return false;
        }

        long reservedEnd(long i) {
            long end = i;
            for (Map.Entry<Long, Long> e : reserved.headMap(i, true).entrySet()) {
                if (i < e.getValue()) {
                    end = Math.max(end, e.getValue());
                }
            }
            return end;
        }

        /** The first index at or after {@code from} that is neither allocated nor reserved, or capacity. */
        long nextFree(long from) {
            long x = from;
            while (x < capacity) {
                long end = reservedEnd(x);
                if (end > x) {
                    x = end;
                } else if (allocated.contains(x)) {
                    x++;
                } else {
                    return x;
                }
            }
            return capacity;
        }

        long reservedCount() {
            long count = 0;
            long covered = -1;
            for (Map.Entry<Long, Long> e : reserved.entrySet()) {
                long from = Math.max(e.getKey(), covered);
                if (e.getValue() > from) {
                    count += e.getValue() - from;
                    covered = e.getValue();
                }
            }
            for (long a : allocated) {
                if (isReserved(a)) {
                    count--;
                }
            }
            return count;
        }

        void check() {
            pool.checkInvariants();
            PoolStats s = pool.stats();
            assertEquals(allocated.size(), s.allocated(), "allocated");
            assertEquals(reservedCount(), s.reserved(), "reserved");
            assertEquals(capacity - s.allocated() - s.reserved(), s.free(), "free");
            assertEquals(cursor, pool.cursor(), "cursor");
            for (long a : allocated) {
                assertEquals(true, pool.isAllocated(pool.subnet(a)), () -> "allocated " + a);
            }
        }

        @Override
        public String toString() {
            return pool.toString();
        }
    }

    private static Arbitrary<Long> indices(long capacity) {
        if (capacity <= 4096) {
            return Arbitraries.longs().between(0, capacity - 1);
        }
        long block = SparseBitmap.BLOCK_BITS;
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.longs().between(0, 40)),
                Tuple.of(2, Arbitraries.longs().between(block - 20, block + 20)),
                Tuple.of(1, Arbitraries.longs().between(capacity - 20, capacity - 1)),
                Tuple.of(1, Arbitraries.longs().between(0, capacity - 1)));
    }

    private static Action.Independent<World> allocate() {
        return Action.just(Transformer.mutate("allocate", w -> {
            long expected = w.nextFree(w.cursor);
            if (expected == w.capacity) {
                expected = w.nextFree(0);
            }
            if (expected == w.capacity) {
                PoolExhaustedException e = assertThrows(PoolExhaustedException.class, w.pool::allocate);
                assertEquals(w.capacity, e.capacity());
                assertEquals(w.capacity, e.used());
                return;
            }
            Cidr got = w.pool.allocate();
            assertEquals(w.pool.subnet(expected), got, "next-fit from the cursor");
            w.allocated.add(expected);
            w.cursor = expected + 1 == w.capacity ? 0 : expected + 1;
        }));
    }

    private static Action.Dependent<World> occupy() {
        return w -> indices(w.capacity).map(i -> Transformer.mutate("occupy " + i, x -> {
            assertEquals(!x.allocated.contains(i), x.pool.occupy(x.pool.subnet(i)));
            x.allocated.add(i);
        }));
    }

    private static Action.Dependent<World> release() {
        // Mostly indices that may never have been allocated: release must be a harmless no-op for them.
        return w -> indices(w.capacity).map(i -> Transformer.mutate("release " + i, x -> {
            assertEquals(x.allocated.contains(i), x.pool.release(x.pool.subnet(i)));
            x.allocated.remove(i);
        }));
    }

    private static Action.Dependent<World> releaseAllocated() {
        return new Action.Dependent<>() {
            @Override
            public boolean precondition(World w) {
                return !w.allocated.isEmpty();
            }

            @Override
            public Arbitrary<Transformer<World>> transformer(World w) {
                return Arbitraries.of(w.allocated).map(i -> Transformer.mutate("release allocated " + i, x -> {
                    assertEquals(true, x.pool.release(x.pool.subnet(i)));
                    x.allocated.remove(i);
                }));
            }
        };
    }

    private static Action.Dependent<World> reserve() {
        return w -> Combinators.combine(indices(w.capacity), Arbitraries.integers().between(-1, 17))
                .as((i, spanBits) -> Transformer.mutate("reserve " + i + " 2^" + spanBits, x -> {
                    int nodePrefix = x.pool.nodePrefixLength();
                    int subnetBits = nodePrefix - x.pool.cluster().prefixLength();
                    int bits = Math.max(0, Math.min(spanBits, subnetBits));
                    int prefix = spanBits < 0 ? Math.min(nodePrefix + 1, x.pool.family().bits()) : nodePrefix - bits;
                    long from = spanBits < 0 ? i : i & -(1L << bits);
                    String address = x.pool.subnet(from).toString();
                    Cidr range = Cidr.parse(address.substring(0, address.indexOf('/')) + "/" + prefix);
                    x.pool.reserve(range);
                    long to = spanBits < 0 ? from + 1 : from + (1L << bits);
                    x.reserved.merge(from, to, Math::max);
                }));
    }

    private static net.jqwik.api.state.ActionChainArbitrary<World> chainsOf(String cluster, int nodePrefix,
                                                                            int maxActions) {
        return ActionChain.startWith(() -> new World(cluster, nodePrefix))
                .withAction(4, allocate())
                .withAction(2, occupy())
                .withAction(2, release())
                .withAction(2, releaseAllocated())
                .withAction(1, reserve())
                .withMaxTransformations(maxActions);
    }

    @Provide
    Arbitrary<ActionChain<World>> tinyIpv4() {
        return chainsOf("10.0.0.0/24", 28, 80); // 16 subnets: fills, wraps and exhausts often
    }

    @Provide
    Arbitrary<ActionChain<World>> tinyIpv6() {
        return chainsOf("fd00:10:244::/60", 64, 80);
    }

    @Provide
    Arbitrary<ActionChain<World>> denseIpv4() {
        return chainsOf("10.0.0.0/8", 30, 60); // 2^22 subnets, four summary levels
    }

    @Provide
    Arbitrary<ActionChain<World>> hugeIpv6() {
        return chainsOf("fd00::/32", 64, 60); // 2^32 subnets, sparse blocks
    }

    @Property(tries = 300)
    void tinyIpv4PoolFollowsTheModel(@ForAll("tinyIpv4") ActionChain<World> chain) {
        chain.withInvariant(World::check).run();
    }

    @Property(tries = 200)
    void tinyIpv6PoolFollowsTheModel(@ForAll("tinyIpv6") ActionChain<World> chain) {
        chain.withInvariant(World::check).run();
    }

    @Property(tries = 30)
    void denseIpv4PoolFollowsTheModel(@ForAll("denseIpv4") ActionChain<World> chain) {
        chain.withInvariant(World::check).run();
    }

    @Property(tries = 30)
    void hugeIpv6PoolFollowsTheModel(@ForAll("hugeIpv6") ActionChain<World> chain) {
        chain.withInvariant(World::check).run();
    }
}
