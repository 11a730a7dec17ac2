/**
 * Pod CIDR allocation without Kubernetes: CIDR parsing ({@link io.github.podcidr.ipam.Cidr}: strict for
 * configuration, lenient as Kubernetes reads stored pod CIDRs), subnet pools on a hierarchical bitmap
 * ({@link io.github.podcidr.ipam.SubnetPool}) and the node-to-subnet view of a single- or dual-stack cluster
 * ({@link io.github.podcidr.ipam.NodeIpam}). JDK only.
 */
module io.github.podcidr.ipam {
    exports io.github.podcidr.ipam;
}
