package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import io.github.podcidr.ipam.InvalidCidrException.Reason;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * {@link Cidr#parseLenient(String)} against an oracle written here from Go 1.16's {@code net.ParseCIDR} rules (what
 * Kubernetes' {@code ParseCIDRSloppy} is): split at the first '/'; the prefix length is ASCII decimal digits, leading
 * zeros allowed; the address is IPv4 if it splits on '.' into four ASCII decimal numbers of at most 255 (leading
 * zeros allowed, read as decimal), else IPv6: hex groups of at most ffff with any number of leading zeros, at most
 * one '::' standing for at least one group, an IPv4 tail only as the last element; host bits masked. The oracle works
 * on {@link BigInteger} and {@code String.split}, nothing shared with the parser. Inputs: generated non-canonical
 * spellings of random networks, and mutations of them (most invalid).
 */
class CidrLenientPropertiesTest {

    /** What Go reads: the family's width in bits, the network (host bits masked) and the prefix length. */
    record GoCidr(int bits, BigInteger network, int prefix) {
        boolean ipv4Mapped() {
            return bits == 128 && prefix >= 96 && network.shiftRight(32).equals(BigInteger.valueOf(0xFFFF));
        }
    }

    /** Go 1.16 net.ParseCIDR, or null where it returns an error. */
    static GoCidr goParseCidr(String s) {
        int slash = s.indexOf('/');
        if (slash < 0) {
            return null;
        }
        String address = s.substring(0, slash);
        String mask = s.substring(slash + 1);
        BigInteger value = goParseIpv4(address);
        int bits = 32;
        if (value == null) {
            value = goParseIpv6(address);
            bits = 128;
        }
        if (value == null || !asciiDigits(mask)) {
            return null;
        }
        BigInteger prefix = new BigInteger(mask);
        if (prefix.compareTo(BigInteger.valueOf(bits)) > 0) {
            return null;
        }
        int n = prefix.intValue();
        BigInteger hostMask = BigInteger.ONE.shiftLeft(bits - n).subtract(BigInteger.ONE);
        return new GoCidr(bits, value.andNot(hostMask), n);
    }

    private static boolean asciiDigits(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static boolean asciiHex(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                || (c >= 'A' && c <= 'F'));
    }

    static BigInteger goParseIpv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        BigInteger value = BigInteger.ZERO;
        for (String part : parts) {
            if (!asciiDigits(part) || new BigInteger(part).compareTo(BigInteger.valueOf(255)) > 0) {
                return null;
            }
            value = value.shiftLeft(8).or(new BigInteger(part));
        }
        return value;
    }

    static BigInteger goParseIpv6(String s) {
        List<String> left;
        List<String> right;
        boolean ellipsis = s.contains("::");
        if (ellipsis) {
            int at = s.indexOf("::");
            if (s.indexOf("::", at + 1) >= 0) {
                return null;
            }
            left = elements(s.substring(0, at));
            right = elements(s.substring(at + 2));
        } else {
            left = elements(s);
            right = List.of();
        }
        List<String> all = new ArrayList<>(left);
        all.addAll(right);
        List<BigInteger> groups = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            String e = all.get(i);
            boolean last = i == all.size() - 1 && (right.isEmpty() ? !ellipsis : true);
            if (e.contains(".")) {
                BigInteger v4 = last ? goParseIpv4(e) : null;
                if (v4 == null) {
                    return null;
                }
                groups.add(v4.shiftRight(16));
                groups.add(v4.and(BigInteger.valueOf(0xFFFF)));
            } else if (asciiHex(e) && new BigInteger(e, 16).compareTo(BigInteger.valueOf(0xFFFF)) <= 0) {
                groups.add(new BigInteger(e, 16));
            } else {
                return null;
            }
        }
        int missing = 8 - groups.size();
        if (ellipsis ? missing < 1 : missing != 0) {
            return null;
        }
        BigInteger value = BigInteger.ZERO;
        int leftGroups = groups.size() - countGroups(right);
        for (int i = 0; i < groups.size(); i++) {
            if (i == leftGroups) {
                value = value.shiftLeft(16 * missing);
            }
            value = value.shiftLeft(16).or(groups.get(i));
        }
        if (leftGroups == groups.size()) {
            value = value.shiftLeft(16 * missing);
        }
        return value;
    }

    /** Elements between single colons; an empty string has none; null elements mark an empty one (invalid). */
    private static List<String> elements(String s) {
        if (s.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String e : s.split(":", -1)) {
            out.add(e); // an empty element fails asciiHex
        }
        return out;
    }

    private static int countGroups(List<String> elements) {
        int n = 0;
        for (String e : elements) {
            n += e.contains(".") ? 2 : 1;
        }
        return n;
    }

    // ---- generated inputs ----------------------------------------------------------------------------------------

    private static Arbitrary<String> zeros() {
        return Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.just("")), Tuple.of(2, Arbitraries.just("0")),
                Tuple.of(1, Arbitraries.strings().withChars('0').ofMinLength(2).ofMaxLength(12)));
    }

    private static Arbitrary<String> prefixText(int bits) {
        return Combinators.combine(zeros(), Arbitraries.integers().between(0, bits)).as((z, n) -> z + n);
    }

    /** IPv4 with random octets (host bits often set), each octet and the prefix with optional leading zeros. */
    @Provide
    Arbitrary<String> ipv4Spellings() {
        Arbitrary<String> octet = Combinators.combine(zeros(), Arbitraries.integers().between(0, 255))
                .as((z, v) -> z + v);
        return Combinators.combine(octet, octet, octet, octet, prefixText(32))
                .as((a, b, c, d, p) -> a + "." + b + "." + c + "." + d + "/" + p);
    }

    /** IPv6: random groups, biased to zero, written with padding, random case, optional '::' and dotted tail. */
    @Provide
    Arbitrary<String> ipv6Spellings() {
        Arbitrary<Integer> group = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.just(0xFFFF)), Tuple.of(4, Arbitraries.integers().between(0, 0xFFFF)));
        Arbitrary<List<Integer>> groups = group.list().ofSize(8);
        Arbitrary<List<String>> pads = zeros().list().ofSize(8);
        return Combinators.combine(groups, pads, Arbitraries.integers().between(-1, 8),
                        Arbitraries.integers().between(0, 8), Arbitraries.of(true, false), Arbitraries.of(0, 1, 2),
                        prefixText(128), Arbitraries.of(false, true))
                .as((g, pad, compressAt, compressLength, upper, mapped, prefix, dotted) -> {
                    List<Integer> values = new ArrayList<>(g);
                    if (mapped == 0) { // plant the IPv4-mapped prefix now and then
                        for (int i = 0; i < 5; i++) {
                            values.set(i, 0);
                        }
                        values.set(5, 0xFFFF);
                    }
                    List<String> texts = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        String hex = Integer.toHexString(values.get(i));
                        texts.add(pad.get(i) + (upper ? hex.toUpperCase(Locale.ROOT) : hex));
                    }
                    if (dotted) { // last two groups as a dotted quad, octets maybe zero-padded
                        int a = values.get(6);
                        int b = values.get(7);
                        texts.set(6, pad.get(6) + (a >>> 8) + "." + (a & 0xFF) + "." + pad.get(7) + (b >>> 8) + "."
                                + (b & 0xFF));
                        texts.remove(7);
                    }
                    int start = Math.max(0, Math.min(compressAt, texts.size()));
                    int end = compressAt < 0 ? start : Math.min(texts.size(), start + compressLength);
                    StringBuilder sb = new StringBuilder();
                    if (compressAt >= 0 && end > start) {
                        sb.append(String.join(":", texts.subList(0, start))).append("::")
                                .append(String.join(":", texts.subList(end, texts.size())));
                    } else {
                        sb.append(String.join(":", texts));
                    }
                    return sb + "/" + prefix;
                });
    }

    /** A valid-looking spelling with one to three edits from characters that matter to a CIDR parser. */
    @Provide
    Arbitrary<String> mutations() {
        Arbitrary<String> base = Arbitraries.oneOf(ipv4Spellings(), ipv6Spellings());
        Arbitrary<String> piece = Arbitraries.of("0", "1", "9", "00", "a", "F", "g", ":", "::", ".", "/", "%", " ",
                "\u0661", "\uff11", "\u0000", "-", "+", "x", "256", "fffff", "10000");
        Arbitrary<int[]> edit = Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 60)).as((k, at) -> new int[] {k, at});
        return Combinators.combine(base, edit.list().ofMinSize(1).ofMaxSize(3), piece.list().ofSize(3))
                .as((s, edits, pieces) -> {
                    String out = s;
                    for (int i = 0; i < edits.size(); i++) {
                        int at = edits.get(i)[1] % (out.length() + 1);
                        out = switch (edits.get(i)[0]) {
                            case 0 -> out.substring(0, at) + pieces.get(i) + out.substring(at);
                            case 1 -> at < out.length() ? out.substring(0, at) + out.substring(at + 1) : out;
                            default -> at < out.length()
                                    ? out.substring(0, at) + pieces.get(i) + out.substring(at + 1) : out;
                        };
                    }
                    return out;
                });
    }

    // ---- properties ------------------------------------------------------------------------------------------------

    @Property(tries = 3000)
    void ipv4SpellingsReadAsGoReadsThem(@ForAll("ipv4Spellings") String text) {
        agreesWithTheOracle(text, true);
    }

    @Property(tries = 3000)
    void ipv6SpellingsReadAsGoReadsThem(@ForAll("ipv6Spellings") String text) {
        agreesWithTheOracle(text, true);
    }

    @Property(tries = 6000)
    void mutatedSpellingsAreAcceptedExactlyWhenGoAcceptsThem(@ForAll("mutations") String text) {
        GoCidr go = goParseCidr(text);
        Statistics.collect(go == null ? "refused" : go.ipv4Mapped() ? "mapped" : "accepted");
        agreesWithTheOracle(text, false);
        Statistics.coverage(checker -> {
            checker.check("accepted").percentage(p -> p > 10);
            checker.check("refused").percentage(p -> p > 30);
        });
    }

    /** The oracle itself on Go's own examples (its net package tests and Kubernetes' fork of them). */
    @Test
    void theOracleAgreesWithGoOnKnownExamples() {
        assertEquals(new GoCidr(32, BigInteger.valueOf(0x7F010203L), 32), goParseCidr("127.001.002.003/32"));
        assertEquals(new GoCidr(32, BigInteger.valueOf(0x7F070809L), 32), goParseCidr("127.007.008.009/32"));
        assertEquals(new GoCidr(32, BigInteger.valueOf(0x0A000000L), 8), goParseCidr("10.1.2.3/008"));
        GoCidr mapped = goParseCidr("0:0:0:0:000000:ffff:127.1.2.3/128");
        assertNotNull(mapped);
        assertEquals(true, mapped.ipv4Mapped());
        assertEquals(new BigInteger("20014860000020010000000000000068", 16),
                goParseCidr("2001:4860:0:2001::68/128").network());
        for (String refused : new String[] {"-0.0.0.0/0", "0.-1.0.0/8", "127.0.0.256/32", "abc/8", "123:/8",
            "fe80::1%lo0/64", "/8", "1.2.3.4", "1.2.3.4/33", "::/129", "1.2.3.4::/8", "::1.2.3.4:1/128",
            "1:2:3:4:5:6:7:1.2.3.4/128", "1::2:3:4:5:6:7:8/128", ":::/0", ":1::/8", "1:/8", "10000::/8",
            "1.2.3.4/+8", "1.2.3.4/8/8", " 1.2.3.4/8"}) {
            assertNull(goParseCidr(refused), refused);
        }
        assertNotNull(goParseCidr("::1.2.3.4/128"));
        assertNotNull(goParseCidr("1:2:3:4:5:6:1.2.3.4/128"));
        assertNotNull(goParseCidr("1::2:3:4:5:1.2.3.4/128"));
        assertNull(goParseCidr("1::2:3:4:5:6:1.2.3.4/128"));
    }

    private static void agreesWithTheOracle(String text, boolean generatedValid) {
        GoCidr go = goParseCidr(text);
        CidrParser parser = new CidrParser(text);
        Cidr c = parser.parseLenient();
        if (generatedValid) {
            assertNotNull(go, () -> "the generator made something Go refuses: " + text);
        }
        if (go == null) {
            assertNull(c, () -> "Go refuses " + text + " but lenient read " + c);
            assertNotNull(parser.reason());
            return;
        }
        if (go.ipv4Mapped()) {
            assertNull(c, () -> "IPv4-mapped " + text + " was accepted as " + c);
            assertEquals(Reason.IPV4_MAPPED, parser.reason(), parser::error);
            return;
        }
        assertNotNull(c, () -> "Go reads " + text + " but lenient refused: " + parser.error());
        assertEquals(go.bits(), c.family().bits(), text);
        assertEquals(go.prefix(), c.prefixLength(), text);
        assertArrayEquals(bytes(go.network(), go.bits() / 8), c.address().getAddress(), text);
        // the canonical text as an independent library writes the same block
        IPAddress block = new IPAddressString(text.substring(0, 0) + toText(go)).getAddress();
        assertEquals(block.toCanonicalString(), c.toString(), text);
        assertEquals(!text.equals(c.toString()), parser.nonCanonical(), text);
        CidrParser strict = new CidrParser(text);
        Cidr s = strict.parse();
        if (s != null) {
            assertEquals(s, c, () -> "strict and lenient disagree on " + text);
        }
    }

    private static String toText(GoCidr go) {
        byte[] b = bytes(go.network(), go.bits() / 8);
        IPAddress a = go.bits() == 32 ? new inet.ipaddr.ipv4.IPv4Address(b) : new inet.ipaddr.ipv6.IPv6Address(b);
        return a.toCanonicalString() + "/" + go.prefix();
    }

    private static byte[] bytes(BigInteger value, int length) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[length];
        int copy = Math.min(raw.length, length);
        System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
        return out;
    }
}
