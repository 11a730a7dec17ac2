package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The parts of {@link SubnetPool} a library user needs beyond the four verbs, and one-subnet pools. */
class SubnetPoolApiTest {

    private static SubnetPool pool(String cluster, int nodePrefix) {
        return SubnetPool.of(Cidr.parse(cluster), nodePrefix);
    }

    /** kube-controller-manager accepts a cluster CIDR whose mask equals the node mask: one subnet. */
    @ParameterizedTest(name = "{0} /{1}")
    @CsvSource(delimiter = '|', textBlock = """
            10.244.0.0/16 | 16
            10.244.7.0/24 | 24
            10.0.0.1/32   | 32
            fd00::/64     | 64
            ::/0          | 0
            0.0.0.0/0     | 0
            """)
    void aPoolWhoseClusterPrefixEqualsTheNodePrefixHasOneSubnet(String cluster, int nodePrefix) {
        SubnetPool p = pool(cluster, nodePrefix);
        assertEquals(1, p.capacity());
        assertEquals(Cidr.parse(cluster), p.subnet(0));
        assertEquals(0, p.indexOf(Cidr.parse(cluster)));
        assertEquals(Optional.of(Cidr.parse(cluster)), p.tryAllocate());
        assertEquals(Optional.empty(), p.tryAllocate());
        assertThrows(PoolExhaustedException.class, p::allocate);
        assertTrue(p.release(Cidr.parse(cluster)));
        assertEquals(Cidr.parse(cluster), p.allocate());
        p.checkInvariants();
    }

    @Test
    void tryAllocateHandsOutWhatAllocateWouldAndReturnsTheSharedEmptyWhenFull() {
        SubnetPool a = pool("10.244.0.0/22", 24);
        SubnetPool b = pool("10.244.0.0/22", 24);
        b.reserve(Cidr.parse("10.244.1.0/24"));
        a.reserve(Cidr.parse("10.244.1.0/24"));
        for (int i = 0; i < 3; i++) {
            assertEquals(a.allocate(), b.tryAllocate().orElseThrow());
        }
        assertSame(Optional.empty(), b.tryAllocate(), "the full path allocates nothing, not even an Optional");
        assertEquals(new PoolStats(b.cluster(), 24, 4, 3, 1), b.stats());
        b.release(Cidr.parse("10.244.2.0/24"));
        assertEquals("10.244.2.0/24", b.tryAllocate().orElseThrow().toString());
        b.checkInvariants();
    }

    @ParameterizedTest(name = "{0} /{1}: subnet {2} is {3}")
    @CsvSource(delimiter = '|', textBlock = """
            10.244.0.0/16 | 24 | 0          | 10.244.0.0/24
            10.244.0.0/16 | 24 | 255        | 10.244.255.0/24
            0.0.0.0/0     | 32 | 4294967295 | 255.255.255.255/32
            fd00::/32     | 64 | 4294967295 | fd00:0:ffff:ffff::/64
            fd00::/48     | 80 | 4294967295 | fd00:0:0:ffff:ffff::/80
            fd00::/120    | 128 | 255       | fd00::ff/128
            """)
    void subnetAndIndexOfAreInverse(String cluster, int nodePrefix, long index, String subnet) {
        SubnetPool p = pool(cluster, nodePrefix);
        assertEquals(Cidr.parse(subnet), p.subnet(index));
        assertEquals(index, p.indexOf(Cidr.parse(subnet)));
        assertEquals(p.subnet(index), p.subnet(p.indexOf(p.subnet(index))));
    }

