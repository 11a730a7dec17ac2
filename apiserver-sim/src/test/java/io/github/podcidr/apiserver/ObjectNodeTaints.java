package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Fixture: a generated node with the TKE taint first and another taint second. */
final class ObjectNodeTaints {
  private ObjectNodeTaints() {}

  static void createTainted(ApiServerSim sim, String name) {
    ObjectNode n = new NodeGenerator(5).node(0, true);
    ((ObjectNode) n.get("metadata")).put("name", name);
    ((ObjectNode) n.get("metadata").get("labels")).put("pool", "a");
    ((ArrayNode) n.get("spec").get("taints")).addObject().put("key", "other").put("effect", "NoSchedule");
    sim.createNode(n);
  }
}
