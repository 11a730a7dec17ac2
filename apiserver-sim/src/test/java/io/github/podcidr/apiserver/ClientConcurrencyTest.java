package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.extended.pager.Pager;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.PatchUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Optimistic concurrency under concurrent writers, and the extended client's Pager. */
class ClientConcurrencyTest {
  private ApiServerSim sim;
  private ApiClient client;
  private CoreV1Api api;

  @BeforeEach
  void start() {
    sim = ApiServerSim.start();
    client = Clients.client(sim);
    api = new CoreV1Api(client);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void guardedPatchesFromConcurrentWritersNeverLoseAnUpdate() throws Exception {
    sim.createNode(Clients.node("n"));
    int writers = 4;
    int incrementsEach = 10;
    AtomicInteger conflicts = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        done.add(pool.submit(() -> {
          for (int i = 0; i < incrementsEach; ) {
            V1Node n = api.readNode("n").execute();
            String rv = n.getMetadata().getResourceVersion();
            int count = Integer.parseInt(n.getMetadata().getAnnotations() == null ? "0"
                : n.getMetadata().getAnnotations().getOrDefault("count", "0"));
            try {
              PatchUtils.patch(V1Node.class, () -> api.patchNode("n", new V1Patch("["
                  + "{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"" + rv + "\"},"
                  + "{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"count\":\"" + (count + 1)
                  + "\"}}]")).buildCall(null), V1Patch.PATCH_FORMAT_JSON_PATCH, client);
              i++;
            } catch (ApiException e) {
              assertEquals(422, e.getCode(), e.getResponseBody());
              conflicts.incrementAndGet();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(Integer.toString(writers * incrementsEach),
        sim.getNode("n").at("/metadata/annotations/count").asText(), "every successful patch counted once");
  }

  @Test
  void concurrentUpdatesWithTheSameResourceVersionHaveExactlyOneWinner() throws Exception {
    sim.createNode(Clients.node("n"));
    V1Node read = api.readNode("n").execute();
    int writers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    AtomicInteger won = new AtomicInteger();
    AtomicInteger conflicted = new AtomicInteger();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        String value = "w" + w;
        done.add(pool.submit(() -> {
          V1Node mine = Clients.copy(read);
          mine.getMetadata().putLabelsItem("writer", value);
          try {
            api.replaceNode("n", mine).execute();
            won.incrementAndGet();
          } catch (ApiException e) {
            assertEquals(409, e.getCode());
            conflicted.incrementAndGet();
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, won.get());
    assertEquals(writers - 1, conflicted.get());
  }

  @Test
  void extendedPagerWalksEveryNodeInPages() {
    new NodeGenerator(2).populate(sim, 45, 0);
    Pager<V1Node, V1NodeList> pager = new Pager<>(params -> {
      try {
        return api.listNode().limit(params.getLimit())._continue(params.getContinueToken()).buildCall(null);
      } catch (ApiException e) {
        throw new IllegalStateException(e);
      }
    }, client, 10, V1NodeList.class);
    int count = 0;
    for (V1Node n : pager) {
      count++;
    }
    assertEquals(45, count);
    assertEquals(5, sim.requests().count("list", "nodes"));
  }
}
