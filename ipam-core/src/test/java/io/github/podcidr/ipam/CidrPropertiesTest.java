package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import inet.ipaddr.IPAddress;
import inet.ipaddr.ipv4.IPv4Address;
import inet.ipaddr.ipv6.IPv6Address;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Cross-checks {@link Cidr} against the IPAddress library (com.github.seancfoley:ipaddress), an independent
 * implementation, on generated IPv4 and IPv6 prefixes: canonical text, round trips, host-bit errors, containment
 * and overlap.
 */
class CidrPropertiesTest {

    /**
     * A generated prefix as the oracle sees it: {@code address} is the raw address (host bits possibly set, no
     * prefix length), {@code prefix} the prefix length.
     */
    record Generated(IPAddress address, int prefix) {
        IPAddress block() {
            return address.toPrefixBlock(prefix);
        }

        String canonical() {
            return block().toCanonicalString();
        }

        boolean isIpv4() {
            return address.isIPv4();
        }
    }

    @Provide
    Arbitrary<Generated> prefixes() {
        return Arbitraries.oneOf(ipv4(), ipv6());
    }

    private Arbitrary<Generated> ipv4() {
        return Combinators.combine(Arbitraries.integers().between(Integer.MIN_VALUE, Integer.MAX_VALUE),
                        Arbitraries.integers().between(0, 32))
                .as((bits, prefix) -> new Generated(new IPv4Address(bits), prefix));
    }

    private Arbitrary<Generated> ipv6() {
        // Bytes biased towards 0 so that zero runs (and "::") are common.
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofSize(16)
                .map(b -> {
                    for (int i = 0; i < b.length; i++) {
                        if ((b[i] & 0x30) == 0x30) {
                            b[i] = 0;
                        }
                    }
                    return b;
                });
        return Combinators.combine(bytes, Arbitraries.integers().between(0, 128))
                .as((b, prefix) -> new Generated(new IPv6Address(b), prefix))
                .filter(g -> !((IPv6Address) g.address()).isIPv4Mapped());
    }

    @Property(tries = 3000)
    void canonicalTextAgreesWithTheOracleAndRoundTrips(@ForAll("prefixes") Generated g) {
        Cidr c = Cidr.parse(g.canonical());
        assertEquals(g.canonical(), c.toString());
        assertEquals(g.prefix(), c.prefixLength());
        assertEquals(g.isIpv4() ? IpFamily.IPV4 : IpFamily.IPV6, c.family());
        assertEquals(c, Cidr.parse(c.toString()));
    }

    @Property(tries = 2000)
    void otherWritingsOfTheSameNetworkParseToTheSameCidr(@ForAll("prefixes") Generated g) {
        Cidr canonical = Cidr.parse(g.canonical());
        IPAddress block = g.block().getLower();
        String address = block.toNormalizedString();
        if (address.indexOf('/') >= 0) {
            address = address.substring(0, address.indexOf('/'));
        }
        assertEquals(canonical, Cidr.parse(address + "/" + g.prefix()));
        assertEquals(canonical, Cidr.parse(address.toUpperCase(Locale.ROOT) + "/" + g.prefix()));
        if (!g.isIpv4()) {
            String full = block.toFullString();
            if (full.indexOf('/') >= 0) {
                full = full.substring(0, full.indexOf('/'));
            }
            assertEquals(canonical, Cidr.parse(full + "/" + g.prefix()));
        }
    }

    @Property(tries = 2000)
    void hostBitsAreRefusedWithTheOraclesNetwork(@ForAll("prefixes") Generated g) {
        String raw = g.address().toCanonicalString() + "/" + g.prefix();
        boolean hostBitsSet = !g.address().equals(g.block().getLower().withoutPrefixLength());
        if (hostBitsSet) {
            InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.parse(raw));
            assertTrue(e.getMessage().endsWith("has host bits set; the network is " + g.canonical()),
                    e.getMessage());
        } else {
            assertEquals(g.canonical(), Cidr.parse(raw).toString());
        }
    }

    @Provide
    Arbitrary<Generated[]> relatedPairs() {
        // The second prefix is derived from the first so that containment happens often.
        return prefixes().flatMap(a -> {
            int bits = a.isIpv4() ? 32 : 128;
            return Combinators.combine(Arbitraries.integers().between(0, bits), Arbitraries.integers().between(0, bits),
                    Arbitraries.integers().between(0, bits)).as((flip, flip2, prefix) -> {
                        byte[] b = a.address().getBytes();
                        if (flip < bits) {
                            b[flip / 8] ^= (byte) (0x80 >>> (flip % 8));
                        }
                        if (flip2 < bits && flip2 > flip) {
                            b[flip2 / 8] ^= (byte) (0x80 >>> (flip2 % 8));
                        }
                        IPAddress other = a.isIpv4()
                                ? new IPv4Address(b)
                                : new IPv6Address(b);
                        return new Generated[] {a, new Generated(other, prefix)};
                    });
        }).filter(p -> p[1].isIpv4() || !((IPv6Address) p[1].address()).isIPv4Mapped());
    }

    @Property(tries = 3000)
    void containsAndOverlapsAgreeWithTheOracle(@ForAll("relatedPairs") Generated[] pair) {
        Cidr a = Cidr.parse(pair[0].canonical());
        Cidr b = Cidr.parse(pair[1].canonical());
        assertEquals(pair[0].block().contains(pair[1].block()), a.contains(b), () -> a + " contains " + b);
        assertEquals(pair[1].block().contains(pair[0].block()), b.contains(a), () -> b + " contains " + a);
        assertEquals(pair[0].block().overlaps(pair[1].block()), a.overlaps(b), () -> a + " overlaps " + b);
        assertEquals(Integer.signum(pair[0].block().getLower().compareTo(pair[1].block().getLower())) == 0
                && a.prefixLength() == b.prefixLength(), a.compareTo(b) == 0);
    }

    @Property(tries = 500)
    void familiesNeverContainOneAnother(@ForAll("prefixes") Generated x, @ForAll("prefixes") Generated y) {
        Cidr a = Cidr.parse(x.canonical());
        Cidr b = Cidr.parse(y.canonical());
        if (a.family() != b.family()) {
            assertTrue(!a.contains(b) && !a.overlaps(b) && Integer.signum(a.compareTo(b))
                    == (a.family() == IpFamily.IPV4 ? -1 : 1));
        }
    }
}
