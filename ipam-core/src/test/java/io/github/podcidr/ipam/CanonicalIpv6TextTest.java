package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link Cidr#isCanonicalIpv6} (the allocation-free check of the restore path) says "canonical" exactly for the text
 * {@link Cidr#formatIpv6} builds, on addresses with many zero groups and on respellings of them.
 */
class CanonicalIpv6TextTest {

    @Provide
    Arbitrary<long[]> addresses() {
        // each group zero half of the time, so that runs of zero groups of every length and position occur
        Arbitrary<Integer> group = Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(0, 0xFFFF));
        return group.list().ofSize(8).map(gs -> {
            long hi = 0;
            long lo = 0;
            for (int i = 0; i < 4; i++) {
                hi = hi << 16 | gs.get(i);
                lo = lo << 16 | gs.get(i + 4);
            }
            return new long[] {hi, lo};
        });
    }

    @Property(tries = 3000)
    void agreesWithTheFormatterOnTheCanonicalTextAndItsRespellings(@ForAll("addresses") long[] a,
                                                                   @ForAll @IntRange(min = 0, max = 128) int prefix) {
        String canonical = Cidr.formatIpv6(a[0], a[1]) + "/" + prefix;
        assertTrue(Cidr.isCanonicalIpv6(canonical, a[0], a[1], prefix), canonical);
        for (String v : respellings(a[0], a[1], prefix)) {
            assertEquals(v.equals(canonical), Cidr.isCanonicalIpv6(v, a[0], a[1], prefix), v + " vs " + canonical);
        }
    }

    @Property(tries = 1000)
    void theParserSharesOnlyACanonicalTextAsTheResultsText(@ForAll("addresses") long[] a,
                                                           @ForAll @IntRange(min = 0, max = 128) int prefix) {
        String canonical = Cidr.formatIpv6(a[0] & Cidr.hiMask(IpFamily.IPV6, prefix),
                a[1] & Cidr.loMask(IpFamily.IPV6, prefix)) + "/" + prefix;
        List<String> texts = respellings(a[0], a[1], prefix);
        texts.add(canonical);
        for (String text : texts) {
            CidrParser parser = new CidrParser(text);
            Cidr c = parser.parseLenient();
            if (c == null) {
                continue;
            }
            boolean nonCanonical = parser.nonCanonical(); // before anything formats the result
            String expected = Cidr.formatIpv6(c.hi(), c.lo()) + "/" + c.prefixLength(); // near misses: other CIDRs
            assertEquals(expected, c.toString(), text);
            assertEquals(!text.equals(expected), nonCanonical, text);
        }
        for (String v4 : List.of("10.0.0.0/024", "010.0.0.0/24", "10.0.0.1/24", "10.0.0.0/24")) {
            CidrParser parser = new CidrParser(v4);
            Cidr c = parser.parseLenient();
            boolean nonCanonical = parser.nonCanonical();
            assertEquals("10.0.0.0/24", c.toString(), v4);
            assertEquals(!v4.equals("10.0.0.0/24"), nonCanonical, v4);
        }
    }

    /** Other spellings of the same CIDR (upper case, every group written out, leading zeros) and near misses. */
    private static List<String> respellings(long hi, long lo, int prefix) {
        List<String> out = new ArrayList<>();
        StringBuilder full = new StringBuilder();
        StringBuilder padded = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            int g = (int) ((i < 4 ? hi : lo) >>> (48 - 16 * (i & 3))) & 0xFFFF;
            full.append(i == 0 ? "" : ":").append(Integer.toHexString(g));
            padded.append(i == 0 ? "" : ":").append(String.format("%04x", g));
        }
        String canonical = Cidr.formatIpv6(hi, lo);
        out.add(full + "/" + prefix);
        out.add(padded + "/" + prefix);
        out.add(canonical.toUpperCase(Locale.ROOT) + "/" + prefix);
        out.add(canonical + "/0" + prefix);
        out.add(canonical + "/" + prefix + "0");
        out.add(canonical);
        out.add(canonical + ":/" + prefix);
        return out;
    }
}
