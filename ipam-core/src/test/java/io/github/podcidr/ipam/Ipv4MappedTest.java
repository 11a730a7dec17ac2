package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * IPv4-mapped IPv6 addresses ({@code ::ffff:0:0/96}) never enter or leave the library: pools do not hand out a
 * subnet the parser refuses, and {@link Cidr#of(InetAddress, int)} refuses mapped input in the forms it can see.
 */
class Ipv4MappedTest {

    private static byte[] mapped(int a, int b, int c, int d) {
        byte[] bytes = new byte[16];
        bytes[10] = (byte) 0xFF;
        bytes[11] = (byte) 0xFF;
        bytes[12] = (byte) a;
        bytes[13] = (byte) b;
        bytes[14] = (byte) c;
        bytes[15] = (byte) d;
        return bytes;
    }

    @Test
    void aPoolHandsOutOnlySubnetsTheParserReadsBack() {
        SubnetPool pool = SubnetPool.of(Cidr.parse("::/80"), 96); // 65,536 /96s, one of them ::ffff:0:0/96
        assertEquals(1, pool.stats().reserved(), "the mapped /96 is reserved from the start");
        assertTrue(pool.isReserved(SubnetPool.IPV4_MAPPED));
        long handedOut = 0;
        for (Optional<Cidr> c = pool.tryAllocate(); c.isPresent(); c = pool.tryAllocate()) {
            assertEquals(c.get(), Cidr.parse(c.get().toString()), "round trip of " + c.get());
            handedOut++;
        }
        assertEquals(65_535, handedOut);
        pool.checkInvariants();
    }

    @Test
    void longerSubnetsInsideTheMappedRangeAreAllReserved() {
        SubnetPool pool = SubnetPool.of(Cidr.parse("::/80"), 112); // the mapped /96 holds 2^16 of its /112s
        assertEquals(65_536, pool.stats().reserved());
        Cidr first = pool.subnet(0xFFFF_0000L);
        assertEquals("::ffff:0:0/112", first.toString());
        assertFalse(Cidr.isValid(first.toString()), "the parser refuses it");
        assertTrue(pool.isReserved(first));
        assertTrue(pool.isReserved(pool.subnet(0xFFFF_FFFFL)));
        assertFalse(pool.isReserved(pool.subnet(0xFFFE_FFFFL)));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"::/32>64", "fd00::/48>64", "::/96>112", "::/64>80"})
    void poolsWithoutMappedSubnetsReserveNothing(String shape) {
        String[] parts = shape.split(">");
        SubnetPool pool = SubnetPool.of(Cidr.parse(parts[0]), Integer.parseInt(parts[1]));
        assertEquals(0, pool.stats().reserved(), "subnets shorter than /96 that contain the range are ordinary");
    }

    @Test
    void nodeIpamNeverAssignsTheMappedSubnet() {
        NodeIpam ipam = NodeIpam.builder().addPool(Cidr.parse("::/80"), 96).build();
        assertEquals(1, ipam.stats().get(0).reserved());
        NodeReport r = ipam.adopt("n", java.util.List.of("::ffff:0:0/96"));
        assertEquals(NodeReport.Kind.MALFORMED, r.findings().get(0).kind(), "the parser refuses the value");
        assertTrue(ipam.holderOf(SubnetPool.IPV4_MAPPED).isEmpty());
    }

    @ParameterizedTest(name = "/{0}")
    @ValueSource(ints = {0, 80, 96, 112, 128})
    void ofRefusesAMappedInet6AddressAtAnyPrefixLength(int prefix) throws Exception {
        InetAddress v6 = Inet6Address.getByAddress(null, mapped(10, 244, 0, 0), -1);
        InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.of(v6, prefix));
        assertEquals(InvalidCidrException.Reason.IPV4_MAPPED, e.reason());
        assertTrue(e.getMessage().contains("use the IPv4 address, e.g. 10.244.0.0/"), e.getMessage());
    }

    @Test
    void ofRefusesAnInet4AddressMadeFromMappedText() throws Exception {
        InetAddress named = InetAddress.getByAddress("::ffff:10.244.0.0", mapped(10, 244, 0, 0));
        assertTrue(named instanceof Inet4Address, "the JDK turns it into IPv4");
        InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.of(named, 112));
        assertEquals(InvalidCidrException.Reason.IPV4_MAPPED, e.reason());
        assertEquals("\"::ffff:10.244.0.0/112\" is an IPv4-mapped IPv6 address (the JDK made it IPv4), which some"
                + " tools read as IPv4 and others as IPv6; give the IPv4 address, e.g. 10.244.0.0/16", e.getMessage());
    }

    @Test
    void theDocumentedLimitAMappedLiteralResolvedByTheJdkIsPlainIpv4() throws Exception {
        // getByName keeps no trace of the mapped form: it equals the IPv4 literal, so it is read as IPv4.
        InetAddress resolved = InetAddress.getByName("::ffff:10.244.0.0");
        assertEquals(InetAddress.getByName("10.244.0.0"), resolved);
        assertEquals(Cidr.parse("10.244.0.0/16"), Cidr.of(resolved, 16));
    }

    @Test
    void ordinaryAddressesStillWork() throws Exception {
        assertEquals(Cidr.parse("10.244.0.0/16"), Cidr.of(InetAddress.getByName("10.244.0.0"), 16));
        assertEquals(Cidr.parse("fd00::/8"), Cidr.of(InetAddress.getByName("fd00::"), 8));
        assertEquals(Cidr.parse("::/0"), Cidr.of(InetAddress.getByName("::"), 0));
    }
}
