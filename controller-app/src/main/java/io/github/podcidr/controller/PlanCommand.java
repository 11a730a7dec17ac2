package io.github.podcidr.controller;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.k8s.NodeGroupSettings;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * {@code plan}: what a configuration gives, before installing. Per cluster range: node subnets, how many reserved
 * ranges take, pod IPs per node and in all; per reserved range the overlap with each cluster range; and whether
 * {@code --nodes} fits with headroom.
 *
 * <pre>
 * java -jar podcidr-controller.jar plan --cluster-cidr 10.244.0.0/16 --node-cidr-mask-size 24 \
 *     --reserved-cidrs 10.96.0.0/12,172.16.0.0/16 --nodes 300
 * </pre>
 *
 * <p>With {@code --pools-file}, each node group's ranges and capacity follow (the file is checked as the controller
 * checks it); {@code --nodes} is then checked against the default group ({@code --cluster-cidr}) only.
 *
 * <p>Exit 0: the plan works. Exit 1: a reserved range covers a whole cluster range (nothing could be allocated
 * from it), or the nodes do not fit. Exit 2: bad flags.
 */
final class PlanCommand {
    /** Below this share of free subnets left after {@code --nodes}, the plan warns that growth has little room. */
    static final double HEADROOM = 0.2;

    private PlanCommand() {
    }

    static FlagSet flagSet() {
        FlagSet f = new FlagSet("plan");
        ClusterRanges.addFlags(f, "");
        f.add(PoolsFile.FLAG, FlagSet.Kind.STRING, "", "YAML file of named node groups, as for the controller: shows"
                + " each group's capacity");
        f.add("nodes", FlagSet.Kind.INT, "", "nodes the cluster should hold; checked against the capacity");
        return f;
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        FlagSet flags = flagSet();
        FlagSet.Values v = flags.parse(args);
        if (v.help()) {
            flags.printHelp(out, "java -jar podcidr-controller.jar plan --cluster-cidr=RANGES [flags]");
            return 0;
        }
        boolean pools = v.has(PoolsFile.FLAG) && !v.raw(PoolsFile.FLAG).isBlank();
        ClusterRanges ranges = ClusterRanges.read(v, List.of(), false, !pools);
        List<NodeGroupSettings> groups = pools && ranges != null ? PoolsFile.read(v, ranges) : List.of();
        int nodes = v.integer("nodes", -1, "300");
        if (v.has("nodes") && nodes < 0) {
            v.error("nodes", v.raw("nodes"), "must be 0 or more; e.g. --nodes=300");
        }
        if (!v.errors().isEmpty() || ranges == null || groups == null) {
            Main.printErrors(err, "plan", v.errors());
            return Main.EXIT_CONFIG;
        }
        if (ranges.cluster().isEmpty()) {
            printGroups(ranges, groups, out);
            out.println();
            out.println("No default group (no --cluster-cidr): nodes that no group's selector matches get no pod CIDR.");
            out.println();
            out.println("OK: this plan works.");
            return 0;
        }
        return print(ranges, nodes, groups, out);
    }

    private static void printGroups(ClusterRanges ranges, List<NodeGroupSettings> groups, PrintStream out) {
        if (groups.isEmpty()) {
            return;
        }
        NodeIpam.Builder b = NodeIpam.builder();
        ranges.cluster().forEach(c -> b.addPool(c, ranges.maskOf(c)));
        groups.forEach(g -> b.addGroup(g.group()));
        ranges.reserved().forEach(b::reserve);
        NodeIpam ipam = b.build();
        out.println("Node groups (--pools-file, in the order their selectors are tried; read at start)");
        String header = "  %-16s %-24s %-6s %-6s %14s %14s %14s %13s%n";
        out.printf(header, "group", "range", "family", "mask", "node subnets", "reserved", "usable", "pod IPs/node");
        for (NodeGroupSettings g : groups) {
            Map<IpFamily, Long> usable = new EnumMap<>(IpFamily.class);
            for (PoolStats s : ipam.stats(g.name())) {
                long free = s.capacity() - s.reserved();
                usable.merge(s.family(), free, Long::sum);
                int hostBits = (s.family() == IpFamily.IPV4 ? 32 : 128) - s.nodePrefixLength();
                out.printf(header, g.name(), s.cluster(), s.family() == IpFamily.IPV4 ? "IPv4" : "IPv6",
                        "/" + s.nodePrefixLength(), String.format("%,d", s.capacity()),
                        String.format("%,d", s.reserved()), String.format("%,d", free), podIps(s.family(), hostBits));
            }
            List<String> parts = new ArrayList<>();
            usable.forEach((f, n) -> parts.add(String.format("%,d %s", n, f == IpFamily.IPV4 ? "IPv4" : "IPv6")));
            out.printf("  %-16s holds %s nodes (one subnet per family each); selector: %s%n", g.name(),
                    usable.values().stream().min(Long::compare).map(n -> String.format("%,d", n)).orElse("0"),
                    g.selector().requirements().isEmpty() ? "every node left" : String.join(" and ",
                            g.selector().requirements().stream().map(r -> r.key() + " " + r.operator()
                                    + (r.values().isEmpty() ? "" : " " + r.values())).toList()));
        }
    }

