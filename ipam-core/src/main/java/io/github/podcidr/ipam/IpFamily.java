package io.github.podcidr.ipam;

/** The IP family of a {@link Cidr}: IPv4 (32-bit addresses) or IPv6 (128-bit addresses). */
public enum IpFamily {
    /** 32-bit addresses, written as a dotted quad ({@code 10.244.0.0/16}). */
    IPV4(32),
    /** 128-bit addresses, written per RFC 5952 ({@code fd00:10:244::/56}). */
    IPV6(128);

    private final int bits;

    IpFamily(int bits) {
        this.bits = bits;
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
