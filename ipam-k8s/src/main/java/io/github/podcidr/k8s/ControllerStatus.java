package io.github.podcidr.k8s;

import io.github.podcidr.ipam.NodeReport;
import io.kubernetes.client.openapi.models.V1Node;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * A read-only view of one controller term for status pages and gauges: the queue, the nodes waiting for room or
 * failing closed, and the problems found on nodes' pod CIDRs. Every answer is of this moment; before the term has
 * started each count is 0 and each list empty.
 */
public final class ControllerStatus {
    private final PodCidrController controller;

    ControllerStatus(PodCidrController controller) {
        this.controller = controller;
    }

    private Optional<ProblemLedger> ledger() {
        return Optional.ofNullable(controller.ledger());
    }

    /**
     * Returns the number of node names waiting in the work queue.
     *
     * @return the queue length
     */
    public int queueDepth() {
        return controller.loop().depth();
    }

    /**
     * Returns the number of nodes waiting for a free subnet.
     *
     * @return nodes that found every pool of some family full
     */
    public int waitingForRoom() {
        return ledger().map(ProblemLedger::waitingForRoomCount).orElse(0);
    }

    /**
     * Returns the number of nodes whose pod CIDRs the controller cannot vouch for (another node's, outside every
     * cluster CIDR, unreadable): they keep the taints the controller would remove.
     *
     * @return the count
     */
    public int failingClosed() {
        return ledger().map(ProblemLedger::failedClosedCount).orElse(0);
    }

    /**
     * Returns how many nodes have a finding of each kind on their pod CIDRs (duplicate, outside the pools,
     * non-canonical, ...), from the latest look at each node in this leader term.
     *
     * @return kind to number of nodes; kinds without a node are absent
     */
    public Map<NodeReport.Kind, Integer> nodesByFinding() {
        return ledger().map(ProblemLedger::nodesByFinding).orElse(Map.of());
    }

    /**
     * Returns the latest problems found on nodes' pod CIDRs in this leader term, each as first reported (at most 50),
     * for a status page. A problem stays listed after it is resolved; {@link #nodesWithFindings(int)} says which
     * remain.
     *
     * @return newest first
     */
    public List<NodeProblem> latestProblems() {
        return ledger().map(ProblemLedger::latestProblems).orElse(List.of());
    }

    /**
     * Returns the group a node belongs to by its labels as the node cache holds them now (see
     * {@link ControllerSettings#groupOf}): one cache lookup and one match per group, for naming the group of a few
     * listed nodes.
     *
     * @param node the node's name
     * @return the group's name, or empty if the node is not in the cache or in no group
     */
    public Optional<String> groupOfNode(String node) {
        NodeCache cache = controller.cache();
        V1Node n = cache == null ? null : cache.get(node);
        if (n == null || n.getMetadata() == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(controller.settings().groupOf(NodeCache.labelsOf(n)));
    }

    /**
     * Returns the first nodes, by name, waiting for a free subnet (see {@link #waitingForRoom()} for how many).
     *
     * @param limit the most names to return
     * @return sorted names, at most {@code limit}
     */
    public SortedSet<String> nodesWaitingForRoom(int limit) {
        return ledger().map(l -> l.nodesWaitingForRoom(limit)).orElse(Collections.emptySortedSet());
    }

    /**
     * Returns the first nodes, by name, that keep their taints because their pod CIDRs cannot be vouched for (see
     * {@link #failingClosed()} for how many).
     *
     * @param limit the most names to return
     * @return sorted names, at most {@code limit}
     */
    public SortedSet<String> nodesFailingClosed(int limit) {
        return ledger().map(l -> l.nodesFailingClosed(limit)).orElse(Collections.emptySortedSet());
    }

    /**
     * Returns the first nodes, by name, with findings on their pod CIDRs now, and the kinds found (see
     * {@link #nodesByFinding()} for the counts).
     *
     * @param limit the most nodes to return
     * @return node name to kinds, at most {@code limit} entries
     */
    public SortedMap<String, Set<NodeReport.Kind>> nodesWithFindings(int limit) {
        return ledger().map(l -> l.nodesWithFindings(limit)).orElse(Collections.emptySortedMap());
    }

    /**
     * Returns the number of nodes with findings on their pod CIDRs now, whatever their kinds.
     *
     * @return the count
     */
    public int nodesWithFindingsCount() {
        return ledger().map(ProblemLedger::nodesWithFindingsCount).orElse(0);
    }

    /**
     * Returns the kinds of findings on a node's pod CIDRs now (from the latest look at the node in this term).
     *
     * @param node the node's name
     * @return the kinds; empty when none
     */
    public Set<NodeReport.Kind> findingsOf(String node) {
        return ledger().map(l -> l.findingsOf(node)).orElse(Set.of());
    }

    /**
     * Tells whether a node keeps its taints because its pod CIDRs cannot be vouched for.
     *
     * @param node the node's name
     * @return true if it fails closed now
     */
    public boolean isFailingClosed(String node) {
        return ledger().map(l -> l.isFailingClosed(node)).orElse(false);
    }

    /**
     * Tells whether the node cache reads JSON because protobuf answers could not be read (see
     * {@code podcidr_protobuf_decode_fallbacks_total}): the controller works on, at a higher cost per node event.
     *
     * @return true after the fallback, false before it and before the term started
     */
    public boolean protobufFallenBack() {
        NodeCache cache = controller.cache();
        return cache != null && cache.protobufFallenBack();
    }
}
