package io.github.podcidr.k8s;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeIpam;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What the controller allocates and how it behaves: the cluster ranges cut into per-node subnets, ranges never handed
 * out, which nodes are selected, which taints are removed, and the worker count. Immutable; build it with
 * {@link #builder()}. Validation of user input (flags) happens before this, in the application; the constructors
 * here only reject what cannot work.
 *
 * @param clusterCidrs the ranges of the default group, in order; the first range's family is the primary one; empty
 *     when there is no default group (then {@code nodeGroups} is not empty)
 * @param nodeMaskIpv4 prefix length of each node's IPv4 subnet
 * @param nodeMaskIpv6 prefix length of each node's IPv6 subnet
 * @param reservedCidrs ranges never handed out (service CIDR, VPC ranges)
 * @param nodeSelector nodes of the default group: those not in a named group that get pod CIDRs from
 *     {@code clusterCidrs}; other nodes in no group only have existing CIDRs adopted and taints removed
 * @param removeTaints taints removed from nodes once they have their pod CIDRs (or at once if not selected)
 * @param workers number of reconcile threads
 * @param dryRun decide and log every write, perform none (no events either)
 * @param listPageSize nodes per page of the informer's initial LIST
 * @param exhaustedEventInterval least time between two CIDRNotAvailable events for one node
 * @param requestTimeout how long a write may go unanswered before it counts as failed (its outcome unknown)
 * @param cacheSyncTimeout how long a new leader may wait for its node cache to fill before it gives up (and the
 *     process exits so that another replica, or the restarted pod, takes over)
 * @param nodeGroups named node groups, in the order their selectors are tried (a node belongs to the first that
 *     matches); empty for a cluster with the default group only. {@code reservedCidrs} apply to every group.
 */
public record ControllerSettings(List<Cidr> clusterCidrs, int nodeMaskIpv4, int nodeMaskIpv6,
                                 List<Cidr> reservedCidrs, NodeSelector nodeSelector, List<TaintRule> removeTaints,
                                 int workers, boolean dryRun, int listPageSize, Duration exhaustedEventInterval,
                                 Duration requestTimeout, Duration cacheSyncTimeout,
                                 List<NodeGroupSettings> nodeGroups) {

    /**
     * Default worker count. Each worker waits for its write's answer, and for the intent journal's Lease update before
     * it (about 1.5 Lease round trips, shared with the writers that arrive meanwhile), so the workers bound the writes
     * in flight on the one HTTP/2 connection. In a burst of 1,000 new nodes into 20,000 on a 2-core kube-apiserver
     * 1.20 (about 150 nodes a second), 16 workers could take about 110 nodes a second and the queue wait reached
     * 1.8 s; 32 took it down to about 0.4 s (docs/benchmarks.md, "Day two"). More only moves the wait into the server:
     * its PATCH round trip grew from 64 ms at 16 to 130-180 ms at 48, and its watch events to every client fell
     * behind. Kube-controller-manager's node IPAM runs 30.
     */
    public static final int DEFAULT_WORKERS = 32;
    /** Default page size of the initial LIST: 500 nodes, as client-go's reflector pages. */
    public static final int DEFAULT_LIST_PAGE_SIZE = 500;
    /** Default cache sync timeout: 2 minutes, as controller-runtime's {@code CacheSyncTimeout}. */
    public static final Duration DEFAULT_CACHE_SYNC_TIMEOUT = Duration.ofMinutes(2);

    /**
     * Creates settings; the lists are copied.
     *
     * @param clusterCidrs ranges, at least one
     * @param nodeMaskIpv4 IPv4 node prefix length
     * @param nodeMaskIpv6 IPv6 node prefix length
     * @param reservedCidrs reserved ranges
     * @param nodeSelector node selection
     * @param removeTaints taint rules
     * @param workers worker threads, at least 1
     * @param dryRun whether to skip writes
     * @param listPageSize LIST page size, at least 1
     * @param exhaustedEventInterval least time between exhaustion events per node
     * @param requestTimeout timeout of one write
     * @param cacheSyncTimeout longest wait for the node cache to sync, positive
     * @param nodeGroups named node groups, in order
     */
    public ControllerSettings {
        clusterCidrs = List.copyOf(clusterCidrs);
        nodeGroups = List.copyOf(nodeGroups);
        reservedCidrs = List.copyOf(reservedCidrs);
        removeTaints = List.copyOf(removeTaints);
        Objects.requireNonNull(nodeSelector, "nodeSelector");
        Objects.requireNonNull(exhaustedEventInterval, "exhaustedEventInterval");
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new InvalidSettingException("request timeout must be positive, e.g. 10s");
        }
        if (cacheSyncTimeout.isNegative() || cacheSyncTimeout.isZero()) {
            throw new InvalidSettingException("cache sync timeout must be positive, e.g. 2m");
        }
        if (clusterCidrs.isEmpty() && nodeGroups.isEmpty()) {
            throw new InvalidSettingException("no cluster CIDR given; expected one or more ranges, e.g. 10.244.0.0/16");
        }
        Set<String> names = new HashSet<>();
        for (NodeGroupSettings g : nodeGroups) {
            if (!names.add(g.name()) || (!clusterCidrs.isEmpty() && g.name().equals(NodeIpam.DEFAULT_GROUP))) {
                throw new InvalidSettingException("node group name " + g.name() + " is used twice (the cluster CIDRs"
                        + " form the group " + NodeIpam.DEFAULT_GROUP + "); every group needs its own name");
            }
        }
        if (workers < 1) {
            throw new InvalidSettingException("workers must be at least 1, got " + workers);
        }
        if (listPageSize < 1) {
            throw new InvalidSettingException("list page size must be at least 1, got " + listPageSize);
        }
    }

    /**
     * Starts settings with the defaults of the Go podcidr-controller: /24 IPv4 and /64 IPv6 node subnets, every
     * node selected, no taint removed.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a copy with another cache sync timeout.
     *
     * @param timeout how long a new leader may wait for its node cache, positive
     * @return the copy
     */
    public ControllerSettings withCacheSyncTimeout(Duration timeout) {
        return new ControllerSettings(clusterCidrs, nodeMaskIpv4, nodeMaskIpv6, reservedCidrs, nodeSelector,
                removeTaints, workers, dryRun, listPageSize, exhaustedEventInterval, requestTimeout, timeout,
                nodeGroups);
    }

    /**
     * Builds a fresh, empty allocator for these settings: the default group from the cluster CIDRs (if any), then
     * every named group.
     *
     * @return the allocator with every pool and reserved range
     * @throws io.github.podcidr.ipam.InvalidPoolException if ranges overlap, within a group or across groups
     */
    public NodeIpam newIpam() {
        NodeIpam.Builder b = NodeIpam.builder();
        for (Cidr c : clusterCidrs) {
            b.addPool(c, c.family() == IpFamily.IPV4 ? nodeMaskIpv4 : nodeMaskIpv6);
        }
        for (NodeGroupSettings g : nodeGroups) {
            b.addGroup(g.group());
        }
        reservedCidrs.forEach(b::reserve);
        return b.build();
    }

    /**
     * Tells which group a node belongs to: the first named group whose selector matches its labels, else the
     * default group if there is one and {@link #nodeSelector()} matches, else none.
     *
     * @param labels the node's labels
     * @return the group's name ({@link NodeIpam#DEFAULT_GROUP} for the default group), or null if the node belongs to
     *     no group and gets no pod CIDR
     */
    public String groupOf(Map<String, String> labels) {
        for (NodeGroupSettings g : nodeGroups) {
            if (g.selector().matches(labels)) {
                return g.name();
            }
        }
        return !clusterCidrs.isEmpty() && nodeSelector.matches(labels) ? NodeIpam.DEFAULT_GROUP : null;
    }

    /**
     * Returns the label keys any selector reads, so that a node cache may keep only those labels.
     *
     * @return the keys of the default group's selector and of every group's
     */
    public Set<String> labelKeys() {
        Set<String> keys = new HashSet<>(nodeSelector.labelKeys());
        for (NodeGroupSettings g : nodeGroups) {
            keys.addAll(g.selector().labelKeys());
        }
        return Set.copyOf(keys);
    }

    /**
     * Tells whether named groups are configured.
     *
     * @return true if {@link #nodeGroups()} is not empty
     */
    public boolean hasNodeGroups() {
        return !nodeGroups.isEmpty();
    }

    /** Builder of {@link ControllerSettings}. */
    public static final class Builder {
        private List<Cidr> clusterCidrs = List.of();
        private int nodeMaskIpv4 = 24;
        private int nodeMaskIpv6 = 64;
        private List<Cidr> reservedCidrs = List.of();
        private NodeSelector nodeSelector = NodeSelector.all();
        private List<TaintRule> removeTaints = List.of();
        private int workers = DEFAULT_WORKERS;
        private boolean dryRun;
        private int listPageSize = DEFAULT_LIST_PAGE_SIZE;
        private Duration exhaustedEventInterval = Duration.ofMinutes(1);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private Duration cacheSyncTimeout = DEFAULT_CACHE_SYNC_TIMEOUT;
        private List<NodeGroupSettings> nodeGroups = List.of();

        private Builder() {
        }

        /**
         * Sets the named node groups, in the order their selectors are tried.
         *
         * @param groups the groups
         * @return this builder
         */
        public Builder nodeGroups(List<NodeGroupSettings> groups) {
            this.nodeGroups = groups;
            return this;
        }

        /**
         * Sets the cluster ranges.
         *
         * @param cidrs the ranges in order
         * @return this builder
         */
        public Builder clusterCidrs(List<Cidr> cidrs) {
            this.clusterCidrs = cidrs;
            return this;
        }

        /**
         * Sets the IPv4 node prefix length.
         *
         * @param mask e.g. 24
         * @return this builder
         */
        public Builder nodeMaskIpv4(int mask) {
            this.nodeMaskIpv4 = mask;
            return this;
        }

        /**
         * Sets the IPv6 node prefix length.
         *
         * @param mask e.g. 64
         * @return this builder
         */
        public Builder nodeMaskIpv6(int mask) {
            this.nodeMaskIpv6 = mask;
            return this;
        }

        /**
         * Sets the reserved ranges.
         *
         * @param cidrs ranges never handed out
         * @return this builder
         */
        public Builder reservedCidrs(List<Cidr> cidrs) {
            this.reservedCidrs = cidrs;
            return this;
        }

        /**
         * Sets the node selection.
         *
         * @param selector the selector
         * @return this builder
         */
        public Builder nodeSelector(NodeSelector selector) {
            this.nodeSelector = selector;
            return this;
        }

        /**
         * Sets the taints to remove.
         *
         * @param rules the rules
         * @return this builder
         */
        public Builder removeTaints(List<TaintRule> rules) {
            this.removeTaints = rules;
            return this;
        }

        /**
         * Sets the number of reconcile threads.
         *
         * @param n at least 1
         * @return this builder
         */
        public Builder workers(int n) {
            this.workers = n;
            return this;
        }

        /**
         * Switches dry-run on or off.
         *
         * @param on true to log writes instead of performing them
         * @return this builder
         */
        public Builder dryRun(boolean on) {
            this.dryRun = on;
            return this;
        }

        /**
         * Sets the page size of the initial LIST.
         *
         * @param size nodes per page
         * @return this builder
         */
        public Builder listPageSize(int size) {
            this.listPageSize = size;
            return this;
        }

        /**
         * Sets the least time between two exhaustion events for one node.
         *
         * @param interval e.g. one minute
         * @return this builder
         */
        public Builder exhaustedEventInterval(Duration interval) {
            this.exhaustedEventInterval = interval;
            return this;
        }

        /**
         * Sets how long a new leader may wait for its node cache to sync.
         *
         * @param timeout e.g. 2 minutes
         * @return this builder
         */
        public Builder cacheSyncTimeout(Duration timeout) {
            this.cacheSyncTimeout = timeout;
            return this;
        }

        /**
         * Sets how long a write may go unanswered.
         *
         * @param timeout e.g. 10 seconds
         * @return this builder
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = timeout;
            return this;
        }

        /**
         * Builds the settings.
         *
         * @return the settings
         * @throws InvalidSettingException if a value cannot work
         */
        public ControllerSettings build() {
            return new ControllerSettings(clusterCidrs, nodeMaskIpv4, nodeMaskIpv6, reservedCidrs, nodeSelector,
                    removeTaints, workers, dryRun, listPageSize, exhaustedEventInterval, requestTimeout,
                    cacheSyncTimeout, nodeGroups);
        }
    }
}
