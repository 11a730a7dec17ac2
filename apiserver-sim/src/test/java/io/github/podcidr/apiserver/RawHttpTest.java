package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The wire protocol without any Kubernetes client: status codes and bodies, chunked watch framing, paging, 410s. */
class RawHttpTest {
  private ApiServerSim sim;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() {
    sim = ApiServerSim.builder().historyCapacity(3).start();
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private HttpResponse<String> send(String method, String path, String contentType, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(sim.baseUrl() + path)).timeout(Duration.ofSeconds(10));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) {
    return Json.parse(r.body().getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void discoveryDocuments() throws Exception {
    assertEquals("APIVersions", json(send("GET", "/api", null, null)).path("kind").asText());
    JsonNode groups = json(send("GET", "/apis", null, null));
    assertEquals("APIGroupList", groups.path("kind").asText());
    List<String> names = new ArrayList<>();
    groups.path("groups").forEach(g -> names.add(g.path("name").asText()));
    assertEquals(List.of("events.k8s.io", "coordination.k8s.io"), names); // kube-apiserver's group priority
    JsonNode leases = json(send("GET", "/apis/coordination.k8s.io/v1", null, null));
    assertEquals("coordination.k8s.io/v1", leases.path("groupVersion").asText());
    assertEquals("leases", leases.path("resources").get(0).path("name").asText());
    assertTrue(leases.path("resources").get(0).path("namespaced").asBoolean());
    assertEquals("APIGroup", json(send("GET", "/apis/events.k8s.io", null, null)).path("kind").asText());
    assertEquals(200, send("GET", "/healthz", null, null).statusCode());
    assertTrue(json(send("GET", "/", null, null)).path("paths").toString().contains("/apis/coordination.k8s.io/v1"));
    HttpResponse<String> unknown = send("GET", "/metrics/x", null, null);
    assertEquals(404, unknown.statusCode());
    assertTrue(json(unknown).path("paths").isArray(), unknown.body()); // the last handler lists the paths
    HttpResponse<String> unknownGroup = send("GET", "/apis/example.com/v1", null, null);
    assertEquals(404, unknownGroup.statusCode());
    assertEquals("404 page not found\n", unknownGroup.body());
  }

  @Test
  void statusBodiesForErrors() throws Exception {
    HttpResponse<String> missing = send("GET", "/api/v1/nodes/x", null, null);
    assertEquals(404, missing.statusCode());
    assertEquals("application/json", missing.headers().firstValue("Content-Type").orElse(""));
    JsonNode s = json(missing);
    assertEquals("Status", s.path("kind").asText());
    assertEquals("Failure", s.path("status").asText());
    assertEquals("NotFound", s.path("reason").asText());
    assertEquals(404, s.path("code").asInt());
    assertEquals("x", s.path("details").path("name").asText());
    assertEquals("nodes", s.path("details").path("kind").asText());

    assertEquals(404, send("GET", "/api/v1/pods", null, null).statusCode());
    assertEquals(405, send("POST", "/api/v1/nodes/x", "application/json", "{}").statusCode());
    HttpResponse<String> badJson = send("POST", "/api/v1/nodes", "application/json", "{not json");
    assertEquals(400, badJson.statusCode());
    assertEquals("BadRequest", json(badJson).path("reason").asText());
    HttpResponse<String> wrongKind = send("POST", "/api/v1/nodes", "application/json",
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\"}}");
    assertEquals(400, wrongKind.statusCode());
  }

  @Test
  void bodyWithoutKindIsDefaultedFromThePath() throws Exception {
    HttpResponse<String> created = send("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
        "application/json", "{\"metadata\":{\"name\":\"l\"},\"spec\":{\"holderIdentity\":\"me\"}}");
    assertEquals(201, created.statusCode());
    assertEquals("Lease", json(created).path("kind").asText());
    assertEquals("coordination.k8s.io/v1", json(created).path("apiVersion").asText());
  }

  @Test
  void deleteAnswersASuccessStatus() throws Exception {
    sim.createNode(Clients.node("a"));
    HttpResponse<String> r = send("DELETE", "/api/v1/nodes/a", null, null);
    assertEquals(200, r.statusCode());
    assertEquals("Success", json(r).path("status").asText());
    assertEquals("a", json(r).path("details").path("name").asText());
    assertNull(sim.getNode("a"));
  }

  @Test
  void listItemsHaveNoKindAndTheListHasItsOwn() throws Exception {
    sim.createNode(Clients.node("a"));
    JsonNode list = json(send("GET", "/api/v1/nodes", null, null));
    assertEquals("NodeList", list.path("kind").asText());
    assertEquals(Long.toString(sim.resourceVersion()), list.path("metadata").path("resourceVersion").asText());
    assertFalse(list.path("items").get(0).has("kind"));
  }

  @Test
  void expiredContinueTokenIs410() throws Exception {
    for (int i = 0; i < 5; i++) {
      sim.createNode(Clients.node("n" + i));
    }
    JsonNode page = json(send("GET", "/api/v1/nodes?limit=2", null, null));
    String token = page.path("metadata").path("continue").asText();
    assertEquals(3, page.path("metadata").path("remainingItemCount").asInt());
    assertEquals(400, send("GET", "/apis/coordination.k8s.io/v1/leases?limit=2&continue=" + token, null, null)
        .statusCode(), "a token of the node list does not continue a lease list");
    sim.expireContinueTokens();
    // Nothing changed since: the current state is the snapshot, so the token still works.
    assertEquals(200, send("GET", "/api/v1/nodes?limit=2&continue=" + token, null, null).statusCode());
    sim.createNode(Clients.node("later"));
    HttpResponse<String> expired = send("GET", "/api/v1/nodes?limit=2&continue=" + token, null, null);
    assertEquals(410, expired.statusCode());
    assertEquals("Expired", json(expired).path("reason").asText());
    assertEquals(400, send("GET", "/api/v1/nodes?limit=2&continue=garbage", null, null).statusCode());
  }

  @Test
  void watchIsChunkedNewlineDelimitedJson() throws Exception {
    sim.createNode(Clients.node("a"));
    long rv = sim.resourceVersion();
    try (Socket socket = new Socket("127.0.0.1", sim.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("GET /api/v1/nodes?watch=true&resourceVersion=" + rv + "&timeoutSeconds=30 HTTP/1.1\r\n"
          + "Host: 127.0.0.1\r\nAccept: application/json\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      List<String> headers = new ArrayList<>();
      String line;
      while (!(line = readLine(in)).isEmpty()) {
        headers.add(line.toLowerCase());
      }
      assertEquals("http/1.1 200 ok", headers.get(0));
      assertTrue(headers.contains("transfer-encoding: chunked"), headers.toString());
      assertTrue(headers.contains("content-type: application/json"), headers.toString());

      Clients.await("watch registered", () -> sim.openWatches() == 1);
      sim.createNode(Clients.node("b"));
      int size = Integer.parseInt(readLine(in).trim(), 16);
      byte[] chunk = in.readNBytes(size);
      String event = new String(chunk, StandardCharsets.UTF_8);
      assertTrue(event.endsWith("}\n"), "one event per line: " + event);
      JsonNode e = Json.parse(chunk);
      assertEquals("ADDED", e.path("type").asText());
      assertEquals("Node", e.path("object").path("kind").asText());
      assertEquals("b", e.path("object").path("metadata").path("name").asText());
    }
  }

  @Test
  void watchFromCompactedVersionIs200WithAn410ErrorEvent() throws Exception {
    for (int i = 0; i < 6; i++) {
      sim.createNode(Clients.node("n" + i));
    }
    HttpResponse<String> r = send("GET", "/api/v1/nodes?watch=true&resourceVersion=1", null, null);
    assertEquals(200, r.statusCode());
    String[] lines = r.body().split("\n");
    assertEquals(1, lines.length);
    JsonNode e = Json.parse(lines[0].getBytes(StandardCharsets.UTF_8));
    assertEquals("ERROR", e.path("type").asText());
    assertEquals(410, e.path("object").path("code").asInt());
    assertEquals("Expired", e.path("object").path("reason").asText());
  }

  @Test
  void watchOfANamespaceSeesOnlyThatNamespace() throws Exception {
    ObjectNode lease = Json.object();
    lease.putObject("metadata").put("name", "l").put("namespace", "kube-system");
    long rv = sim.resourceVersion();
    sim.create(ResourceType.LEASES, lease.deepCopy());
    ((ObjectNode) lease.get("metadata")).put("namespace", "default");
    sim.create(ResourceType.LEASES, lease);
    HttpResponse<String> r = send("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=1"
        + "&resourceVersion=" + rv + "&timeoutSeconds=1", null, null);
    String[] lines = r.body().split("\n");
    assertEquals(1, lines.length, r.body());
    assertEquals("default", Json.parse(lines[0].getBytes(StandardCharsets.UTF_8))
        .path("object").path("metadata").path("namespace").asText());
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        break;
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }
}
