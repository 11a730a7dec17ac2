package io.github.podcidr.k8s;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeReport;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What is wrong with which node in one leader term: the findings on nodes' pod CIDRs, the nodes that fail closed
 * (keep their taints) or wait for room, and the latest problems; each problem is logged, counted and recorded as a
 * Warning event once per node and term.
 *
 * <p>Thread-safe: reconciles of different nodes run at once; those of one node never do.
 */
final class ProblemLedger {
    private static final Logger LOG = LoggerFactory.getLogger(ProblemLedger.class);
    /** How many of the latest problems {@link #latestProblems()} keeps: a status page's worth. */
    static final int LATEST_PROBLEMS = 50;
    /**
     * The most problem events one node gets in a term: a pod CIDR as wide as the cluster range overlaps every other
     * node's subnet, one finding each, and the event recorder's rate limit is shared, so one node must not use it up
     * (the other findings are still logged and counted).
     */
    static final int EVENTS_PER_NODE = 5;

    private final NodeEvents events;
    private final ControllerMetrics metrics;
    /** Whether the controller removes taints, so that a fail-closed message says the node keeps them. */
    private final boolean removesTaints;
    /** Nodes whose pod CIDRs cannot be vouched for: they keep their taints; woken when a subnet is released. */
    private final Set<String> failedClosed = ConcurrentHashMap.newKeySet();
    /** Node name to the kinds of the findings of its latest adopt, for the problem gauge; absent when none. */
    private final Map<String, Set<NodeReport.Kind>> findings = new ConcurrentHashMap<>();
    /** Nodes that found no free subnet; woken when a subnet is released. */
    private final Set<String> waitingForRoom = ConcurrentHashMap.newKeySet();
    /** Node name to the problems already reported for it, so each is logged and counted once per leader term. */
    private final Map<String, Set<String>> reported = new ConcurrentHashMap<>();
    /** Node name to the problem events recorded for it in this term. */
    private final Map<String, Integer> eventsOf = new ConcurrentHashMap<>();
    /** The latest problems reported, oldest first, at most {@link #LATEST_PROBLEMS}; guarded by itself. */
    private final ArrayDeque<NodeProblem> latest = new ArrayDeque<>();

    ProblemLedger(NodeEvents events, ControllerMetrics metrics, boolean removesTaints) {
        this.events = events;
        this.metrics = metrics;
        this.removesTaints = removesTaints;
    }

    /** Turns the findings of an adopt or restore into events, metrics and log lines (each once per node). */
    void report(NodeReport r, String uid) {
        for (NodeReport.Finding f : r.findings()) {
            String message = f.message();
            if (f.kind().failsClosed() && removesTaints) {
                message += "; until then the node keeps the taints the controller would remove";
            }
            String reason = eventReason(f.kind());
            if (problem(r.node(), uid, f.kind().token(), reason, message)) {
                remember(new NodeProblem(r.node(), f.kind(), reason, f.cidr(), message, Instant.now()));
            }
        }
    }

    /** Records the kinds found on a node's pod CIDRs by its latest adopt (none clears them). */
    void findingsOf(String node, NodeReport r) {
        if (r.findings().isEmpty()) {
            findings.remove(node);
        } else {
            Set<NodeReport.Kind> kinds = EnumSet.noneOf(NodeReport.Kind.class);
            r.findings().forEach(f -> kinds.add(f.kind()));
            findings.put(node, kinds);
        }
    }

    static String eventReason(NodeReport.Kind kind) {
        return switch (kind) {
            case DUPLICATE -> EventReasons.CIDR_CONFLICT;
            case OUTSIDE_POOLS, UNCONFIGURED_FAMILY -> EventReasons.CIDR_OUTSIDE_CLUSTER_CIDR;
            case MISALIGNED -> EventReasons.CIDR_MISALIGNED;
            case OVERSIZED -> EventReasons.CIDR_TOO_WIDE;
            case IN_RESERVED_RANGE -> EventReasons.CIDR_IN_RESERVED_RANGE;
            case NON_CANONICAL -> EventReasons.CIDR_NOT_CANONICAL;
            case MALFORMED, SECOND_OF_FAMILY -> EventReasons.INVALID_POD_CIDR;
            case MISSING_FAMILY -> EventReasons.CIDR_FAMILY_MISSING;
            case IN_OTHER_GROUP -> EventReasons.CIDR_IN_OTHER_GROUP;
        };
    }

