package io.github.podcidr.controller;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.InvalidCidrException;
import io.github.podcidr.ipam.InvalidPoolException;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.PoolStats;
import java.util.ArrayList;
import java.util.List;

/**
 * The allocation flags shared by the controller, {@code demo} and {@code plan}: {@code --cluster-cidr},
 * {@code --node-cidr-mask-size[-ipv4|-ipv6]} and {@code --reserved-cidrs}, read and checked together.
 *
 * <p>Mask rules: {@code --node-cidr-mask-size} (the Go controller's flag) sets the mask of a single-stack cluster's
 * family, and the IPv4 mask of a dual-stack one; {@code --node-cidr-mask-size-ipv4} / {@code -ipv6} set one family
 * and win over it; giving both for the same family with different values is an error.
 *
 * @param cluster the cluster ranges in order (primary family first)
 * @param maskIpv4 node prefix length for IPv4 ranges
 * @param maskIpv6 node prefix length for IPv6 ranges
 * @param reserved ranges never handed out
 */
record ClusterRanges(List<Cidr> cluster, int maskIpv4, int maskIpv6, List<Cidr> reserved) {
    static final String CLUSTER_EXAMPLE = "e.g. --cluster-cidr=10.244.0.0/16 (dual-stack:"
            + " --cluster-cidr=10.244.0.0/16,fd00:10:244::/48)";

    static void addFlags(FlagSet flags, String clusterDefault) {
        flags.add("cluster-cidr", FlagSet.Kind.LIST, clusterDefault, "pod ranges, comma list, one or more per family;"
                        + " both families = dual-stack, the first range's family is primary" + (clusterDefault.isEmpty()
                        ? " (required)" : ""))
                .add("node-cidr-mask-size", FlagSet.Kind.INT, "", "prefix length of each node's subnet in a"
                        + " single-stack cluster (the IPv4 one in dual-stack); unset: 24 for IPv4, 64 for IPv6")
                .add("node-cidr-mask-size-ipv4", FlagSet.Kind.INT, "24", "prefix length of each node's IPv4 subnet")
                .add("node-cidr-mask-size-ipv6", FlagSet.Kind.INT, "64", "prefix length of each node's IPv6 subnet")
                .add("reserved-cidrs", FlagSet.Kind.LIST, "", "ranges never handed out (service CIDR, VPC ranges),"
                        + " comma list");
    }

    /**
     * Reads and checks the ranges; every problem goes to {@code v}'s errors.
     *
     * @param v the parsed flags
     * @param defaultCluster cluster ranges when the flag is absent (empty: the flag is required)
     * @param reservedMustLeaveRoom true to make a pool left without a free subnet by the reserved ranges an error
     * @return the ranges, or null if the cluster ranges are unusable
     */
    static ClusterRanges read(FlagSet.Values v, List<String> defaultCluster, boolean reservedMustLeaveRoom) {
        return read(v, defaultCluster, reservedMustLeaveRoom, true);
    }

