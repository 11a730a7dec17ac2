package io.github.podcidr.k8s;

import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.informer.TransformFunc;
import io.kubernetes.client.informer.cache.DeltaFIFO;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The informer's transform: keeps of each Node only what reconcile reads (name, uid, resourceVersion,
 * creationTimestamp, deletionTimestamp, the labels the node selector reads, spec.podCIDR(s), spec.taints) so that
 * 130,000 cached nodes fit in a small heap; status, images, annotations and managedFields are dropped.
 *
 * <p>Nodes decoded by {@link SlimNodeCodec} (the informer's own lister and watch) are already slim and pass through
 * untouched, so the copy is made only for a full Node from elsewhere.
 *
 * <p>The client also passes tombstones ({@link DeltaFIFO.DeletedFinalStateUnknown}: a node deleted while the watch
 * was down) through the transform; they are returned as they are.
 */
final class NodeSlimmer implements TransformFunc {
    /** Label keys worth keeping: those the node selector reads. */
    private final Set<String> labelKeys;

    NodeSlimmer(Set<String> labelKeys) {
        this.labelKeys = Set.copyOf(labelKeys);
    }

    @Override
    public KubernetesObject transform(KubernetesObject object) {
        if (!(object instanceof V1Node node)) {
            return object; // a tombstone, or anything unexpected: leave it alone
        }
        if (node.getStatus() == null) {
            return node; // already slim: SlimNodeCodec decoded it (a Node from the API always has a status)
        }
        return slim(node);
    }

    V1Node slim(V1Node node) {
        V1ObjectMeta m = node.getMetadata();
        V1ObjectMeta meta = new V1ObjectMeta()
                .name(m.getName())
                .uid(m.getUid())
                .resourceVersion(m.getResourceVersion())
                .creationTimestamp(m.getCreationTimestamp())
                .deletionTimestamp(m.getDeletionTimestamp());
        Map<String, String> labels = m.getLabels();
        if (labels != null && !labelKeys.isEmpty()) {
            Map<String, String> kept = new HashMap<>(labelKeys.size() * 2);
            for (String k : labelKeys) {
                String v = labels.get(k);
                if (v != null) {
                    kept.put(k, v);
                }
            }
            meta.setLabels(kept);
        }
        V1NodeSpec spec = new V1NodeSpec();
        V1NodeSpec s = node.getSpec();
        if (s != null) {
            spec.setPodCIDR(s.getPodCIDR());
            spec.setPodCIDRs(s.getPodCIDRs() == null || s.getPodCIDRs().isEmpty() ? null : s.getPodCIDRs());
            spec.setTaints(s.getTaints() == null || s.getTaints().isEmpty() ? null : s.getTaints());
        }
        return new V1Node().apiVersion(node.getApiVersion()).kind(node.getKind()).metadata(meta).spec(spec);
    }
}
