package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What a Java user of the library expects: addresses in prefixes, sizes, last addresses, one exception type. */
class LibraryApiTest {

    private static Cidr c(String s) {
        return Cidr.parse(s);
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s); // literals only: no look-up
    }

    @Test
    void tryParseGivesEmptyWhereParseThrows() {
        assertEquals(Optional.of(c("10.244.0.0/16")), Cidr.tryParse("10.244.0.0/16"));
        assertEquals(Optional.of(c("fd00::/8")), Cidr.tryParse("FD00::/8"));
        assertEquals(Optional.empty(), Cidr.tryParse("10.244.0.1/16"));
        assertEquals(Optional.empty(), Cidr.tryParse("::ffff:10.0.0.0/104"));
        assertEquals(Optional.empty(), Cidr.tryParse(null));
        assertEquals(Optional.empty(), Cidr.tryParse(""));
    }

    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            10.244.0.0/16    | 10.244.7.9        | true
            10.244.0.0/16    | 10.244.255.255    | true
            10.244.0.0/16    | 10.245.0.0        | false
            0.0.0.0/0        | 255.255.255.255   | true
            10.244.7.9/32    | 10.244.7.9        | true
            10.244.0.0/16    | fd00::1           | false
            fd00:10:244::/56 | fd00:10:244:ff::1 | true
            fd00:10:244::/56 | fd00:10:245::     | false
            ::/0             | ::1               | true
            ::/0             | 10.0.0.1          | false
            """)
    void containsAnAddressOfItsFamily(String cidr, String address, boolean expected) throws Exception {
        assertEquals(expected, c(cidr).contains(ip(address)));
    }

    @Test
    void anIpv4MappedInet6AddressIsNotInAnIpv4Prefix() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        mapped[12] = 10;
        InetAddress v6 = Inet6Address.getByAddress(null, mapped, -1);
        assertFalse(c("10.0.0.0/8").contains(v6));
        assertTrue(c("::/80").contains(v6));
    }

    @ParameterizedTest(name = "{0}: {1} addresses, last {2}")
    @CsvSource(delimiter = '|', textBlock = """
            10.244.0.0/16    | 65536                                   | 10.244.255.255
            10.244.7.9/32    | 1                                       | 10.244.7.9
            0.0.0.0/0        | 4294967296                              | 255.255.255.255
            fd00:10:244::/56 | 4722366482869645213696                  | fd00:10:244:ff:ffff:ffff:ffff:ffff
            fd00::/8         | 1329227995784915872903807060280344576   | fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
            ::/0             | 340282366920938463463374607431768211456 | ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
            fd00::1/128      | 1                                       | fd00::1
            """)
    void sizeAndLastAddress(String cidr, String size, String last) throws Exception {
        Cidr x = c(cidr);
        assertEquals(new BigInteger(size), x.size());
        assertEquals(ip(last), x.lastAddress());
        assertTrue(x.contains(x.lastAddress()));
        assertTrue(x.contains(x.address()));
    }

    @Test
    void theLastAddressOfAnIpv6PrefixStaysIpv6EvenWhenItLooksMapped() {
        InetAddress last = c("::/80").lastAddress(); // ::ffff:ffff:ffff
        assertInstanceOf(Inet6Address.class, last);
    }

    @Test
    void everyExceptionOfTheLibraryIsAnIpamException() {
        assertInstanceOf(IpamException.class, assertThrows(InvalidCidrException.class, () -> c("10.0.0.1/8")));
        assertInstanceOf(IpamException.class,
                assertThrows(InvalidPoolException.class, () -> SubnetPool.of(c("10.0.0.0/8"), 4)));
        SubnetPool pool = SubnetPool.of(c("10.244.0.0/24"), 24);
        assertInstanceOf(IpamException.class,
                assertThrows(CidrNotInPoolException.class, () -> pool.occupy(c("10.245.0.0/24"))));
        pool.allocate();
        assertInstanceOf(IpamException.class, assertThrows(PoolExhaustedException.class, pool::allocate));
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        assertInstanceOf(IpamException.class,
                assertThrows(UnknownGroupException.class, () -> ipam.assign("n", "nope")));
        IpamException e = assertThrows(IpamException.class, () -> Cidr.parse("x"));
        assertTrue(e.getMessage().startsWith("\"x\""), e.getMessage());
    }

    @Test
    void familiesHaveAReadableLabelAndKeepTheirName() {
        assertEquals("IPv4", IpFamily.IPV4.label());
        assertEquals("IPv6", IpFamily.IPV6.label());
        assertEquals("IPV4", IpFamily.IPV4.toString(), "messages that quote the name stay as they are");
    }

    @Test
    void unreserveHandsARangeOutAgain() {
        SubnetPool pool = SubnetPool.of(c("10.244.0.0/16"), 24);
        pool.reserve(c("10.244.254.0/23"));
        assertEquals(2, pool.stats().reserved());
        assertEquals(1, pool.unreserve(c("10.244.255.0/24")), "half of the reserved range");
        assertTrue(pool.isReserved(c("10.244.254.0/24")));
        assertFalse(pool.isReserved(c("10.244.255.0/24")));
        assertEquals(1, pool.stats().reserved());
        assertEquals(0, pool.unreserve(c("10.244.255.0/24")), "idempotent");
        assertEquals(0, pool.unreserve(c("10.245.0.0/16")), "outside the pool");
        assertEquals(1, pool.unreserve(c("10.0.0.0/8")), "a wider range undoes what it covers");
        assertEquals(256, pool.stats().free());
        pool.checkInvariants();
    }

    @Test
    void anAllocatedSubnetInAnUnreservedRangeStaysAllocatedAndIsFreedOnRelease() {
        SubnetPool pool = SubnetPool.of(c("10.244.0.0/16"), 24);
        pool.occupy(c("10.244.9.0/24"));
        pool.reserve(c("10.244.8.0/22"));
        assertEquals(3, pool.stats().reserved());
        assertEquals(3, pool.unreserve(c("10.244.8.0/22")));
        assertEquals(1, pool.stats().allocated());
        assertEquals(0, pool.stats().reserved());
        pool.release(c("10.244.9.0/24"));
        assertFalse(pool.isReserved(c("10.244.9.0/24")), "free, not reserved");
        assertEquals(256, pool.stats().free());
        pool.checkInvariants();
    }

    @Test
    void theMappedRangeOfAnIpv6PoolStaysReserved() {
        SubnetPool pool = SubnetPool.of(c("::/80"), 96);
        assertEquals(0, pool.unreserve(c("::/0")));
        assertTrue(pool.isReserved(SubnetPool.IPV4_MAPPED));
        pool.reserve(c("::/96"));
        assertEquals(1, pool.unreserve(c("::/0")));
        assertEquals(1, pool.stats().reserved());
        pool.checkInvariants();
    }

    @Test
    void aNodeHoldingOnlyAWideClaimIsInEveryView() {
        NodeIpam ipam = NodeIpam.builder().addPool(c("10.244.0.0/16"), 24).build();
        ipam.adopt("wide", List.of("10.244.8.0/22"));
        assertTrue(ipam.holdsAny("wide"));
        assertTrue(ipam.nodeNames().contains("wide"));
        assertEquals(1, ipam.nodeCount());
        assertEquals(Optional.of("wide"), ipam.holderOf(c("10.244.9.0/24")));
        assertEquals(List.of(c("10.244.8.0/22")), ipam.holdings().get("wide"), "four /24s as one block");
        ipam.adopt("plain", List.of("10.244.9.0/24"));
        assertEquals(List.of(c("10.244.8.0/24"), c("10.244.10.0/23")), ipam.holdings().get("wide"));
        assertFalse(ipam.snapshot().containsKey("wide"), "no subnet it could be written with");
        assertEquals(Optional.empty(), ipam.assignmentOf("wide"));
    }

    /** Random reserves, unreserves, occupies and releases against a model of reserved and allocated indices. */
    @Property(tries = 300)
    void unreserveAgreesWithAModel(@ForAll("operations") List<int[]> ops) {
        SubnetPool pool = SubnetPool.of(c("10.244.0.0/20"), 28); // 256 subnets
        TreeSet<Long> reserved = new TreeSet<>();
        TreeSet<Long> allocated = new TreeSet<>();
        for (int[] op : ops) {
            int bits = op[2] % 9; // ranges of 1 to 256 subnets
            long span = 1L << bits;
            long start = (op[1] & 0xFF) / span * span;
            Cidr range = Cidr.of(pool.subnet(start).address(), 28 - bits);
            switch (op[0]) {
                case 0 -> {
                    pool.reserve(range);
                    for (long i = start; i < start + span; i++) {
                        reserved.add(i);
                    }
                }
                case 1 -> {
                    long expectFreed = 0;
                    for (long i = start; i < start + span; i++) {
                        if (reserved.remove(i) && !allocated.contains(i)) {
                            expectFreed++;
                        }
                    }
                    assertEquals(expectFreed, pool.unreserve(range));
                }
                case 2 -> {
                    pool.occupy(pool.subnet(start));
                    allocated.add(start);
                }
                default -> {
                    pool.release(pool.subnet(start));
                    allocated.remove(start);
                }
            }
            pool.checkInvariants();
            long reservedOnly = reserved.stream().filter(i -> !allocated.contains(i)).count();
            assertEquals(allocated.size(), pool.stats().allocated());
            assertEquals(reservedOnly, pool.stats().reserved());
            for (long i = 0; i < 256; i++) {
                assertEquals(reserved.contains(i), pool.isReserved(pool.subnet(i)), "reserved " + i);
                assertEquals(allocated.contains(i), pool.isAllocated(pool.subnet(i)), "allocated " + i);
            }
        }
    }

    @Provide
    Arbitrary<List<int[]>> operations() {
        return Arbitraries.integers().between(0, 3).flatMap(verb -> Arbitraries.integers().between(0, 255)
                .flatMap(at -> Arbitraries.integers().between(0, 8).map(bits -> new int[] {verb, at, bits})))
                .list().ofMaxSize(30);
    }
}
