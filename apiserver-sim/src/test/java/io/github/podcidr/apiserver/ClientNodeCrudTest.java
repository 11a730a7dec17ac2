package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.VersionApi;
import io.kubernetes.client.openapi.models.V1APIResource;
import io.kubernetes.client.openapi.models.V1DeleteOptions;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Preconditions;
import io.kubernetes.client.openapi.models.V1Taint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Node CRUD, list semantics and errors through the official client's CoreV1Api. */
class ClientNodeCrudTest {
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

  private static V1Node node(String name) {
    return new V1Node().metadata(new V1ObjectMeta().name(name).putLabelsItem("pool", "a")).spec(new V1NodeSpec());
  }

  @Test
  void discoveryDescribesWhatIsServed() throws ApiException {
    assertEquals("v1.34.0", new VersionApi(client).getCode().execute().getGitVersion());
    List<String> core = api.getAPIResources().execute().getResources().stream().map(V1APIResource::getName)
        .collect(Collectors.toList());
    assertTrue(core.containsAll(List.of("nodes", "nodes/status", "events", "namespaces")), core.toString());
    V1APIResource nodes = api.getAPIResources().execute().getResources().stream()
        .filter(r -> r.getName().equals("nodes")).findFirst().orElseThrow();
    assertEquals("Node", nodes.getKind());
    assertEquals(false, nodes.getNamespaced());
    assertTrue(nodes.getVerbs().containsAll(List.of("get", "list", "watch", "patch", "deletecollection")));
  }

  @Test
  void createSetsSystemFieldsAndGetReturnsTheObject() throws ApiException {
    V1Node created = api.createNode(node("n1")).execute();
    assertEquals("Node", created.getKind());
    assertEquals("v1", created.getApiVersion());
    assertNotNull(created.getMetadata().getUid());
    assertNotNull(created.getMetadata().getCreationTimestamp());
    assertNull(created.getMetadata().getGeneration(), "nodes carry no generation");
    assertEquals("node.kubernetes.io/not-ready", created.getSpec().getTaints().get(0).getKey(),
        "admission (TaintNodesByCondition) adds the not-ready taint");
    assertEquals("", created.getStatus().getNodeInfo().getKubeletVersion(), "status is written as the Go type is");
    long rv = Long.parseLong(created.getMetadata().getResourceVersion());
    assertTrue(rv > 0);

    V1Node read = api.readNode("n1").execute();
    assertEquals(created.getMetadata().getUid(), read.getMetadata().getUid());
    assertEquals(Map.of("pool", "a"), read.getMetadata().getLabels());
    assertEquals("n1", sim.getNode("n1").at("/metadata/name").asText());
  }

  @Test
  void generateNameGivesAUniqueName() throws ApiException {
    V1Node a = api.createNode(new V1Node().metadata(new V1ObjectMeta().generateName("pool-"))).execute();
    V1Node b = api.createNode(new V1Node().metadata(new V1ObjectMeta().generateName("pool-"))).execute();
    assertTrue(a.getMetadata().getName().matches("pool-[a-z0-9]{5}"), a.getMetadata().getName());
    assertNotEquals(a.getMetadata().getName(), b.getMetadata().getName());
  }

  @Test
  void errorsAreStatusObjectsWithTheRealReasons() throws ApiException {
    ApiException missing = assertThrows(ApiException.class, () -> api.readNode("nope").execute());
    assertEquals(404, missing.getCode());
    assertEquals("NotFound", Clients.reason(missing));
    assertEquals("nodes \"nope\" not found", Clients.message(missing));

    api.createNode(node("n1")).execute();
    ApiException exists = assertThrows(ApiException.class, () -> api.createNode(node("n1")).execute());
    assertEquals(409, exists.getCode());
    assertEquals("AlreadyExists", Clients.reason(exists));

    ApiException badName = assertThrows(ApiException.class, () -> api.createNode(node("Bad_Name")).execute());
    assertEquals(422, badName.getCode());
    assertEquals("Invalid", Clients.reason(badName));
    assertTrue(Clients.message(badName).startsWith("Node \"Bad_Name\" is invalid: metadata.name: Invalid value: "
        + "\"Bad_Name\": a lowercase RFC 1123 subdomain"), Clients.message(badName));
  }

  @Test
  void updateWithStaleResourceVersionIsAConflict() throws ApiException {
    V1Node created = api.createNode(node("n1")).execute();
    V1Node first = api.replaceNode("n1", created.spec(new V1NodeSpec().unschedulable(true))).execute();
    assertTrue(Long.parseLong(first.getMetadata().getResourceVersion())
        > Long.parseLong(created.getMetadata().getResourceVersion()));

    // created still carries the old resourceVersion
    ApiException conflict = assertThrows(ApiException.class,
        () -> api.replaceNode("n1", created.spec(new V1NodeSpec().unschedulable(false))).execute());
    assertEquals(409, conflict.getCode());
    assertEquals("Conflict", Clients.reason(conflict));
    assertEquals("Operation cannot be fulfilled on nodes \"n1\": the object has been modified; please apply your "
        + "changes to the latest version and try again", Clients.message(conflict));
  }

