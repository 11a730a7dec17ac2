package io.github.podcidr.k8s;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeAssignment;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolExhaustedException;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Node;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings one node to its desired state; idempotent, so it may run any number of times for a name. Reads the node
 * from the informer's cache, never from the API:
 * <ol>
 *   <li>node gone: release its subnets and wake the nodes waiting for room;</li>
 *   <li>node with pod CIDRs: adopt them (conflicts become Warning events, never a rewrite), then remove matching
 *       taints;</li>
 *   <li>node being deleted (finalizers): nothing; it keeps its subnets until it is gone;</li>
 *   <li>node outside the selection: remove matching taints only;</li>
 *   <li>otherwise: assign one subnet per family and write it with the taint removal in one guarded patch.</li>
 * </ol>
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
    private final NodeEvents events;
    private final ControllerMetrics metrics;
    private final ControllerSettings settings;
    private final WriteFence fence;
    /** Nodes that found no free subnet; woken when a subnet is released. */
    private final Set<String> waitingForRoom = ConcurrentHashMap.newKeySet();
    /** Node name to the resourceVersion it had when we patched it: until the cache moves past it, do not write. */
    private final Map<String, String> writtenAt = new ConcurrentHashMap<>();
    /** Node name to the problems already reported for it, so each is logged and counted once per leader term. */
    private final Map<String, Set<String>> reported = new ConcurrentHashMap<>();
    /** Called with the names of waiting nodes when room frees up. */
    private final java.util.function.Consumer<String> wake;

    PodCidrReconciler(NodeIpam ipam, Function<String, V1Node> cache, NodeWriter writer, NodeEvents events,
                      ControllerMetrics metrics, ControllerSettings settings, WriteFence fence,
                      java.util.function.Consumer<String> wake) {
        this.ipam = ipam;
        this.cache = cache;
        this.writer = writer;
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
            adopt(name, uid, podCidrs);
            return write(node, List.of(), false);
        }
        if (node.getMetadata().getDeletionTimestamp() != null) {
            return ReconcileResult.done(); // being deleted: keep whatever it holds until it is gone
        }
        Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
        if (!settings.nodeSelector().matches(labels)) {
            return write(node, List.of(), false);
        }
        NodeAssignment assignment;
        try {
            assignment = ipam.assign(name);
        } catch (PoolExhaustedException e) {
            if (waitingForRoom.add(name)) {
                LOG.warn("no free subnet node={} reason=\"{}\"", name, e.getMessage());
            }
            metrics.exhausted(name);
            events.warnAtMostEveryInterval(name, uid, EventReasons.CIDR_NOT_AVAILABLE, e.getMessage());
            return ReconcileResult.retry();
        }
        waitingForRoom.remove(name);
        return write(node, assignment.podCidrs(), true);
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
        if (ipam.release(name)) {
            List<Cidr> cidrs = held.map(NodeAssignment::cidrs).orElse(List.of());
            LOG.info("released node={} cidr={}", name, join(cidrs));
            metrics.released(name, cidrs);
            for (String waiting : List.copyOf(waitingForRoom)) {
                wake.accept(waiting);
            }
        }
        return ReconcileResult.done();
    }

    private void adopt(String name, String uid, List<String> podCidrs) {
        Optional<NodeAssignment> before = ipam.assignmentOf(name);
        NodeReport r = ipam.adopt(name, podCidrs);
        boolean changed = before.isEmpty() || !before.get().cidrs().equals(r.adopted());
        if (changed && !r.adopted().isEmpty()) {
            LOG.info("adopted node={} cidr={}", name, join(r.adopted()));
        }
        report(r, uid);
    }

    /** Turns the problems of an adopt or restore into events, metrics and log lines (each once per node). */
    void report(NodeReport r, String uid) {
        String name = r.node();
        for (NodeReport.Duplicate d : r.duplicates()) {
            problem(name, uid, "duplicate", EventReasons.CIDR_CONFLICT, "pod CIDR " + d.cidr()
                    + " overlaps the subnet of node " + d.holder() + ", which keeps it; the CIDR is not recorded for"
                    + " this node: recreate one of the two nodes to give it a free subnet");
        }
        for (Cidr c : r.misaligned()) {
            problem(name, uid, "misaligned", EventReasons.CIDR_MISALIGNED, "pod CIDR " + c + " overlaps a cluster"
                    + " CIDR without being one of its node subnets (other size or alignment); the subnets it overlaps"
                    + " are held for this node");
        }
        for (Cidr c : r.outsidePools()) {
            problem(name, uid, "outside_pools", EventReasons.CIDR_OUTSIDE_CLUSTER_CIDR, "pod CIDR " + c
                    + " is outside every cluster CIDR " + settings.clusterCidrs() + "; it is left alone");
        }
        for (NodeReport.Malformed m : r.malformed()) {
            problem(name, uid, "malformed", EventReasons.INVALID_POD_CIDR, m.reason());
        }
        if (!r.missingFamilies().isEmpty()) {
            problem(name, uid, "missing_family", EventReasons.CIDR_FAMILY_MISSING, "node has no "
                    + r.missingFamilies() + " pod CIDR although the cluster CIDRs have that family; pod CIDRs"
                    + " cannot be changed once set: recreate the node to give it one of each family");
        }
    }

    private void problem(String name, String uid, String kind, String reason, String message) {
        if (!reported.computeIfAbsent(name, n -> ConcurrentHashMap.newKeySet()).add(reason + ": " + message)) {
            return; // already reported for this node in this term
        }
        metrics.conflict(kind);
        LOG.warn("pod CIDR problem node={} reason={} message=\"{}\"", name, reason, message);
        events.warnOnce(name, uid, reason, message);
    }

    private ReconcileResult write(V1Node node, List<String> podCidrs, boolean assigning) {
        String name = node.getMetadata().getName();
        NodePatch patch = NodePatch.forNode(node.getMetadata().getUid(), podCidrs,
                node.getSpec() == null ? null : node.getSpec().getTaints(), settings.removeTaints());
        if (patch.isEmpty()) {
            return ReconcileResult.done();
        }
        if (!fence.mayWrite()) {
            LOG.info("not leading, write skipped node={}", name);
            return ReconcileResult.requeueAfter(Duration.ofSeconds(1));
        }
        if (settings.dryRun()) {
            LOG.info("dry-run: would patch node={} cidr={} taintsRemoved={} patch={}", name,
                    String.join(",", podCidrs), patch.removedTaints(), patch.json());
            return ReconcileResult.done();
        }
        try {
            writer.patch(name, patch.json());
        } catch (ApiException e) {
            return writeFailed(node, e, assigning, podCidrs);
        }
        writtenAt.put(name, node.getMetadata().getResourceVersion());
        if (assigning) {
            LOG.info("assigned node={} cidr={}{}", name, String.join(",", podCidrs),
                    patch.removedTaints() > 0 ? " taintsRemoved=" + patch.removedTaints() : "");
            metrics.assigned(name, podCidrs.stream().map(Cidr::parse).collect(Collectors.toList()));
        } else {
            LOG.info("removed taints node={} count={}", name, patch.removedTaints());
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
            LOG.info("node gone while writing node={}", name);
            return released(name);
        }
        if (code == 409 || code == 422) {
            // Someone else changed the node between our read and our patch (a test op failed): read it again.
            metrics.writeFailed("conflict");
            LOG.info("node changed under us, will re-read node={} code={}", name, code);
            return ReconcileResult.retry();
        }
        if (code == 0 || code == 429 || code >= 500) {
            // No answer or a server-side failure: the patch may have been applied. Keep the subnets for this node
            // (releasing one that might have been written is worse than holding it until the next read) and retry.
            metrics.writeFailed("unavailable");
            LOG.warn("write not confirmed, keeping cidr={} and retrying node={} code={} error=\"{}\"",
                    String.join(",", podCidrs), name, code, firstLine(e));
            return ReconcileResult.retry();
        }
        metrics.writeFailed("rejected");
        String message = "the API server refused the pod CIDR patch (HTTP " + code + "): " + firstLine(e);
        LOG.error("write refused node={} cidr={} code={} message=\"{}\"", name, String.join(",", podCidrs), code,
                firstLine(e));
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

    /** Number of nodes waiting for a free subnet. */
    int waitingForRoom() {
        return waitingForRoom.size();
    }
}
