package io.github.podcidr.ipam;

import io.github.podcidr.ipam.InvalidCidrException.Reason;

/**
 * The one CIDR parser behind {@link Cidr#parse(String)}, {@link Cidr#parseLenient(String)} and
 * {@link Cidr#isValid(String)}. {@link #parse()} and {@link #parseLenient()} return null on bad input and leave the
 * reason in {@link #error()} and {@link #reason()}, so that validity checks and the restore of many nodes need no
 * exception. Hand-written (no regular expressions, no splitting) because restoring 130,000 nodes parses every pod
 * CIDR. One instance parses one text once.
 *
 * <p>Two modes, which differ only in what they accept:
 * <ul>
 *   <li>strict ({@link #parse()}): host bits, leading zeros in IPv4 octets and in the prefix length, and IPv6 groups
 *       of more than four hex digits are refused;</li>
 *   <li>lenient ({@link #parseLenient()}): the reading of Go 1.16's {@code net.ParseCIDR}, which Kubernetes keeps as
 *       {@code ParseCIDRSloppy} for the pod CIDRs it validates and stores: host bits are masked, an IPv4 octet or a
 *       prefix length may have leading zeros and is read as decimal, an IPv6 group may have any number of leading
 *       zeros. After a successful lenient parse, {@link #nonCanonical()} tells whether the text differs from the
 *       canonical {@link Cidr#toString()}.</li>
 * </ul>
 * Both refuse whitespace, non-ASCII characters, zones and IPv4-mapped IPv6 prefixes with the same reasons.
 */
final class CidrParser {
    private static final String IPV4_EXAMPLE = "10.244.0.0/16";
    private static final String IPV6_EXAMPLE = "fd00:10:244::/56";

    private final String input;
    private boolean lenient;
    private boolean used;
    private String error;
    private Reason reason;

    // The address being built: IPv6 in both words, IPv4 in the low 32 bits of lo.
    private long hi;
    private long lo;

    /** Lenient mode: a number was written with a leading zero that the canonical text does not have. */
    private boolean leadingZeros;
    /** Lenient mode: host bits were set and masked. */
    private boolean hostBitsMasked;
    private Cidr result;

    CidrParser(String input) {
        this.input = input;
    }

    /** The reason of the failed parse, a whole sentence that quotes the input (escaped and cut); null after success. */
    String error() {
        return error;
    }

    /** The reason code of the failed parse; null after success. */
    Reason reason() {
        return reason;
    }

    /** Parses strictly; returns null and sets {@link #error()} and {@link #reason()} on bad input. */
    Cidr parse() {
        return run(false);
    }

    /**
     * Parses as Kubernetes reads a node's pod CIDR (Go 1.16 {@code net.ParseCIDR}, see the class description);
     * returns the network, or null with {@link #error()} and {@link #reason()} set.
     */
    Cidr parseLenient() {
        return run(true);
    }

    /**
     * After a successful parse: whether the text differs from {@link Cidr#toString()} of the result (host bits set,
     * leading zeros, upper case or uncompressed IPv6, ...). Always false after a strict parse of an IPv4 CIDR; a
     * strict parse of IPv6 can be non-canonical too ({@code FD00::/8}). Cheap for IPv4 (read off the parse); for
     * IPv6 it compares the text with the canonical form character by character, building nothing. A canonical
     * input becomes the result's cached text, so that the caller's string is shared rather than a second copy made
     * (restore keeps 130,000 of these).
     *
     * @throws IllegalStateException if the last parse failed or none was made
     */
    boolean nonCanonical() {
        if (result == null) {
            throw new IllegalStateException("no successful parse of " + UntrustedText.quote(input));
        }
        boolean nonCanonical = result.family() == IpFamily.IPV4 ? leadingZeros || hostBitsMasked
                : hostBitsMasked || !Cidr.isCanonicalIpv6(input, result.hi(), result.lo(), result.prefixLength());
        if (!nonCanonical) {
            result.shareText(input);
        }
        return nonCanonical;
    }