  @Test
  void updateWithoutChangeKeepsTheResourceVersion() throws ApiException {
    V1Node created = api.createNode(node("n1")).execute();
    V1Node same = api.replaceNode("n1", created).execute();
    assertEquals(created.getMetadata().getResourceVersion(), same.getMetadata().getResourceVersion());
  }

  @Test
  void updateOfMainResourceIgnoresStatusAndStatusUpdateIgnoresSpec() throws ApiException {
    sim.createNode(new NodeGenerator(3).node(0));
    String name = NodeGenerator.name(0);
    V1Node n = api.readNode(name).execute();
    n.getStatus().getCapacity().clear();
    n.getSpec().setUnschedulable(true);
    V1Node afterMain = api.replaceNode(name, n).execute();
    assertTrue(afterMain.getSpec().getUnschedulable());
    assertTrue(!afterMain.getStatus().getCapacity().isEmpty(), "status is not written through the main resource");

    afterMain.getSpec().setUnschedulable(false);
    afterMain.getStatus().getNodeInfo().setKubeletVersion("v9.9.9");
    V1Node afterStatus = api.replaceNodeStatus(name, afterMain).execute();
    assertEquals("v9.9.9", afterStatus.getStatus().getNodeInfo().getKubeletVersion());
    assertTrue(afterStatus.getSpec().getUnschedulable(), "spec is not written through status");
  }

  @Test
  void podCidrValidationUsesTheRealMessages() throws ApiException {
    api.createNode(node("n1")).execute();
    V1Node n = api.readNode("n1").execute();

    n.getSpec().podCIDRs(List.of("10.0.0.0/33"));
    ApiException bad = assertThrows(ApiException.class, () -> api.replaceNode("n1", n).execute());
    assertEquals(422, bad.getCode());
    assertEquals("Node \"n1\" is invalid: spec.podCIDRs[0]: Invalid value: \"10.0.0.0/33\": "
        + Validation.CIDR_MSG, Clients.message(bad));

    n.getSpec().podCIDRs(List.of("10.0.0.0/24", "10.0.1.0/24"));
    ApiException sameFamily = assertThrows(ApiException.class, () -> api.replaceNode("n1", n).execute());
    assertTrue(Clients.message(sameFamily).endsWith(Validation.POD_CIDR_FAMILY_MSG), Clients.message(sameFamily));

    n.getSpec().podCIDR(null).podCIDRs(List.of("10.0.0.0/24", "fd00::/64"));
    V1Node dual = api.replaceNode("n1", n).execute();
    assertEquals("10.0.0.0/24", dual.getSpec().getPodCIDR(), "podCIDR is podCIDRs[0]");

    dual.getSpec().podCIDR("10.9.0.0/24").podCIDRs(List.of("10.9.0.0/24", "fd00::/64"));
    ApiException immutable = assertThrows(ApiException.class, () -> api.replaceNode("n1", dual).execute());
    assertEquals("Node \"n1\" is invalid: [spec.podCIDRs: Forbidden: " + Validation.POD_CIDR_IMMUTABLE_MSG
        + ", []: Forbidden: " + Validation.NODE_UPDATE_MSG + "]", Clients.message(immutable));

    // A podCIDR disagreeing with podCIDRs[0] is taken as an old client's whole intent (kubernetes#88505):
    // here it would turn the assigned pair into [10.0.0.0/25], a change the immutability rule forbids.
    dual.getSpec().podCIDR("10.0.0.0/25").podCIDRs(List.of("10.0.0.0/24", "fd00::/64"));
    assertEquals(422, assertThrows(ApiException.class, () -> api.replaceNode("n1", dual).execute()).getCode());
  }

