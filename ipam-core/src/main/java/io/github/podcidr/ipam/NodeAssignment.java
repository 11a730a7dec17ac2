package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The subnets a node holds: at most one per family, the primary family (the first configured) first, in the order
 * Kubernetes wants them in {@code spec.podCIDRs}.
 *
 * @param node the node name
 * @param cidrs the node's subnets, primary family first; immutable
 */
public record NodeAssignment(String node, List<Cidr> cidrs) {

    /**
     * Creates an assignment.
     *
     * @param node the node name
     * @param cidrs the subnets, primary family first, at most one per family
     */
    public NodeAssignment {
        Objects.requireNonNull(node, "node");
        cidrs = List.copyOf(cidrs);
    }

    /**
     * Returns the node's subnet of one family.
     *
     * @param family the family
     * @return the subnet, or empty if the node has none of that family
     */
    public Optional<Cidr> cidr(IpFamily family) {
        for (Cidr c : cidrs) {
            if (c.family() == family) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /**
     * Returns the subnets as canonical strings, ready for {@code spec.podCIDRs}; the first is {@code spec.podCIDR}.
     *
     * @return the canonical texts, primary family first
     */
    public List<String> podCidrs() {
        List<String> texts = new ArrayList<>(cidrs.size());
        for (Cidr c : cidrs) {
            texts.add(c.toString());
        }
        return List.copyOf(texts);
    }
}
