package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.util.Watch;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Watch semantics through the official client's {@link Watch}. */
class ClientWatchTest {
  private static final Type NODE_EVENT = new TypeToken<Watch.Response<V1Node>>() {}.getType();
  private ApiServerSim sim;
  private ApiClient client;
  private CoreV1Api api;

  @BeforeEach
  void start() {
    sim = ApiServerSim.builder().historyCapacity(5).start();
    client = Clients.client(sim);
    api = new CoreV1Api(client);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private Watch<V1Node> watch(String rv, String labelSelector, int timeoutSeconds) throws ApiException {
    return Watch.createWatch(client, api.listNode().watch(true).resourceVersion(rv).labelSelector(labelSelector)
        .allowWatchBookmarks(true).timeoutSeconds(timeoutSeconds).buildCall(null), NODE_EVENT);
  }

  private static String describe(Watch.Response<V1Node> e) {
    return e.type + " " + (e.object == null ? "-" : e.object.getMetadata().getName());
  }

  private static List<String> take(Watch<V1Node> w, int n) {
    List<String> got = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      assertTrue(w.hasNext(), "stream ended after " + got);
      got.add(describe(w.next()));
    }
    return got;
  }

  @Test
  void watchFromListVersionSeesEveryChangeInOrder() throws Exception {
    sim.createNode(Clients.node("a"));
    String rv = api.listNode().execute().getMetadata().getResourceVersion();
    try (Watch<V1Node> w = watch(rv, null, 30)) {
      sim.createNode(Clients.node("b"));
      sim.patch(ResourceType.NODES, "", "a", "application/merge-patch+json", "{\"spec\":{\"unschedulable\":true}}");
      sim.deleteNode("b");
      assertEquals(List.of("ADDED b", "MODIFIED a", "DELETED b"), take(w, 3));
    }
  }

  @Test
  void watchWithoutResourceVersionStartsWithTheCurrentObjects() throws Exception {
    sim.createNode(Clients.node("a"));
    sim.createNode(Clients.node("b"));
    try (Watch<V1Node> w = watch(null, null, 30)) {
      assertEquals(List.of("ADDED a", "ADDED b"), take(w, 2));
      sim.createNode(Clients.node("c"));
      assertEquals(List.of("ADDED c"), take(w, 1));
    }
  }

  @Test
  void bookmarkOnRequestCarriesTheCurrentResourceVersion() throws Exception {
    String rv = api.listNode().execute().getMetadata().getResourceVersion();
    try (Watch<V1Node> w = watch(rv, null, 30)) {
      Clients.await("watch registered", () -> sim.openWatches() == 1);
      sim.createNode(Clients.node("a"));
      sim.sendBookmarks();
      assertEquals("ADDED a", describe(w.next()));
      Watch.Response<V1Node> bookmark = w.next();
      assertEquals("BOOKMARK", bookmark.type);
      assertEquals(Long.toString(sim.resourceVersion()), bookmark.object.getMetadata().getResourceVersion());
    }
  }

  @Test
  void periodicBookmarksOnlyWhenAllowed() throws Exception {
    try (ApiServerSim fast = ApiServerSim.builder().bookmarkInterval(java.time.Duration.ofMillis(100)).start()) {
      ApiClient c = Clients.client(fast);
      CoreV1Api a = new CoreV1Api(c);
      String rv = Long.toString(fast.resourceVersion());
      fast.createNode(Clients.node("bookmarked"));
      try (Watch<V1Node> w = Watch.createWatch(c, a.listNode().watch(true).resourceVersion(rv)
          .allowWatchBookmarks(true).timeoutSeconds(30).buildCall(null), NODE_EVENT)) {
        assertEquals("ADDED", w.next().type);
        Watch.Response<V1Node> bookmark = w.next();
        assertEquals("BOOKMARK", bookmark.type);
        assertEquals(Long.toString(fast.resourceVersion()), bookmark.object.getMetadata().getResourceVersion());
        assertEquals("BOOKMARK", w.next().type);
      }
      String now = Long.toString(fast.resourceVersion());
      try (Watch<V1Node> w = Watch.createWatch(c, a.listNode().watch(true).resourceVersion(now)
          .allowWatchBookmarks(true).timeoutSeconds(1).buildCall(null), NODE_EVENT)) {
        assertFalse(w.hasNext(), "no periodic bookmark when nothing changed since the watch started");
      }
      fast.createNode(Clients.node("after"));
      try (Watch<V1Node> w = Watch.createWatch(c, a.listNode().watch(true).resourceVersion(now)
          .timeoutSeconds(1).buildCall(null), NODE_EVENT)) {
        assertEquals("ADDED", w.next().type);
        assertFalse(w.hasNext(), "no bookmark without allowWatchBookmarks");
      }
    }
  }

  @Test
  void watchFromAVersionOlderThanTheWindowGets410() throws Exception {
    String rv = api.listNode().execute().getMetadata().getResourceVersion();
    for (int i = 0; i < 8; i++) { // history keeps 5 events
      sim.createNode(Clients.node("n" + i));
    }
    try (Watch<V1Node> w = watch(rv, null, 30)) {
      assertTrue(w.hasNext());
      Watch.Response<V1Node> e = w.next();
      assertEquals("ERROR", e.type);
      assertEquals(410, e.status.getCode());
      assertEquals("Expired", e.status.getReason());
      assertTrue(e.status.getMessage().startsWith("too old resource version: " + rv + " ("), e.status.getMessage());
      assertFalse(w.hasNext(), "the stream ends after the error");
    }
  }

  @Test
  void watchResumesFromAVersionInsideTheWindow() throws Exception {
    sim.createNode(Clients.node("a"));
    String rv = Long.toString(sim.resourceVersion());
    sim.createNode(Clients.node("b"));
    sim.createNode(Clients.node("c"));
    try (Watch<V1Node> w = watch(rv, null, 30)) {
      assertEquals(List.of("ADDED b", "ADDED c"), take(w, 2));
    }
  }

  @Test
  void labelSelectorTurnsLeavingAndEnteringIntoDeletedAndAdded() throws Exception {
    ObjectNode a = Clients.node("a");
    ((ObjectNode) a.get("metadata").get("labels")).put("pool", "x");
    sim.createNode(a);
    sim.createNode(Clients.node("b"));
    String rv = Long.toString(sim.resourceVersion());
    try (Watch<V1Node> w = watch(rv, "pool=x", 30)) {
      sim.patch(ResourceType.NODES, "", "a", "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"pool\":null}}}");
      sim.patch(ResourceType.NODES, "", "b", "application/merge-patch+json", "{\"spec\":{\"unschedulable\":true}}");
      sim.patch(ResourceType.NODES, "", "b", "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"pool\":\"x\"}}}");
      assertEquals(List.of("DELETED a", "ADDED b"), take(w, 2));
    }
  }

  @Test
  void timeoutSecondsEndsTheStream() throws ApiException, IOException {
    long start = System.nanoTime();
    try (Watch<V1Node> w = watch(Long.toString(sim.resourceVersion()), null, 1)) {
      assertFalse(w.hasNext());
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    assertTrue(seconds < 8, "the server closed the watch after its timeout, not the client's read timeout");
  }
}