  @Test
  void taintValidation() throws ApiException {
    V1Node n = node("n1");
    n.getSpec().taints(List.of(new V1Taint().key("a").effect("Sometimes"), new V1Taint().key("b")
        .effect("NoSchedule"), new V1Taint().key("b").effect("NoSchedule")));
    ApiException e = assertThrows(ApiException.class, () -> api.createNode(n).execute());
    String m = Clients.message(e);
    // kube-apiserver reports taint errors under metadata.taints (ValidateNode's field path)
    assertTrue(m.contains("metadata.taints[0].effect: Unsupported value: \"Sometimes\": supported values: "
        + "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""), m);
    assertTrue(m.contains("metadata.taints[2]: Duplicate value: core.Taint{Key:\"b\", Value:\"\", "
        + "Effect:\"NoSchedule\", TimeAdded:<nil>}"), m);
  }

  @Test
  void listPaginatesOverAConsistentSnapshot() throws ApiException {
    for (int i = 0; i < 25; i++) {
      sim.createNode(Clients.node(String.format("n%02d", i)));
    }
    V1NodeList first = api.listNode().limit(10).execute();
    assertEquals(10, first.getItems().size());
    assertEquals(15L, first.getMetadata().getRemainingItemCount());
    String rv = first.getMetadata().getResourceVersion();
    sim.createNode(Clients.node("n99")); // not visible to the pages of the first snapshot
    sim.deleteNode("n20");

    List<String> names = new ArrayList<>();
    first.getItems().forEach(n -> names.add(n.getMetadata().getName()));
    String token = first.getMetadata().getContinue();
    while (token != null) {
      V1NodeList page = api.listNode().limit(10)._continue(token).execute();
      assertEquals(rv, page.getMetadata().getResourceVersion());
      page.getItems().forEach(n -> names.add(n.getMetadata().getName()));
      token = page.getMetadata().getContinue();
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      expected.add(String.format("n%02d", i));
    }
    assertEquals(expected, names);
    assertEquals(25, api.listNode().execute().getItems().size(), "n99 added, n20 gone");
  }

  @Test
  void listSelectors() throws ApiException {
    for (int i = 0; i < 6; i++) {
      V1Node n = node("n" + i);
      n.getMetadata().putLabelsItem("zone", i % 2 == 0 ? "even" : "odd").putLabelsItem("idx", Integer.toString(i));
      if (i == 5) {
        n.getMetadata().getLabels().remove("pool");
      }
      api.createNode(n).execute();
    }
    assertEquals(List.of("n0", "n2", "n4"), names(api.listNode().labelSelector("zone=even").execute()));
    assertEquals(List.of("n1", "n3"), names(api.listNode().labelSelector("zone!=even,pool").execute()));
    assertEquals(List.of("n1", "n3", "n5"), names(api.listNode().labelSelector("zone in (odd, none)").execute()));
    assertEquals(List.of("n5"), names(api.listNode().labelSelector("!pool").execute()));
    assertEquals(List.of("n4", "n5"), names(api.listNode().labelSelector("idx>3").execute()));
    assertEquals(List.of("n3"), names(api.listNode().fieldSelector("metadata.name=n3").execute()));
    ApiException e = assertThrows(ApiException.class,
        () -> api.listNode().fieldSelector("spec.podCIDR=x").execute());
    assertEquals(400, e.getCode());
    assertEquals("field label not supported: spec.podCIDR", Clients.message(e));
  }

  @Test
  void listResourceVersionSemantics() throws ApiException {
    api.createNode(node("n1")).execute();
    long rv = Long.parseLong(api.listNode().execute().getMetadata().getResourceVersion());
    assertEquals(1, api.listNode().resourceVersion("0").execute().getItems().size());
    assertEquals(1, api.listNode().resourceVersion(Long.toString(rv)).resourceVersionMatch("Exact").execute()
        .getItems().size());
    ApiException tooLarge = assertThrows(ApiException.class,
        () -> api.listNode().resourceVersion(Long.toString(rv + 100)).execute());
    assertEquals(504, tooLarge.getCode());
    assertEquals("Timeout", Clients.reason(tooLarge));
  }

  @Test
  void deleteWithFinalizerKeepsTheNodeUntilTheFinalizerGoes() throws ApiException {
    V1Node n = node("n1");
    n.getMetadata().finalizers(List.of("example.com/hold"));
    api.createNode(n).execute();
    api.deleteNode("n1").execute();
    V1Node held = api.readNode("n1").execute();
    assertNotNull(held.getMetadata().getDeletionTimestamp());
    assertEquals("Node", held.getKind(), "a node held by a finalizer still looks like a node");
    assertEquals(1, api.listNode().execute().getItems().size());

    held.getMetadata().setFinalizers(List.of());
    api.replaceNode("n1", held).execute();
    assertEquals(404, assertThrows(ApiException.class, () -> api.readNode("n1").execute()).getCode());
  }

  @Test
  void deletePreconditionsAndDeleteCollection() throws ApiException {
    V1Node n1 = api.createNode(node("n1")).execute();
    api.createNode(node("n2")).execute();
    api.createNode(node("n3").metadata(new V1ObjectMeta().name("n3").putLabelsItem("pool", "b"))).execute();
    ApiException stale = assertThrows(ApiException.class, () -> api.deleteNode("n1")
        .body(new V1DeleteOptions().preconditions(new V1Preconditions().resourceVersion("1"))).execute());
    assertEquals(409, stale.getCode());
    api.deleteNode("n1").body(new V1DeleteOptions().preconditions(new V1Preconditions()
        .uid(n1.getMetadata().getUid()))).execute();
    assertNull(sim.getNode("n1"));

    api.deleteCollectionNode().labelSelector("pool=a").execute();
    assertEquals(List.of("n3"), names(api.listNode().execute()));
  }

  private static List<String> names(V1NodeList list) {
    return list.getItems().stream().map(n -> n.getMetadata().getName()).collect(Collectors.toList());
  }
}
