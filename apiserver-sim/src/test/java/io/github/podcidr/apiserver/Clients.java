package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.function.BooleanSupplier;

/** Test helpers: an official-client ApiClient for a simulator, and polling. */
final class Clients {
  private Clients() {}

  /** An ApiClient built from the simulator's in-memory kubeconfig, as the controller will build one. */
  static ApiClient client(ApiServerSim sim) {
    try {
      ApiClient client = Config.fromConfig(new StringReader(sim.kubeconfig()));
      client.setReadTimeout(10_000);
      return client;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Polls until {@code condition} holds or 10 seconds pass. */
  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  /** A small node for tests that do not need the generator's realism. */
  static ObjectNode node(String name) {
    ObjectNode n = Json.object();
    n.putObject("metadata").put("name", name).putObject("labels").put("kubernetes.io/hostname", name);
    n.putObject("spec");
    return n;
  }

  /** A deep copy of a client model object, through the client's own JSON. */
  static V1Node copy(V1Node node) {
    io.kubernetes.client.openapi.JSON json = new io.kubernetes.client.openapi.JSON();
    return json.deserialize(json.serialize(node), V1Node.class);
  }

  /** The Status reason of a failed call, from its JSON body. */
  static String reason(ApiException e) {
    return Json.parseObject(e.getResponseBody().getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .path("reason").asText();
  }

  static String message(ApiException e) {
    return Json.parseObject(e.getResponseBody().getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .path("message").asText();
  }
}