    @Test
    void indicesOutsideThePoolAndForeignCidrsAreTypedErrors() {
        SubnetPool p = pool("10.244.0.0/16", 24);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> p.subnet(256));
        assertEquals("subnet index 256 is outside pool 10.244.0.0/16 /24, which has subnets 0 to 255", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> p.subnet(-1));
        CidrNotInPoolException n = assertThrows(CidrNotInPoolException.class,
                () -> p.indexOf(Cidr.parse("10.245.0.0/24")));
        assertEquals(Cidr.parse("10.245.0.0/24"), n.cidr());
        assertThrows(CidrNotInPoolException.class, () -> p.indexOf(Cidr.parse("10.244.0.0/25")));
    }

    @Test
    void allocatedSubnetsAreWalkedInOrderIncludingThoseInsideReservedRanges() {
        SubnetPool p = pool("10.244.0.0/16", 24);
        for (String s : List.of("10.244.9.0/24", "10.244.2.0/24", "10.244.200.0/24", "10.244.3.0/24")) {
            p.occupy(Cidr.parse(s));
        }
        p.reserve(Cidr.parse("10.244.0.0/22"));   // 0..3: holds the allocated 2 and 3
        p.reserve(Cidr.parse("10.244.100.0/22")); // nothing allocated inside
        p.occupy(Cidr.parse("10.244.101.0/24"));  // a node restored inside a reserved range
        List<String> seen = new ArrayList<>();
        p.allocatedSubnets().forEach(c -> seen.add(c.toString()));
        assertEquals(List.of("10.244.2.0/24", "10.244.3.0/24", "10.244.9.0/24", "10.244.101.0/24",
                "10.244.200.0/24"), seen);
        assertEquals(seen.size(), p.stats().allocated());
        p.release(Cidr.parse("10.244.3.0/24"));
        List<String> after = new ArrayList<>();
        p.allocatedSubnets().forEach(c -> after.add(c.toString()));
        assertEquals(List.of("10.244.2.0/24", "10.244.9.0/24", "10.244.101.0/24", "10.244.200.0/24"), after);
        p.checkInvariants();
    }

    @Test
    void allocatedSubnetsOfAHugeSparsePoolAndTheLastSubnet() {
        SubnetPool p = pool("fd00::/32", 64);
        Cidr last = p.subnet(p.capacity() - 1);
        p.occupy(last);
        p.occupy(p.subnet(70_000));
        p.occupy(p.subnet(0));
        List<Cidr> seen = new ArrayList<>();
        p.allocatedSubnets().forEach(seen::add);
        assertEquals(List.of(p.subnet(0), p.subnet(70_000), last), seen);
    }

    @Test
    void anIteratorFailsFastWhenThePoolChangesAndEndsWithNoSuchElement() {
        SubnetPool p = pool("10.244.0.0/16", 24);
        p.allocate();
        p.allocate();
        Iterator<Cidr> it = p.allocatedSubnets().iterator();
        assertEquals("10.244.0.0/24", it.next().toString());
        p.allocate();
        assertThrows(ConcurrentModificationException.class, it::next);
        Iterator<Cidr> empty = pool("10.0.0.0/24", 28).allocatedSubnets().iterator();
        assertFalse(empty.hasNext());
        assertThrows(NoSuchElementException.class, empty::next);
    }

    /**
     * Reserving a range over many allocated subnets records them compactly: the thread allocates about a bitmap, not
     * a boxed {@code Long} and a hash node per subnet (which was 50 MB here).
     */
    @Test
    void reservingOverAMillionAllocatedSubnetsAllocatesLittle() {
        SubnetPool p = pool("10.0.0.0/8", 32); // 2^24 subnets
        for (int i = 0; i < 1 << 20; i++) {
            p.allocate();
        }
        long before = threadAllocatedBytes();
        p.reserve(Cidr.parse("10.0.0.0/12")); // the first 2^20 subnets, all allocated
        long allocatedBytes = threadAllocatedBytes() - before;
        assertTrue(allocatedBytes < 4L << 20, () -> allocatedBytes + " bytes allocated by reserve()");
        assertEquals(new PoolStats(p.cluster(), 32, 1 << 24, 1 << 20, 0), p.stats());
        assertTrue(p.release(Cidr.parse("10.0.0.7/32")));
        assertEquals(new PoolStats(p.cluster(), 32, 1 << 24, (1 << 20) - 1, 1), p.stats());
        p.checkInvariants();
    }

    /**
     * Bytes allocated by this thread so far (HotSpot's per-thread counter). Reached by reflection because the tests
     * compile inside the ipam-core module, which does not read java.management; they run on the class path.
     */
    private static long threadAllocatedBytes() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                    .invoke(null);
            return (long) Class.forName("com.sun.management.ThreadMXBean")
                    .getMethod("getCurrentThreadAllocatedBytes").invoke(bean);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("this test needs HotSpot's com.sun.management.ThreadMXBean", e);
        }
    }
}
