package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SubnetPoolTest {

    private static SubnetPool pool(String cluster, int nodePrefix) {
        return SubnetPool.of(Cidr.parse(cluster), nodePrefix);
    }

    @ParameterizedTest(name = "[{index}] {0} /{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            10.244.0.0/16 | 15  | 'node prefix length /15 must not be shorter than the cluster prefix of 10.244.0.0/16 (/16) to cut it into subnets; e.g. /24 gives 256 subnets'
            10.244.0.0/16 | 8   | 'node prefix length /8 must not be shorter than the cluster prefix of 10.244.0.0/16 (/16)'
            10.244.0.0/16 | 33  | 'node prefix length /33 is longer than an IPV4 address (32 bits); for pool 10.244.0.0/16 use /16 to /32'
            fd00::/56     | 129 | 'node prefix length /129 is longer than an IPV6 address (128 bits); for pool fd00::/56 use /56 to /88'
            fd00::/16     | 64  | 'cutting fd00::/16 into /64 subnets makes 2^48 subnets; at most 2^32 are supported: use a cluster prefix of /32 or longer, or a node prefix of /48 or shorter'
            fd00::/64     | 63  | 'e.g. /65 gives 2 subnets'
            """)
    void refusesSizesThatDoNotFit(String cluster, int nodePrefix, String message) {
        InvalidPoolException e = assertThrows(InvalidPoolException.class, () -> pool(cluster, nodePrefix));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void acceptsTheLargestSupportedPool() {
        SubnetPool p = pool("0.0.0.0/0", 32);
        assertEquals(1L << 32, p.capacity());
        assertEquals(Cidr.parse("0.0.0.0/32"), p.allocate());
        assertEquals(Cidr.parse("0.0.0.1/32"), p.allocate());
    }

    @Test
    void allocatesInOrderAndWrapsRoundAfterReleases() {
        SubnetPool p = pool("10.244.0.0/22", 24); // 4 subnets
        assertEquals("10.244.0.0/24", p.allocate().toString());
        assertEquals("10.244.1.0/24", p.allocate().toString());
        assertTrue(p.release(Cidr.parse("10.244.0.0/24")));
        // the released subnet waits until the cursor comes round
        assertEquals("10.244.2.0/24", p.allocate().toString());
        assertEquals("10.244.3.0/24", p.allocate().toString());
        assertEquals("10.244.0.0/24", p.allocate().toString());
        PoolExhaustedException e = assertThrows(PoolExhaustedException.class, p::allocate);
        assertEquals("pool 10.244.0.0/22 has no free /24 subnet: 4 of 4 in use (4 allocated, 0 reserved)",
                e.getMessage());
        assertEquals(Cidr.parse("10.244.0.0/22"), e.pool());
        assertEquals(24, e.nodePrefixLength());
        assertEquals(4, e.capacity());
        assertEquals(4, e.used());
    }

    @Test
    void aFullPoolFailsWithOneStacklessExceptionUntilItsFiguresChange() {
        SubnetPool p = pool("10.244.0.0/23", 24);
        Cidr first = p.allocate();
        p.allocate();
        PoolExhaustedException a = assertThrows(PoolExhaustedException.class, p::allocate);
        PoolExhaustedException b = assertThrows(PoolExhaustedException.class, p::allocate);
        assertTrue(a == b, "the same instance while nothing changed");
        assertEquals(0, a.getStackTrace().length);
        a.addSuppressed(new RuntimeException("ignored"));
        assertEquals(0, a.getSuppressed().length, "immutable: nothing can be attached");
        p.release(first);
        p.reserve(first); // full again, but one subnet reserved instead of allocated
        PoolExhaustedException c = assertThrows(PoolExhaustedException.class, p::allocate);
        assertTrue(c != a);
        assertEquals("pool 10.244.0.0/23 has no free /24 subnet: 2 of 2 in use (1 allocated, 1 reserved)",
                c.getMessage());
    }

    @Test
    void occupyAndReleaseAreIdempotentAndCountOnlyChanges() {
        SubnetPool p = pool("10.244.0.0/16", 24);
        Cidr c = Cidr.parse("10.244.7.0/24");
        assertTrue(p.occupy(c));
        assertFalse(p.occupy(c));
        assertTrue(p.isAllocated(c));
        assertEquals(1, p.stats().allocated());
        assertTrue(p.release(c));
        assertFalse(p.release(c));
        assertFalse(p.release(Cidr.parse("10.244.9.0/24")));
        assertEquals(0, p.stats().allocated());
        assertEquals(256, p.stats().free());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            10.245.0.0/24       | '10.245.0.0/24 is outside pool 10.244.0.0/16'
            10.244.0.0/25       | '10.244.0.0/25 is not a /24 subnet of pool 10.244.0.0/16 (the pool hands out /24 subnets only)'
            10.244.0.0/23       | 'is not a /24 subnet of pool 10.244.0.0/16'
            fd00::/24           | 'fd00::/24 is IPV6 but pool 10.244.0.0/16 is IPV4'
            """)
    void refusesCidrsThatAreNotItsSubnets(String cidr, String message) {
        SubnetPool p = pool("10.244.0.0/16", 24);
        Cidr c = Cidr.parse(cidr);
        CidrNotInPoolException e = assertThrows(CidrNotInPoolException.class, () -> p.occupy(c));
        assertEquals(message.length() > 0, e.getMessage().contains(message), e.getMessage());
        assertEquals(c, e.cidr());
        assertThrows(CidrNotInPoolException.class, () -> p.release(c));
        assertFalse(p.isAllocated(c));
        assertFalse(p.hasSubnet(c));
        assertEquals(0, p.stats().allocated());
    }

    @Test
    void reservedRangesAreNeverHandedOutAndCountedApart() {
        SubnetPool p = pool("10.0.0.0/8", 24);
        p.reserve(Cidr.parse("10.0.0.0/12"));      // 4096 subnets at the start
        p.reserve(Cidr.parse("10.16.0.128/25"));   // smaller than a subnet: the whole /24 is kept out
        p.reserve(Cidr.parse("192.168.0.0/16"));   // elsewhere: nothing happens
        p.reserve(Cidr.parse("fd00::/8"));         // other family: nothing happens
        PoolStats s = p.stats();
        assertEquals(4097, s.reserved());
        assertEquals(0, s.allocated());
        assertEquals("10.16.1.0/24", p.allocate().toString());
        assertEquals("10.16.2.0/24", p.allocate().toString());
        assertTrue(p.isReserved(Cidr.parse("10.16.0.0/24")));
        assertFalse(p.release(Cidr.parse("10.16.0.0/24")), "a reserved subnet is not allocated");
        p.checkInvariants();
    }

    @Test
    void aSubnetOccupiedInAReservedRangeGoesBackToReservedWhenReleased() {
        SubnetPool p = pool("10.244.0.0/16", 24);
        Cidr c = Cidr.parse("10.244.3.0/24");
        assertTrue(p.occupy(c));
        p.reserve(Cidr.parse("10.244.0.0/22")); // reserves 0..3 while 3 is allocated
        assertEquals(new PoolStats(p.cluster(), 24, 256, 1, 3), p.stats());
        assertTrue(p.isAllocated(c));
        assertTrue(p.release(c));
        assertEquals(new PoolStats(p.cluster(), 24, 256, 0, 4), p.stats());
        assertTrue(p.occupy(c), "a node restored inside a reserved range is recorded");
        assertEquals(new PoolStats(p.cluster(), 24, 256, 1, 3), p.stats());
        p.checkInvariants();
    }

    @Test
    void aPoolCoveredByAReservedRangeIsExhaustedAtOnce() {
        SubnetPool p = pool("10.96.0.0/16", 24);
        p.reserve(Cidr.parse("10.96.0.0/12"));
        assertEquals(0, p.stats().free());
        assertThrows(PoolExhaustedException.class, p::allocate);
    }

    @Test
    void findsTheLastFreeSubnetOfAFullPoolFromTheStart() {
        SubnetPool p = pool("10.0.0.0/8", 24);
        for (int i = 0; i < 65_536; i++) {
            p.allocate();
        }
        assertEquals(0, p.cursor());
        Cidr last = Cidr.parse("10.255.255.0/24");
        assertTrue(p.release(last));
        assertEquals(last, p.allocate());
        assertThrows(PoolExhaustedException.class, p::allocate);
        p.checkInvariants();
    }

    @Test
    void churnOnAFullPoolNeverHandsOutAnAllocatedSubnet() {
        SubnetPool p = pool("10.0.0.0/12", 24); // 4096
        Cidr[] held = new Cidr[4096];
        for (int i = 0; i < held.length; i++) {
            held[i] = p.allocate();
        }
        Random random = new Random(42);
        for (int round = 0; round < 20_000; round++) {
            int i = random.nextInt(held.length);
            assertTrue(p.release(held[i]));
            held[i] = p.allocate();
            assertTrue(p.isAllocated(held[i]));
        }
        assertEquals(4096, new java.util.HashSet<>(java.util.Arrays.asList(held)).size());
        p.checkInvariants();
    }

    @Test
    void subnetsOfIpv6PoolsSpanBothHalvesOfTheAddress() {
        SubnetPool p = pool("fd00::/32", 64); // index bits 32..63 from the top: all in the high word
        p.occupy(Cidr.parse("fd00:0:ffff:ffff::/64"));
        assertTrue(p.isAllocated(Cidr.parse("fd00:0:ffff:ffff::/64")));
        SubnetPool q = pool("fd00::/48", 80); // index bits straddle the two 64-bit halves
        Cidr c = Cidr.parse("fd00:0:0:ffff:ffff::/80");
        assertTrue(q.occupy(c));
        assertEquals(c, q.subnet(q.indexOf(c)));
        assertEquals((1L << 32) - 1, q.indexOf(Cidr.parse("fd00:0:0:ffff:ffff::/80")));
    }

    @Test
    void aHugeIpv6PoolCostsKilobytesWhenEmptyAndLittleAfter130kAllocations() {
        SubnetPool p = pool("fd00::/32", 64);
        assertTrue(p.indexBytes() < 16 * 1024, () -> p.indexBytes() + " bytes when empty");
        for (int i = 0; i < 130_000; i++) {
            p.allocate();
        }
        assertTrue(p.indexBytes() < 64 * 1024, () -> p.indexBytes() + " bytes after 130k allocations");
        assertEquals("fd00:0:1:fbd0::/64", p.allocate().toString()); // subnet 130,000 = 0x1fbd0
    }

    @Test
    void aDensePoolUsesAboutOneBitPerSubnet() {
        SubnetPool p = pool("10.0.0.0/8", 32); // 2^24 subnets, the largest dense pool
        double bitsPerSubnet = p.indexBytes() * 8.0 / p.capacity();
        assertTrue(bitsPerSubnet <= 1.1, () -> bitsPerSubnet + " bits per subnet");
    }
}
