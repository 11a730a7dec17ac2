package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.models.V1Node;
import java.util.List;
import java.util.Objects;

/**
 * What reconcile does with a node, decided from the node as cached and what the controller holds for it alone, so
 * that each state of a node maps to one action a test can check without an API server.
 *
 * @param kind the action
 * @param podCidrs the node's pod CIDR texts, for {@link Kind#ADOPT}; empty otherwise
 * @param group the node's group, for {@link Kind#ASSIGN}; null otherwise
 */
record NodeDecision(Kind kind, List<String> podCidrs, String group) {
    /** The actions, one per state of a node. */
    enum Kind {
        /** The node is gone: release its subnets. */
        RELEASE,
        /** Our own write is not in the cache yet: look again later rather than write twice. */
        WAIT_FOR_CACHE,
        /** The node has pod CIDRs: adopt them, and remove its matching taints if they can be vouched for. */
        ADOPT,
        /**
         * The node holds a subnet (a write without an answer) but will not get one now (it is being deleted or left
         * the selection): a live read decides whether the write landed.
         */
        SETTLE_HELD,
        /** The node is being deleted: it keeps what it holds until it is gone. */
        KEEP,
        /** The node is in no group: remove its matching taints only. */
        UNTAINT,
        /** The node needs pod CIDRs: assign one subnet per family of its group and write them. */
        ASSIGN
    }

    NodeDecision {
        Objects.requireNonNull(kind, "kind");
        podCidrs = List.copyOf(podCidrs);
    }

    /**
     * Decides what to do with a node.
     *
     * @param node the node as cached, or null if the cache does not have it
     * @param writtenAt the resourceVersion the node had when this controller last patched it, or null
     * @param holdsAny whether the allocator holds a subnet for the node
     * @param group the node's group by its labels, or null if it belongs to none
     * @return the action
     */
    static NodeDecision decide(V1Node node, String writtenAt, boolean holdsAny, String group) {
        if (node == null) {
            return new NodeDecision(Kind.RELEASE, List.of(), null);
        }
        if (writtenAt != null && writtenAt.equals(node.getMetadata().getResourceVersion())) {
            return new NodeDecision(Kind.WAIT_FOR_CACHE, List.of(), null);
        }
        List<String> podCidrs = podCidrsOf(node);
        if (!podCidrs.isEmpty()) {
            return new NodeDecision(Kind.ADOPT, podCidrs, null);
        }
        boolean deleting = node.getMetadata().getDeletionTimestamp() != null;
        if ((deleting || group == null) && holdsAny) {
            return new NodeDecision(Kind.SETTLE_HELD, List.of(), null);
        }
        if (deleting) {
            return new NodeDecision(Kind.KEEP, List.of(), null);
        }
        if (group == null) {
            return new NodeDecision(Kind.UNTAINT, List.of(), null);
        }
        return new NodeDecision(Kind.ASSIGN, List.of(), group);
    }

    /**
     * Returns a node's pod CIDR texts: spec.podCIDRs, or spec.podCIDR alone on clusters that set only that.
     *
     * @param node the node
     * @return the texts, empty if it has none
     */
    static List<String> podCidrsOf(V1Node node) {
        if (node.getSpec() == null) {
            return List.of();
        }
        List<String> list = node.getSpec().getPodCIDRs();
        if (list != null && !list.isEmpty()) {
            return list;
        }
        String single = node.getSpec().getPodCIDR();
        return single == null || single.isEmpty() ? List.of() : List.of(single);
    }
}
