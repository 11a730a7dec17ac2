package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.NodeGenerator;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.CallGeneratorParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The two requests that cost the API server most, on a real kube-apiserver 1.20, with the chart's RBAC: a write
 * that asks for its answer in protobuf, and the first list, served from the watch cache at a revision read from etcd
 * just before. What they return must be what the controller relies on.
 */
class WritePathRealIT extends RealTier {
    private static final String CIDR = "10.244.7.0/24";

    private static NodeWriter writer() throws Exception {
        return NodeWriter.of(f.controllerClients().create(), WriteFence.OPEN, Duration.ofSeconds(10));
    }

    private static String guardedPatch(String uid, String cidr) {
        return "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":\"" + uid + "\"},"
                + "{\"op\":\"test\",\"path\":\"/spec/podCIDR\",\"value\":null},"
                + "{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"" + cidr + "\"},"
                + "{\"op\":\"add\",\"path\":\"/spec/podCIDRs\",\"value\":[\"" + cidr + "\"]}]";
    }

    @Test
    void aWriteAnsweredInProtobufLandsAndARefusalStillReadsAsAStatus() throws Exception {
        ObjectNode stored = f.createNode(new NodeGenerator(5).node(0, false));
        String name = stored.at("/metadata/name").asText();
        NodeWriter writer = writer();

        writer.patch(name, guardedPatch(RealFixture.uid(stored), CIDR));
        assertEquals(List.of(CIDR), RealFixture.podCidrs(f.node(name)));

        // the same guarded patch again: the test of an empty podCIDR fails, and the server says so in protobuf
        ApiException refused = assertThrows(ApiException.class,
                () -> writer.patch(name, guardedPatch(RealFixture.uid(stored), "10.244.8.0/24")));
        JsonNode status = RealFixture.JSON.readTree(refused.getResponseBody());
        assertEquals(422, refused.getCode(), refused.getResponseBody());
        // what the server writes when asked for JSON, for the same refused patch
        RealFixture.Answer json = f.send("PATCH", "/api/v1/nodes/" + name, "application/json-patch+json",
                guardedPatch(RealFixture.uid(stored), "10.244.8.0/24"));
        assertEquals(422, json.code());
        for (String field : List.of("kind", "apiVersion", "status", "message", "reason", "code", "details")) {
            assertEquals(json.body().path(field), status.path(field), field + " of " + status + " vs " + json.body());
        }
        assertEquals(List.of(CIDR), RealFixture.podCidrs(f.node(name)), "nothing written by the refused patch");

        ApiException gone = assertThrows(ApiException.class,
                () -> writer.patch("no-such-node", guardedPatch("0", CIDR)));
        assertEquals(404, gone.getCode());
        JsonNode notFound = RealFixture.JSON.readTree(gone.getResponseBody());
        assertEquals("NotFound", notFound.path("reason").asText(), gone.getResponseBody());
        assertTrue(notFound.path("message").asText().contains("no-such-node"), notFound.toString());
    }

    @Test
    void theFirstListHoldsEveryWriteMadeBeforeIt() throws Exception {
        NodeGenerator gen = new NodeGenerator(6);
        List<ObjectNode> nodes = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            nodes.add(gen.node(i, i % 3 == 0));
        }
        f.createNodes(nodes, 4);
        ApiClient client = f.controllerClients().create();
        PagedNodeListerWatcher lister = new PagedNodeListerWatcher(client, 50, new SlimNodeCodec(Set.of()));
        for (int round = 0; round < 5; round++) {
            // a write, then at once the list: it must see the write, as a consistent list from etcd would
            ObjectNode created = f.createNode(gen.node(1_000 + round, false));
            String late = created.at("/metadata/name").asText();
            long createdAt = Long.parseLong(created.at("/metadata/resourceVersion").asText());
            V1NodeList list = lister.list(new CallGeneratorParams(false, "0", null));
            assertEquals(300 + round + 1, list.getItems().size());
            V1Node seen = list.getItems().stream().filter(n -> late.equals(n.getMetadata().getName())).findFirst()
                    .orElse(null);
            assertNotNull(seen, "the node created just before the list is in it");
            assertTrue(Long.parseLong(list.getMetadata().getResourceVersion()) >= createdAt,
                    "the list is not older than the write: " + list.getMetadata().getResourceVersion() + " < "
                            + createdAt);
        }
        assertEquals(null, lister.lastError());
    }

    /**
     * kube-apiserver 1.20's node cache moves only with node events: after a write to another kind, it cannot reach
     * the current revision, answers the list at that revision with 504 after 3 s, and the list goes on from etcd in
     * pages of the same snapshot.
     */
    @Test
    void aNodeCacheThatCannotReachTheRevisionFallsBackToPagesOfTheSameSnapshot() throws Exception {
        NodeGenerator gen = new NodeGenerator(7);
        List<ObjectNode> nodes = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            nodes.add(gen.node(i, false));
        }
        f.createNodes(nodes, 4);
        RealFixture.Answer other = f.send("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                "{\"metadata\":{\"name\":\"moves-the-revision\"}}");
        assertTrue(other.ok(), "a write to another kind: " + other.code());
        try {
            PagedNodeListerWatcher lister = new PagedNodeListerWatcher(f.controllerClients().create(), 50,
                    new SlimNodeCodec(Set.of()));
            long start = System.nanoTime();
            V1NodeList list = lister.list(new CallGeneratorParams(false, "0", null));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(120, list.getItems().size());
            assertEquals(120, list.getItems().stream().map(n -> n.getMetadata().getName()).distinct().count());
            assertTrue(seconds >= 2.5, "the cache's 3 s wait, then the pages: " + seconds + " s");
            assertEquals(null, lister.lastError());
        } finally {
            f.send("DELETE", "/api/v1/namespaces/default/configmaps/moves-the-revision", null, null);
        }
    }
}
