package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            10.244.0.0/16                              | 10.244.0.0/16            | IPV4 | 16
            0.0.0.0/0                                  | 0.0.0.0/0                | IPV4 | 0
            255.255.255.255/32                         | 255.255.255.255/32       | IPV4 | 32
            fd00:10:244::/56                           | fd00:10:244::/56         | IPV6 | 56
            FD00:0010:0244:0000:0000:0000:0000:0000/56 | fd00:10:244::/56         | IPV6 | 56
            ::/0                                       | ::/0                     | IPV6 | 0
            ::1/128                                    | ::1/128                  | IPV6 | 128
            1:0:0:1:0:0:0:0/64                         | 1:0:0:1::/64             | IPV6 | 64
            1:0:0:2:0:0:3:0/128                        | 1::2:0:0:3:0/128         | IPV6 | 128
            2001:db8:0:0:1:0:0:0/80                    | 2001:db8:0:0:1::/80      | IPV6 | 80
            2001:db8:0:0:1:0:0:1/128                   | 2001:db8::1:0:0:1/128    | IPV6 | 128
            2001:db8:0:1:1:1:1:0/127                   | 2001:db8:0:1:1:1:1:0/127 | IPV6 | 127
            64:ff9b::10.0.0.0/120                      | 64:ff9b::a00:0/120       | IPV6 | 120
            ::10.0.0.0/104                             | ::a00:0/104              | IPV6 | 104
            ffff::/16                                  | ffff::/16                | IPV6 | 16
            """)
    void parsesAndPrintsCanonically(String input, String canonical, IpFamily family, int prefix) {
        Cidr c = Cidr.parse(input);
        assertEquals(canonical, c.toString());
        assertEquals(family, c.family());
        assertEquals(prefix, c.prefixLength());
        assertEquals(c, Cidr.parse(canonical));
        assertTrue(Cidr.isValid(input));
    }

    /** Every refusal quotes the input and says what to write; one row per kind of mistake. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            ''                       | '"" is empty; expected a CIDR such as 10.244.0.0/16 or fd00:10:244::/56'
            ' 10.0.0.0/8'            | '" 10.0.0.0/8" contains whitespace; remove it (expected e.g. 10.244.0.0/16)'
            '10.0.0.0/8\n'           | 'contains whitespace; remove it'
            10.0.0.1/8               | '"10.0.0.1/8" has host bits set; the network is 10.0.0.0/8'
            fd00::1/64               | '"fd00::1/64" has host bits set; the network is fd00::/64'
            010.0.0.0/8              | '"010.0.0.0/8" has a leading zero in octet "010"; some tools read such octets as octal, so they are not accepted: write 10.0.0.0/8 if the octets are decimal'
            10.0.00.0/16             | 'leading zero in octet "00"'
            64:ff9b::010.0.0.0/120   | '"64:ff9b::010.0.0.0/120" has a leading zero in octet "010"; some tools read such octets as octal, so they are not accepted: write 64:ff9b::10.0.0.0/120 if the octets are decimal'
            fe80::%eth0/64           | '"fe80::%eth0/64" has a zone (%eth0); a CIDR has none: write fe80::/64'
            10.0.0.0                 | '"10.0.0.0" has no prefix length; expected <address>/<prefix length>, e.g. 10.244.0.0/16'
            fd00::                   | '"fd00::" has no prefix length; expected <address>/<prefix length>, e.g. fd00:10:244::/56'
            10.0.0.0/                | '"10.0.0.0/" has an empty prefix length after ''/''; expected 0 to 32'
            10.0.0.0/33              | '"10.0.0.0/33" has prefix length 33; IPV4 allows 0 to 32'
            fd00::/129               | '"fd00::/129" has prefix length 129; IPV6 allows 0 to 128'
            10.0.0.0/08              | '"10.0.0.0/08" has prefix length "08" with a leading zero; write 10.0.0.0/8'
            10.0.0.0/x               | '"10.0.0.0/x" has prefix length "x", which is not a decimal number; expected 0 to 32'
            10.0.0.0/-1              | 'which is not a decimal number'
            10.0.0.0/99999999999     | 'has prefix length 99999999999; IPV4 allows 0 to 32'
            10.0.0.0/8/8             | 'has more than one ''/'''
            10.0.0/8                 | '"10.0.0/8" is not an IPv4 CIDR; expected four decimal octets 0 to 255 separated by dots and a prefix length, e.g. 10.244.0.0/16'
            10.0.0.0.0/8             | 'is not an IPv4 CIDR'
            10.256.0.0/16            | '"10.256.0.0/16" has octet 256, out of the range 0 to 255'
            10.1234.0.0/16           | 'has octet 1234, out of the range 0 to 255'
            0x0a.0.0.0/8             | 'is not an IPv4 CIDR'
            10..0.0/8                | 'is not an IPv4 CIDR'
            ::ffff:10.244.0.0/112    | '"::ffff:10.244.0.0/112" is an IPv4-mapped IPv6 prefix, which some tools read as IPv4 and others as IPv6; write the IPv4 form 10.244.0.0/16'
            ::ffff:0:0/96            | 'write the IPv4 form 0.0.0.0/0'
            fd00:::/64               | 'is not an IPv6 CIDR: the address has an empty group'
            fd00::1::/64             | 'has more than one ''::'''
            fd00:12345::/64          | 'has group "12345" of more than four hex digits'
            fd00:g::/64              | 'contains ''g'', which is not a hexadecimal digit'
            1:2:3:4:5:6:7:8:9/128    | 'has more than eight groups'
            1:2:3:4:5:6:7/128        | 'has 7 groups; an IPv6 address has eight, or fewer with ''::'''
            1:2:3:4::5:6:7:8/128     | 'which must stand for at least one group'
            :1::/64                  | 'starts with a single '':'''
            1:2:3:4:5:6:7:/128       | 'ends with a single '':'''
            ::1.2.3/128              | 'its dotted part "1.2.3" is not an IPv4 address'
            1:2:3:4:5:6:7:1.2.3.4/128 | 'has too many groups before its dotted quad'
            """)
    void rejectsWithActionableMessage(String input, String expectedMessagePart) {
        String in = input.replace("\\n", "\n");
        InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.parse(in));
        assertTrue(e.getMessage().contains(expectedMessagePart),
                () -> "message was: " + e.getMessage() + "\nexpected it to contain: " + expectedMessagePart);
        assertEquals(in, e.input());
        assertFalse(Cidr.isValid(in));
    }

    @Test
    void rejectsNull() {
        InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.parse(null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
        assertFalse(Cidr.isValid(null));
    }

    @ParameterizedTest(name = "{0} contains {1}: {2}, overlaps: {3}")
    @CsvSource(delimiter = '|', textBlock = """
            10.244.0.0/16    | 10.244.3.0/24    | true  | true
            10.244.3.0/24    | 10.244.0.0/16    | false | true
            10.244.0.0/16    | 10.244.0.0/16    | true  | true
            10.244.0.0/16    | 10.245.0.0/16    | false | false
            0.0.0.0/0        | 192.168.1.1/32   | true  | true
            10.0.0.0/8       | fd00::/8         | false | false
            fd00:10:244::/56 | fd00:10:244:ff::/64 | true | true
            fd00:10:244::/56 | fd00:10:245::/64 | false | false
            ::/0             | ::/0             | true  | true
            """)
    void containsAndOverlaps(String a, String b, boolean contains, boolean overlaps) {
        Cidr x = Cidr.parse(a);
        Cidr y = Cidr.parse(b);
        assertEquals(contains, x.contains(y));
        assertEquals(overlaps, x.overlaps(y));
        assertEquals(overlaps, y.overlaps(x));
    }

    @Test
    void ordersIpv4FirstThenByAddressThenShorterPrefixFirst() {
        List<Cidr> sorted = new ArrayList<>();
        for (String s : List.of("fd00::/8", "10.0.0.0/8", "10.0.0.0/16", "9.0.0.0/8", "128.0.0.0/1", "::/0",
                "ff00::/8")) {
            sorted.add(Cidr.parse(s));
        }
        Collections.sort(sorted);
        assertEquals("[9.0.0.0/8, 10.0.0.0/8, 10.0.0.0/16, 128.0.0.0/1, ::/0, fd00::/8, ff00::/8]",
                sorted.toString());
    }

    @Test
    void equalsAndHashCodeFollowValue() {
        Cidr a = Cidr.parse("fd00:0:0::/48");
        Cidr b = Cidr.parse("FD00::/48");
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertFalse(a.equals(Cidr.parse("fd00::/49")));
        assertFalse(Cidr.parse("0.0.0.0/0").equals(Cidr.parse("::/0")));
    }
}
