package io.github.podcidr.ipam;

import java.util.List;
import java.util.Objects;

/**
 * What {@link NodeIpam#adopt(String, List)} made of one node's pod CIDRs.
 *
 * @param node the node name
 * @param adopted subnets now held by the node (including ones it already held)
 * @param duplicates CIDRs that overlap subnets held by another node; the first holder keeps them
 * @param outsidePools CIDRs that overlap no pool (another range, or a family that is not configured); left alone
 * @param misaligned CIDRs that overlap a pool without being one of its subnets (another size or alignment); the
 *     subnets they overlap are held for the node so that nobody else gets them
 * @param malformed texts that are not CIDRs, or a second CIDR of a family, with the reason
 * @param missingFamilies configured families for which the node has no valid CIDR (e.g. IPv6 on a dual-stack
 *     cluster whose node has only an IPv4 pod CIDR); empty when the node has no pod CIDR at all
 */
public record NodeReport(String node, List<Cidr> adopted, List<Duplicate> duplicates, List<Cidr> outsidePools,
                         List<Cidr> misaligned, List<Malformed> malformed, List<IpFamily> missingFamilies) {

    /**
     * Creates a report; the lists are copied.
     *
     * @param node the node name
     * @param adopted subnets now held by the node
     * @param duplicates CIDRs held by another node
     * @param outsidePools CIDRs outside every pool
     * @param misaligned CIDRs overlapping a pool without being one of its subnets
     * @param malformed texts that are not CIDRs
     * @param missingFamilies configured families without a CIDR on the node
     */
    public NodeReport {
        Objects.requireNonNull(node, "node");
        adopted = List.copyOf(adopted);
        duplicates = List.copyOf(duplicates);
        outsidePools = List.copyOf(outsidePools);
        misaligned = List.copyOf(misaligned);
        malformed = List.copyOf(malformed);
        missingFamilies = List.copyOf(missingFamilies);
    }

    /**
     * Tells whether anything about the node deserves an operator's attention.
     *
     * @return true if any list but {@link #adopted()} is non-empty
     */
    public boolean hasProblems() {
        return !duplicates.isEmpty() || !outsidePools.isEmpty() || !misaligned.isEmpty() || !malformed.isEmpty()
                || !missingFamilies.isEmpty();
    }

    /**
     * A pod CIDR that overlaps a subnet another node already holds.
     *
     * @param cidr the node's CIDR
     * @param holder the node that holds it (or the subnet it overlaps)
     */
    public record Duplicate(Cidr cidr, String holder) {
        /**
         * Creates a duplicate entry.
         *
         * @param cidr the node's CIDR
         * @param holder the name of the node holding it
         */
        public Duplicate {
            Objects.requireNonNull(cidr, "cidr");
            Objects.requireNonNull(holder, "holder");
        }
    }

    /**
     * A pod CIDR text that could not be used.
     *
     * @param value the text as found
     * @param reason why, a sentence that quotes the value
     */
    public record Malformed(String value, String reason) {
        /**
         * Creates a malformed entry.
         *
         * @param value the text as found
         * @param reason why it was refused
         */
        public Malformed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