    /**
     * Reads and checks the ranges; every problem goes to {@code v}'s errors.
     *
     * @param v the parsed flags
     * @param defaultCluster cluster ranges when the flag is absent
     * @param reservedMustLeaveRoom true to make a pool left without a free subnet by the reserved ranges an error
     * @param clusterRequired false when named node groups ({@code --pools-file}) are given: then no cluster range
     *     means no default group, and the result has an empty {@link #cluster()}
     * @return the ranges, or null if they are unusable
     */
    static ClusterRanges read(FlagSet.Values v, List<String> defaultCluster, boolean reservedMustLeaveRoom,
                              boolean clusterRequired) {
        int errorsBefore = v.errors().size();
        List<String> clusterText = v.has("cluster-cidr") ? v.list("cluster-cidr") : defaultCluster;
        if (clusterText.isEmpty() && clusterRequired) {
            v.error("cluster-cidr", v.raw("cluster-cidr"), "is required: one or more ranges (or node groups in"
                    + " --pools-file); " + CLUSTER_EXAMPLE);
        }
        List<Cidr> cluster = parseAll(v, "cluster-cidr", clusterText, CLUSTER_EXAMPLE);
        List<Cidr> reserved = parseAll(v, "reserved-cidrs", v.list("reserved-cidrs"),
                "e.g. --reserved-cidrs=10.96.0.0/12,172.16.0.0/16");
        checkFamilyOrder(v, cluster);
        checkOverlaps(v, cluster);

        boolean dual = families(cluster).size() == 2;
        IpFamily single = cluster.isEmpty() ? IpFamily.IPV4 : cluster.get(0).family();
        int generic = v.integer("node-cidr-mask-size", -1, "24");
        int m4 = v.integer("node-cidr-mask-size-ipv4", -1, "24");
        int m6 = v.integer("node-cidr-mask-size-ipv6", -1, "64");
        boolean genericIsV4 = dual || single == IpFamily.IPV4;
        if (generic >= 0 && genericIsV4 && m4 >= 0 && generic != m4) {
            v.error("node-cidr-mask-size", v.raw("node-cidr-mask-size"), "contradicts --node-cidr-mask-size-ipv4="
                    + m4 + " (both set the IPv4 mask); give one of them, e.g. --node-cidr-mask-size-ipv4=" + m4);
        }
        if (generic >= 0 && !genericIsV4 && m6 >= 0 && generic != m6) {
            v.error("node-cidr-mask-size", v.raw("node-cidr-mask-size"), "contradicts --node-cidr-mask-size-ipv6="
                    + m6 + " (both set the IPv6 mask of this IPv6 cluster); give one of them, e.g."
                    + " --node-cidr-mask-size-ipv6=" + m6);
        }
        int mask4 = m4 >= 0 ? m4 : generic >= 0 && genericIsV4 ? generic : 24;
        int mask6 = m6 >= 0 ? m6 : generic >= 0 && !genericIsV4 ? generic : 64;
        // name the flag that set (or, left out, would set) each family's mask
        String flag4 = m4 >= 0 || !genericIsV4 ? "node-cidr-mask-size-ipv4" : "node-cidr-mask-size";
        String flag6 = m6 >= 0 || genericIsV4 ? "node-cidr-mask-size-ipv6" : "node-cidr-mask-size";
        for (Cidr c : cluster) {
            boolean v4 = c.family() == IpFamily.IPV4;
            checkMask(v, v4 ? flag4 : flag6, v4 ? mask4 : mask6, c, v4 ? m4 >= 0 || generic >= 0
                    : m6 >= 0 || generic >= 0 && !genericIsV4);
        }
        if (v.errors().size() > errorsBefore || cluster.isEmpty() && clusterRequired) {
            return null;
        }
        ClusterRanges ranges = new ClusterRanges(cluster, mask4, mask6, reserved);
        if (cluster.isEmpty()) {
            return ranges; // no default group: the node groups are checked with the pools file
        }
        NodeIpam ipam;
        try {
            ipam = ranges.newIpam();
        } catch (InvalidPoolException | InvalidCidrException e) {
            v.error("cluster-cidr", v.raw("cluster-cidr"), e.getMessage() + "; " + CLUSTER_EXAMPLE);
            return null;
        }
        if (reservedMustLeaveRoom) {
            for (PoolStats s : ipam.stats()) {
                if (s.free() == 0) {
                    List<String> covering = new ArrayList<>();
                    for (Cidr r : reserved) {
                        if (r.overlaps(s.cluster())) {
                            covering.add(r.toString());
                        }
                    }
                    v.error("reserved-cidrs", v.raw("reserved-cidrs"), "leaves no subnet of cluster range "
                            + s.cluster() + " to hand out (" + String.join(", ", covering) + " cover"
                            + (covering.size() == 1 ? "s" : "") + " all of it); reserve ranges inside or outside the"
                            + " cluster range, e.g. --reserved-cidrs=10.96.0.0/12");
                }
            }
        }
        return ranges;
    }

    ClusterRanges withMaskIpv4(int mask) {
        return new ClusterRanges(cluster, mask, maskIpv6, reserved);
    }

