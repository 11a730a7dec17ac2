package io.github.podcidr.ipam;

import io.github.podcidr.ipam.InvalidCidrException.Reason;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * An immutable IPv4 or IPv6 prefix in network form, such as {@code 10.244.0.0/16} or {@code fd00:10:244::/56}.
 *
 * <pre>{@code
 * Cidr cluster = Cidr.parse("10.244.0.0/16");
 * Cidr node = Cidr.parse("10.244.7.0/24");
 * cluster.contains(node);      // true
 * cluster.family();            // IpFamily.IPV4
 * node.toString();             // "10.244.7.0/24"
 * }</pre>
 *
 * <p>Parsing is strict, because a pod CIDR that one tool reads differently from another breaks a cluster's network.
 * Accepted: {@code a.b.c.d/n} with decimal octets 0 to 255 and {@code n} 0 to 32; IPv6 in any RFC 4291 text form
 * (upper or lower case, {@code ::}, leading zeros in a group, a trailing dotted quad) with {@code n} 0 to 128.
 * Rejected, each with an {@link InvalidCidrException} that quotes the input and says what to write instead:
 * <ul>
 *   <li>host bits set ({@code 10.0.0.1/8}: the network is {@code 10.0.0.0/8});</li>
 *   <li>a leading zero in an IPv4 octet ({@code 010.0.0.0/8}: some tools read it as octal);</li>
 *   <li>a zone ({@code fe80::%eth0/64}), whitespace anywhere, a missing, empty, non-decimal, zero-padded or
 *       out-of-range prefix length;</li>
 *   <li>IPv4-mapped IPv6 prefixes ({@code ::ffff:10.244.0.0/112}), which some tools treat as IPv4 and others as IPv6:
 *       write the IPv4 form.</li>
 * </ul>
 *
 * <p>{@link #toString()} is canonical (dotted quad for IPv4; RFC 5952 for IPv6: lower case, no leading zeros, the
 * longest run of two or more zero groups compressed, the first of equal runs) and
 * {@code Cidr.parse(c.toString()).equals(c)} holds for every {@code c}. Ordering is IPv4 before IPv6, then by
 * address, then by prefix length (shorter first).
 *
 * <p>Pod CIDRs that the Kubernetes API server already stored are read with {@link #parseLenient(String)}, which
 * accepts what Kubernetes accepts (host bits, leading zeros) and returns the network Kubernetes reads; configuration
 * stays strict. Addresses in and out: {@link #of(InetAddress, int)} and {@link #address()}.
 *
 * <p>Serializable through its canonical text, which is parsed strictly again on deserialization, so a stream cannot
 * make a {@code Cidr} that breaks the invariants above.
 */
public final class Cidr implements Comparable<Cidr>, Serializable {
    private static final long serialVersionUID = 1L;

    /** The address family. */
    private final IpFamily family;
    /** High 64 bits of an IPv6 network address; always 0 for IPv4. */
    private final long hi;
    /** Low 64 bits of an IPv6 network address, or the IPv4 address in the low 32 bits; host bits are zero. */
    private final long lo;
    /** Prefix length: 0..32 for IPv4, 0..128 for IPv6. */
    private final int prefixLength;
    /** Canonical text, computed on first use (a benign race, like {@link String#hashCode()}). */
    private transient String text;

    private Cidr(IpFamily family, long hi, long lo, int prefixLength) {
        this.family = family;
        this.hi = hi;
        this.lo = lo;
        this.prefixLength = prefixLength;
    }

    /**
     * Builds a CIDR from an address whose host bits are already zero. The caller guarantees the invariants.
     */
    static Cidr ofNetwork(IpFamily family, long hi, long lo, int prefixLength) {
        assert (hi & ~hiMask(family, prefixLength)) == 0 && (lo & ~loMask(family, prefixLength)) == 0;
        return new Cidr(family, hi, lo, prefixLength);
    }

    /**
     * Parses a CIDR strictly (see the class description for what is accepted).
     *
     * @param text the CIDR text, e.g. {@code 10.244.0.0/16}
     * @return the CIDR
     * @throws InvalidCidrException if the text is null or not a strict CIDR; the message says why and what to write
     */
    public static Cidr parse(String text) {
        CidrParser parser = new CidrParser(text);
        Cidr cidr = parser.parse();
        if (cidr == null) {
            throw new InvalidCidrException(text, parser.reason(), parser.error());
        }
        return cidr;
    }

    /**
     * Parses a pod CIDR the way Kubernetes reads one, for adopting values that the API server has already accepted
     * and stored. Kubernetes validates and reads node pod CIDRs with {@code ParseCIDRSloppy} from
     * {@code k8s.io/utils/net}, which is Go 1.16's {@code net.ParseCIDR}; a controller that reads them more strictly
     * would leave the subnet of such a node free and hand it to another node. Configuration (cluster ranges,
     * reserved ranges) stays strict: use {@link #parse(String)} there.
     *
     * <p>Accepted beyond {@link #parse(String)}, and what is returned:
     * <ul>
     *   <li>host bits set: {@code 10.244.5.7/24} gives the network {@code 10.244.5.0/24};</li>
     *   <li>leading zeros in an IPv4 octet, read as <em>decimal</em> (never octal), any number of them:
     *       {@code 010.244.005.000/24} gives {@code 10.244.5.0/24};</li>
     *   <li>leading zeros in the prefix length: {@code 10.244.0.0/024} gives {@code 10.244.0.0/24};</li>
     *   <li>leading zeros in an IPv6 group beyond four digits ({@code fd00:000010::/32}, the group's value at most
     *       {@code ffff}), and the leading-zero octets above in an embedded dotted quad ({@code 64:ff9b::010.0.0.0/120}).
     *   </li>
     * </ul>
     * Everything else is read as by {@code parse}: IPv4 as four decimal octets; IPv6 in any RFC 4291 text form (hex
     * groups in either case, one {@code ::}, a trailing dotted quad).
     *
     * <p>Still refused, as Kubernetes refuses them: whitespace, non-ASCII characters (such as non-ASCII digits), a
     * zone, a missing or out-of-range prefix length, anything that is not an address. Also refused, though Go reads
     * them: IPv4-mapped IPv6 prefixes ({@code ::ffff:10.244.0.0/112}), because Go turns them into IPv4 in some places
     * and keeps them IPv6 in others, so the subnet they stand for cannot be vouched for.
     *
     * <p>The result is the network in canonical form: {@code parseLenient(t).toString()} may differ from {@code t};
     * compare the two to find a non-canonical value.
     *
     * @param text the pod CIDR as stored by the API server, e.g. {@code 10.244.5.7/24}
     * @return the network that Kubernetes reads from the text
     * @throws InvalidCidrException if Kubernetes would not accept the text, or it is an IPv4-mapped prefix; the
     *     message says why, {@link InvalidCidrException#reason()} gives the code
     */
    public static Cidr parseLenient(String text) {
        CidrParser parser = new CidrParser(text);
        Cidr cidr = parser.parseLenient();
        if (cidr == null) {
            throw new InvalidCidrException(text, parser.reason(), parser.error());
        }
        return cidr;
    }

    /**
     * Makes a CIDR of an address and a prefix length, with the rules of {@link #parse(String)}: the address must be
     * the network (host bits clear), carry no scope (zone), and not be IPv4-mapped.
     *
     * <pre>{@code
     * Cidr.of(InetAddress.getByName("10.244.0.0"), 16);   // 10.244.0.0/16 (a literal: no DNS look-up)
     * }</pre>
     *
     * <p>IPv4-mapped addresses ({@code ::ffff:0:0/96}) are refused in every form this method can see: an
     * {@link Inet6Address} holding one (e.g. from {@code Inet6Address.getByAddress(null, bytes, -1)}), whatever the
     * prefix length, and an {@link Inet4Address} whose host text is an IPv6 literal (e.g. from
     * {@code InetAddress.getByAddress("::ffff:10.244.0.0", bytes)}). The limit: the JDK itself turns a mapped literal
     * or a 16-byte mapped array into a plain {@link Inet4Address} that keeps no trace of its form, so
     * {@code InetAddress.getByName("::ffff:10.244.0.0")} equals {@code InetAddress.getByName("10.244.0.0")} and is
     * read as IPv4. Callers holding text should use {@link #parse(String)}, which refuses every mapped spelling.
     *
     * @param address an {@link Inet4Address} or {@link Inet6Address}
     * @param prefixLength 0..32 for IPv4, 0..128 for IPv6
     * @return the CIDR
     * @throws InvalidCidrException if the prefix length is out of range, host bits are set, the address has a scope or
     *     is IPv4-mapped; {@link InvalidCidrException#input()} is null
     * @throws NullPointerException if the address is null
     */
    public static Cidr of(InetAddress address, int prefixLength) {
        byte[] bytes = address.getAddress();
        IpFamily family = bytes.length == 4 ? IpFamily.IPV4 : IpFamily.IPV6;
        String shown = address.getHostAddress() + "/" + prefixLength;
        String ipv6Text = address instanceof Inet4Address ? ipv6HostText(address) : null;
        if (ipv6Text != null) {
            throw new InvalidCidrException(null, Reason.IPV4_MAPPED, UntrustedText.quote(ipv6Text + "/"
                    + prefixLength) + " is an IPv4-mapped IPv6 address (the JDK made it IPv4), which some tools read"
                    + " as IPv4 and others as IPv6; give the IPv4 address, e.g. " + address.getHostAddress() + "/"
                    + Math.max(0, Math.min(prefixLength - 96, 32)));
        }
        if (prefixLength < 0 || prefixLength > family.bits()) {
            throw new InvalidCidrException(null, Reason.BAD_PREFIX, UntrustedText.quote(shown)
                    + " has prefix length " + prefixLength + "; " + family + " allows 0 to " + family.bits());
        }
        if (address instanceof Inet6Address v6 && (v6.getScopeId() != 0 || v6.getScopedInterface() != null)) {
            throw new InvalidCidrException(null, Reason.ZONE, UntrustedText.quote(shown)
                    + " has a zone; a CIDR has none");
        }
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes.length == 16 && i < 8) {
                hi = (hi << 8) | (bytes[i] & 0xFF);
            } else {
                lo = (lo << 8) | (bytes[i] & 0xFF);
            }
        }
        if (family == IpFamily.IPV6 && hi == 0 && (lo >>> 32) == 0xFFFFL) {
            throw new InvalidCidrException(null, Reason.IPV4_MAPPED, UntrustedText.quote(shown)
                    + " is an IPv4-mapped IPv6 address, which some tools read as IPv4 and others as IPv6; use the"
                    + " IPv4 address, e.g. " + formatIpv4(lo & 0xFFFF_FFFFL) + "/" + Math.max(0, prefixLength - 96));
        }
        long netHi = hi & hiMask(family, prefixLength);
        long netLo = lo & loMask(family, prefixLength);
        Cidr network = new Cidr(family, netHi, netLo, prefixLength);
        if (netHi != hi || netLo != lo) {
            throw new InvalidCidrException(null, Reason.HOST_BITS_SET, UntrustedText.quote(shown)
                    + " has host bits set; the network is " + network);
        }
        return network;
    }

    /**
     * The host text an address was made with when it is an IPv6 literal (a host name never holds ':'), else null;
     * {@link InetAddress#toString()} gives {@code "host text/literal"} without a name look-up, unlike
     * {@code getHostName()}.
     */
    private static String ipv6HostText(InetAddress address) {
        String text = address.toString();
        int slash = text.lastIndexOf('/');
        return slash > 0 && text.lastIndexOf(':', slash) >= 0 ? text.substring(0, slash) : null;
    }

    /**
     * Returns the network address (the first address of the prefix).
     *
     * @return an {@link Inet4Address} for IPv4, an {@link Inet6Address} without scope for IPv6
     */
    public InetAddress address() {
        return toInetAddress(hi, lo);
    }

    /** An address of this family from its bits (IPv4 in the low 32 bits of lo). */
    private InetAddress toInetAddress(long hi, long lo) {
        byte[] bytes = new byte[family == IpFamily.IPV4 ? 4 : 16];
        if (family == IpFamily.IPV4) {
            for (int i = 0; i < 4; i++) {
                bytes[i] = (byte) (lo >>> (24 - 8 * i));
            }
        } else {
            for (int i = 0; i < 8; i++) {
                bytes[i] = (byte) (hi >>> (56 - 8 * i));
                bytes[i + 8] = (byte) (lo >>> (56 - 8 * i));
            }
        }
        try {
            // Inet6Address.getByAddress keeps IPv6 even for IPv4-mapped bytes (the last address of ::/80 is one),
            // where InetAddress.getByAddress would turn them into IPv4.
            return family == IpFamily.IPV4 ? InetAddress.getByAddress(bytes)
                    : Inet6Address.getByAddress(null, bytes, -1);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    /**
     * Parses a CIDR strictly like {@link #parse(String)}, but gives an empty result instead of an exception: for
     * input that is often not a CIDR, where the reason does not matter.
     *
     * <pre>{@code
     * Cidr.tryParse("10.244.0.0/16");   // Optional[10.244.0.0/16]
     * Cidr.tryParse("10.244.0.1/16");   // Optional.empty (host bits set)
     * }</pre>
     *
     * @param text the text, may be null
     * @return the CIDR, or empty if {@link #parse(String)} would throw
     */
    public static Optional<Cidr> tryParse(String text) {
        return Optional.ofNullable(new CidrParser(text).parse());
    }

    /**
     * Tells whether {@link #parse(String)} would accept a text.
     *
     * @param text the text to check, may be null
     * @return true if the text is a strict CIDR
     */
    public static boolean isValid(String text) {
        return new CidrParser(text).parse() != null;
    }

    /**
     * Returns the address family.
     *
     * @return IPv4 or IPv6
     */
    public IpFamily family() {
        return family;
    }

    /**
     * Returns the prefix length.
     *
     * @return 0..32 for IPv4, 0..128 for IPv6
     */
    public int prefixLength() {
        return prefixLength;
    }

    /** High 64 bits of the network address (0 for IPv4). */
    long hi() {
        return hi;
    }

    /** Low 64 bits of the network address (the IPv4 address in the low 32 bits). */
    long lo() {
        return lo;
    }

    /**
     * Tells whether every address of {@code other} is in this prefix. A prefix contains itself; prefixes of different
     * families never contain one another.
     *
     * @param other the prefix to test
     * @return true if {@code other} lies within this prefix
     */
    public boolean contains(Cidr other) {
        return family == other.family
                && other.prefixLength >= prefixLength
                && (other.hi & hiMask(family, prefixLength)) == hi
                && (other.lo & loMask(family, prefixLength)) == lo;
    }

    /**
     * Tells whether an address lies in this prefix. Families must match: an {@link Inet4Address} is never in an IPv6
     * prefix, nor an {@link Inet6Address} in an IPv4 one (an IPv4-mapped {@code Inet6Address} included: see
     * {@link #of(InetAddress, int)}). A scope (zone) of an IPv6 address is ignored.
     *
     * <pre>{@code
     * Cidr.parse("10.244.0.0/16").contains(InetAddress.getByName("10.244.7.9"));   // true
     * }</pre>
     *
     * @param address the address to test
     * @return true if the address is one of this prefix's addresses
     * @throws NullPointerException if the address is null
     */
    public boolean contains(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length != (family == IpFamily.IPV4 ? 4 : 16)) {
            return false;
        }
        long aHi = 0;
        long aLo = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes.length == 16 && i < 8) {
                aHi = (aHi << 8) | (bytes[i] & 0xFF);
            } else {
                aLo = (aLo << 8) | (bytes[i] & 0xFF);
            }
        }
        return (aHi & hiMask(family, prefixLength)) == hi && (aLo & loMask(family, prefixLength)) == lo;
    }

    /**
     * Returns the number of addresses in this prefix, 2^(32 - prefix length) for IPv4 and 2^(128 - prefix length)
     * for IPv6. A {@link BigInteger}, since {@code ::/0} has 2^128 addresses, which no primitive holds; call
     * {@link BigInteger#longValueExact()} where the prefix is known to be small enough (up to 2^62, e.g. any IPv4
     * prefix or an IPv6 prefix of /66 or longer).
     *
     * @return 1 (a /32 or /128) to 2^128 (an IPv6 /0)
     */
    public BigInteger size() {
        return BigInteger.ONE.shiftLeft(family.bits() - prefixLength);
    }

    /**
     * Returns the last address of the prefix (all host bits set): {@code 10.244.255.255} for {@code 10.244.0.0/16}.
     * The first is {@link #address()}.
     *
     * @return an {@link Inet4Address} for IPv4, an {@link Inet6Address} without scope for IPv6
     */
    public InetAddress lastAddress() {
        return toInetAddress(hi | ~hiMask(family, prefixLength) & (family == IpFamily.IPV4 ? 0 : -1L),
                lo | ~loMask(family, prefixLength) & (family == IpFamily.IPV4 ? 0xFFFF_FFFFL : -1L));
    }

    /**
     * Tells whether the two prefixes share at least one address, that is, whether one contains the other.
     *
     * @param other the prefix to test
     * @return true if the prefixes overlap
     */
    public boolean overlaps(Cidr other) {
        return prefixLength <= other.prefixLength ? contains(other) : other.contains(this);
    }

    @Override
    public int compareTo(Cidr other) {
        int c = family.compareTo(other.family);
        if (c == 0) {
            c = Long.compareUnsigned(hi, other.hi);
        }
        if (c == 0) {
            c = Long.compareUnsigned(lo, other.lo);
        }
        return c != 0 ? c : Integer.compare(prefixLength, other.prefixLength);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c
                && family == c.family && hi == c.hi && lo == c.lo && prefixLength == c.prefixLength;
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(hi);
        h = 31 * h + Long.hashCode(lo);
        return 31 * h + prefixLength + (family == IpFamily.IPV6 ? 129 : 0);
    }

    /** Uses a text already known to be this CIDR's canonical form as the cached {@link #toString()}. */
    void shareText(String canonical) {
        if (text == null) {
            text = canonical;
        }
    }

    /**
     * Returns the canonical text: dotted quad for IPv4, RFC 5952 for IPv6, then {@code /} and the prefix length.
     *
     * @return the canonical text, e.g. {@code fd00:10:244::/56}
     */
    @Override
    public String toString() {
        String s = text;
        if (s == null) {
            s = family == IpFamily.IPV4 ? formatIpv4(lo) + "/" + prefixLength : formatIpv6(hi, lo) + "/" + prefixLength;
            text = s;
        }
        return s;
    }

    /** Mask of the network bits of the high word for a prefix length. */
    static long hiMask(IpFamily family, int prefixLength) {
        if (family == IpFamily.IPV4 || prefixLength == 0) {
            return 0;
        }
        // Java masks a long shift distance to 6 bits, so prefixes of 64 and more are handled apart.
        return prefixLength >= 64 ? -1L : -1L << (64 - prefixLength);
    }

    /** Mask of the network bits of the low word for a prefix length. */
    static long loMask(IpFamily family, int prefixLength) {
        if (family == IpFamily.IPV4) {
            return (0xFFFF_FFFFL << (32 - prefixLength)) & 0xFFFF_FFFFL;
        }
        if (prefixLength <= 64) {
            return 0;
        }
        return prefixLength == 128 ? -1L : -1L << (128 - prefixLength);
    }

    static String formatIpv4(long address) {
        return ((address >>> 24) & 0xFF) + "." + ((address >>> 16) & 0xFF) + "."
                + ((address >>> 8) & 0xFF) + "." + (address & 0xFF);
    }

    static String formatIpv6(long hi, long lo) {
        int run = longestZeroRun(hi, lo);
        int bestStart = run >> 4;
        int bestLength = run & 0xF;
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; ) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength;
                continue;
            }
            if (i > 0 && i != bestStart + bestLength) {
                sb.append(':');
            }
            sb.append(Integer.toHexString(group(hi, lo, i)));
            i++;
        }
        return sb.toString();
    }

    /** The 16-bit group i (0..7) of an IPv6 address. */
    private static int group(long hi, long lo, int i) {
        return (int) ((i < 4 ? hi : lo) >>> (48 - 16 * (i & 3))) & 0xFFFF;
    }

    /**
     * RFC 5952 section 4.2: the longest run of two or more zero groups, the first one on a tie, as
     * {@code start << 4 | length}; start -1 (and length 1) when there is none.
     */
    private static int longestZeroRun(long hi, long lo) {
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (group(hi, lo, i) != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && group(hi, lo, i) == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        return bestStart << 4 | bestLength;
    }

    /**
     * Tells, without building a string, whether a text is exactly the canonical form of an IPv6 CIDR, i.e. what
     * {@link #toString()} would return for it (the restore path checks 130,000 of these).
     */
    static boolean isCanonicalIpv6(String text, long hi, long lo, int prefixLength) {
        int run = longestZeroRun(hi, lo);
        int bestStart = run >> 4;
        int bestLength = run & 0xF;
        int pos = 0;
        int n = text.length();
        for (int i = 0; i < 8; ) {
            if (i == bestStart) {
                if (pos + 2 > n || text.charAt(pos) != ':' || text.charAt(pos + 1) != ':') {
                    return false;
                }
                pos += 2;
                i += bestLength;
                continue;
            }
            if (i > 0 && i != bestStart + bestLength) {
                if (pos >= n || text.charAt(pos++) != ':') {
                    return false;
                }
            }
            int g = group(hi, lo, i);
            int digits = g == 0 ? 1 : (35 - Integer.numberOfLeadingZeros(g)) / 4;
            for (int d = digits - 1; d >= 0; d--) {
                if (pos >= n || text.charAt(pos++) != Character.forDigit((g >>> (4 * d)) & 0xF, 16)) {
                    return false;
                }
            }
            i++;
        }
        if (pos >= n || text.charAt(pos++) != '/') {
            return false;
        }
        int digits = prefixLength >= 100 ? 3 : prefixLength >= 10 ? 2 : 1;
        for (int d = digits - 1; d >= 0; d--) {
            int digit = prefixLength / (d == 2 ? 100 : d == 1 ? 10 : 1) % 10;
            if (pos >= n || text.charAt(pos++) != (char) ('0' + digit)) {
                return false;
            }
        }
        return pos == n;
    }

    /**
     * Serializes the canonical text instead of the fields (serialization proxy).
     *
     * @return the proxy that is written to the stream
     */
    private Object writeReplace() {
        return new SerializedForm(toString());
    }

    /**
     * A {@code Cidr} is never read directly: only through {@link SerializedForm}, which validates.
     *
     * @param in the stream
     * @throws InvalidObjectException always
     */
    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("a Cidr is deserialized through its serialized form only");
    }

    /** The serialized form of a {@code Cidr}: its canonical text, parsed strictly when read back. */
    private static final class SerializedForm implements Serializable {
        private static final long serialVersionUID = 1L;

        /** The canonical text, e.g. {@code 10.244.0.0/16}. */
        private final String cidr;

        SerializedForm(String cidr) {
            this.cidr = cidr;
        }

        /**
         * Parses the text strictly.
         *
         * @return the {@code Cidr}
         * @throws InvalidObjectException if the text is not a strict CIDR
         */
        private Object readResolve() throws InvalidObjectException {
            CidrParser parser = new CidrParser(cidr);
            Cidr c = parser.parse();
            if (c == null) {
                throw new InvalidObjectException("not a CIDR in a serialized Cidr: " + parser.error());
            }
            return c;
        }
    }
}
