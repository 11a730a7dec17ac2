package io.github.podcidr.k8s;

/** The reasons of the events the controller records on Nodes: stable tokens that alerts and queries can match. */
public final class EventReasons {
    /** No pool of some family has a free subnet for the node (Warning). */
    public static final String CIDR_NOT_AVAILABLE = "CIDRNotAvailable";
    /**
     * The node's pod CIDR overlaps one held by another node (Warning); the first holder keeps it, and the node keeps
     * its taints until the conflict is resolved.
     */
    public static final String CIDR_CONFLICT = "CIDRConflict";
    /** The node's pod CIDR overlaps a pool without being one of its subnets (Warning). */
    public static final String CIDR_MISALIGNED = "CIDRMisaligned";
    /** The node's pod CIDR lies outside every configured range (Warning); it is left alone. */
    public static final String CIDR_OUTSIDE_CLUSTER_CIDR = "CIDROutsideClusterCIDR";
    /** The node's pod CIDR lies in a reserved range (Warning); it is held for the node. */
    public static final String CIDR_IN_RESERVED_RANGE = "CIDRInReservedRange";
    /**
     * The node's pod CIDR is not written canonically (host bits set, leading zeros); it is read as Kubernetes reads
     * it and the subnet it denotes is held (Warning).
     */
    public static final String CIDR_NOT_CANONICAL = "CIDRNotCanonical";
    /**
     * The node's pod CIDR is wider than one node subnet (a supernet of the cluster range, {@code 0.0.0.0/0}, a /22 in
     * a pool of /24s): it holds every node subnet it overlaps that is not reserved or another node's, since Flannel
     * routes the whole range to the node, and keeps its taints; the node must be deleted or re-registered with a pod
     * CIDR of the node size (Warning).
     */
    public static final String CIDR_TOO_WIDE = "CIDRTooWide";
    /** The node's pod CIDR text is not a CIDR (Warning). */
    public static final String INVALID_POD_CIDR = "InvalidPodCIDR";
    /** The node lacks a pod CIDR of a configured family (Warning), e.g. IPv4 only on a dual-stack cluster. */
    public static final String CIDR_FAMILY_MISSING = "CIDRFamilyMissing";
    /**
     * The node's pod CIDR lies in the range of another node group than the one its labels select (Warning); the
     * node keeps it, since pod CIDRs cannot be changed once set.
     */
    public static final String CIDR_IN_OTHER_GROUP = "CIDRInOtherGroup";
    /** The node matches no node group's selector and there is no default group (Warning); it gets no pod CIDR. */
    public static final String NODE_IN_NO_GROUP = "NodeInNoGroup";
    /** The API server refused the node's patch for a reason other than a conflict (Warning). */
    public static final String CIDR_ASSIGNMENT_FAILED = "CIDRAssignmentFailed";

    private EventReasons() {
    }
}
