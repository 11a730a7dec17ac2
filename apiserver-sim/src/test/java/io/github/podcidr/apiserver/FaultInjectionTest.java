package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.util.PatchUtils;
import io.kubernetes.client.util.Watch;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Fault injection and request counters, observed through the official client. */
class FaultInjectionTest {
  private ApiServerSim sim;
  private ApiClient client;
  private CoreV1Api api;

  @BeforeEach
  void start() {
    sim = ApiServerSim.start();
    client = Clients.client(sim);
    api = new CoreV1Api(client);
    sim.createNode(Clients.node("a"));
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private V1Node patchA(String body) throws ApiException {
    return PatchUtils.patch(V1Node.class, () -> api.patchNode("a", new V1Patch(body)).buildCall(null),
        V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client);
  }

  @Test
  void failNextAnswersTheChosenCodeThenRecovers() throws ApiException {
    sim.faults().failNext("patch", "nodes", 2, 500);
    ApiException first = assertThrows(ApiException.class, () -> patchA("{\"spec\":{\"unschedulable\":true}}"));
    assertEquals(500, first.getCode());
    assertEquals("InternalError", Clients.reason(first));
    assertEquals(500, assertThrows(ApiException.class, () -> patchA("{}")).getCode());
    assertFalse(sim.getNode("a").path("spec").path("unschedulable").asBoolean(), "a failed request changes nothing");
    patchA("{\"spec\":{\"unschedulable\":true}}");
    assertTrue(sim.getNode("a").path("spec").path("unschedulable").asBoolean());
    assertEquals(3, sim.requests().count("patch", "nodes"));
    api.readNode("a").execute(); // other verbs unaffected
  }

  @Test
  void tooManyRequestsCarriesRetryAfter() {
    sim.faults().failNext("get", "nodes", 1, 429);
    ApiException e = assertThrows(ApiException.class, () -> api.readNode("a").execute());
    assertEquals(429, e.getCode());
    assertEquals("TooManyRequests", Clients.reason(e));
    assertEquals("1", e.getResponseHeaders().get("retry-after").get(0));
  }

  @Test
  void failRateAndClear() throws ApiException {
    sim.faults().failRate("list", "*", 1.0, 503);
    ApiException e = assertThrows(ApiException.class, () -> api.listNode().execute());
    assertEquals(503, e.getCode());
    assertEquals("ServiceUnavailable", Clients.reason(e));
    sim.faults().clear();
    assertEquals(1, api.listNode().execute().getItems().size());
  }

  @Test
  void latencyDelaysMatchingRequests() throws ApiException {
    sim.faults().latency("get", "nodes", Duration.ofMillis(300));
    long start = System.nanoTime();
    api.readNode("a").execute();
    assertTrue(System.nanoTime() - start >= 300_000_000L, "delayed at least the injected latency");
  }

  @Test
  void writeAppliedButNeverAnsweredLeavesTheClientInDoubt() {
    sim.faults().applyButNeverAnswer("patch", "nodes", 1);
    client.setReadTimeout(1000);
    ApiException e = assertThrows(ApiException.class, () -> patchA("{\"spec\":{\"podCIDR\":\"10.1.0.0/24\"}}"));
    assertEquals(0, e.getCode(), "no HTTP response at all");
    assertInstanceOf(InterruptedIOException.class, e.getCause(), "a client-side timeout");
    assertEquals("10.1.0.0/24", sim.getNode("a").path("spec").path("podCIDR").asText(), "but the write happened");
  }

  @Test
  void dropWatchesAfterEndsStreamsAfterNEvents() throws Exception {
    sim.faults().dropWatchesAfter(2);
    String rv = Long.toString(sim.resourceVersion());
    try (Watch<V1Node> w = Watch.createWatch(client, api.listNode().watch(true).resourceVersion(rv)
        .timeoutSeconds(30).buildCall(null), new TypeToken<Watch.Response<V1Node>>() {}.getType())) {
      for (int i = 0; i < 4; i++) {
        sim.createNode(Clients.node("n" + i));
      }
      assertEquals("n0", w.next().object.getMetadata().getName());
      assertEquals("n1", w.next().object.getMetadata().getName());
      assertFalse(w.hasNext(), "dropped after two events");
    }
  }

  @Test
  void countersByVerbAndResource() throws ApiException {
    api.listNode().execute();
    api.readNode("a").execute();
    api.readNode("a").execute();
    api.readNodeStatus("a").execute();
    Map<String, Long> counts = sim.requests().snapshot();
    assertEquals(Map.of("get nodes", 2L, "get nodes/status", 1L, "list nodes", 1L), counts);
    sim.requests().reset();
    assertEquals(0, sim.requests().total());
  }
}
