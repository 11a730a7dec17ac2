package io.github.podcidr.k8s;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeAssignment;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolStats;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Node;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings one node to its desired state; idempotent, so it may run any number of times for a name. Reads the node
 * from the informer's cache, never from the API:
 * <ol>
 *   <li>node gone: release its subnets and wake the nodes waiting for room or failing closed;</li>
 *   <li>node with pod CIDRs: adopt them, replacing what it held per family (conflicts become Warning events, never
 *       a rewrite); then remove matching taints, but only if its pod CIDRs can be vouched for: a node whose pod CIDR
 *       is another node's, outside every cluster CIDR or unreadable keeps its taints (fails closed) until the
 *       conflict is gone;</li>
 *   <li>node being deleted (finalizers) or outside the selection, without pod CIDRs, but holding a subnet (one
 *       whose write had no answer): a live read decides; if the API confirms it has none, the subnet is freed;</li>
 *   <li>node being deleted: nothing more; it keeps its pod CIDRs' subnets until it is gone;</li>
 *   <li>node outside the selection (in no node group): remove matching taints only;</li>
 *   <li>otherwise: assign one subnet per family of the node's group, from that group's ranges only, and write it
 *       with the taint removal in one guarded patch.</li>
 * </ol>
 * A node's group is the first named group whose selector matches its labels, else the default group (the cluster
 * CIDRs, if configured and {@code --node-selector} matches), else none (see {@link ControllerSettings#groupOf}).
 * Pod CIDRs are adopted for the node's current group: one in another group's range (the node's labels moved it, or
 * another tool set it) is kept and reported ({@code CIDRInOtherGroup}), never moved.
 * The work queue never hands one name to two workers at once, so reconciles of a node are serial.
 */
final class PodCidrReconciler {
    private static final Logger LOG = LoggerFactory.getLogger(PodCidrReconciler.class);
    /**
     * How long a written node may look unwritten in the cache before it is examined again. The watch normally
     * delivers our own write within milliseconds; this only bounds the wait if it does not.
     */
    static final Duration CACHE_LAG_RECHECK = Duration.ofSeconds(10);

    private final NodeIpam ipam;
    private final Function<String, V1Node> cache;
    private final NodeWriter writer;
    private final NodeReader reader;
    private final NodeEvents events;
    private final ControllerMetrics metrics;
    private final ControllerSettings settings;
    private final WriteFence fence;
    /** Nodes whose pod CIDRs cannot be vouched for: they keep their taints; woken when a subnet is released. */
    private final Set<String> failedClosed = ConcurrentHashMap.newKeySet();
    /** Node name to the kinds of the findings of its latest adopt, for the problem gauge; absent when none. */
    private final Map<String, Set<NodeReport.Kind>> findings = new ConcurrentHashMap<>();
    /** Nodes that found no free subnet; woken when a subnet is released. */
    private final Set<String> waitingForRoom = ConcurrentHashMap.newKeySet();
    /** Node name to the resourceVersion it had when we patched it: until the cache moves past it, do not write. */
    private final Map<String, String> writtenAt = new ConcurrentHashMap<>();
    /** Node name to the problems already reported for it, so each is logged and counted once per leader term. */
    private final Map<String, Set<String>> reported = new ConcurrentHashMap<>();
    /** How many of the latest problems {@link #latestProblems()} keeps. */
    static final int LATEST_PROBLEMS = 50;
    /** The latest problems reported, oldest first, at most {@link #LATEST_PROBLEMS}; guarded by itself. */
    private final ArrayDeque<NodeProblem> latest = new ArrayDeque<>();
    /** Called with the names of waiting nodes when room frees up. */
    private final java.util.function.Consumer<String> wake;

    PodCidrReconciler(NodeIpam ipam, Function<String, V1Node> cache, NodeWriter writer, NodeReader reader,
                      NodeEvents events, ControllerMetrics metrics, ControllerSettings settings, WriteFence fence,
                      java.util.function.Consumer<String> wake) {
        this.ipam = ipam;
        this.cache = cache;
        this.writer = writer;
        this.reader = reader;
        this.events = events;
        this.metrics = metrics;
        this.settings = settings;
        this.fence = fence;
        this.wake = wake;
    }

    ReconcileResult reconcile(String name) {
        V1Node node = cache.apply(name);
        if (node == null) {
            return released(name);
        }
        String uid = node.getMetadata().getUid();
        String rv = node.getMetadata().getResourceVersion();
        String written = writtenAt.get(name);
        if (written != null) {
            if (written.equals(rv)) {
                return ReconcileResult.requeueAfter(CACHE_LAG_RECHECK); // our write is not in the cache yet
            }
            writtenAt.remove(name);
        }
        List<String> podCidrs = podCidrsOf(node);
        if (!podCidrs.isEmpty()) {
            return adoptAndUntaint(node, podCidrs);
        }
        boolean deleting = node.getMetadata().getDeletionTimestamp() != null;
        String group = groupOf(node);
        boolean selected = group != null;
        if ((deleting || !selected) && ipam.holdsAny(name)) {
            // It holds a subnet (a write without an answer) but will not get one now: free it once the API confirms
            // that the node has no pod CIDR (the write may have landed after all).
            Optional<List<String>> live;
            try {
                live = reader.podCidrs(name);
            } catch (ApiException e) {
                LOG.atInfo().setMessage("cannot read node to settle its held subnet, will retry")
                        .addKeyValue("node", name).addKeyValue("code", e.getCode()).log();
                return ReconcileResult.retry();
            }
            if (live.isEmpty()) {
                return released(name);
            }
            if (!live.get().isEmpty()) {
                return adoptAndUntaint(node, live.get());
            }
            List<Cidr> held = ipam.assignmentOf(name).map(NodeAssignment::cidrs).orElse(List.of());
            ipam.release(name);
            LOG.atInfo().setMessage("freed").addKeyValue("node", name).addKeyValue("cidr", join(held))
                    .addKeyValue("reason", deleting ? "deleting" : "not_selected").log();
            metrics.released(name, held);
            wakeWaiting();
        }
        if (deleting) {
            return ReconcileResult.done(); // being deleted: keep whatever it holds until it is gone
        }
        if (!selected) {
            if (settings.hasNodeGroups() && settings.clusterCidrs().isEmpty()) {
                inNoGroup(name, uid);
            }
            return write(node, List.of(), false);
        }
        Optional<NodeAssignment> assignment = ipam.tryAssign(name, group);
        if (assignment.isEmpty()) {
            if (waitingForRoom.add(name)) {
                LOG.atWarn().setMessage("no free subnet").addKeyValue("node", name).addKeyValue("group", group)
                        .addKeyValue("reason", exhaustion(name, group)).log();
            }
            metrics.exhausted(name, group);
            events.warnAtMostEveryInterval(name, uid, EventReasons.CIDR_NOT_AVAILABLE, () -> exhaustion(name, group));
            return ReconcileResult.retry();
        }
        waitingForRoom.remove(name);
        return write(node, assignment.get().podCidrs(), true);
    }

    /**
     * Adopts the node's pod CIDRs and removes its matching taints if the controller can vouch for them; otherwise
     * the node keeps its taints (fails closed) until a released subnet or a change of the node resolves the problem.
     */
    private ReconcileResult adoptAndUntaint(V1Node node, List<String> podCidrs) {
        String name = node.getMetadata().getName();
        NodeReport r = adopt(name, groupOf(node), node.getMetadata().getUid(), podCidrs);
        if (!r.vouched()) {
            if (failedClosed.add(name)) {
                LOG.atWarn().setMessage("pod CIDR not vouched for, taints kept").addKeyValue("node", name)
                        .addKeyValue("cidr", String.join(",", podCidrs)).log();
            }
            return ReconcileResult.done(); // woken again when a subnet is released
        }
        if (failedClosed.remove(name)) {
            LOG.atInfo().setMessage("pod CIDR conflict resolved").addKeyValue("node", name)
                    .addKeyValue("cidr", join(r.adopted())).log();
            reported.remove(name); // report it again should it come back
        }
        return write(node, List.of(), false);
    }

    /** The node's group by its labels as cached, or null if it belongs to none. */
    private String groupOf(V1Node node) {
        Map<String, String> labels = node.getMetadata().getLabels();
        return settings.groupOf(labels == null ? Map.of() : labels);
    }

    /** A node no group's selector matches, on a cluster without a default group: it gets no pod CIDR. */
    private void inNoGroup(String name, String uid) {
        String message = "node matches the selector of no node group (" + settings.nodeGroups().stream()
                .map(NodeGroupSettings::name).collect(Collectors.joining(", ")) + ") and there is no default group"
                + " (--cluster-cidr): it gets no pod CIDR; label it for a group or add a catch-all group";
        if (reported.computeIfAbsent(name, n -> ConcurrentHashMap.newKeySet()).add(message)) {
            LOG.atWarn().setMessage("node in no group").addKeyValue("node", name).log();
            events.warnOnce(name, uid, EventReasons.NODE_IN_NO_GROUP, message);
        }
    }

    /**
     * Why a node found no room, built only when it is logged or recorded: the usage of the pools of each family of
     * its group that is full, e.g. {@code no free IPV4 subnet for node n: the pool is full (10.244.0.0/24 /25: 2 of 2
     * in use)}; with named groups, {@code no free IPV4 subnet in group idc for node n: ...}.
     */
    private String exhaustion(String name, String group) {
        List<PoolStats> stats = ipam.stats(group);
        String in = settings.hasNodeGroups() ? " in group " + group : "";
        List<IpFamily> families = ipam.groups().stream().filter(g -> g.name().equals(group))
                .findFirst().map(NodeGroup::families).orElse(ipam.families());
        StringBuilder out = new StringBuilder();
        for (IpFamily family : families) {
            List<PoolStats> of = stats.stream().filter(s -> s.family() == family).toList();
            if (of.stream().anyMatch(s -> s.free() > 0)) {
                continue;
            }
            out.append(out.length() == 0 ? "" : "; ").append("no free ").append(family).append(" subnet").append(in)
                    .append(" for node ").append(name).append(": ").append(of.size() == 1 ? "the pool is" : "all "
                            + of.size() + " " + family + " pools are").append(" full (");
            for (int i = 0; i < of.size(); i++) {
                PoolStats s = of.get(i);
                out.append(i == 0 ? "" : "; ").append(s.cluster()).append(" /").append(s.nodePrefixLength())
                        .append(": ").append(s.allocated() + s.reserved()).append(" of ").append(s.capacity())
                        .append(" in use");
            }
            out.append(")");
        }
        return out.append("; delete nodes or add a range").append(in.isEmpty() ? "" : " to the group").toString();
    }

    /** The node's pod CIDR texts: spec.podCIDRs, or spec.podCIDR alone on clusters that set only that. */
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

    private ReconcileResult released(String name) {
        writtenAt.remove(name);
        waitingForRoom.remove(name);
        reported.remove(name);
        events.forget(name);
        Optional<NodeAssignment> held = ipam.assignmentOf(name);
        failedClosed.remove(name);
        findings.remove(name);
        if (ipam.release(name)) {
            List<Cidr> cidrs = held.map(NodeAssignment::cidrs).orElse(List.of());
            LOG.atInfo().setMessage("released").addKeyValue("node", name).addKeyValue("cidr", join(cidrs)).log();
            metrics.released(name, cidrs);
            wakeWaiting();
        }
        return ReconcileResult.done();
    }

    /** Queues the nodes that a freed subnet may help: those waiting for room and those failing closed. */
    private void wakeWaiting() {
        for (String waiting : List.copyOf(waitingForRoom)) {
            wake.accept(waiting);
        }
        for (String conflicting : List.copyOf(failedClosed)) {
            wake.accept(conflicting);
        }
    }

    private NodeReport adopt(String name, String group, String uid, List<String> podCidrs) {
        Optional<NodeAssignment> before = ipam.assignmentOf(name);
        NodeReport r = ipam.adopt(name, group, podCidrs);
        List<Cidr> had = before.map(NodeAssignment::cidrs).orElse(List.of());
        if (!had.equals(r.adopted())) {
            List<Cidr> freed = had.stream().filter(c -> !r.adopted().contains(c)).toList();
            if (!r.adopted().isEmpty()) {
                LOG.atInfo().setMessage("adopted").addKeyValue("node", name).addKeyValue("cidr", join(r.adopted()))
                        .log();
            }
            if (!freed.isEmpty()) {
                // held for the node, but its pod CIDRs (immutable once set) say otherwise: nobody else's, so free
                LOG.atInfo().setMessage("freed").addKeyValue("node", name).addKeyValue("cidr", join(freed))
                        .addKeyValue("reason", "pod_cidr_differs").log();
                metrics.released(name, freed);
                wakeWaiting();
            }
        }
        report(r, uid);
        if (r.findings().isEmpty()) {
            findings.remove(name);
        } else {
            Set<NodeReport.Kind> kinds = EnumSet.noneOf(NodeReport.Kind.class);
            r.findings().forEach(f -> kinds.add(f.kind()));
            findings.put(name, kinds);
        }
        return r;
    }

    /** Turns the findings of an adopt or restore into events, metrics and log lines (each once per node). */
    void report(NodeReport r, String uid) {
        for (NodeReport.Finding f : r.findings()) {
            String message = f.message();
            if (f.kind().failsClosed() && !settings.removeTaints().isEmpty()) {
                message += "; until then the node keeps the taints the controller would remove";
            }
            if (problem(r.node(), uid, f.kind().token(), eventReason(f.kind()), message)) {
                remember(new NodeProblem(r.node(), f.kind(), eventReason(f.kind()), f.cidr(), message,
                        Instant.now()));
            }
        }
    }

    private static String eventReason(NodeReport.Kind kind) {
        return switch (kind) {
            case DUPLICATE -> EventReasons.CIDR_CONFLICT;
            case OUTSIDE_POOLS, UNCONFIGURED_FAMILY -> EventReasons.CIDR_OUTSIDE_CLUSTER_CIDR;
            case MISALIGNED, OVERSIZED -> EventReasons.CIDR_MISALIGNED;
            case IN_RESERVED_RANGE -> EventReasons.CIDR_IN_RESERVED_RANGE;
            case NON_CANONICAL -> EventReasons.CIDR_NOT_CANONICAL;
            case MALFORMED, SECOND_OF_FAMILY -> EventReasons.INVALID_POD_CIDR;
            case MISSING_FAMILY -> EventReasons.CIDR_FAMILY_MISSING;
            case IN_OTHER_GROUP -> EventReasons.CIDR_IN_OTHER_GROUP;
        };
    }

    /** Reports a problem once per node and term; true if it was new. */
    private boolean problem(String name, String uid, String kind, String reason, String message) {
        if (!reported.computeIfAbsent(name, n -> ConcurrentHashMap.newKeySet()).add(reason + ": " + message)) {
            return false; // already reported for this node in this term
        }
        metrics.conflict(kind);
        LOG.atWarn().setMessage("pod CIDR problem").addKeyValue("node", name).addKeyValue("reason", reason)
                .addKeyValue("message", message).log();
        events.warnOnce(name, uid, reason, message);
        return true;
    }

    private void remember(NodeProblem p) {
        synchronized (latest) {
            if (latest.size() == LATEST_PROBLEMS) {
                latest.removeFirst();
            }
            latest.addLast(p);
        }
    }

    private ReconcileResult write(V1Node node, List<String> podCidrs, boolean assigning) {
        String name = node.getMetadata().getName();
        NodePatch patch = NodePatch.forNode(node.getMetadata().getUid(), podCidrs,
                node.getSpec() == null ? null : node.getSpec().getTaints(), settings.removeTaints());
        if (patch.isEmpty()) {
            return ReconcileResult.done();
        }
        if (!fence.mayWrite()) {
            LOG.atInfo().setMessage("not leading, write skipped").addKeyValue("node", name).log();
            return ReconcileResult.requeueAfter(Duration.ofSeconds(1));
        }
        if (settings.dryRun()) {
            LOG.atInfo().setMessage("dry-run: would patch").addKeyValue("node", name)
                    .addKeyValue("cidr", String.join(",", podCidrs)).addKeyValue("taintsRemoved", patch.removedTaints())
                    .addKeyValue("patch", patch.json()).log();
            return ReconcileResult.done();
        }
        try {
            writer.patch(name, patch.json());
        } catch (ApiException e) {
            return writeFailed(node, e, assigning, podCidrs);
        }
        writtenAt.put(name, node.getMetadata().getResourceVersion());
        if (assigning) {
            LOG.atInfo().setMessage("assigned").addKeyValue("node", name)
                    .addKeyValue("cidr", String.join(",", podCidrs)).addKeyValue("taintsRemoved", patch.removedTaints())
                    .log();
            metrics.assigned(name, podCidrs.stream().map(Cidr::parse).collect(Collectors.toList()));
        } else {
            LOG.atInfo().setMessage("removed taints").addKeyValue("node", name)
                    .addKeyValue("count", patch.removedTaints()).log();
        }
        if (patch.removedTaints() > 0) {
            metrics.taintsRemoved(name, patch.removedTaints());
        }
        return ReconcileResult.done();
    }

    private ReconcileResult writeFailed(V1Node node, ApiException e, boolean assigning, List<String> podCidrs) {
        String name = node.getMetadata().getName();
        int code = e.getCode();
        if (code == 404) {
            // The node is gone from the API: its subnets are free (the delete event will confirm it).
            metrics.writeFailed("not_found");
            LOG.atInfo().setMessage("node gone while writing").addKeyValue("node", name).log();
            return released(name);
        }
        if (code == 409 || code == 422) {
            // Someone else changed the node between our read and our patch (a test op failed): read it again.
            metrics.writeFailed("conflict");
            LOG.atInfo().setMessage("node changed under us, will re-read").addKeyValue("node", name)
                    .addKeyValue("code", code).log();
            return ReconcileResult.retry();
        }
        if (code == 0 || code == 429 || code >= 500) {
            // No answer or a server-side failure: the patch may have been applied. Keep the subnets for this node
            // (releasing one that might have been written is worse than holding it until the next read) and retry.
            metrics.writeFailed("unavailable");
            LOG.atWarn().setMessage("write not confirmed, keeping the subnets and retrying").addKeyValue("node", name)
                    .addKeyValue("cidr", String.join(",", podCidrs)).addKeyValue("code", code)
                    .addKeyValue("error", firstLine(e)).log();
            return ReconcileResult.retry();
        }
        metrics.writeFailed("rejected");
        String message = "the API server refused the pod CIDR patch (HTTP " + code + "): " + firstLine(e);
        LOG.atError().setMessage("write refused").addKeyValue("node", name)
                .addKeyValue("cidr", String.join(",", podCidrs)).addKeyValue("code", code)
                .addKeyValue("message", firstLine(e)).log();
        if (assigning) {
            events.warnOnce(name, node.getMetadata().getUid(), EventReasons.CIDR_ASSIGNMENT_FAILED, message);
        }
        return ReconcileResult.retry();
    }

    private static String firstLine(ApiException e) {
        String body = e.getResponseBody();
        String s = body != null && !body.isBlank() ? body : String.valueOf(e.getMessage());
        s = s.replace('\n', ' ');
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    private static String join(List<Cidr> cidrs) {
        return cidrs.stream().map(Cidr::toString).collect(Collectors.joining(","));
    }

    /** Number of nodes whose pod CIDRs cannot be vouched for and that keep their taints. */
    int failedClosed() {
        return failedClosed.size();
    }

    /** Number of nodes per kind of finding on their pod CIDRs (a node with two kinds counts in both). */
    Map<NodeReport.Kind, Integer> nodesByFinding() {
        Map<NodeReport.Kind, Integer> counts = new EnumMap<>(NodeReport.Kind.class);
        for (Set<NodeReport.Kind> kinds : findings.values()) {
            kinds.forEach(k -> counts.merge(k, 1, Integer::sum));
        }
        return counts;
    }

    /** Number of nodes waiting for a free subnet. */
    int waitingForRoom() {
        return waitingForRoom.size();
    }

    /** The latest problems reported in this term, newest first, at most {@link #LATEST_PROBLEMS}. */
    List<NodeProblem> latestProblems() {
        synchronized (latest) {
            List<NodeProblem> out = new ArrayList<>(latest);
            Collections.reverse(out);
            return out;
        }
    }

    /** The first {@code limit} names, in order, of the nodes waiting for a free subnet. */
    SortedSet<String> nodesWaitingForRoom(int limit) {
        return firstNames(waitingForRoom, limit);
    }

    /** The first {@code limit} names, in order, of the nodes that keep their taints. */
    SortedSet<String> nodesFailingClosed(int limit) {
        return firstNames(failedClosed, limit);
    }

    /** The first {@code limit} nodes, by name, with findings on their pod CIDRs, and the kinds found. */
    SortedMap<String, Set<NodeReport.Kind>> nodesWithFindings(int limit) {
        SortedMap<String, Set<NodeReport.Kind>> out = new TreeMap<>();
        for (String name : firstNames(findings.keySet(), limit)) {
            Set<NodeReport.Kind> kinds = findings.get(name);
            if (kinds != null) {
                out.put(name, Set.copyOf(kinds));
            }
        }
        return out;
    }

    /** Number of nodes with findings on their pod CIDRs now (whatever their kinds). */
    int nodesWithFindingsCount() {
        return findings.size();
    }

    /** The kinds found on a node's pod CIDRs now; empty when none. */
    Set<NodeReport.Kind> findingsOf(String node) {
        Set<NodeReport.Kind> kinds = findings.get(node);
        return kinds == null ? Set.of() : Set.copyOf(kinds);
    }

    /** Whether a node keeps its taints because its pod CIDRs cannot be vouched for. */
    boolean isFailingClosed(String node) {
        return failedClosed.contains(node);
    }

    /** The {@code limit} smallest names of a set, in O(n log limit) without copying the set. */
    private static SortedSet<String> firstNames(Set<String> names, int limit) {
        TreeSet<String> first = new TreeSet<>();
        for (String name : names) {
            if (first.size() < limit) {
                first.add(name);
            } else if (limit > 0 && name.compareTo(first.last()) < 0) {
                first.pollLast();
                first.add(name);
            }
        }
        return first;
    }
}
