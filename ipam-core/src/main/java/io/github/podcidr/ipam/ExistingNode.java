package io.github.podcidr.ipam;

import java.util.List;
import java.util.Objects;

/**
 * A node as found in the API, for {@link NodeIpam#restore(java.util.Collection)}: its name and the texts of its
 * {@code spec.podCIDRs} (or {@code spec.podCIDR} alone when the list is empty), unparsed, since they may be malformed.
 *
 * @param name the node name
 * @param podCidrs the pod CIDR texts as found, possibly empty; immutable
 */
public record ExistingNode(String name, List<String> podCidrs) {

    /**
     * Creates a node record.
     *
     * @param name the node name
     * @param podCidrs the pod CIDR texts, possibly empty; null elements are kept out
     */
    public ExistingNode {
        Objects.requireNonNull(name, "name");
        podCidrs = podCidrs.stream().filter(Objects::nonNull).toList();
    }
}
