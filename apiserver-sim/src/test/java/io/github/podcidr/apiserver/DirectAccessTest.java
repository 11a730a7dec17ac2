package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Java API for setting up and asserting state without HTTP. */
class DirectAccessTest {
  private ApiServerSim sim;

  @BeforeEach
  void start() {
    sim = ApiServerSim.start();
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void updateWritesSpecAndStatusInOneChange() {
    sim.createNode(new NodeGenerator(1).node(0));
    String name = NodeGenerator.name(0);
    ObjectNode n = sim.getNode(name);
    ((ObjectNode) n.at("/status/nodeInfo")).put("kubeletVersion", "v1.99.0");
    ((ObjectNode) n.get("spec")).put("unschedulable", true);
    long before = sim.resourceVersion();
    ObjectNode after = sim.update(ResourceType.NODES, n);
    assertEquals(before + 1, sim.resourceVersion());
    assertEquals("v1.99.0", after.at("/status/nodeInfo/kubeletVersion").asText());
    assertEquals(true, after.at("/spec/unschedulable").asBoolean());
    assertEquals(0, sim.requests().total(), "direct access is not an HTTP request");
  }

  @Test
  void failuresCarryTheStatusHttpWouldAnswer() {
    sim.createNode(Clients.node("a"));
    SimException exists = assertThrows(SimException.class, () -> sim.createNode(Clients.node("a")));
    assertEquals(409, exists.code());
    assertEquals("AlreadyExists", exists.reason());
    ObjectNode stale = sim.getNode("a");
    sim.patch(ResourceType.NODES, "", "a", "application/merge-patch+json", "{\"spec\":{\"unschedulable\":true}}");
    SimException conflict = assertThrows(SimException.class, () -> sim.update(ResourceType.NODES, stale));
    assertEquals("Conflict", conflict.reason());
    assertEquals(404, assertThrows(SimException.class, () -> sim.deleteNode("b")).code());
    SimException invalid = assertThrows(SimException.class, () -> sim.patch(ResourceType.NODES, "", "a",
        "application/json-patch+json", "[{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"nope\"}]"));
    assertEquals(422, invalid.code());
    assertEquals("spec.podCIDRs[0]", invalid.status().at("/details/causes/0/field").asText());
  }

  @Test
  void namespacedObjectsAndFinalizers() {
    sim.createNode(Clients.node("a"));
    ObjectNode lease = Json.object();
    lease.putObject("metadata").put("name", "l").putArray("finalizers").add("x/y");
    sim.create(ResourceType.LEASES, lease); // namespace defaults to "default"
    assertNotNull(sim.get(ResourceType.LEASES, "default", "l"));
    assertNotNull(sim.get(ResourceType.LEASES, null, "l"), "null namespace means default");
    assertNotNull(sim.patch(ResourceType.NODES, null, "a", "application/merge-patch+json", "{}"));
    sim.delete(ResourceType.LEASES, "default", "l");
    ObjectNode held = sim.get(ResourceType.LEASES, "default", "l");
    assertNotNull(held.at("/metadata/deletionTimestamp").textValue());
    sim.patch(ResourceType.LEASES, "default", "l", "application/merge-patch+json",
        "{\"metadata\":{\"finalizers\":null}}");
    assertNull(sim.get(ResourceType.LEASES, "default", "l"));
    assertEquals(4, sim.count(ResourceType.NAMESPACES));
  }
}
