package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.ipam.InvalidCidrException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reason codes of both parsers, the lenient reading on examples (the property test covers generated inputs), the
 * ASCII-only rule and the quoting of untrusted input in messages.
 */
class CidrReasonTest {

    /** Input (\\n, \\t, \\0 and \\u escapes decoded), strict reason, lenient reason or the lenient result. */
    @ParameterizedTest(name = "[{index}] {0}: strict {1}, lenient {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            ''                       | EMPTY         | EMPTY
            ' 10.0.0.0/8'            | WHITESPACE    | WHITESPACE
            '10.0.0.0/8\\n'          | WHITESPACE    | WHITESPACE
            '10.0.0.0/8\\u2003'      | WHITESPACE    | WHITESPACE
            '10.0.0.0/8\\u00a0'      | WHITESPACE    | WHITESPACE
            fe80::%eth0/64           | ZONE          | ZONE
            fe80::1%1/128            | ZONE          | ZONE
            'fd00:\\u0661\\u0660::/32' | NON_ASCII   | NON_ASCII
            '1\\u0660.0.0.0/8'       | NON_ASCII     | NON_ASCII
            '10.0.0.0/\\u0662\\u0664' | NON_ASCII    | NON_ASCII
            '10.0.0.0/8\\0'          | NON_ASCII     | NON_ASCII
            '10.0.0.0/8\\u007f'      | NON_ASCII     | NON_ASCII
            'fd00:\\uff10::/32'      | NON_ASCII     | NON_ASCII
            10.0.0.0                 | NO_PREFIX     | NO_PREFIX
            10.0.0.0/                | BAD_PREFIX    | BAD_PREFIX
            10.0.0.0/33              | BAD_PREFIX    | BAD_PREFIX
            10.0.0.0/033             | LEADING_ZERO  | BAD_PREFIX
            10.0.0.0/8/8             | BAD_PREFIX    | BAD_PREFIX
            10.0.0.0/+8              | BAD_PREFIX    | BAD_PREFIX
            10.0.0.0/-0              | BAD_PREFIX    | BAD_PREFIX
            fd00::/129               | BAD_PREFIX    | BAD_PREFIX
            fd00::/0129              | LEADING_ZERO  | BAD_PREFIX
            10.256.0.0/16            | BAD_ADDRESS   | BAD_ADDRESS
            10.0256.0.0/16           | LEADING_ZERO  | BAD_ADDRESS
            0x0a.0.0.0/8             | BAD_ADDRESS   | BAD_ADDRESS
            10.0.0/8                 | BAD_ADDRESS   | BAD_ADDRESS
            fd00:g::/64              | BAD_ADDRESS   | BAD_ADDRESS
            fd00:10000::/32          | BAD_ADDRESS   | BAD_ADDRESS
            fd00:0ffff::/32          | BAD_ADDRESS   | fd00:ffff::/32
            ::ffff:10.244.0.0/112    | IPV4_MAPPED   | IPV4_MAPPED
            ::ffff:10.244.0.7/112    | IPV4_MAPPED   | IPV4_MAPPED
            ::ffff:0:0/96            | IPV4_MAPPED   | IPV4_MAPPED
            ::ffff:10.244.0.0/64     | HOST_BITS_SET | ::/64
            10.244.5.7/24            | HOST_BITS_SET | 10.244.5.0/24
            010.244.005.000/24       | LEADING_ZERO  | 10.244.5.0/24
            010.0.0.0/8              | LEADING_ZERO  | 10.0.0.0/8
            000000000010.0.0.0/8     | LEADING_ZERO  | 10.0.0.0/8
            10.0.0.0/0008            | LEADING_ZERO  | 10.0.0.0/8
            10.0.0.0/00              | LEADING_ZERO  | 0.0.0.0/0
            10.1.2.3/0               | HOST_BITS_SET | 0.0.0.0/0
            fd00::1/64               | HOST_BITS_SET | fd00::/64
            FD00:0010:0244::0001/56  | HOST_BITS_SET | fd00:10:244::/56
            fd00:000010::/32         | BAD_ADDRESS   | fd00:10::/32
            0:0:0:0:000000:0:0:0/0   | BAD_ADDRESS   | ::/0
            64:ff9b::010.000.000.000/120 | LEADING_ZERO | 64:ff9b::a00:0/120
            64:ff9b::10.0.0.7/120    | HOST_BITS_SET | 64:ff9b::a00:0/120
            """)
    void reasonsOfBothParsers(String raw, Reason strict, String lenient) {
        String input = decode(raw);
        InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.parse(input));
        assertEquals(strict, e.reason(), e::getMessage);
        assertEquals(input, e.input());

        CidrParser parser = new CidrParser(input);
        Cidr c = parser.parseLenient();
        if (lenient.equals(lenient.toUpperCase()) && !lenient.contains("/")) {
            assertNull(c, () -> "lenient accepted " + c);
            assertEquals(Reason.valueOf(lenient), parser.reason(), parser::error);
            InvalidCidrException l = assertThrows(InvalidCidrException.class, () -> Cidr.parseLenient(input));
            assertEquals(Reason.valueOf(lenient), l.reason());
            assertEquals(parser.error(), l.getMessage());
        } else {
            assertEquals(lenient, String.valueOf(c), parser::error);
            assertEquals(Cidr.parse(lenient), Cidr.parseLenient(input));
            assertTrue(parser.nonCanonical(), "every row that strict refuses is a non-canonical spelling");
            assertTrue(parser.nonCanonicalDetail().endsWith("; read as " + lenient), parser.nonCanonicalDetail());
        }
    }

    @Test
    void nonAsciiDigitsAreRefusedWhereCharacterDigitWouldHaveReadThem() {
        // U+0661 U+0660 are Arabic-Indic one and zero: Character.digit(c, 16) reads them as 1 and 0.
        InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.parse("fd00:\u0661\u0660::/32"));
        assertEquals(Reason.NON_ASCII, e.reason());
        assertEquals("\"fd00:\u0661\u0660::/32\" contains the non-ASCII digit U+0661 (ARABIC-INDIC DIGIT ONE) at index"
                + " 5; a CIDR is written in ASCII only: digits 0-9, hex letters a-f, '.', ':' and '/', e.g. 10.244.0.0/16",
                e.getMessage());
        assertFalse(Cidr.isValid("fd00:\u0661\u0660::/32"));
    }

    @Test
    void canonicalTextsAreCanonicalForBothParsers() {
        for (String s : new String[] {"10.244.0.0/16", "fd00:10:244::/56", "::/0", "64:ff9b::a00:0/120"}) {
            CidrParser strict = new CidrParser(s);
            assertEquals(s, strict.parse().toString());
            assertFalse(strict.nonCanonical());
            CidrParser lenient = new CidrParser(s);
            assertEquals(s, lenient.parseLenient().toString());
            assertFalse(lenient.nonCanonical());
            assertNull(lenient.nonCanonicalDetail());
        }
        CidrParser upper = new CidrParser("FD00::/8");
        assertEquals("fd00::/8", upper.parse().toString());
        assertTrue(upper.nonCanonical(), "strict accepts upper case, which is not the canonical text");
        assertEquals("\"FD00::/8\" is not canonical (not in canonical form); read as fd00::/8",
                upper.nonCanonicalDetail());
        CidrParser both = new CidrParser("10.244.05.7/24");
        both.parseLenient();
        assertEquals("\"10.244.05.7/24\" is not canonical (host bits set, leading zeros); read as 10.244.5.0/24",
                both.nonCanonicalDetail());
    }

    @Test
    void aParserParsesOnceAndAnswersNonCanonicalOnlyAfterSuccess() {
        CidrParser p = new CidrParser("x");
        assertNull(p.parseLenient());
        assertThrows(IllegalStateException.class, p::nonCanonical);
        assertThrows(IllegalStateException.class, p::parse);
    }

    @Test
    void untrustedInputIsEscapedAndCutInMessages() {
        String evil = "10.0.0.0/8\u0000\u001b[31mFAKE LOG LINE";
        InvalidCidrException e = assertThrows(InvalidCidrException.class, () -> Cidr.parse(evil));
        assertTrue(e.getMessage().startsWith("\"10.0.0.0/8\\u0000\\u001b[31mFAKE LOG LINE\" contains whitespace"),
                e.getMessage());
        String zone = "fe80::%" + "\u0007".repeat(300) + "/64";
        InvalidCidrException z = assertThrows(InvalidCidrException.class, () -> Cidr.parse(zone));
        assertEquals(Reason.ZONE, z.reason());
        assertFalse(z.getMessage().chars().anyMatch(c -> c < 0x20 || c == 0x7f), z.getMessage());
        assertTrue(z.getMessage().length() < 2_000, () -> z.getMessage().length() + " characters");

        String longPrefix = "10.0.0.0/" + "9".repeat(1_000_000);
        InvalidCidrException p = assertThrows(InvalidCidrException.class, () -> Cidr.parseLenient(longPrefix));
        assertEquals(Reason.BAD_PREFIX, p.reason());
        assertEquals("\"10.0.0.0/" + "9".repeat(91) + "…\" (1000009 characters) has prefix length "
                + "9".repeat(100) + "… (1000000 characters); IPV4 allows 0 to 32", p.getMessage());
        assertEquals(longPrefix, p.input(), "input() keeps the text as given");

        String manyOctets = "1." + "0".repeat(500) + "256.0.0/8";
        InvalidCidrException o = assertThrows(InvalidCidrException.class, () -> Cidr.parseLenient(manyOctets));
        assertEquals(Reason.BAD_ADDRESS, o.reason());
        assertTrue(o.getMessage().length() < 600, o::getMessage);
    }

    @Test
    void quoteEscapesCutsAndKeepsPlainTextAsIs() {
        assertEquals("\"10.0.0.0/8\"", UntrustedText.quote("10.0.0.0/8"));
        assertEquals("null", UntrustedText.quote(null));
        assertEquals("\"a\\nb\\tc\\\"d\\\\e\\u0000\\u202e\"", UntrustedText.quote("a\nb\tc\"d\\e\u0000\u202e"));
        assertEquals("\"é😀 x\"", UntrustedText.quote("é😀 x"), "printable non-ASCII stays readable");
        assertEquals("\"\\ud800x\"", UntrustedText.quote("\ud800x"), "a lone surrogate is escaped");
        String longText = "x".repeat(150);
        assertEquals("\"" + "x".repeat(100) + "…\" (150 characters)", UntrustedText.quote(longText));
        String pairAtTheCut = "x".repeat(99) + "😀" + "y";
        assertEquals("\"" + "x".repeat(99) + "…\" (102 characters)", UntrustedText.quote(pairAtTheCut),
                "a surrogate pair is never split");
        assertEquals("x".repeat(100) + "… (150 characters)", UntrustedText.excerpt(longText));
    }

    @Test
    void everyReasonIsReachable() {
        for (Reason r : Reason.values()) {
            assertTrue(reachable(r), r + " has no example here");
        }
    }

    private static boolean reachable(Reason r) {
        String[] examples = {"", " ", "\u0661", "fe80::%1/64", "1.2.3.4", "1.2.3.4/x", "1.2.3/8", "01.2.3.4/32",
            "1.2.3.4/8", "::ffff:1.2.3.4/128"};
        for (String s : examples) {
            CidrParser p = new CidrParser(s);
            if (p.parse() == null && p.reason() == r) {
                return true;
            }
        }
        return false;
    }

    /** Decodes the escapes the table uses: \\n, \\0 and \\uXXXX. */
    static String decode(String raw) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '\\' && i + 1 < raw.length()) {
                char k = raw.charAt(i + 1);
                if (k == 'n') {
                    sb.append('\n');
                    i++;
                    continue;
                }
                if (k == '0') {
                    sb.append('\0');
                    i++;
                    continue;
                }
                if (k == 'u') {
                    sb.append((char) Integer.parseInt(raw.substring(i + 2, i + 6), 16));
                    i += 5;
                    continue;
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }
}
