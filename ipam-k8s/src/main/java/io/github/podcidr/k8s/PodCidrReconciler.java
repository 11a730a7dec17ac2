package io.github.podcidr.k8s;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeAssignment;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Node;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings one node to its desired state; idempotent, so it may run any number of times for a name. Reads the node
 * from the informer's cache, never from the API, and acts on the {@link NodeDecision} made from it:
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
    private final ProblemLedger problems;
    private final ControllerMetrics metrics;
    private final ControllerSettings settings;
    private final WriteFence fence;
    private final IntentJournal journal;
    /** Node name to the resourceVersion it had when we patched it: until the cache moves past it, do not write. */
    private final Map<String, String> writtenAt = new ConcurrentHashMap<>();
    /** Called with the names of waiting nodes when room frees up. */
    private final Consumer<String> wake;

    PodCidrReconciler(NodeIpam ipam, Function<String, V1Node> cache, NodeWriter writer, NodeReader reader,
                      ProblemLedger problems, ControllerMetrics metrics, ControllerSettings settings,
                      WriteFence fence, IntentJournal journal, Consumer<String> wake) {
        this.ipam = ipam;
        this.cache = cache;
        this.writer = writer;
        this.reader = reader;
        this.problems = problems;
        this.metrics = metrics;
        this.settings = settings;
        this.fence = fence;
        this.journal = journal;
        this.wake = wake;
    }

    ReconcileResult reconcile(String name) {
        V1Node node = cache.apply(name);
        String written = writtenAt.get(name);
        if (node != null && written != null && !written.equals(node.getMetadata().getResourceVersion())) {
            writtenAt.remove(name); // the cache has moved past our write
            written = null;
        }
        String group = node == null ? null : settings.groupOf(NodeCache.labelsOf(node));
        return act(name, node, NodeDecision.decide(node, written, ipam.holdsAny(name), group));
    }

    private ReconcileResult act(String name, V1Node node, NodeDecision decision) {
        return switch (decision.kind()) {
            case RELEASE -> released(name);
            case WAIT_FOR_CACHE -> ReconcileResult.requeueAfter(CACHE_LAG_RECHECK);
            case ADOPT -> adoptAndUntaint(node, decision.podCidrs());
            case SETTLE_HELD -> settleHeld(node);
            case KEEP -> ReconcileResult.done(); // being deleted: keep whatever it holds until it is gone
            case UNTAINT -> {
                if (settings.hasNodeGroups() && settings.clusterCidrs().isEmpty()) {
                    inNoGroup(name, node.getMetadata().getUid());
                }
                yield write(node, List.of(), false);
            }
            case ASSIGN -> assign(node, decision.group());
        };
    }

    /**
     * A node that will not get a subnet now holds one (a write without an answer): free it once the API confirms
     * that the node has no pod CIDR (the write may have landed after all), then go on as for a node holding none.
     */
    private ReconcileResult settleHeld(V1Node node) {
        String name = node.getMetadata().getName();
        if (journal.unsettled(name)) {
            // The unanswered write may still land at any time, so the subnet cannot be freed on a live read. Send it
            // again: one of the two writes lands, and the other fails its guard.
            List<String> held = ipam.assignmentOf(name).map(NodeAssignment::podCidrs).orElse(List.of());
            LOG.atInfo().setMessage("writing again a pod CIDR whose write may still land").addKeyValue("node", name)
                    .addKeyValue("cidr", String.join(",", held)).log();
            return write(node, held, true);
        }
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
        boolean deleting = node.getMetadata().getDeletionTimestamp() != null;
        LOG.atInfo().setMessage("freed").addKeyValue("node", name).addKeyValue("cidr", join(held))
                .addKeyValue("reason", deleting ? "deleting" : "not_selected").log();
        metrics.released(name, held);
        wakeWaiting();
        // it was here because it is being deleted or in no group: decided again, it is kept or only untainted
        return act(name, node, NodeDecision.decide(node, null, false, null));
    }

    private ReconcileResult assign(V1Node node, String group) {
        String name = node.getMetadata().getName();
        Optional<NodeAssignment> assignment = ipam.tryAssign(name, group);
        if (assignment.isEmpty()) {
            problems.noRoom(name, node.getMetadata().getUid(), group,
                    () -> Exhaustion.message(ipam, name, group, settings.hasNodeGroups()));
            return ReconcileResult.retry();
        }
        problems.roomFound(name);
        return write(node, assignment.get().podCidrs(), true);
    }

    /**
     * Adopts the node's pod CIDRs and removes its matching taints if the controller can vouch for them; otherwise
     * the node keeps its taints (fails closed) until a released subnet or a change of the node resolves the problem.
     */
    private ReconcileResult adoptAndUntaint(V1Node node, List<String> podCidrs) {
        String name = node.getMetadata().getName();
        journal.settle(name); // a guarded write of ours can no longer land on it
        NodeReport r = adopt(name, settings.groupOf(NodeCache.labelsOf(node)), node.getMetadata().getUid(), podCidrs);
        if (!r.vouched()) {
            problems.failClosed(name, podCidrs);
            return ReconcileResult.done(); // woken again when a subnet is released
        }
        problems.vouched(name, r.adopted());
        return write(node, List.of(), false);
    }

    /** A node no group's selector matches, on a cluster without a default group: it gets no pod CIDR. */
    private void inNoGroup(String name, String uid) {
        problems.inNoGroup(name, uid, "node matches the selector of no node group (" + settings.nodeGroups().stream()
                .map(NodeGroupSettings::name).collect(Collectors.joining(", ")) + ") and there is no default group"
                + " (--cluster-cidr): it gets no pod CIDR; label it for a group or add a catch-all group");
    }

    private ReconcileResult released(String name) {
        writtenAt.remove(name);
        journal.settle(name); // gone: a write guarded by its uid can no longer land
        problems.forget(name);
        Optional<NodeAssignment> held = ipam.assignmentOf(name);
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
        problems.toWake().forEach(wake);
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
        problems.report(r, uid);
        problems.findingsOf(name, r);
        return r;
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
        if (!podCidrs.isEmpty()) {
            ReconcileResult postponed = recordIntent(node, podCidrs);
            if (postponed != null) {
                return postponed;
            }
        }
        try {
            writer.patch(name, patch.json());
        } catch (ApiException e) {
            return writeFailed(node, e, assigning, podCidrs);
        }
        journal.settle(name);
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

    /** Stores the intent of a write that carries pod CIDRs; null once stored, else what to do instead of writing. */
    private ReconcileResult recordIntent(V1Node node, List<String> podCidrs) {
        String name = node.getMetadata().getName();
        long start = System.nanoTime();
        try {
            journal.record(new IntentJournal.Intent(name, node.getMetadata().getUid(), podCidrs));
            return null;
        } catch (IntentJournal.SupersededException e) {
            LOG.atInfo().setMessage("another term leads, write skipped").addKeyValue("node", name).log();
            return ReconcileResult.requeueAfter(Duration.ofSeconds(1));
        } catch (ApiException e) {
            metrics.writeFailed(WriteOutcome.UNAVAILABLE.token());
            LOG.atWarn().setMessage("intent not recorded, write postponed").addKeyValue("node", name)
                    .addKeyValue("cidr", String.join(",", podCidrs)).addKeyValue("code", e.getCode()).log();
            return ReconcileResult.retry();
        } finally {
            if (journal.enabled()) {
                metrics.intentJournalWaited(System.nanoTime() - start);
            }
        }
    }

    private ReconcileResult writeFailed(V1Node node, ApiException e, boolean assigning, List<String> podCidrs) {
        String name = node.getMetadata().getName();
        WriteOutcome outcome = WriteOutcome.of(e.getCode(), e.getResponseBody());
        metrics.writeFailed(outcome.token());
        if (outcome != WriteOutcome.UNAVAILABLE) {
            journal.settle(name); // answered: this write will not land later
        }
        switch (outcome) {
            case NOT_FOUND -> {
                LOG.atInfo().setMessage("node gone while writing").addKeyValue("node", name).log();
                return released(name);
            }
            case CONFLICT -> LOG.atInfo().setMessage("node changed under us, will re-read").addKeyValue("node", name)
                    .addKeyValue("code", e.getCode()).log();
            case UNAVAILABLE -> LOG.atWarn().setMessage("write not confirmed, keeping the subnets and retrying")
                    .addKeyValue("node", name).addKeyValue("cidr", String.join(",", podCidrs))
                    .addKeyValue("code", e.getCode()).addKeyValue("error", firstLine(e)).log();
            case INVALID -> {
                // Validation refused the patch itself: retrying the same patch cannot pass. The node is looked at
                // again when it changes (the informer queues it), on a wake-up, or in the next term.
                LOG.atWarn().setMessage("write refused by validation, waiting for the node to change")
                        .addKeyValue("node", name).addKeyValue("cidr", String.join(",", podCidrs))
                        .addKeyValue("message", firstLine(e)).log();
                problems.warnOnce(name, node.getMetadata().getUid(), EventReasons.CIDR_ASSIGNMENT_FAILED,
                        "the API server refused the node's patch as invalid (HTTP 422): " + firstLine(e)
                                + "; it is not retried until the node changes");
                return ReconcileResult.done();
            }
            case REJECTED -> {
                LOG.atError().setMessage("write refused").addKeyValue("node", name)
                        .addKeyValue("cidr", String.join(",", podCidrs)).addKeyValue("code", e.getCode())
                        .addKeyValue("message", firstLine(e)).log();
                if (assigning) {
                    problems.warnOnce(name, node.getMetadata().getUid(), EventReasons.CIDR_ASSIGNMENT_FAILED,
                            "the API server refused the pod CIDR patch (HTTP " + e.getCode() + "): " + firstLine(e));
                }
            }
            default -> throw new AssertionError(outcome);
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
}
