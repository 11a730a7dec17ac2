package io.github.podcidr.k8s;

import io.kubernetes.client.extended.event.EventType;
import io.kubernetes.client.extended.event.legacy.EventRecorder;
import io.kubernetes.client.openapi.models.V1ObjectReference;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Warning events on Nodes, without repeating the same one: an event is recorded when its (node, reason, message) was
 * not recorded before, or when {@code minInterval} has passed for exhaustion events, which repeat while a node waits.
 * Events of cluster-scoped Nodes go to namespace {@code default}, as Kubernetes does (the client's recorder does it).
 */
class NodeEvents {
    /** Records nothing: dry-run, or tests that do not look at events. */
    static final NodeEvents NONE = new NodeEvents(null, Duration.ZERO, Clock.systemUTC());

    private final EventRecorder recorder;
    private final Duration minInterval;
    private final Clock clock;
    /** node name to "reason: message" to when it was last recorded. */
    private final Map<String, Map<String, Instant>> recorded = new ConcurrentHashMap<>();

    NodeEvents(EventRecorder recorder, Duration minInterval, Clock clock) {
        this.recorder = recorder;
        this.minInterval = minInterval;
        this.clock = clock;
    }

    /** Records a Warning once per distinct message per node. */
    void warnOnce(String node, String uid, String reason, String message) {
        record(node, uid, reason, message, null);
    }

    /**
     * Records a Warning at most once per {@code minInterval} per node and reason; the message is built only when the
     * event is recorded.
     */
    void warnAtMostEveryInterval(String node, String uid, String reason, Supplier<String> message) {
        record(node, uid, reason, message, minInterval);
    }

    private void record(String node, String uid, String reason, String message, Duration interval) {
        record(node, uid, reason, () -> message, interval);
    }

    private void record(String node, String uid, String reason, Supplier<String> message, Duration interval) {
        if (recorder == null) {
            return;
        }
        String key = interval == null ? reason + ": " + message.get() : reason;
        Instant now = clock.instant();
        Map<String, Instant> perNode = recorded.computeIfAbsent(node, n -> new ConcurrentHashMap<>());
        Instant last = perNode.get(key);
        if (last != null && (interval == null || Duration.between(last, now).compareTo(interval) < 0)) {
            return;
        }
        perNode.put(key, now);
        V1ObjectReference ref = new V1ObjectReference().apiVersion("v1").kind("Node").name(node).uid(uid);
        recorder.event(ref, EventType.Warning, reason, "%s", message.get());
    }

    /** Forgets a deleted node. */
    void forget(String node) {
        recorded.remove(node);
    }
}
