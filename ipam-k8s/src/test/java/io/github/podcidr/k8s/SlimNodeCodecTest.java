package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.NodeGenerator;
import io.kubernetes.client.openapi.JSON;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.util.Watch;
import java.io.StringReader;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The streaming decoder against the client's own decoding followed by {@link NodeSlimmer}: same nodes. */
class SlimNodeCodecTest {
    private static final Set<String> KEYS = Set.of("topology.kubernetes.io/zone", "node.kubernetes.io/instance-type",
            "absent/label");

    @Test
    void decodesRealisticNodesLikeTheClientPlusSlimming() throws Exception {
        NodeGenerator gen = new NodeGenerator(11);
        JSON json = new JSON();
        SlimNodeCodec codec = new SlimNodeCodec(KEYS);
        NodeSlimmer slimmer = new NodeSlimmer(KEYS);
        StringBuilder list = new StringBuilder("{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":"
                + "{\"resourceVersion\":\"42\",\"continue\":\"abc\"},\"items\":[");
        for (int i = 0; i < 50; i++) {
            ObjectNode n = i % 3 == 0 ? gen.node(i, i % 2 == 0, "10.244." + i + ".0/24", "fd00:0:0:" + i + "::/64")
                    : gen.node(i, i % 2 == 0);
            n.with("metadata").put("creationTimestamp", "2026-01-0" + (1 + i % 9) + "T00:00:00Z")
                    .put("uid", "uid-" + i).put("resourceVersion", String.valueOf(100 + i));
            if (i == 7) {
                n.with("metadata").put("deletionTimestamp", "2026-02-01T10:11:12Z");
            }
            String text = n.toString();
            V1Node expected = slimmer.slim(json.deserialize(text, V1Node.class));
            // in the informer the transform runs on decoded nodes too; it normalises empty lists to null
            V1Node actual = slimmer.slim(codec.readNode(new com.google.gson.stream.JsonReader(new StringReader(text))));
            assertEquals(expected.getMetadata().getName(), actual.getMetadata().getName());
            assertEquals(expected.getMetadata().getUid(), actual.getMetadata().getUid());
            assertEquals(expected.getMetadata().getResourceVersion(), actual.getMetadata().getResourceVersion());
            assertEquals(expected.getMetadata().getCreationTimestamp(), actual.getMetadata().getCreationTimestamp());
            assertEquals(expected.getMetadata().getDeletionTimestamp(), actual.getMetadata().getDeletionTimestamp());
            assertEquals(expected.getMetadata().getLabels(), actual.getMetadata().getLabels());
            assertEquals(expected.getSpec(), actual.getSpec(), "spec of node " + i);
            list.append(i == 0 ? "" : ",").append(text);
        }
        list.append("]}");
        SlimNodeCodec.Page page = codec.readList(new StringReader(list.toString()));
        assertEquals(50, page.items().size());
        assertEquals("42", page.resourceVersion());
        assertEquals("abc", page.continueToken());
    }

    @Test
    void decodesWatchEventsAndErrors() throws Exception {
        SlimNodeCodec codec = new SlimNodeCodec(Set.of());
        Watch.Response<V1Node> added = codec.readEvent("{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\","
                + "\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"9\"},\"spec\":{\"podCIDR\":\"10.0.0.0/24\"},"
                + "\"status\":{\"images\":[{\"names\":[\"x\"]}]}}}");
        assertEquals("ADDED", added.type);
        assertEquals("n1", added.object.getMetadata().getName());
        assertEquals("10.0.0.0/24", added.object.getSpec().getPodCIDR());
        Watch.Response<V1Node> gone = codec.readEvent("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
                + "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource"
                + " version: 1 (5)\",\"reason\":\"Expired\",\"code\":410}}");
        assertEquals("ERROR", gone.type);
        assertNull(gone.object);
        assertEquals(410, gone.status.getCode());
        assertEquals("Expired", gone.status.getReason());
        Watch.Response<V1Node> bookmark = codec.readEvent("{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Node\","
                + "\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"77\"}}}");
        assertEquals("77", bookmark.object.getMetadata().getResourceVersion());
    }
}
