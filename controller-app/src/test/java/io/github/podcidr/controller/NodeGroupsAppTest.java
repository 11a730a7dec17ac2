package io.github.podcidr.controller;

import static io.github.podcidr.controller.ControllerAppTest.await;
import static io.github.podcidr.controller.ControllerAppTest.get;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.ResourceType;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller started with {@code --pools-file} against apiserver-sim over HTTP: six nodes picked by host name form
 * the group {@code idc} (a /30 cut into /32: room for four), the other fourteen the default group; the metrics say
 * each pool's group and count the group's exhaustion.
 */
class NodeGroupsAppTest {
    private static final int NODES = 20;

    @TempDir
    Path dir;
    private ApiServerSim sim;
    private Path kubeconfig;

    @BeforeEach
    void startSim() {
        sim = ApiServerSim.start();
        kubeconfig = sim.writeKubeconfig(dir.resolve("kubeconfig"));
        NodeGenerator gen = new NodeGenerator(3);
        for (int i = 0; i < NODES; i++) {
            sim.createNode(gen.node(i, false));
        }
    }

    @AfterEach
    void stopSim() {
        sim.close();
    }

    @Test
    void metricsShowEachGroupsPoolsAndExhaustion() throws Exception {
        StringBuilder idcNames = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            idcNames.append(i == 0 ? "" : ", ").append('"').append(NodeGenerator.name(i)).append('"');
        }
        Path pools = dir.resolve("pools.yaml");
        Files.writeString(pools, "groups:\n"
                + "  - name: idc\n"
                + "    nodeSelector:\n"
                + "      matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [" + idcNames + "]}]\n"
                + "    clusterCIDRs: [10.250.0.0/30]\n"
                + "    nodeCIDRMaskSizeIPv4: 32\n");
        ControllerFlags.Result r = ControllerFlags.parse(new String[] {
            "--kubeconfig=" + kubeconfig, "--cluster-cidr=10.244.0.0/16", "--pools-file=" + pools,
            "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0",
            "--leader-elect=false"}, Map.of("POD_NAME", "replica-a"));
        assertTrue(r.ok(), () -> r.errors().toString());
        CollectorRegistry registry = new CollectorRegistry();
        ControllerApp app = ControllerApp.start(r.flags(), KubeClients.of(r.flags().kubeconfig(), 50, 100, true),
                registry, () -> { });
        try {
            await(() -> assigned("10.250.0.") == 4 && assigned("10.244.") == NODES - 6, "4 idc and 14 default"
                    + " nodes assigned");
            await(() -> get(app.metricsAddress(), "/metrics").body()
                    .contains("podcidr_group_exhausted_total{group=\"idc\",}"), "idc exhaustion counted");
            String m = get(app.metricsAddress(), "/metrics").body();
            for (String line : new String[] {
                "podcidr_pool_capacity_subnets{cidr=\"10.250.0.0/30\",family=\"ipv4\",node_mask=\"32\",group=\"idc\",}"
                        + " 4.0",
                "podcidr_pool_free_subnets{cidr=\"10.250.0.0/30\",family=\"ipv4\",node_mask=\"32\",group=\"idc\",} 0.0",
                "podcidr_pool_allocated_subnets{cidr=\"10.244.0.0/16\",family=\"ipv4\",node_mask=\"24\","
                        + "group=\"default\",} 14.0",
                "podcidr_nodes_waiting_for_room 2.0",
                "podcidr_nodes_with_pod_cidr_problem{kind=\"in_other_group\",} 0.0"}) {
                assertTrue(m.contains(line), () -> "missing \"" + line + "\" in\n" + m);
            }
            assertTrue(!m.contains("podcidr_group_exhausted_total{group=\"default\""), m);
        } finally {
            app.close();
        }
    }

    private long assigned(String prefix) {
        return sim.list(ResourceType.NODES, null).stream()
                .filter(n -> n.at("/spec/podCIDR").asText("").startsWith(prefix)).count();
    }
}
