package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.PatchUtils;
import io.kubernetes.client.util.Watch;
import org.junit.jupiter.api.Test;

/** The compressed object encoding: lossless, smaller, and invisible to clients. */
class CompressedStoreTest {
  @Test
  void codecRoundTripsAndShrinksNodes() {
    ObjectCodec codec = new ObjectCodec(true);
    NodeGenerator gen = new NodeGenerator(4);
    long plain = 0;
    long packed = 0;
    for (int i = 0; i < 200; i++) {
      byte[] json = Json.bytes(gen.node(i));
      byte[] encoded = codec.encode(ResourceType.NODES, json);
      assertArrayEquals(json, codec.decode(ResourceType.NODES, encoded));
      plain += json.length;
      packed += encoded.length;
    }
    assertTrue(packed * 3 < plain, "compressed " + packed + " of " + plain + " bytes");
    byte[] tiny = "{\"metadata\":{}}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertArrayEquals(tiny, codec.decode(ResourceType.NODES, codec.encode(ResourceType.NODES, tiny)));
  }

  @Test
  void clientsSeeTheSameApiOverACompressedStore() throws Exception {
    try (ApiServerSim sim = ApiServerSim.builder().compressObjects(true).start()) {
      new NodeGenerator(8).populate(sim, 30, 2);
      ApiClient client = Clients.client(sim);
      CoreV1Api api = new CoreV1Api(client);
      V1NodeList page = api.listNode().limit(20).execute();
      assertEquals(20, page.getItems().size());
      assertEquals(10, api.listNode()._continue(page.getMetadata().getContinue()).execute().getItems().size());
      String name = NodeGenerator.name(1);
      String rv = Long.toString(sim.resourceVersion());
      try (Watch<V1Node> w = Watch.createWatch(client, api.listNode().watch(true).resourceVersion(rv)
          .timeoutSeconds(30).buildCall(null), new TypeToken<Watch.Response<V1Node>>() {}.getType())) {
        V1Node patched = PatchUtils.patch(V1Node.class, () -> api.patchNode(name, new V1Patch(
            "[{\"op\":\"remove\",\"path\":\"/spec/taints\"},{\"op\":\"add\",\"path\":\"/spec/podCIDR\","
                + "\"value\":\"10.244.1.0/24\"}]")).buildCall(null), V1Patch.PATCH_FORMAT_JSON_PATCH, client);
        assertTrue(patched.getSpec().getTaints() == null || patched.getSpec().getTaints().isEmpty());
        Watch.Response<V1Node> e = w.next();
        assertEquals("MODIFIED", e.type);
        assertEquals("10.244.1.0/24", e.object.getSpec().getPodCIDR());
        assertEquals(e.object.getStatus().getImages().size(),
            api.readNode(name).execute().getStatus().getImages().size());
      }
    }
  }
}
