package io.github.podcidr.apiserver;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1NodeList;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Manual large-cluster check, not part of the build (it needs several GB of heap and a minute or two):
 * N generated nodes in memory, the heap they take, a paged LIST of all of them through the official client, and a
 * watch fan-out to 4 watchers (one of them starting from resourceVersion 0, i.e. receiving every node as ADDED).
 *
 * <pre>
 * mvn -q -pl apiserver-sim test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -Xmx8g -cp apiserver-sim/target/test-classes:apiserver-sim/target/classes:$(cat /tmp/cp.txt) \
 *     io.github.podcidr.apiserver.ScaleCheck 130000 [--compress]
 * </pre>
 */
public final class ScaleCheck {
  private ScaleCheck() {}

  public static void main(String[] args) throws Exception {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 130_000;
    boolean compress = List.of(args).contains("--compress");
    long baseline = usedHeapAfterGc();
    try (ApiServerSim sim = ApiServerSim.builder().compressObjects(compress).start()) {
      long t0 = System.nanoTime();
      new NodeGenerator(1).populate(sim, nodes, nodes / 100);
      log("created %d nodes in %.1f s", nodes, seconds(t0));
      long heap = usedHeapAfterGc() - baseline;
      long stored = sim.storedBytes(ResourceType.NODES);
      log("heap held by the simulator: %.0f MiB (%.1f KiB per node); stored object bytes %.0f MiB; compress=%s",
          heap / 1048576.0, heap / 1024.0 / nodes, stored / 1048576.0, compress);

      String rv = Long.toString(sim.resourceVersion());
      List<Thread> watchers = new ArrayList<>();
      List<AtomicLong> counts = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        AtomicLong count = new AtomicLong();
        counts.add(count);
        String from = i == 0 ? "0" : rv;
        Thread t = new Thread(() -> watch(sim.baseUrl() + "/api/v1/nodes?watch=true&timeoutSeconds=600"
            + "&resourceVersion=" + from, count), "watcher-" + i);
        t.setDaemon(true);
        t.start();
        watchers.add(t);
      }

      long t0raw = System.nanoTime();
      long rawBytes = 0;
      int rawPages = 0;
      String next = null;
      do {
        String url = sim.baseUrl() + "/api/v1/nodes?limit=500" + (next == null ? "" : "&continue=" + next);
        byte[] body = new URL(url).openStream().readAllBytes();
        rawBytes += body.length;
        rawPages++;
        next = Json.parse(body).path("metadata").path("continue").asText(null);
      } while (next != null);
      log("paged LIST over raw HTTP (server side only): %d pages, %.0f MiB, %.1f s", rawPages,
          rawBytes / 1048576.0, seconds(t0raw));

      ApiClient client = Clients.client(sim);
      client.setReadTimeout(120_000);
      CoreV1Api api = new CoreV1Api(client);
      long t1 = System.nanoTime();
      long listed = 0;
      int pages = 0;
      String token = null;
      do {
        V1NodeList page = api.listNode().limit(500)._continue(token).execute();
        listed += page.getItems().size();
        pages++;
        token = page.getMetadata().getContinue();
      } while (token != null);
      log("paged LIST through CoreV1Api: %d nodes in %d pages, %.1f s", listed, pages, seconds(t1));

      long t2 = System.nanoTime();
      int patched = 1000;
      for (int i = 0; i < patched; i++) {
        sim.patch(ResourceType.NODES, "", NodeGenerator.name(i), "application/merge-patch+json",
            "{\"spec\":{\"podCIDR\":\"10." + (i >> 8) + "." + (i & 255) + ".0/24\"}}");
      }
      long[] expected = {nodes + patched, patched, patched, patched};
      long deadline = System.nanoTime() + 600_000_000_000L;
      for (int i = 0; i < 4; i++) {
        while (counts.get(i).get() < expected[i] && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
      }
      log("watch fan-out: %s events received (expected %d ADDED+MODIFIED on the rv=0 watcher, %d MODIFIED on the "
          + "others), %.1f s", counts, expected[0], patched, seconds(t2));
      log("heap after the run: %.0f MiB", (usedHeapAfterGc() - baseline) / 1048576.0);
      boolean ok = listed == nodes;
      for (int i = 0; i < 4; i++) {
        ok &= counts.get(i).get() == expected[i];
      }
      log(ok ? "OK" : "FAILED");
      if (!ok) {
        System.exit(1);
      }
    }
  }

  private static void watch(String url, AtomicLong count) {
    try {
      HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
      c.setReadTimeout(0);
      try (BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8),
          1 << 16)) {
        while (r.readLine() != null) {
          count.incrementAndGet();
        }
      }
    } catch (Exception e) {
      log("watcher failed: %s", e);
    }
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }

  private static void log(String format, Object... args) {
    System.out.printf(format + "%n", args);
  }
}