    /**
     * Reports a problem of a node once per term: a log line, the conflict counter and a Warning event.
     *
     * @return true if it was new
     */
    boolean problem(String node, String uid, String kind, String reason, String message) {
        if (!reported.computeIfAbsent(node, n -> ConcurrentHashMap.newKeySet()).add(reason + ": " + message)) {
            return false; // already reported for this node in this term
        }
        metrics.conflict(kind);
        LOG.atWarn().setMessage("pod CIDR problem").addKeyValue("node", node).addKeyValue("reason", reason)
                .addKeyValue("message", message).log();
        int recorded = eventsOf.merge(node, 1, Integer::sum);
        if (recorded <= EVENTS_PER_NODE) {
            events.warnOnce(node, uid, reason, recorded < EVENTS_PER_NODE ? message : message
                    + "; further problems of this node in this term are only logged");
        }
        return true;
    }

    /** Reports, once per term, a node that no group's selector matches on a cluster without a default group. */
    void inNoGroup(String node, String uid, String message) {
        if (reported.computeIfAbsent(node, n -> ConcurrentHashMap.newKeySet()).add(message)) {
            LOG.atWarn().setMessage("node in no group").addKeyValue("node", node).log();
            events.warnOnce(node, uid, EventReasons.NODE_IN_NO_GROUP, message);
        }
    }

    /** Records a Warning event on a node once per term (a refused write, say), with no other bookkeeping. */
    void warnOnce(String node, String uid, String reason, String message) {
        events.warnOnce(node, uid, reason, message);
    }

    private void remember(NodeProblem p) {
        synchronized (latest) {
            if (latest.size() == LATEST_PROBLEMS) {
                latest.removeFirst();
            }
            latest.addLast(p);
        }
    }

    /** A node whose pod CIDRs cannot be vouched for keeps its taints; logged when it starts to. */
    void failClosed(String node, List<String> podCidrs) {
        if (failedClosed.add(node)) {
            LOG.atWarn().setMessage("pod CIDR not vouched for, taints kept").addKeyValue("node", node)
                    .addKeyValue("cidr", String.join(",", podCidrs)).log();
        }
    }

    /** A node's pod CIDRs can be vouched for; if it failed closed before, that is logged and may be reported anew. */
    void vouched(String node, List<Cidr> adopted) {
        if (failedClosed.remove(node)) {
            LOG.atInfo().setMessage("pod CIDR conflict resolved").addKeyValue("node", node)
                    .addKeyValue("cidr", adopted.stream().map(Cidr::toString).collect(Collectors.joining(",")))
                    .log();
            reported.remove(node); // report it again should it come back
            eventsOf.remove(node);
        }
    }

    /**
     * A node found no free subnet: logged when it starts waiting, counted each time, and a Warning event at most
     * every interval.
     *
     * @param why the reason, built only when logged or recorded
     */
    void noRoom(String node, String uid, String group, Supplier<String> why) {
        if (waitingForRoom.add(node)) {
            LOG.atWarn().setMessage("no free subnet").addKeyValue("node", node).addKeyValue("group", group)
                    .addKeyValue("reason", why.get()).log();
        }
        metrics.exhausted(node, group);
        events.warnAtMostEveryInterval(node, uid, EventReasons.CIDR_NOT_AVAILABLE, why);
    }

    /** A node got its subnets: it no longer waits for room. */
    void roomFound(String node) {
        waitingForRoom.remove(node);
    }

    /** Forgets everything about a node that is gone. */
    void forget(String node) {
        waitingForRoom.remove(node);
        reported.remove(node);
        eventsOf.remove(node);
        events.forget(node);
        failedClosed.remove(node);
        findings.remove(node);
    }

    /** The nodes that a freed subnet may help: those waiting for room and those failing closed. */
    List<String> toWake() {
        List<String> out = new ArrayList<>(waitingForRoom);
        out.addAll(failedClosed);
        return out;
    }

    int failedClosedCount() {
        return failedClosed.size();
    }

    Map<NodeReport.Kind, Integer> nodesByFinding() {
        Map<NodeReport.Kind, Integer> counts = new EnumMap<>(NodeReport.Kind.class);
        for (Set<NodeReport.Kind> kinds : findings.values()) {
            kinds.forEach(k -> counts.merge(k, 1, Integer::sum));
        }
        return counts;
    }

    int waitingForRoomCount() {
        return waitingForRoom.size();
    }

    List<NodeProblem> latestProblems() {
        synchronized (latest) {
            List<NodeProblem> out = new ArrayList<>(latest);
            Collections.reverse(out);
            return out;
        }
    }

    SortedSet<String> nodesWaitingForRoom(int limit) {
        return firstNames(waitingForRoom, limit);
    }

    SortedSet<String> nodesFailingClosed(int limit) {
        return firstNames(failedClosed, limit);
    }

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

    int nodesWithFindingsCount() {
        return findings.size();
    }

    Set<NodeReport.Kind> findingsOf(String node) {
        Set<NodeReport.Kind> kinds = findings.get(node);
        return kinds == null ? Set.of() : Set.copyOf(kinds);
    }

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
