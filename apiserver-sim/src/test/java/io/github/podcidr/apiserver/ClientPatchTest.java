package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeCondition;
import io.kubernetes.client.openapi.models.V1Taint;
import io.kubernetes.client.util.PatchUtils;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The three patch types through PatchUtils, on the fields our controller writes. */
class ClientPatchTest {
  private static final String NAME = NodeGenerator.name(0);
  private ApiServerSim sim;
  private ApiClient client;
  private CoreV1Api api;

  @BeforeEach
  void start() {
    sim = ApiServerSim.start();
    client = Clients.client(sim);
    api = new CoreV1Api(client);
    ObjectNodeTaints.createTainted(sim, NAME);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private V1Node patch(String type, String body) throws ApiException {
    return PatchUtils.patch(V1Node.class, () -> api.patchNode(NAME, new V1Patch(body)).buildCall(null), type,
        client);
  }

  private static List<String> taintKeys(V1Node n) {
    return n.getSpec().getTaints() == null ? List.of()
        : n.getSpec().getTaints().stream().map(V1Taint::getKey).collect(Collectors.toList());
  }

  @Test
  void jsonPatchGuardedByTestSetsCidrsAndRemovesTaint() throws ApiException {
    V1Node before = api.readNode(NAME).execute();
    String rv = before.getMetadata().getResourceVersion();
    V1Node after = patch(V1Patch.PATCH_FORMAT_JSON_PATCH, "["
        + "{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"" + rv + "\"},"
        + "{\"op\":\"test\",\"path\":\"/spec/taints/0/key\",\"value\":\"" + NodeGenerator.TKE_ENI_TAINT_KEY + "\"},"
        + "{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"10.244.0.0/24\"},"
        + "{\"op\":\"add\",\"path\":\"/spec/podCIDRs\",\"value\":[\"10.244.0.0/24\"]},"
        + "{\"op\":\"remove\",\"path\":\"/spec/taints/0\"}]");
    assertEquals("10.244.0.0/24", after.getSpec().getPodCIDR());
    assertEquals(List.of("10.244.0.0/24"), after.getSpec().getPodCIDRs());
    // the not-ready taint is the one admission added when the node was created
    assertEquals(List.of("other", "node.kubernetes.io/not-ready"), taintKeys(after));
  }

  @Test
  void failedJsonPatchTestIs422AndChangesNothing() throws ApiException {
    V1Node before = api.readNode(NAME).execute();
    ApiException e = assertThrows(ApiException.class, () -> patch(V1Patch.PATCH_FORMAT_JSON_PATCH, "["
        + "{\"op\":\"test\",\"path\":\"/spec/podCIDR\",\"value\":\"10.1.0.0/24\"},"
        + "{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"10.244.0.0/24\"}]"));
    assertEquals(422, e.getCode());
    assertEquals("Invalid", Clients.reason(e));
    // kube-apiserver does not pass the patch library's message on: generic message, empty details
    assertEquals("the server rejected our request due to an error in our request",
        Clients.message(e), e.getResponseBody());
    assertEquals(before.getMetadata().getResourceVersion(),
        api.readNode(NAME).execute().getMetadata().getResourceVersion());
  }

  @Test
  void malformedJsonPatchIs400() {
    ApiException e = assertThrows(ApiException.class,
        () -> patch(V1Patch.PATCH_FORMAT_JSON_PATCH, "{\"op\":\"add\"}"));
    assertEquals(400, e.getCode());
  }

  @Test
  void mergePatchReplacesArraysAndNullDeletes() throws ApiException {
    V1Node after = patch(V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
        "{\"metadata\":{\"labels\":{\"pool\":null,\"new\":\"yes\"}},"
            + "\"spec\":{\"podCIDR\":\"10.244.1.0/24\",\"taints\":[{\"key\":\"x\",\"effect\":\"NoExecute\"}]}}");
    assertEquals(List.of("x"), taintKeys(after));
    assertEquals(List.of("10.244.1.0/24"), after.getSpec().getPodCIDRs(), "podCIDRs follows podCIDR");
    assertNull(after.getMetadata().getLabels().get("pool"));
    assertEquals("yes", after.getMetadata().getLabels().get("new"));
  }

  @Test
  void strategicMergePatchUsesEachFieldsStrategy() throws ApiException {
    // podCIDRs: patchStrategy=merge (a set); taints: no strategy (replaced).
    V1Node first = patch(V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH,
        "{\"spec\":{\"podCIDRs\":[\"10.244.2.0/24\",\"fd00:0:0:2::/64\"],"
            + "\"taints\":[{\"key\":\"other\",\"effect\":\"NoSchedule\"}]}}");
    assertEquals(List.of("10.244.2.0/24", "fd00:0:0:2::/64"), first.getSpec().getPodCIDRs());
    assertEquals("10.244.2.0/24", first.getSpec().getPodCIDR());
    assertEquals(List.of("other"), taintKeys(first));

    // A set merge of a member already present changes nothing, so the immutable list is untouched ...
    V1Node second = patch(V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH,
        "{\"spec\":{\"podCIDRs\":[\"fd00:0:0:2::/64\"]}}");
    assertEquals(first.getSpec().getPodCIDRs(), second.getSpec().getPodCIDRs());
    assertEquals(first.getMetadata().getResourceVersion(), second.getMetadata().getResourceVersion());

    // ... while the same list as a merge patch replaces it, which the immutability rule forbids.
    ApiException e = assertThrows(ApiException.class, () -> patch(V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
        "{\"spec\":{\"podCIDRs\":[\"fd00:0:0:2::/64\"]}}"));
    assertEquals(422, e.getCode());
    assertTrue(Clients.message(e).contains("spec.podCIDRs: Forbidden"), Clients.message(e));
  }

  @Test
  void strategicMergePatchOfStatusConditionsMergesByType() throws ApiException {
    V1Node after = PatchUtils.patch(V1Node.class, () -> api.patchNodeStatus(NAME, new V1Patch(
        "{\"status\":{\"conditions\":[{\"type\":\"NetworkUnavailable\",\"status\":\"False\","
            + "\"reason\":\"RouteCreated\"},{\"type\":\"Ready\",\"status\":\"False\"}]}}")).buildCall(null),
        V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH, client);
    List<String> types = after.getStatus().getConditions().stream().map(V1NodeCondition::getType)
        .collect(Collectors.toList());
    // the patch's items come in the patch's order after the server-only ones (normalizeElementOrder)
    assertEquals(List.of("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable", "Ready"), types);
    assertEquals("False", after.getStatus().getConditions().get(4).getStatus());
    assertEquals("KubeletReady", after.getStatus().getConditions().get(4).getReason(), "merged, other fields kept");
  }

  @Test
  void strategicMergePatchDirectives() throws ApiException {
    V1Node after = patch(V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH,
        "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]},\"status\":{\"addresses\":[{\"type\":\"Hostname\","
            + "\"$patch\":\"delete\"}]}}");
    assertEquals(List.of("a", "b"), after.getMetadata().getFinalizers());
    after = patch(V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH,
        "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}");
    assertEquals(List.of("b"), after.getMetadata().getFinalizers());
    // status is not written through the main resource, even by a patch
    assertEquals(2, after.getStatus().getAddresses().size());
  }

  @Test
  void singularPodCidrRulesWhenItDisagreesWithTheList() throws ApiException {
    V1Node after = patch(V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
        "{\"spec\":{\"podCIDR\":\"10.244.7.0/24\",\"podCIDRs\":[\"10.244.8.0/24\"]}}");
    assertEquals(List.of("10.244.7.0/24"), after.getSpec().getPodCIDRs());
    assertEquals("10.244.7.0/24", after.getSpec().getPodCIDR());
  }

  @Test
  void patchCarryingAStaleResourceVersionIsAConflict() throws ApiException {
    ApiException e = assertThrows(ApiException.class, () -> patch(V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"unschedulable\":true}}"));
    assertEquals(409, e.getCode());
    assertEquals("Conflict", Clients.reason(e));
  }

  @Test
  void patchOfMissingNodeIs404AndUnknownPatchTypeIs415() {
    ApiException e = assertThrows(ApiException.class, () -> PatchUtils.patch(V1Node.class,
        () -> api.patchNode("missing", new V1Patch("{}")).buildCall(null), V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
        client));
    assertEquals(404, e.getCode());
    ApiException apply = assertThrows(ApiException.class, () -> PatchUtils.patch(V1Node.class,
        () -> api.patchNode(NAME, new V1Patch("{}")).fieldManager("t").buildCall(null),
        V1Patch.PATCH_FORMAT_APPLY_YAML, client));
    assertEquals(415, apply.getCode());
  }
}
