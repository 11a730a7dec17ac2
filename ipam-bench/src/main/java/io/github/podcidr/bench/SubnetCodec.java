package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;

/**
 * How the baselines turn a subnet index into a {@link Cidr} and back, using only ipam-core's public API.
 *
 * <p>{@code Cidr} has one public factory, {@link Cidr#parse(String)}, and no public accessor of its address bits. So
 * {@link #toCidr(long)} does what the Go podcidr-controller does ({@code fmt.Sprintf("%s/%d", ip, mask)}): it writes
 * the address text into a char array (IPv6 as eight uncompressed hex groups) and parses it; {@link #toIndex(Cidr)}
 * reads the digits of the canonical {@link Cidr#toString()} (cached by {@code Cidr} after the first call). This is
 * the cheapest conversion the public API allows; ipam-core builds its results from the bits directly, so part of
 * every baseline figure is this conversion. {@code ConversionBenchmark} measures it on its own, so that readers can
 * see how much of a baseline's time is the search and how much is building the result.
 *
 * <pre>{@code
 * SubnetCodec codec = new SubnetCodec(Cidr.parse("10.0.0.0/8"), 24);
 * codec.toCidr(257);                          // 10.1.1.0/24
 * codec.toIndex(Cidr.parse("10.1.1.0/24"));   // 257
 * }</pre>
 */
public final class SubnetCodec {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final Cidr cluster;
    private final int nodePrefixLength;
    private final boolean ipv6;
    /** Host bits per subnet: subnet i starts at cluster + (i << shift). */
    private final int shift;
    /** Number of subnets, 2^(node prefix - cluster prefix), at most 2^32. */
    private final long capacity;
    /** The cluster's network address: high and low 64 bits (IPv4 in the low 32 bits of lo). */
    private final long baseHi;
    private final long baseLo;
    /** "/" and the node prefix length, appended to every address text. */
    private final char[] suffix;

    /**
     * Creates the codec of a pool.
     *
     * @param cluster the range that is cut up
     * @param nodePrefixLength the prefix length of each subnet
     */
    public SubnetCodec(Cidr cluster, int nodePrefixLength) {
        int bits = cluster.family().bits();
        int subnetBits = nodePrefixLength - cluster.prefixLength();
        if (nodePrefixLength > bits || subnetBits <= 0 || subnetBits > 32) {
            throw new IllegalArgumentException("cannot cut " + cluster + " into /" + nodePrefixLength + " subnets");
        }
        this.cluster = cluster;
        this.nodePrefixLength = nodePrefixLength;
        this.ipv6 = cluster.family() == IpFamily.IPV6;
        this.shift = bits - nodePrefixLength;
        this.capacity = 1L << subnetBits;
        this.suffix = ("/" + nodePrefixLength).toCharArray();
        String text = cluster.toString();
        String address = text.substring(0, text.indexOf('/'));
        long[] words = ipv6 ? parseIpv6(address) : new long[] {0, parseIpv4(address)};
        this.baseHi = words[0];
        this.baseLo = words[1];
    }

    /**
     * Returns the range that is cut up.
     *
     * @return the cluster range
     */
    public Cidr cluster() {
        return cluster;
    }

    /**
     * Returns the subnets' prefix length.
     *
     * @return the node prefix length
     */
    public int nodePrefixLength() {
        return nodePrefixLength;
    }

    /**
     * Returns the number of subnets.
     *
     * @return 2^(node prefix length - cluster prefix length)
     */
    public long capacity() {
        return capacity;
    }

    /**
     * Builds the subnet at an index, 0 being the first subnet of the range.
     *
     * @param index 0 to capacity - 1
     * @return the subnet
     */
    public Cidr toCidr(long index) {
        long hi = baseHi;
        long lo = baseLo;
        if (shift >= 64) {
            hi |= index << (shift - 64);
        } else {
            lo |= index << shift;
            if (shift > 0) {
                hi |= index >>> (64 - shift); // index bits that spill into the high word (Java masks shift to 6 bits)
            }
        }
        char[] buf = new char[44];
        int n = ipv6 ? writeIpv6(buf, hi, lo) : writeIpv4(buf, lo);
        System.arraycopy(suffix, 0, buf, n, suffix.length);
        return Cidr.parse(new String(buf, 0, n + suffix.length));
    }

