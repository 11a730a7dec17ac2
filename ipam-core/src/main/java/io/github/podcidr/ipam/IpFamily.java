package io.github.podcidr.ipam;

/** The IP family of a {@link Cidr}: IPv4 (32-bit addresses) or IPv6 (128-bit addresses). */
public enum IpFamily {
    /** 32-bit addresses, written as a dotted quad ({@code 10.244.0.0/16}). */
    IPV4(32, "IPv4"),
    /** 128-bit addresses, written per RFC 5952 ({@code fd00:10:244::/56}). */
    IPV6(128, "IPv6");

    private final int bits;
    private final String label;

    IpFamily(int bits, String label) {
        this.bits = bits;
        this.label = label;
    }

    /**
     * Returns the name as people write it, {@code IPv4} or {@code IPv6}, for messages and pages. {@link #toString()}
     * stays the constant's name ({@code IPV4}), which existing messages and the programs that read them use.
     *
     * @return {@code IPv4} or {@code IPv6}
     */
    public String label() {
        return label;
    }

    /**
     * Returns the address width in bits, which is also the longest prefix length of the family.
     *
     * @return 32 for IPv4, 128 for IPv6
     */
    public int bits() {
        return bits;
    }
}