    /**
     * After a successful parse of a non-canonical text: one sentence for an event or a log, e.g. {@code
     * "10.244.5.7/24" is not canonical (host bits set); read as 10.244.5.0/24}. Null when the text is canonical.
     */
    String nonCanonicalDetail() {
        if (!nonCanonical()) {
            return null;
        }
        String what = hostBitsMasked && leadingZeros ? "host bits set, leading zeros"
                : hostBitsMasked ? "host bits set"
                : leadingZeros ? "leading zeros"
                : "not in canonical form";
        return UntrustedText.quote(input) + " is not canonical (" + what + "); read as " + result;
    }

    private Cidr run(boolean lenientMode) {
        if (used) {
            throw new IllegalStateException("a CidrParser parses once");
        }
        used = true;
        lenient = lenientMode;
        Cidr c = parseText();
        result = c;
        return c;
    }

    private Cidr parseText() {
        if (input == null) {
            return fail(Reason.EMPTY, "a CIDR is required but none (null) was given; expected e.g. " + IPV4_EXAMPLE);
        }
        int n = input.length();
        if (n == 0) {
            return fail(Reason.EMPTY, quoted() + " is empty; expected a CIDR such as " + IPV4_EXAMPLE + " or "
                    + IPV6_EXAMPLE);
        }
        int odd = -1; // first character outside printable ASCII that is not whitespace
        for (int i = 0; i < n; i++) {
            char c = input.charAt(i);
            if (c > ' ' && c < 0x7F) {
                continue;
            }
            if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                return fail(Reason.WHITESPACE, quoted() + " contains whitespace; remove it (expected e.g. "
                        + IPV4_EXAMPLE + ")");
            }
            if (odd < 0) {
                odd = i;
            }
        }
        int slash = input.indexOf('/');
        int percent = input.indexOf('%');
        if (percent >= 0) {
            String fix = input.substring(0, percent) + (slash > percent ? input.substring(slash) : "");
            return fail(Reason.ZONE, quoted() + " has a zone ("
                    + UntrustedText.excerpt(input.substring(percent, slash > percent ? slash : n))
                    + "); a CIDR has none: write " + UntrustedText.excerpt(fix));
        }
        if (odd >= 0) {
            return fail(Reason.NON_ASCII, quoted() + " contains " + describe(input.codePointAt(odd)) + " at index "
                    + odd + "; a CIDR is written in ASCII only: digits 0-9, hex letters a-f, '.', ':' and '/',"
                    + " e.g. " + IPV4_EXAMPLE);
        }
        boolean v6 = input.indexOf(':') >= 0;
        IpFamily family = v6 ? IpFamily.IPV6 : IpFamily.IPV4;
        if (slash < 0) {
            return fail(Reason.NO_PREFIX, quoted() + " has no prefix length; expected <address>/<prefix length>, e.g. "
                    + (v6 ? IPV6_EXAMPLE : IPV4_EXAMPLE));
        }
        if (input.indexOf('/', slash + 1) >= 0) {
            return fail(Reason.BAD_PREFIX, quoted() + " has more than one '/'; expected <address>/<prefix length>,"
                    + " e.g. " + (v6 ? IPV6_EXAMPLE : IPV4_EXAMPLE));
        }
        int prefix = parsePrefix(slash + 1, n, family);
        if (prefix < 0) {
            return null;
        }
        boolean parsed = v6 ? parseIpv6(0, slash) : parseIpv4(0, slash, true);
        if (!parsed) {
            return null;
        }
        if (v6 && hi == 0 && (lo >>> 32) == 0xFFFFL && prefix >= 96) {
            return fail(Reason.IPV4_MAPPED, quoted() + " is an IPv4-mapped IPv6 prefix, which some tools read as IPv4"
                    + " and others as IPv6" + (lenient ? " (Go's To4 reads it as IPv4), so the subnet it stands for"
                    + " cannot be vouched for" : "") + "; write the IPv4 form "
                    + Cidr.formatIpv4(lo & 0xFFFF_FFFFL & Cidr.loMask(IpFamily.IPV4, prefix - 96)) + "/"
                    + (prefix - 96));
        }
        long netHi = hi & Cidr.hiMask(family, prefix);
        long netLo = lo & Cidr.loMask(family, prefix);
        Cidr network = Cidr.ofNetwork(family, netHi, netLo, prefix);
        if (netHi != hi || netLo != lo) {
            if (!lenient) {
                return fail(Reason.HOST_BITS_SET, quoted() + " has host bits set; the network is " + network);
            }
            hostBitsMasked = true;
        }
        return network;
    }

    private static String describe(int codePoint) {
        String hex = String.format("U+%04X", codePoint);
        if (Character.isDigit(codePoint)) {
            return "the non-ASCII digit " + hex + " (" + Character.getName(codePoint) + ")";
        }
        String name = Character.getName(codePoint);
        return "the character " + hex + (name != null ? " (" + name + ")" : "");
    }

    /** Parses the decimal prefix length in [from, to); returns -1 after recording the error. */
    private int parsePrefix(int from, int to, IpFamily family) {
        String range = "0 to " + family.bits();
        if (from == to) {
            fail(Reason.BAD_PREFIX, quoted() + " has an empty prefix length after '/'; expected " + range);
            return -1;
        }
        int value = 0;
        int significant = 0; // digits after the leading zeros
        for (int i = from; i < to; i++) {
            char c = input.charAt(i);
            if (c < '0' || c > '9') {
                fail(Reason.BAD_PREFIX, quoted() + " has prefix length " + excerpt(from, to) + ", which is not a"
                        + " decimal number; expected " + range);
                return -1;
            }
            if (value > 0 || c != '0') {
                significant++;
            }
            // more than three significant digits: out of range whatever follows
            value = significant > 3 ? Integer.MAX_VALUE : value * 10 + (c - '0');
        }
        if (to - from > 1 && input.charAt(from) == '0') {
            if (!lenient) {
                fail(Reason.LEADING_ZERO, quoted() + " has prefix length " + excerpt(from, to) + " with a leading"
                        + " zero; write " + UntrustedText.excerpt(input.substring(0, from))
                        + (value > family.bits() ? "<" + range + ">" : Integer.toString(value)));
                return -1;
            }
            leadingZeros = true;
        }
        if (value > family.bits()) {
            fail(Reason.BAD_PREFIX, quoted() + " has prefix length " + UntrustedText.excerpt(input.substring(from, to))
                    + "; " + family + " allows " + range);
            return -1;
        }
        return value;
    }

    /**
     * Parses a dotted quad in [from, to) into the low 32 bits of {@code lo} (shifted in, so that an embedded IPv4
     * address of an IPv6 text lands in the last two groups).
     */
    private boolean parseIpv4(int from, int to, boolean whole) {
        long address = 0;
        int i = from;
        for (int octet = 0; octet < 4; octet++) {
            int start = i;
            int value = 0;
            while (i < to && input.charAt(i) >= '0' && input.charAt(i) <= '9') {
                // saturate at 256: out of range whatever follows (lenient: leading zeros add nothing)
                value = Math.min(256, value * 10 + (input.charAt(i) - '0'));
                i++;
            }
            if (i == start) {
                return failIpv4(from, to, whole);
            }
            if (i - start > 1 && input.charAt(start) == '0') {
                if (!lenient) {
                    fail(Reason.LEADING_ZERO, quoted() + " has a leading zero in octet " + excerpt(start, i)
                            + "; some tools read such octets as octal, so they are not accepted: write "
                            + UntrustedText.excerpt(input.substring(0, from) + withoutLeadingZeros(from, to)
                                    + input.substring(to)) // the whole value: an IPv6 part before a quad stays
                            + " if the octets are decimal");
                    return false;
                }
                leadingZeros = true;
            }
            if (value > 255) {
                fail(Reason.BAD_ADDRESS, quoted() + " has octet " + UntrustedText.excerpt(input.substring(start, i))
                        + ", out of the range 0 to 255");
                return false;
            }
            address = (address << 8) | value;
            if (octet < 3) {
                if (i >= to || input.charAt(i) != '.') {
                    return failIpv4(from, to, whole);
                }
                i++;
            }
        }
        if (i != to) {
            return failIpv4(from, to, whole);
        }
        lo = (lo << 32) | address;
        return true;
    }

    private boolean failIpv4(int from, int to, boolean whole) {
        fail(Reason.BAD_ADDRESS, quoted() + " is not " + (whole ? "an IPv4 CIDR" : "an IPv6 CIDR: its dotted part "
                + excerpt(from, to) + " is not an IPv4 address") + "; expected four decimal octets 0 to 255"
                + " separated by dots and a prefix length, e.g. " + (whole ? IPV4_EXAMPLE : "64:ff9b::10.0.0.0/120"));
        return false;
    }

    private String withoutLeadingZeros(int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (String part : input.substring(from, to).split("\\.", -1)) {
            if (sb.length() > 0) {
                sb.append('.');
            }
            String stripped = part.replaceFirst("^0+(?=.)", "");
            sb.append(stripped);
        }
        return sb.toString();
    }

    /** The value of an ASCII hex digit, or -1 (never {@link Character#digit}: it accepts non-ASCII digits). */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** Parses an IPv6 address in [from, to) into {@code hi} and {@code lo}. */
    private boolean parseIpv6(int from, int to) {
        int[] groups = new int[8];
        int count = 0;
        int compressedAt = -1;
        int i = from;
        if (i + 1 < to && input.charAt(i) == ':' && input.charAt(i + 1) == ':') {
            compressedAt = 0;
            i += 2;
        } else if (i < to && input.charAt(i) == ':') {
            return failIpv6("starts with a single ':'");
        }
        while (i < to) {
            int start = i;
            int value = 0;
            int digit;
            while (i < to && (digit = hexDigit(input.charAt(i))) >= 0) {
                value = Math.min(0x10000, (value << 4) | digit); // saturate: too large whatever follows
                i++;
            }
            if (i < to && input.charAt(i) == '.') {
                // A trailing dotted quad (RFC 4291 section 2.2, form 3) fills the last two groups.
                if (count > 6) {
                    return failIpv6("has too many groups before its dotted quad");
                }
                lo = 0;
                if (!parseIpv4(start, to, false)) {
                    return false;
                }
                groups[count++] = (int) (lo >>> 16) & 0xFFFF;
                groups[count++] = (int) lo & 0xFFFF;
                i = to;
                break;
            }
            if (i == start) {
                if (i < to && input.charAt(i) != ':') {
                    return failIpv6("contains '" + input.charAt(i) + "', which is not a hexadecimal digit");
                }
                return failIpv6("has an empty group");
            }
            if (lenient ? value > 0xFFFF : i - start > 4) {
                return failIpv6("has group " + excerpt(start, i) + (lenient ? ", more than ffff"
                        : " of more than four hex digits"));
            }
            if (i - start > 4) {
                leadingZeros = true; // lenient only: zeros beyond four digits
            }
            if (count == 8) {
                return failIpv6("has more than eight groups");
            }
            groups[count++] = value;
            if (i == to) {
                break;
            }
            if (input.charAt(i) != ':') {
                return failIpv6("contains '" + input.charAt(i) + "', which is not a hexadecimal digit");
            }
            i++;
            if (i < to && input.charAt(i) == ':') {
                if (compressedAt >= 0) {
                    return failIpv6("has more than one '::'");
                }
                compressedAt = count;
                i++;
            } else if (i == to) {
                return failIpv6("ends with a single ':'");
            }
        }
        if (compressedAt >= 0) {
            if (count > 7) {
                return failIpv6("has eight groups and a '::', which must stand for at least one group");
            }
            int shift = 8 - count;
            System.arraycopy(groups, compressedAt, groups, compressedAt + shift, count - compressedAt);
            java.util.Arrays.fill(groups, compressedAt, compressedAt + shift, 0);
        } else if (count != 8) {
            return failIpv6("has " + count + " groups; an IPv6 address has eight, or fewer with '::'");
        }
        hi = 0;
        lo = 0;
        for (int g = 0; g < 4; g++) {
            hi = (hi << 16) | groups[g];
            lo = (lo << 16) | groups[g + 4];
        }
        return true;
    }

    private boolean failIpv6(String what) {
        fail(Reason.BAD_ADDRESS, quoted() + " is not an IPv6 CIDR: the address " + what + "; expected e.g. "
                + IPV6_EXAMPLE);
        return false;
    }

    private String quoted() {
        return UntrustedText.quote(input);
    }

    /** A part of the input in quotes, escaped and cut like the input. */
    private String excerpt(int from, int to) {
        return UntrustedText.quote(input.substring(from, to));
    }

    private Cidr fail(Reason why, String message) {
        reason = why;
        error = message;
        return null;
    }
}