    /**
     * Returns the index of one of the pool's subnets.
     *
     * @param subnet a subnet of the pool
     * @return its index
     * @throws IllegalArgumentException if the CIDR is not one of the pool's subnets
     */
    public long toIndex(Cidr subnet) {
        return toIndex(subnet, subnet.toString());
    }

    /**
     * Returns the index of one of the pool's subnets from the text it was parsed from, sparing the formatting.
     *
     * @param subnet a subnet of the pool
     * @param text any valid text of that subnet, such as the one it was parsed from
     * @return its index
     * @throws IllegalArgumentException if the CIDR is not one of the pool's subnets
     */
    public long toIndex(Cidr subnet, String text) {
        if (subnet.prefixLength() != nodePrefixLength || !cluster.contains(subnet)) {
            throw new IllegalArgumentException(subnet + " is not a /" + nodePrefixLength + " subnet of " + cluster);
        }
        String address = text.substring(0, text.indexOf('/'));
        if (!ipv6) {
            return (parseIpv4(address) - baseLo) >>> shift;
        }
        long[] words = parseIpv6(address);
        long value;
        if (shift >= 64) {
            value = words[0] >>> (shift - 64);
        } else if (shift == 0) {
            value = words[1];
        } else {
            value = (words[1] >>> shift) | (words[0] << (64 - shift));
        }
        return value & (capacity - 1);
    }

    private static int writeIpv4(char[] buf, long address) {
        int n = 0;
        for (int octet = 3; octet >= 0; octet--) {
            int v = (int) (address >>> (8 * octet)) & 0xFF;
            if (v >= 100) {
                buf[n++] = (char) ('0' + v / 100);
            }
            if (v >= 10) {
                buf[n++] = (char) ('0' + v / 10 % 10);
            }
            buf[n++] = (char) ('0' + v % 10);
            if (octet > 0) {
                buf[n++] = '.';
            }
        }
        return n;
    }

    private static int writeIpv6(char[] buf, long hi, long lo) {
        int n = 0;
        for (int g = 0; g < 8; g++) {
            long word = g < 4 ? hi : lo;
            int v = (int) (word >>> (48 - 16 * (g & 3))) & 0xFFFF;
            boolean started = false;
            for (int nibble = 3; nibble >= 0; nibble--) {
                int d = (v >>> (4 * nibble)) & 0xF;
                if (d != 0 || started || nibble == 0) {
                    buf[n++] = HEX[d];
                    started = true;
                }
            }
            if (g < 7) {
                buf[n++] = ':';
            }
        }
        return n;
    }

    /** Parses a dotted quad known to be valid (it comes from {@link Cidr#toString()}). */
    private static long parseIpv4(String s) {
        long address = 0;
        int octet = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.') {
                address = (address << 8) | octet;
                octet = 0;
            } else {
                octet = octet * 10 + (c - '0');
            }
        }
        return (address << 8) | octet;
    }

    /** Parses canonical IPv6 text (hex groups, at most one "::", no dotted quad) into {hi, lo}. */
    private static long[] parseIpv6(String s) {
        int[] groups = new int[8];
        int gap = s.indexOf("::");
        if (gap < 0) {
            readGroups(s, 0, s.length(), groups, 0);
        } else {
            int head = readGroups(s, 0, gap, groups, 0);
            int[] tail = new int[8];
            int tailCount = readGroups(s, gap + 2, s.length(), tail, 0);
            System.arraycopy(tail, 0, groups, 8 - tailCount, tailCount);
            if (head + tailCount > 7) {
                throw new IllegalArgumentException("not canonical IPv6: " + s);
            }
        }
        long hi = 0;
        long lo = 0;
        for (int g = 0; g < 4; g++) {
            hi = (hi << 16) | groups[g];
            lo = (lo << 16) | groups[g + 4];
        }
        return new long[] {hi, lo};
    }

    /** Reads colon-separated hex groups of s[from, to) into groups[at..]; returns how many. */
    private static int readGroups(String s, int from, int to, int[] groups, int at) {
        if (from >= to) {
            return 0;
        }
        int count = 0;
        int value = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == ':') {
                groups[at + count++] = value;
                value = 0;
            } else {
                value = (value << 4) | Character.digit(c, 16);
            }
        }
        groups[at + count++] = value;
        return count;
    }
}
