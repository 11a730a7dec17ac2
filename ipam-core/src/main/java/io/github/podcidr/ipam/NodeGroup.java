package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A named group of pools: the cluster ranges one kind of node takes its pod subnets from (registered IDC nodes, a GPU
 * pool, nodes in another VPC), each cut into subnets of its own node prefix length, and the ranges of the group that
 * are never handed out.
 *
 * <pre>{@code
 * NodeGroup idc = NodeGroup.builder("idc")
 *         .addPool(Cidr.parse("10.250.0.0/16"), 26)      // small nodes: a /26 each
 *         .addPool(Cidr.parse("fd00:250::/48"), 64)
 *         .reserve(Cidr.parse("10.250.255.0/24"))
 *         .build();
 * NodeIpam ipam = NodeIpam.builder().addPool(Cidr.parse("10.244.0.0/16"), 24).addGroup(idc).build();
 * ipam.assign("idc-node-1", "idc");                    // [10.250.0.0/26, fd00:250::/64]
 * }</pre>
 *
 * <p>Pools of one family are used in the order given, and the first pool's family is the group's primary family, as
 * for the pools of {@link NodeIpam.Builder#addPool(Cidr, int)}.
 *
 * @param name the group's name: 1 to 63 characters, lower-case letters, digits and '-', starting and ending with a
 *     letter or digit (a DNS label, so that it fits a metric label and an event message as it is)
 * @param pools the group's ranges and node prefix lengths, in order; at least one; immutable
 * @param reserved ranges of this group never handed out (they may also be outside the group: then they change
 *     nothing); immutable
 */
public record NodeGroup(String name, List<Pool> pools, List<Cidr> reserved) {

    /** A DNS label (RFC 1123), as Kubernetes checks label values and names. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    /**
     * Creates a group, checking that its name is a DNS label, that it has at least one pool, and that every pool can
     * be built (see {@link SubnetPool#of(Cidr, int)}).
     *
     * @param name the name
     * @param pools the pools, in order
     * @param reserved the reserved ranges
     * @throws InvalidPoolException if the name, a pool or the list of pools is not valid
     */
    public NodeGroup {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new InvalidPoolException("group name " + UntrustedText.quote(name) + " is not valid; expected 1 to"
                    + " 63 lower-case letters, digits and '-', starting and ending with a letter or digit, e.g. idc or"
                    + " gpu-a100");
        }
        pools = List.copyOf(pools);
        reserved = List.copyOf(reserved);
        if (pools.isEmpty()) {
            throw new InvalidPoolException("group " + name + " has no pool; give it at least one cluster range, e.g."
                    + " 10.250.0.0/16 cut into /24 subnets");
        }
        for (Pool p : pools) {
            SubnetPool.checkShape(p.cluster(), p.nodePrefixLength());
        }
    }

    /**
     * Starts a group.
     *
     * @param name the group's name, a DNS label such as {@code idc}
     * @return a new builder
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * Returns the families of the group's pools, primary (the first pool's) first.
     *
     * @return one or two families
     */
    public List<IpFamily> families() {
        List<IpFamily> order = new ArrayList<>(2);
        for (Pool p : pools) {
            if (!order.contains(p.cluster().family())) {
                order.add(p.cluster().family());
            }
        }
        return List.copyOf(order);
    }

    /**
     * One range of a group and the prefix length of the subnets it is cut into.
     *
     * @param cluster the range, e.g. {@code 10.250.0.0/16}
     * @param nodePrefixLength the prefix length of each node's subnet, e.g. 26
     */
    public record Pool(Cidr cluster, int nodePrefixLength) {
        /**
         * Creates a pool description; its sizes are checked by {@link NodeGroup}'s constructor.
         *
         * @param cluster the range
         * @param nodePrefixLength the node prefix length
         */
        public Pool {
            Objects.requireNonNull(cluster, "cluster");
        }
    }

    /** Collects the pools and reserved ranges of a {@link NodeGroup}. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private final List<Pool> pools = new ArrayList<>();
        private final List<Cidr> reserved = new ArrayList<>();

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /**
         * Appends a pool; pools of a family are used in the order they are added.
         *
         * @param cluster the range, e.g. {@code 10.250.0.0/16}
         * @param nodePrefixLength the prefix length of each node's subnet, e.g. 26
         * @return this builder
         * @throws InvalidPoolException if the sizes do not fit (see {@link SubnetPool#of(Cidr, int)})
         */
        public Builder addPool(Cidr cluster, int nodePrefixLength) {
            SubnetPool.checkShape(cluster, nodePrefixLength);
            pools.add(new Pool(cluster, nodePrefixLength));
            return this;
        }

        /**
         * Keeps a range out of the group's pools.
         *
         * @param range the range never to hand out
         * @return this builder
         */
        public Builder reserve(Cidr range) {
            reserved.add(Objects.requireNonNull(range, "range"));
            return this;
        }

        /**
         * Builds the group.
         *
         * @return the immutable group
         * @throws InvalidPoolException if the name is not valid or no pool was added
         */
        public NodeGroup build() {
            return new NodeGroup(name, pools, reserved);
        }
    }
}
