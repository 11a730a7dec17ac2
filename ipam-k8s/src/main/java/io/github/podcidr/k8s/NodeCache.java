package io.github.podcidr.k8s;

import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1Node;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The controller's view of every Node: an informer on a paged, protobuf-reading lister-watcher whose transform keeps
 * only what reconcile reads, and a change filter that turns its events into node names worth a look.
 *
 * <p>Names seen before {@link #deliverTo} are held, and handed over first when delivery starts, so that a caller can
 * restore from the synced cache and queue nodes in its own order before the events that arrived meanwhile.
 */
final class NodeCache {
    private final SharedInformerFactory informers;
    private final SharedIndexInformer<V1Node> informer;
    private final PagedNodeListerWatcher lister;
    private final WatchDelivery delivery;
    private final Object deliveryLock = new Object();
    /** Names seen before {@link #deliverTo} (guarded by {@link #deliveryLock}); null from then on. */
    private volatile Set<String> held = new LinkedHashSet<>();
    private volatile Consumer<String> sink;

    /**
     * Builds the informer; nothing is listed until {@link #start()}.
     *
     * @param watchClient a client without a read timeout (watches stay open for minutes without a byte)
     * @param settings the label keys to keep and the list page size
     * @param metrics where a fallback from protobuf to JSON is counted
     */
    NodeCache(ApiClient watchClient, ControllerSettings settings, ControllerMetrics metrics) {
        informers = new SharedInformerFactory(watchClient);
        delivery = new WatchDelivery(metrics);
        lister = new PagedNodeListerWatcher(watchClient, settings.listPageSize(),
                new SlimNodeCodec(settings.labelKeys()), metrics, delivery);
        informer = informers.sharedIndexInformerFor(lister, V1Node.class, 0);
        informer.setTransform(new NodeSlimmer(settings.labelKeys()));
        addHandler();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void addHandler() {
        // Raw type on purpose: on a relist the client hands tombstones (DeletedFinalStateUnknown), not V1Node, to
        // onDelete, and a typed handler would fail on the cast. Only the name is needed, which both carry.
        ResourceEventHandler handler = new ResourceEventHandler<KubernetesObject>() {
            @Override
            public void onAdd(KubernetesObject obj) {
                delivery.delivered(obj);
                seen(obj);
            }

            @Override
            public void onUpdate(KubernetesObject oldObj, KubernetesObject newObj) {
                delivery.delivered(newObj);
                if (!(oldObj instanceof V1Node o) || !(newObj instanceof V1Node n) || changed(o, n)) {
                    seen(newObj);
                }
            }

            @Override
            public void onDelete(KubernetesObject obj, boolean finalStateUnknown) {
                delivery.delivered(obj);
                seen(obj);
            }
        };
        informer.addEventHandler(handler);
    }

    /** True if anything reconcile reads differs (slimmed nodes differ in resourceVersion on every heartbeat). */
    static boolean changed(V1Node o, V1Node n) {
        return !Objects.equals(o.getSpec(), n.getSpec())
                || !Objects.equals(o.getMetadata().getLabels(), n.getMetadata().getLabels())
                || !Objects.equals(o.getMetadata().getUid(), n.getMetadata().getUid())
                || !Objects.equals(o.getMetadata().getDeletionTimestamp(), n.getMetadata().getDeletionTimestamp());
    }

    private void seen(KubernetesObject obj) {
        if (obj == null || obj.getMetadata() == null || obj.getMetadata().getName() == null) {
            return;
        }
        String name = obj.getMetadata().getName();
        if (held != null) {
            synchronized (deliveryLock) {
                if (held != null) {
                    held.add(name);
                    return;
                }
            }
        }
        sink.accept(name);
    }

    /** Starts listing and watching. */
    void start() {
        informers.startAllRegisteredInformers();
    }

    /**
     * Tells whether the first list has been read into the cache.
     *
     * @return true once synced
     */
    boolean hasSynced() {
        return informer.hasSynced();
    }

    /**
     * Returns the latest error of the lister-watcher, for a sync timeout's message.
     *
     * @return the error, or null
     */
    Throwable lastError() {
        return lister.lastError();
    }

    /**
     * Tells whether lists and watches read JSON now because protobuf answers could not be read.
     *
     * @return true after the fallback
     */
    boolean protobufFallenBack() {
        return lister.protobufFallenBack();
    }

    /**
     * Hands the names held so far to {@code sink}, then every name seen from now on as it comes.
     *
     * @param sink where names go (called on the informer's thread)
     */
    void deliverTo(Consumer<String> sink) {
        synchronized (deliveryLock) {
            this.sink = Objects.requireNonNull(sink, "sink");
            held.forEach(sink);
            held = null;
        }
    }

    /**
     * Returns a node as cached.
     *
     * @param name the node's name
     * @return the slimmed node, or null if the cache does not have it
     */
    V1Node get(String name) {
        return informer.getIndexer().getByKey(name);
    }

    /**
     * Returns every cached node.
     *
     * @return a snapshot of the cache
     */
    List<V1Node> list() {
        return informer.getIndexer().list();
    }

    /**
     * Returns the names of every cached node.
     *
     * @return the names
     */
    List<String> names() {
        return informer.getIndexer().listKeys();
    }

    /**
     * Returns a node's labels as cached.
     *
     * @param node the node
     * @return its labels, empty if it has none
     */
    static Map<String, String> labelsOf(V1Node node) {
        Map<String, String> labels = node.getMetadata().getLabels();
        return labels == null ? Map.of() : labels;
    }

    /** Stops the informer. */
    void stop() {
        informers.stopAllRegisteredInformers();
    }
}
