package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1NodeStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Taint;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NodeSlimmerTest {

    @Test
    void keepsOnlyWhatReconcileReads() {
        OffsetDateTime created = OffsetDateTime.parse("2026-01-01T00:00:00Z");
        V1Node full = new V1Node().apiVersion("v1").kind("Node")
                .metadata(new V1ObjectMeta().name("n").uid("u").resourceVersion("7").creationTimestamp(created)
                        .labels(Map.of("pool", "a", "kubernetes.io/hostname", "n", "zone", "z"))
                        .annotations(Map.of("big", "x".repeat(1000))))
                .spec(new V1NodeSpec().podCIDR("10.0.0.0/24").podCIDRs(List.of("10.0.0.0/24"))
                        .providerID("qcloud://x").taints(List.of(new V1Taint().key("k").effect("NoSchedule"))))
                .status(new V1NodeStatus().capacity(Map.of()));
        V1Node slim = new NodeSlimmer(Set.of("pool")).slim(full);
        assertEquals("n", slim.getMetadata().getName());
        assertEquals("u", slim.getMetadata().getUid());
        assertEquals("7", slim.getMetadata().getResourceVersion());
        assertEquals(created, slim.getMetadata().getCreationTimestamp());
        assertEquals(Map.of("pool", "a"), slim.getMetadata().getLabels(), "only the labels the selector reads");
        assertEquals(true, slim.getMetadata().getAnnotations() == null || slim.getMetadata().getAnnotations().isEmpty());
        assertNull(slim.getStatus());
        assertNull(slim.getSpec().getProviderID());
        assertEquals(List.of("10.0.0.0/24"), slim.getSpec().getPodCIDRs());
        assertEquals("k", slim.getSpec().getTaints().get(0).getKey());
        Map<String, String> none = new NodeSlimmer(Set.of()).slim(full).getMetadata().getLabels();
        assertEquals(true, none == null || none.isEmpty(), "no selector, no labels");
    }

    @Test
    void passesOtherObjectsThrough() {
        V1Namespace other = new V1Namespace();
        assertSame(other, new NodeSlimmer(Set.of()).transform(other));
    }
}
