package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.util.Config;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar {@code target/apiserver-sim.jar} as a user runs it (failsafe, after {@code package}). */
class RunnableJarIT {
  private static final Path JAR = Path.of("target", "apiserver-sim.jar");

  private static ProcessBuilder java(String... args) {
    List<String> cmd = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd);
  }

  @Test
  void servesGeneratedNodesUntilTerminated(@TempDir Path dir) throws Exception {
    Path kubeconfig = dir.resolve("sim.kubeconfig");
    Process p = java("--port", "0", "--nodes", "20", "--tainted", "3", "--kubeconfig-out", kubeconfig.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertTrue(line != null && line.matches("apiserver-sim listening on http://127\\.0\\.0\\.1:\\d+"), line);
      ApiClient client = Config.fromConfig(kubeconfig.toString());
      List<V1Node> nodes = new CoreV1Api(client).listNode().execute().getItems();
      assertEquals(20, nodes.size());
      // every node has the not-ready taint admission adds; 3 also have the generator's TKE taint
      assertTrue(nodes.stream().allMatch(n -> n.getSpec().getTaints().stream()
          .anyMatch(t -> t.getKey().equals("node.kubernetes.io/not-ready"))));
      assertEquals(3, nodes.stream().filter(n -> n.getSpec().getTaints().size() > 1).count());
      assertTrue(nodes.stream().allMatch(n -> n.getSpec().getPodCIDR() == null));
    } finally {
      p.destroy(); // SIGTERM
    }
    assertTrue(p.waitFor(20, TimeUnit.SECONDS), "stops on SIGTERM");
  }

  @Test
  void badFlagsExitWithCode2() throws Exception {
    Process p = java("--nodes", "lots").redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    assertTrue(output.contains("--nodes \"lots\" is not an integer"), output);
    assertTrue(Files.exists(JAR));
  }
}
