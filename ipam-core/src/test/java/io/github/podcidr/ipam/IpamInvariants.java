package io.github.podcidr.ipam;

/**
 * Test utility for other modules' tests: recounts a {@link NodeIpam} and throws {@link IllegalStateException} if its
 * node map, holder map and pools disagree or a subnet is held twice. Shipped in ipam-core's test jar only, so that the
 * check stays out of the library's public API.
 */
public final class IpamInvariants {
    private IpamInvariants() {
    }

    /**
     * Checks every invariant of an instance.
     *
     * @param ipam the instance to recount
     */
    public static void check(NodeIpam ipam) {
        ipam.checkInvariants();
    }
}
