package io.github.podcidr.k8s;

import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How long a node watch event takes from being read off the connection to the informer's handler (the informer's
 * queue, its store, its listener), reported as {@link ControllerMetrics#watchEventDelivered(long)}. An event is
 * stamped by its node's name and resourceVersion when decoded and matched when the handler sees the same pair; events
 * of a relist are never stamped. Stamps whose event never reaches the handler (a watch restarted before delivery)
 * are dropped all at once when {@value #MAX_PENDING} are pending, so memory stays bounded and only timing samples are
 * lost. Metrics only: nothing else reads it.
 */
final class WatchDelivery {
    /** Stamps kept at most: far more than a healthy informer has pending, a few MB at worst. */
    static final int MAX_PENDING = 65_536;

    private final ControllerMetrics metrics;
    private final Map<String, Long> readAt = new ConcurrentHashMap<>();

    WatchDelivery(ControllerMetrics metrics) {
        this.metrics = metrics;
    }

    /** A watch event carrying {@code node} was decoded now. */
    void read(KubernetesObject node) {
        String key = key(node);
        if (key == null) {
            return;
        }
        if (readAt.size() >= MAX_PENDING) {
            readAt.clear();
        }
        readAt.put(key, System.nanoTime());
    }

    /** The handler got {@code node} now: reports the time since its event was read, if it was stamped. */
    void delivered(KubernetesObject node) {
        String key = key(node);
        Long t = key == null ? null : readAt.remove(key);
        if (t != null) {
            metrics.watchEventDelivered(System.nanoTime() - t);
        }
    }

    /** Stamps pending (for tests). */
    int pending() {
        return readAt.size();
    }

    private static String key(KubernetesObject node) {
        V1ObjectMeta m = node == null ? null : node.getMetadata();
        if (m == null || m.getName() == null || m.getResourceVersion() == null) {
            return null;
        }
        return m.getName() + "@" + m.getResourceVersion();
    }
}
