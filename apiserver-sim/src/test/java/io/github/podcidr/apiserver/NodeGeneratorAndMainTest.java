package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeGeneratorAndMainTest {
  @Test
  void generatedNodesAreRealisticValidAndDeterministic() {
    NodeGenerator gen = new NodeGenerator(1);
    for (int i = 0; i < 50; i++) {
      ObjectNode n = gen.node(i);
      int size = Json.bytes(n).length;
      assertTrue(size >= 10_000 && size <= 20_000, "node " + i + " is " + size + " bytes");
      int images = n.at("/status/images").size();
      assertTrue(images >= 30 && images <= 50, images + " images");
      assertEquals(NodeGenerator.name(i), n.at("/metadata/labels/kubernetes.io~1hostname").asText());
      assertTrue(n.at("/spec/podCIDR").isMissingNode());
    }
    assertEquals(gen.node(7), new NodeGenerator(1).node(7));
    assertNotEquals(gen.node(7), new NodeGenerator(2).node(7));
    ObjectNode preset = gen.node(3, true, "10.244.3.0/24", "fd00:0:0:3::/64");
    assertEquals("10.244.3.0/24", preset.at("/spec/podCIDR").asText());
    assertEquals(NodeGenerator.TKE_ENI_TAINT_KEY, preset.at("/spec/taints/0/key").asText());
    assertEquals("NoSchedule", preset.at("/spec/taints/0/effect").asText());
    assertEquals("10.1.2.3", NodeGenerator.name(66051));
  }

  @Test
  void populatedNodesPassTheServersValidation() {
    try (ApiServerSim sim = ApiServerSim.start()) {
      new NodeGenerator(9).populate(sim, 20, 3);
      assertEquals(20, sim.count(ResourceType.NODES));
      assertEquals(NodeGenerator.TKE_ENI_TAINT_KEY, sim.getNode(NodeGenerator.name(2)).at("/spec/taints/0/key")
          .asText());
      // untainted by the generator: only the not-ready taint admission adds to every new node
      assertEquals(1, sim.getNode(NodeGenerator.name(3)).at("/spec/taints").size());
      assertEquals("node.kubernetes.io/not-ready", sim.getNode(NodeGenerator.name(3)).at("/spec/taints/0/key")
          .asText());
    }
  }

  @Test
  void flags() {
    Main.Options o = Main.parse(new String[] {"--port", "0", "--nodes=1000", "--tainted", "10",
        "--kubeconfig-out", "/tmp/x"});
    assertEquals(1000, o.nodes());
    assertEquals(10, o.tainted());
    assertEquals(Path.of("/tmp/x"), o.kubeconfigOut());
    assertTrue(!o.compress() && Main.parse(new String[] {"--compress"}).compress());
    assertNull(Main.parse(new String[] {"--help"}));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--nodes", "many"}))
        .getMessage().contains("\"many\" is not an integer"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--frob"}))
        .getMessage().contains("unknown flag"));
    assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--port"}));
    assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--port", "70000"}));
    assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--nodes", "1", "--tainted", "2"}));
  }

  @Test
  void runPrintsTheAddressAndWritesTheKubeconfig(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Path kubeconfig = dir.resolve("sub/sim.kubeconfig");
    try (ApiServerSim sim = Main.run(new Main.Options(0, 5, 1, kubeconfig, 1, true),
        new PrintStream(out, true, StandardCharsets.UTF_8))) {
      assertEquals("apiserver-sim listening on " + sim.baseUrl() + "\n", out.toString(StandardCharsets.UTF_8));
      assertEquals(5, sim.count(ResourceType.NODES));
      assertTrue(Files.readString(kubeconfig).contains("server: " + sim.baseUrl()));
    }
  }
}
