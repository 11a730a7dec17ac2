package io.github.podcidr.ipam;

/**
 * The one strict CIDR parser behind {@link Cidr#parse(String)} and {@link Cidr#isValid(String)}. {@link #parse()}
 * returns null on bad input and leaves the reason in {@link #error()}, so that validity checks need no exception.
 * Hand-written (no regular expressions, no splitting) because restoring 130,000 nodes parses every pod CIDR.
 */
final class CidrParser {
    private static final String IPV4_EXAMPLE = "10.244.0.0/16";
    private static final String IPV6_EXAMPLE = "fd00:10:244::/56";

    private final String input;
    private String error;

    // The address being built: IPv6 in both words, IPv4 in the low 32 bits of lo.
    private long hi;
    private long lo;

    CidrParser(String input) {
        this.input = input;
    }

    /** The reason of the last failed {@link #parse()}, a whole sentence that quotes the input. */
    String error() {
        return error;
    }

    Cidr parse() {
        if (input == null) {
            return fail("a CIDR is required but none (null) was given; expected e.g. " + IPV4_EXAMPLE);
        }
        int n = input.length();
        if (n == 0) {
            return fail(quoted() + " is empty; expected a CIDR such as " + IPV4_EXAMPLE + " or " + IPV6_EXAMPLE);
        }
        for (int i = 0; i < n; i++) {
            if (Character.isWhitespace(input.charAt(i))) {
                return fail(quoted() + " contains whitespace; remove it (expected e.g. " + IPV4_EXAMPLE + ")");
            }
        }
        int slash = input.indexOf('/');
        int percent = input.indexOf('%');
        if (percent >= 0) {
            String fix = input.substring(0, percent) + (slash > percent ? input.substring(slash) : "");
            return fail(quoted() + " has a zone (" + input.substring(percent, slash > percent ? slash : n)
                    + "); a CIDR has none: write " + fix);
        }
        boolean v6 = input.indexOf(':') >= 0;
        IpFamily family = v6 ? IpFamily.IPV6 : IpFamily.IPV4;
        if (slash < 0) {
            return fail(quoted() + " has no prefix length; expected <address>/<prefix length>, e.g. "
                    + (v6 ? IPV6_EXAMPLE : IPV4_EXAMPLE));
        }
        if (input.indexOf('/', slash + 1) >= 0) {
            return fail(quoted() + " has more than one '/'; expected <address>/<prefix length>, e.g. "
                    + (v6 ? IPV6_EXAMPLE : IPV4_EXAMPLE));
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
            return fail(quoted() + " is an IPv4-mapped IPv6 prefix, which some tools read as IPv4 and others as IPv6;"
                    + " write the IPv4 form " + Cidr.formatIpv4(lo & 0xFFFF_FFFFL) + "/" + (prefix - 96));
        }
        long netHi = hi & Cidr.hiMask(family, prefix);
        long netLo = lo & Cidr.loMask(family, prefix);
        Cidr network = Cidr.ofNetwork(family, netHi, netLo, prefix);
        if (netHi != hi || netLo != lo) {
            return fail(quoted() + " has host bits set; the network is " + network);
        }
        return network;
    }

    /** Parses the decimal prefix length in [from, to); returns -1 after recording the error. */
    private int parsePrefix(int from, int to, IpFamily family) {
        String range = "0 to " + family.bits();
        if (from == to) {
            fail(quoted() + " has an empty prefix length after '/'; expected " + range);
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++) {
            char c = input.charAt(i);
            if (c < '0' || c > '9') {
                fail(quoted() + " has prefix length \"" + input.substring(from, to) + "\", which is not a decimal"
                        + " number; expected " + range);
                return -1;
            }
            if (i - from >= 3) {
                value = Integer.MAX_VALUE; // more than three digits: out of range whatever follows
            } else {
                value = value * 10 + (c - '0');
            }
        }
        if (to - from > 1 && input.charAt(from) == '0') {
            fail(quoted() + " has prefix length \"" + input.substring(from, to) + "\" with a leading zero; write "
                    + input.substring(0, from) + (value > family.bits() ? "<" + range + ">" : Integer.toString(value)));
            return -1;
        }
        if (value > family.bits()) {
            fail(quoted() + " has prefix length " + input.substring(from, to) + "; " + family + " allows " + range);
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
                value = i - start < 3 ? value * 10 + (input.charAt(i) - '0') : 256;
                i++;
            }
            if (i == start) {
                return failIpv4(from, to, whole);
            }
            if (i - start > 1 && input.charAt(start) == '0') {
                fail(quoted() + " has a leading zero in octet \"" + input.substring(start, i) + "\"; some tools read"
                        + " such octets as octal, so they are not accepted: write " + withoutLeadingZeros(from, to)
                        + (whole ? input.substring(to) : "") + " if the octets are decimal");
                return false;
            }
            if (value > 255) {
                fail(quoted() + " has octet " + input.substring(start, i) + ", out of the range 0 to 255");
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
        fail(quoted() + " is not " + (whole ? "an IPv4 CIDR" : "an IPv6 CIDR: its dotted part \""
                + input.substring(from, to) + "\" is not an IPv4 address") + "; expected four decimal octets 0 to 255"
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
            while (i < to && Character.digit(input.charAt(i), 16) >= 0) {
                value = (value << 4) | Character.digit(input.charAt(i), 16);
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
            if (i - start > 4) {
                return failIpv6("has group \"" + input.substring(start, i) + "\" of more than four hex digits");
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
        fail(quoted() + " is not an IPv6 CIDR: the address " + what + "; expected e.g. " + IPV6_EXAMPLE);
        return false;
    }

    private String quoted() {
        return "\"" + input + "\"";
    }

    private Cidr fail(String message) {
        error = message;
        return null;
    }
}
