package io.github.podcidr.k8s;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeReport;
import java.time.Instant;
import java.util.Objects;

/**
 * A problem found on a node's pod CIDRs, as the controller reported it (Warning event, log line, metric): which node,
 * what kind, the event reason and message, and when. For status pages: {@link PodCidrController#latestProblems()}.
 *
 * @param node the node's name (untrusted text: escape it before showing it)
 * @param kind what is wrong, e.g. {@link NodeReport.Kind#DUPLICATE}
 * @param reason the reason of the Warning event, e.g. {@code CIDRConflict}
 * @param cidr the subnet concerned when it is one of a pool's (a duplicate's subnet), else null
 * @param message the event's message
 * @param at when it was first reported in this leader term
 */
public record NodeProblem(String node, NodeReport.Kind kind, String reason, Cidr cidr, String message, Instant at) {
    /** Checks that every field but {@code cidr} is set. */
    public NodeProblem {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(at, "at");
    }
}