    NodeIpam newIpam() {
        NodeIpam.Builder b = NodeIpam.builder();
        for (Cidr c : cluster) {
            b.addPool(c, maskOf(c));
        }
        reserved.forEach(b::reserve);
        return b.build();
    }

    int maskOf(Cidr c) {
        return c.family() == IpFamily.IPV4 ? maskIpv4 : maskIpv6;
    }

    private static List<Cidr> parseAll(FlagSet.Values v, String flag, List<String> items, String example) {
        List<Cidr> out = new ArrayList<>();
        for (String item : items) {
            try {
                out.add(Cidr.parse(item));
            } catch (InvalidCidrException e) {
                v.error(flag, v.has(flag) ? v.raw(flag) : item, e.getMessage() + "; " + example);
            }
        }
        return out;
    }

    private static List<IpFamily> families(List<Cidr> cidrs) {
        List<IpFamily> out = new ArrayList<>();
        for (Cidr c : cidrs) {
            if (!out.contains(c.family())) {
                out.add(c.family());
            }
        }
        return out;
    }

    /** Ranges must be grouped by family (all of the primary family first), so that the order reads unambiguously. */
    private static void checkFamilyOrder(FlagSet.Values v, List<Cidr> cluster) {
        for (int i = 2; i < cluster.size(); i++) {
            IpFamily f = cluster.get(i).family();
            if (f != cluster.get(i - 1).family() && cluster.subList(0, i - 1).stream().anyMatch(c -> c.family() == f)) {
                List<Cidr> grouped = new ArrayList<>(cluster);
                IpFamily primary = cluster.get(0).family();
                grouped.sort((a, b) -> Boolean.compare(a.family() != primary, b.family() != primary));
                v.error("cluster-cidr", v.raw("cluster-cidr"), "mixes the families: " + cluster.get(i)
                        + " comes after a range of the other family; list every range of the primary family first,"
                        + " then the other's, e.g. --cluster-cidr=" + String.join(",",
                        grouped.stream().map(Cidr::toString).toList()));
                return;
            }
        }
    }

    private static void checkOverlaps(FlagSet.Values v, List<Cidr> cluster) {
        for (int i = 0; i < cluster.size(); i++) {
            for (int j = i + 1; j < cluster.size(); j++) {
                if (cluster.get(i).overlaps(cluster.get(j))) {
                    v.error("cluster-cidr", v.raw("cluster-cidr"), "has overlapping ranges " + cluster.get(i)
                            + " and " + cluster.get(j) + "; give disjoint ranges, e.g."
                            + " --cluster-cidr=10.244.0.0/16,10.245.0.0/16");
                }
            }
        }
    }

    private static void checkMask(FlagSet.Values v, String flag, int mask, Cidr range, boolean given) {
        int max = range.family() == IpFamily.IPV4 ? 32 : 128;
        String example = range.family() == IpFamily.IPV4 ? "24" : "64";
        String value = String.valueOf(mask);
        String dflt = given ? "" : "(the default) ";
        if (mask > max || mask < 1) {
            v.error(flag, value, dflt + "is outside 1.." + max + " for " + (max == 32 ? "IPv4" : "IPv6")
                    + " range " + range + "; e.g. --" + flag + "=" + example);
        } else if (mask < range.prefixLength()) {
            // equal is allowed, as kube-controller-manager allows it: the whole range is one node's subnet
            v.error(flag, value, dflt + "must not be shorter than the prefix of cluster range " + range + " (/"
                    + range.prefixLength() + "): a node subnet lies inside the range; e.g. --" + flag + "="
                    + Math.min(max, Math.max(range.prefixLength() + 8, Integer.parseInt(example))));
        } else if (mask - range.prefixLength() > 32) {
            v.error(flag, value, dflt + "cuts " + range + " into 2^" + (mask - range.prefixLength())
                    + " subnets, more than the 2^32 a pool can hold; use a longer cluster prefix or a shorter mask,"
                    + " e.g. --" + flag + "=" + (range.prefixLength() + 16));
        }
    }
}
