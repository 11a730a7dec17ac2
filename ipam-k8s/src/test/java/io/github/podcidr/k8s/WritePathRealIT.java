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
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.Watchable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import okhttp3.Request;
import okhttp3.Response;
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

    /**
     * The same nodes read from the server's JSON and from its protobuf, by list and by watch, give the same slim
     * nodes: empty strings, a zero time, labels with empty values, taints with and without a time and a node being
     * deleted included.
     */
    @Test
    void protobufAndJsonAnswersReadAsTheSameNodes() throws Exception {
        NodeGenerator gen = new NodeGenerator(8);
        List<ObjectNode> nodes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            nodes.add(gen.node(i, i % 2 == 0, "10.244." + i + ".0/24", "fd00:0:0:" + i + "::/64"));
        }
        f.createNodes(nodes, 4);
        f.createNode((ObjectNode) RealFixture.JSON.readTree("{\"metadata\":{\"name\":\"odd-one\",\"labels\":"
                + "{\"pool\":\"\",\"topology.kubernetes.io/zone\":\"ap-x-1\",\"other\":\"y\"},\"finalizers\":"
                + "[\"example.com/hold\"]},\"spec\":{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"},"
                + "{\"key\":\"b\",\"value\":\"v\",\"effect\":\"NoExecute\",\"timeAdded\":"
                + "\"2026-12-01T10:11:12Z\"}]}}"));
        f.createNode((ObjectNode) RealFixture.JSON.readTree("{\"metadata\":{\"name\":\"bare\"}}"));
        RealFixture.Answer deleting = f.send("DELETE", "/api/v1/nodes/odd-one", null, null);
        assertTrue(deleting.ok(), "the finalizer holds the node with a deletionTimestamp: " + deleting.code());

        ApiClient client = f.controllerClients().create();
        SlimNodeCodec codec = new SlimNodeCodec(Set.of("pool", "topology.kubernetes.io/zone"));
        CoreV1Api api = new CoreV1Api(client);
        SlimNodeCodec.Page json = list(client, codec, api, "application/json", false);
        SlimNodeCodec.Page proto = list(client, codec, api, SlimNodeCodec.ACCEPT, true);
        assertEquals(42, proto.items().size());
        assertEquals(byName(json.items()), byName(proto.items()));
        assertEquals(json.resourceVersion(), proto.resourceVersion());
        V1Node odd = byName(proto.items()).get("odd-one");
        assertNotNull(odd.getMetadata().getDeletionTimestamp());
        assertEquals(Map.of("pool", "", "topology.kubernetes.io/zone", "ap-x-1"),
                odd.getMetadata().getLabels());

        // watches from that list's version, then three changes: both streams carry the same events
        String rv = proto.resourceVersion();
        try (Watchable<V1Node> jsonWatch = watch(client, codec, api, rv, "application/json");
                Watchable<V1Node> protoWatch = watch(client, codec, api, rv, SlimNodeCodec.ACCEPT)) {
            assertTrue(protoWatch instanceof SlimNodeWatch.Framed, "the server answered the watch in protobuf");
            f.mergePatchNode("bare", "{\"spec\":{\"podCIDR\":\"10.244.200.0/24\",\"podCIDRs\":"
                    + "[\"10.244.200.0/24\"],\"taints\":[{\"key\":\"c\",\"effect\":\"NoSchedule\","
                    + "\"timeAdded\":\"2026-12-02T01:02:03Z\"}]}}");
            f.mergePatchNode("odd-one", "{\"metadata\":{\"finalizers\":null}}");
            f.deleteNode(nodes.get(0).at("/metadata/name").asText());
            for (int i = 0; i < 3; i++) {
                Watch.Response<V1Node> a = jsonWatch.next();
                Watch.Response<V1Node> b = protoWatch.next();
                assertEquals(a.type, b.type, "event " + i);
                assertEquals(a.object, b.object, "event " + i + " (" + a.type + ")");
                assertEquals("v1", b.object.getApiVersion());
            }
        }
    }

    private static SlimNodeCodec.Page list(ApiClient client, SlimNodeCodec codec, CoreV1Api api, String accept,
            boolean expectProtobuf) throws Exception {
        Request request = api.listNode().buildCall(null).request().newBuilder().header("Accept", accept).build();
        try (Response response = client.getHttpClient().newCall(request).execute()) {
            assertEquals(200, response.code());
            assertEquals(expectProtobuf, SlimNodeCodec.isProtobuf(response.body().contentType()),
                    "content type " + response.body().contentType());
            return codec.readList(response.body());
        }
    }

    private static Watchable<V1Node> watch(ApiClient client, SlimNodeCodec codec, CoreV1Api api, String rv,
            String accept) throws Exception {
        Request request = api.listNode().watch(true).resourceVersion(rv).timeoutSeconds(30).buildCall(null)
                .request().newBuilder().header("Accept", accept).build();
        return SlimNodeWatch.open(client, client.getHttpClient().newCall(request), codec);
    }

    private static Map<String, V1Node> byName(List<V1Node> nodes) {
        Map<String, V1Node> out = new TreeMap<>();
        nodes.forEach(n -> out.put(n.getMetadata().getName(), n));
        return out;
    }
}
