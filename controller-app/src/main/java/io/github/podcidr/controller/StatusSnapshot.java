package io.github.podcidr.controller;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolOccupancy;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.k8s.ControllerRunner;
import io.github.podcidr.k8s.LeaderLease;
import io.github.podcidr.k8s.NodeProblem;
import io.github.podcidr.k8s.PodCidrController;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the status page shows, taken at one instant from the running controller: who leads, the pools and a picture of
 * each, the nodes waiting for room, the problem nodes, the write rates. Every list is capped (a 130,000-node cluster
 * gives a page of the same size as a 10-node one); the counts beside them are exact. {@link StatusHtml} and
 * {@link StatusJson} render it.
 *
 * @param takenAt when the snapshot was taken
 * @param version the controller's version
 * @param identity this replica's identity
 * @param role what this replica does now
 * @param electionEnabled false when leader election is off (and in dry-run): this replica leads alone
 * @param lease the Lease as this replica last saw it, or null (no election, or not read yet)
 * @param ready what /readyz answers
 * @param pools the pools in configured order; empty on a standby (its allocator state is the leader's only)
 * @param families totals per family, primary first; empty on a standby
 * @param waiting the nodes that found every pool of a family full
 * @param failingClosed the nodes that keep their taints because their pod CIDRs cannot be vouched for
 * @param problemNodes the nodes with findings on their pod CIDRs now, with the kinds found
 * @param problemsByKind how many nodes have each kind of finding now
 * @param latestProblems the latest problems as reported, newest first (at most 50)
 * @param rates writes of the last minute
 * @param queueDepth node names waiting in the work queue
 * @param captureMicros how long taking the snapshot took (of which the allocator's lock was held for part)
 * @param groupOfNode the group of each listed waiting node, by name; empty without named groups
 * @param protobufFallenBack whether the node cache reads JSON because protobuf answers could not be read
 */
record StatusSnapshot(Instant takenAt, String version, String identity, Role role, boolean electionEnabled,
                      LeaderLease lease, boolean ready, List<Pool> pools, List<FamilyTotals> families,
                      Capped<String> waiting, Capped<String> failingClosed, Capped<ProblemNode> problemNodes,
                      Map<NodeReport.Kind, Integer> problemsByKind, List<NodeProblem> latestProblems,
                      WriteRates.Rates rates, int queueDepth, long captureMicros, Map<String, String> groupOfNode,
                      boolean protobufFallenBack) {
    /** Most names in each list of nodes. */
    static final int LIST_LIMIT = 50;
    /** Most cells in the picture of one pool: one per subnet up to 2^16 subnets, blocks of subnets above. */
    static final int GRID_CELLS = 1 << 16;

    StatusSnapshot {
        pools = List.copyOf(pools);
        groupOfNode = Map.copyOf(groupOfNode);
    }

    /**
     * Whether named node groups ({@code --pools-file}) are configured: then the page names each pool's group and sums
     * up each group; without them it shows the default group's pools unlabelled.
     */
    boolean namedGroups() {
        return pools.stream().anyMatch(p -> !p.group().equals(NodeIpam.DEFAULT_GROUP));
    }

    /**
     * The totals of each group per family, groups in the order of their first pool, families in the order of their
     * first pool within the group.
     *
     * @return one entry per group and family
     */
    List<GroupTotals> groupTotals() {
        Map<String, Map<IpFamily, long[]>> sums = new LinkedHashMap<>();
        for (Pool p : pools) {
            long[] t = sums.computeIfAbsent(p.group(), g -> new LinkedHashMap<>())
                    .computeIfAbsent(p.stats().family(), f -> new long[3]);
            t[0] += p.stats().capacity();
            t[1] += p.stats().allocated();
            t[2] += p.stats().reserved();
        }
        List<GroupTotals> out = new ArrayList<>();
        sums.forEach((g, byFamily) -> byFamily.forEach((f, t) ->
                out.add(new GroupTotals(g, f, t[0], t[1], t[2], t[0] - t[1] - t[2]))));
        return List.copyOf(out);
    }

    /**
     * The totals of one family over the pools of one group.
     *
     * @param group the group's name
     * @param family the family
     * @param capacity subnets in the group's pools of the family
     * @param allocated held by nodes
     * @param reserved never handed out
     * @param free left to hand out
     */
    record GroupTotals(String group, IpFamily family, long capacity, long allocated, long reserved, long free) {
    }

    /** What this replica does. */
    enum Role {
        /** Holds the Lease (or runs without election) and has restored its state: it writes. */
        LEADER("leader"),
        /** Holds the Lease but is still syncing its node cache or restoring. */
        LEADER_STARTING("leader, starting (syncing the node cache and restoring)"),
        /** Waits for the Lease; the leader does the work. */
        STANDBY("standby");

        private final String text;

        Role(String text) {
            this.text = text;
        }

        /** The role as the page writes it. */
        String text() {
            return text;
        }
    }

    /**
     * At most {@link #LIST_LIMIT} items of a longer list.
     *
     * @param items the first items, in order
     * @param total how many there are in all
     * @param <T> the item type
     */
    record Capped<T>(List<T> items, int total) {
        Capped {
            items = List.copyOf(items);
        }

        /** How many items are not shown. */
        int more() {
            return Math.max(0, total - items.size());
        }

        static <T> Capped<T> none() {
            return new Capped<>(List.of(), 0);
        }
    }

    /**
     * One problem node and the kinds found on it.
     *
     * @param node the node's name
     * @param kinds what is wrong, e.g. duplicate
     * @param failingClosed whether it keeps its taints because of it
     */
    record ProblemNode(String node, Set<NodeReport.Kind> kinds, boolean failingClosed) {
    }

    /**
     * One pool: its figures and its picture.
     *
     * @param stats capacity, allocated, reserved, free
     * @param occupancy the subnets counted per cell
     * @param conflictCells the cells holding a subnet that a node claims while another node holds it
     * @param group the name of the node group the pool belongs to ({@link NodeIpam#DEFAULT_GROUP} for the pools of
     *     {@code --cluster-cidr})
     */
    record Pool(PoolStats stats, PoolOccupancy occupancy, BitSet conflictCells, String group) {
        /** A pool of the default group. */
        Pool(PoolStats stats, PoolOccupancy occupancy, BitSet conflictCells) {
            this(stats, occupancy, conflictCells, NodeIpam.DEFAULT_GROUP);
        }

        /** The grid's width in cells: the square root of the cell count, or twice that of the next lower square. */
        int columns() {
            int bits = Integer.numberOfTrailingZeros(occupancy.cells());
            return 1 << ((bits + 1) / 2);
        }

        /** The grid's height in cells. */
        int rows() {
            return occupancy.cells() / columns();
        }

        /** Share of the capacity allocated, 0 to 1. */
        double usedShare() {
            return stats.capacity() == 0 ? 0 : (double) (stats.allocated() + stats.reserved()) / stats.capacity();
        }
    }

    /**
     * The totals of one family over its pools.
     *
     * @param family the family
     * @param capacity subnets in all its pools
     * @param allocated held by nodes
     * @param reserved never handed out
     * @param free left to hand out
     */
    record FamilyTotals(IpFamily family, long capacity, long allocated, long reserved, long free) {
    }

    /**
     * Takes a snapshot of a replica. The allocator's lock is held once, for {@link NodeIpam#occupancy(int)} (a scan
     * of each pool's bitmap); the rest reads concurrent sets without blocking the workers.
     *
     * @param runner the replica's runner
     * @param identity its identity
     * @param electionEnabled whether it campaigns for a Lease
     * @param rates its write counts
     * @return the snapshot
     */
    static StatusSnapshot capture(ControllerRunner runner, String identity, boolean electionEnabled,
                                  WriteRates rates) {
        long t0 = System.nanoTime();
        PodCidrController c = runner.controller();
        LeaderLease lease = runner.lease().orElse(null);
        Role role = c == null ? Role.STANDBY : c.isReady() ? Role.LEADER : Role.LEADER_STARTING;
        List<Pool> pools = new ArrayList<>();
        List<FamilyTotals> families = new ArrayList<>();
        Capped<String> waiting = Capped.none();
        Capped<String> failing = Capped.none();
        Capped<ProblemNode> problemNodes = Capped.none();
        Map<NodeReport.Kind, Integer> byKind = new EnumMap<>(NodeReport.Kind.class);
        List<NodeProblem> latest = List.of();
        int queue = 0;
        boolean json = false;
        Map<String, String> groupOfNode = new HashMap<>();
        if (c != null && c.isReady()) {
            NodeIpam ipam = c.ipam();
            latest = c.status().latestProblems();
            failing = new Capped<>(List.copyOf(c.status().nodesFailingClosed(LIST_LIMIT)), c.status().failingClosed());
            waiting = new Capped<>(List.copyOf(c.status().nodesWaitingForRoom(LIST_LIMIT)), c.status().waitingForRoom());
            byKind.putAll(c.status().nodesByFinding());
            List<ProblemNode> found = new ArrayList<>();
            c.status().nodesWithFindings(LIST_LIMIT).forEach((node, kinds) -> found.add(new ProblemNode(node, kinds,
                    c.status().isFailingClosed(node))));
            problemNodes = new Capped<>(found, c.status().nodesWithFindingsCount());
            queue = c.status().queueDepth();
            json = c.status().protobufFallenBack();
            for (PoolOccupancy o : ipam.occupancy(GRID_CELLS)) {
                pools.add(new Pool(o.stats(), o, conflicts(o, latest, c),
                        ipam.groupOf(o.stats().cluster()).orElse(NodeIpam.DEFAULT_GROUP)));
            }
            if (ipam.groups().stream().anyMatch(g -> !g.name().equals(NodeIpam.DEFAULT_GROUP))) {
                for (String node : waiting.items()) {
                    c.status().groupOfNode(node).ifPresent(g -> groupOfNode.put(node, g));
                }
            }
            for (IpFamily f : ipam.families()) {
                long cap = 0;
                long alloc = 0;
                long res = 0;
                for (Pool p : pools) {
                    if (p.stats().family() == f) {
                        cap += p.stats().capacity();
                        alloc += p.stats().allocated();
                        res += p.stats().reserved();
                    }
                }
                families.add(new FamilyTotals(f, cap, alloc, res, cap - alloc - res));
            }
        }
        return new StatusSnapshot(Instant.now(), Version.current(), identity, role, electionEnabled, lease,
                runner.isReady(), pools, families, waiting, failing, problemNodes, byKind, latest,
                rates.lastMinute(), queue, (System.nanoTime() - t0) / 1000, groupOfNode, json);
    }

    /**
     * The cells of a pool that hold the subnet of a duplicate claim still present: from the latest problems (the
     * subnet of each duplicate is recorded there), kept while the claiming node still has a duplicate finding.
     */
    private static BitSet conflicts(PoolOccupancy o, List<NodeProblem> latest, PodCidrController c) {
        BitSet cells = new BitSet();
        for (NodeProblem p : latest) {
            Cidr cidr = p.cidr();
            if (p.kind() == NodeReport.Kind.DUPLICATE && cidr != null && o.stats().cluster().contains(cidr)
                    && cidr.prefixLength() == o.stats().nodePrefixLength()
                    && c.status().findingsOf(p.node()).contains(NodeReport.Kind.DUPLICATE)) {
                cells.set(o.cellOf(indexIn(o, cidr)));
            }
        }
        return cells;
    }

    /** The number of a subnet in its pool: its distance from the pool's first subnet, in subnets. */
    private static long indexIn(PoolOccupancy o, Cidr subnet) {
        java.math.BigInteger first = new java.math.BigInteger(1, o.stats().cluster().address().getAddress());
        java.math.BigInteger at = new java.math.BigInteger(1, subnet.address().getAddress());
        int hostBits = subnet.family().bits() - o.stats().nodePrefixLength();
        return at.subtract(first).shiftRight(hostBits).longValueExact();
    }
}