    private static int print(ClusterRanges ranges, int nodes, List<NodeGroupSettings> groups, PrintStream out) {
        List<PoolStats> stats = ranges.newIpam().stats();
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();

        out.println("Cluster ranges");
        String header = "  %-24s %-6s %-6s %14s %14s %14s %13s %16s%n";
        out.printf(header, "range", "family", "mask", "node subnets", "reserved", "usable", "pod IPs/node",
                "pod IPs in all");
        Map<IpFamily, Long> usable = new EnumMap<>(IpFamily.class);
        for (PoolStats s : stats) {
            long free = s.capacity() - s.reserved();
            usable.merge(s.family(), free, Long::sum);
            int hostBits = (s.family() == IpFamily.IPV4 ? 32 : 128) - s.nodePrefixLength();
            out.printf(header, s.cluster(), s.family() == IpFamily.IPV4 ? "IPv4" : "IPv6",
                    "/" + s.nodePrefixLength(), String.format("%,d", s.capacity()), String.format("%,d", s.reserved()),
                    String.format("%,d", free), podIps(s.family(), hostBits), totalPodIps(s.family(), hostBits, free));
        }

        if (!ranges.reserved().isEmpty()) {
            out.println();
            out.println("Reserved ranges");
            for (Cidr r : ranges.reserved()) {
                List<String> overlaps = new ArrayList<>();
                for (Cidr c : ranges.cluster()) {
                    if (r.contains(c)) {
                        overlaps.add("covers all of " + c + " (UNSAFE)");
                        problems.add(r + " covers the whole cluster range " + c + ": the controller could hand out"
                                + " no subnet from it, and pods there would share addresses with " + r
                                + ". Choose a cluster range outside " + r + ".");
                    } else if (c.contains(r)) {
                        long taken = subnetsTouching(r, ranges.maskOf(c));
                        overlaps.add("inside " + c + ": " + String.format("%,d", taken) + " node subnet"
                                + (taken == 1 ? "" : "s") + " never handed out");
                        notes.add(r + " lies inside " + c + ": the controller skips the subnets it touches, so no pod"
                                + " gets one of its addresses; the CNI still treats all of " + c + " as pod network,"
                                + " so hosts in " + r + " are not reachable from pods.");
                    }
                }
                out.printf("  %-24s %s%n", r, overlaps.isEmpty() ? "no overlap with the cluster ranges"
                        : String.join("; ", overlaps));
            }
        }

        if (nodes >= 0) {
            out.println();
            out.printf("Nodes: %,d (one subnet per family each)%n", nodes);
            for (Map.Entry<IpFamily, Long> e : usable.entrySet()) {
                String family = e.getKey() == IpFamily.IPV4 ? "IPv4" : "IPv6";
                long cap = e.getValue();
                if (nodes > cap) {
                    out.printf("  %s: %,d usable subnets: does NOT fit (%,d short)%n", family, cap, nodes - cap);
                    problems.add(String.format("%,d nodes need %,d %s subnets, the ranges have %,d usable: use a"
                                    + " shorter --cluster-cidr prefix, a longer node mask, or add a range",
                            nodes, nodes, family, cap));
                } else {
                    double left = cap == 0 ? 0 : (double) (cap - nodes) / cap;
                    out.printf("  %s: %,d usable subnets: fits, %,d left (%.0f%% headroom)%s%n", family, cap,
                            cap - nodes, left * 100, left < HEADROOM ? " - little room to grow" : "");
                }
            }
        }

        if (!groups.isEmpty()) {
            out.println();
            printGroups(ranges, groups, out);
        }
        notes.forEach(n -> out.println("Note: " + n));
        if (!problems.isEmpty()) {
            out.println();
            out.println("UNSAFE: this plan does not work:");
            problems.forEach(p -> out.println("  - " + p));
            return 1;
        }
        out.println();
        out.println("OK: this plan works.");
        return 0;
    }

    /** Node subnets of prefix {@code mask} that a range overlaps: one if it is smaller than a subnet. */
    private static long subnetsTouching(Cidr range, int mask) {
        int diff = mask - range.prefixLength();
        return diff <= 0 ? 1 : diff >= 62 ? Long.MAX_VALUE : 1L << diff;
    }

    private static String podIps(IpFamily family, int hostBits) {
        if (family == IpFamily.IPV4) {
            // network and broadcast addresses are not handed to pods
            return String.format("%,d", Math.max(0, (1L << hostBits) - 2));
        }
        return hostBits >= 40 ? "2^" + hostBits : String.format("%,d", 1L << hostBits);
    }

    private static String totalPodIps(IpFamily family, int hostBits, long subnets) {
        if (family == IpFamily.IPV4) {
            return String.format("%,d", Math.max(0, (1L << hostBits) - 2) * subnets);
        }
        int subnetBits = 63 - Long.numberOfLeadingZeros(Math.max(1, subnets));
        return hostBits + subnetBits >= 40 ? "~2^" + (hostBits + subnetBits)
                : String.format("%,d", (1L << hostBits) * subnets);
    }
}
