package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What {@link NodeIpam#adopt(String, List)} made of one node's pod CIDRs: the subnets the node now holds, and one
 * {@link Finding} for everything about its values that deserves an operator's attention.
 *
 * <p>How adoption reads the values: each is read as Kubernetes reads it ({@link Cidr#parseLenient(String)}), and per
 * family the node then holds the subnet its value denotes when that subnet is free or already the node's; every other
 * subnet it held for that family is freed (e.g. one allocated for it whose write never landed: pod CIDRs are
 * immutable once set, so the node can no longer get it). Nothing is ever taken from another node. A node with no
 * value at all is left as it is. A family of the node's group it has no value of is {@link Kind#MISSING_FAMILY};
 * for a node of no group, families are checked against the group that holds its first value. {@link Kind} says how
 * each value is classified and what is held for it.
 *
 * <p>{@link #vouched()} tells whether the controller can vouch that the node's pod CIDRs conflict with no other
 * node's: false when a value is another node's, outside every pool, unreadable, wider than a node subnet, or not held
 * for another reason. A controller should then keep the node out of service (keep its taints) until the problem is
 * resolved.
 *
 * @param node the node name
 * @param adopted subnets now held by the node for its pod CIDRs, one per family at most, primary family first
 * @param findings what was wrong or unusual, in the order of the node's values (missing families last)
 */
public record NodeReport(String node, List<Cidr> adopted, List<Finding> findings) {

    /**
     * Creates a report; the lists are copied.
     *
     * @param node the node name
     * @param adopted subnets now held by the node
     * @param findings what was wrong or unusual
     */
    public NodeReport {
        Objects.requireNonNull(node, "node");
        adopted = List.copyOf(adopted);
        findings = List.copyOf(findings);
    }

    /**
     * Tells whether anything about the node deserves an operator's attention.
     *
     * @return true if there is at least one finding
     */
    public boolean hasProblems() {
        return !findings.isEmpty();
    }

    /**
     * Tells whether the controller can vouch for the node's pod CIDRs: no finding of a kind that
     * {@linkplain Kind#failsClosed() fails closed}.
     *
     * @return true if the node's pod CIDRs conflict with no other node's as far as this instance knows
     */
    public boolean vouched() {
        for (Finding f : findings) {
            if (f.kind().failsClosed()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns the findings of one kind.
     *
     * @param kind the kind
     * @return the findings of that kind, in report order
     */
    public List<Finding> findings(Kind kind) {
        List<Finding> of = new ArrayList<>(0);
        for (Finding f : findings) {
            if (f.kind() == kind) {
                of.add(f);
            }
        }
        return List.copyOf(of);
    }

    /** What a finding is about: a stable code for programs, metrics and alerts. */
    public enum Kind {
        /** The value is, or overlaps, a subnet another node holds; that node keeps it. Fails closed. */
        DUPLICATE(true),
        /** The value overlaps no pool of its family. Fails closed: nothing here can tell what else uses it. */
        OUTSIDE_POOLS(true),
        /** The value is not a CIDR, not even as Kubernetes reads it. Fails closed. */
        MALFORMED(true),
        /** A second value of a family the node already has a value for; only the first is used. Fails closed. */
        SECOND_OF_FAMILY(true),
        /**
         * The value is wider than one node subnet of a pool it overlaps: a /22 in a pool of /24s, a supernet of the
         * cluster range, {@code 0.0.0.0/0}. While the node has that value, it holds every node subnet the value
         * overlaps that is neither reserved nor another node's (whatever the width: up to 2^32 subnets of a pool),
         * and a subnet inside it that another node releases is held for it too, so that no other node gets an
         * address its pods may take; the message says how many it holds, and the first 10 nodes holding subnets
         * inside it are named in {@link #DUPLICATE} findings (the message counts them all). Fails closed: no node
         * subnet size explains the value, so the operator deletes the node object or registers it again with a pod
         * CIDR of one node subnet; {@link NodeIpam#wideClaims()} lists such nodes.
         */
        OVERSIZED(true),
        /** The value is of a family no pool is configured for; it is left alone. */
        UNCONFIGURED_FAMILY(false),
        /**
         * The value overlaps a pool without being one of its subnets and is not wider than one (a /25 in a pool of
         * /24s); the free subnet that contains it is held for the node, so that nobody else gets it. Wider values
         * are {@link #OVERSIZED}.
         */
        MISALIGNED(false),
        /** The value lies in a reserved range; the node holds it, but a reserved range is normally not for pods. */
        IN_RESERVED_RANGE(false),
        /**
         * The value is read as Kubernetes reads it but is not written canonically (host bits set, leading zeros,
         * another IPv6 spelling); the node holds the subnet it denotes.
         */
        NON_CANONICAL(false),
        /** The node has no value of a configured family (e.g. IPv4 only on a dual-stack cluster). */
        MISSING_FAMILY(false),
        /**
         * The value lies in a range of another {@linkplain NodeGroup group} than the node's (its labels moved it, or
         * another tool set it); the node holds it, since pod CIDRs cannot be changed once set, and no other node
         * gets it.
         */
        IN_OTHER_GROUP(false);

        private final boolean failsClosed;

        Kind(boolean failsClosed) {
            this.failsClosed = failsClosed;
        }

        /**
         * Tells whether a finding of this kind means the node's pod CIDRs cannot be vouched for.
         *
         * @return true for {@link #DUPLICATE}, {@link #OUTSIDE_POOLS}, {@link #MALFORMED},
         *     {@link #SECOND_OF_FAMILY} and {@link #OVERSIZED}
         */
        public boolean failsClosed() {
            return failsClosed;
        }

        /**
         * Returns the code in lower snake case, e.g. {@code outside_pools}, for metric labels and logs.
         *
         * @return the lower-case name
         */
        public String token() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One thing found about a node's pod CIDRs.
     *
     * @param kind what it is about
     * @param value the pod CIDR text as found on the node, or for {@link Kind#MISSING_FAMILY} the family's name
     * @param cidr the CIDR the value denotes as Kubernetes reads it; null for {@link Kind#MALFORMED} and
     *     {@link Kind#MISSING_FAMILY}
     * @param holder for {@link Kind#DUPLICATE}, the node that holds the subnet; null otherwise
     * @param message a sentence for operators saying what is wrong and what to do; node-supplied text in it is
     *     escaped and shortened
     */
    public record Finding(Kind kind, String value, Cidr cidr, String holder, String message) {
        /**
         * Creates a finding.
         *
         * @param kind what it is about
         * @param value the text as found
         * @param cidr the CIDR it denotes, or null
         * @param holder the other node for a duplicate, or null
         * @param message the sentence for operators
         */
        public Finding {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(message, "message");
            if ((kind == Kind.DUPLICATE) != (holder != null)) {
                throw new IllegalArgumentException("a holder is given exactly for DUPLICATE findings: " + kind);
            }
        }

        // The findings of each kind, with the sentence for operators, in the order of the kinds above.

        static Finding duplicate(Cidr claim, String holder) {
            return new Finding(Kind.DUPLICATE, claim.toString(), claim, holder, "pod CIDR " + claim + " overlaps the"
                    + " subnet of node " + holder + ", which keeps it; pod CIDRs cannot be changed once set: recreate"
                    + " one of the two nodes to give it a free subnet");
        }

        static Finding outsidePools(Cidr claim) {
            return new Finding(Kind.OUTSIDE_POOLS, claim.toString(), claim, null, "pod CIDR " + claim + " is outside"
                    + " every " + claim.family() + " cluster CIDR; nothing here can tell whether another node or"
                    + " network uses it");
        }

        static Finding malformed(String value, String error) {
            return new Finding(Kind.MALFORMED, value, null, null, error);
        }

        static Finding secondOfFamily(String value, Cidr c, Cidr first) {
            return new Finding(Kind.SECOND_OF_FAMILY, value, c, null, "pod CIDR " + UntrustedText.quote(value)
                    + " is a second " + c.family() + " pod CIDR; a node has at most one per family and only the first, "
                    + first + ", is used");
        }

        /**
         * A pod CIDR wider than one node subnet: how many node subnets it holds, how many other nodes hold one inside
         * it and how many are reserved, that it cannot be vouched for, and what the operator does.
         */
        static Finding oversized(Cidr claim, int nodePrefix, long held, long otherNodes, long reserved) {
            StringBuilder m = new StringBuilder("pod CIDR ").append(claim).append(" is wider than one /")
                    .append(nodePrefix).append(" node subnet; it holds ").append(held)
                    .append(held == 1 ? " node subnet" : " node subnets").append(" (every free one it overlaps");
            if (otherNodes > 0) {
                m.append("; ").append(otherNodes).append(otherNodes == 1 ? " other node holds" : " other nodes hold")
                        .append(reserved > 0 ? " one each" : " the rest");
            }
            if (reserved > 0) {
                m.append("; ").append(reserved).append(reserved == 1 ? " is" : " are").append(" reserved");
            }
            m.append("), so that no other node gets an address inside it, and the node cannot be vouched for: delete"
                    + " the node object, or register the node again with a pod CIDR of one /").append(nodePrefix)
                    .append(" node subnet, to free them");
            return new Finding(Kind.OVERSIZED, claim.toString(), claim, null, m.toString());
        }

        static Finding unconfiguredFamily(String value, Cidr c) {
            return new Finding(Kind.UNCONFIGURED_FAMILY, value, c, null, "pod CIDR " + UntrustedText.quote(value)
                    + " is " + c.family() + ", a family no cluster CIDR is configured for; it is left alone");
        }

        static Finding misaligned(Cidr claim) {
            return new Finding(Kind.MISALIGNED, claim.toString(), claim, null, "pod CIDR " + claim + " overlaps a"
                    + " cluster CIDR without being one of its node subnets (other size or alignment); the free"
                    + " subnets it overlaps are held for the node");
        }

        static Finding inReservedRange(Cidr claim, Cidr pool) {
            return new Finding(Kind.IN_RESERVED_RANGE, claim.toString(), claim, null, "pod CIDR " + claim + " lies"
                    + " in a reserved range of " + pool + "; it is held for the node, but check that the range is not"
                    + " in use elsewhere (service CIDR, VPC)");
        }

        static Finding nonCanonical(String value, Cidr c, String detail) {
            return new Finding(Kind.NON_CANONICAL, value, c, null, "pod CIDR " + detail + " as Kubernetes does;"
                    + " that subnet is held for the node");
        }

        static Finding missingFamily(IpFamily family) {
            return new Finding(Kind.MISSING_FAMILY, family.toString(), null, null, "node has no " + family + " pod"
                    + " CIDR although a cluster CIDR of that family is configured; pod CIDRs cannot be changed once"
                    + " set: recreate the node to give it one of each family");
        }

        static Finding inOtherGroup(Cidr claim, String owner, String selected) {
            return new Finding(Kind.IN_OTHER_GROUP, claim.toString(), claim, null, "pod CIDR " + claim + " lies in a"
                    + " range of group " + owner + ", but the node belongs to group " + selected + "; it keeps its"
                    + " subnet (pod CIDRs cannot be changed once set): recreate the node to give it a subnet of group "
                    + selected + ", or change its labels back");
        }
    }
}
