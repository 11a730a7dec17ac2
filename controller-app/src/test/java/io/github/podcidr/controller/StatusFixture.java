package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.ResourceType;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small cluster whose status page has something in every section, on apiserver-sim, with the controller running
 * against it over HTTP: the pool {@code 10.244.0.0/24} cut into 16 /28 subnets, one of them reserved; 18 nodes, of
 * which node 0 already holds {@code 10.244.0.16/28} and the last node a copy of it (a duplicate: it fails closed).
 * The 16 others need 14 free subnets: 14 are assigned, 2 wait for room.
 *
 * <p>With the group {@code idc} ({@link #StatusFixture(Path, boolean)}): nodes 1, 4, 7, 10, 13 and 16 carry
 * {@code podcidr.example.com/site=idc} and belong to the group {@code idc} of a pools file, {@code 10.250.0.0/28} cut
 * into /30: 4 get one, 2 wait for room. The default group's 10 other nodes get subnets: 11 allocated there.
 */
final class StatusFixture implements AutoCloseable {
    static final int NODES = 18;
    static final String CLUSTER = "10.244.0.0/24";
    static final String RESERVED = "10.244.0.240/28";
    static final String PRESET = "10.244.0.16/28";
    /** 16 subnets, 1 reserved, 15 allocated (the preset one and 14 assigned). */
    static final int CAPACITY = 16;
    static final int ALLOCATED = 15;
    static final int WAITING = 2;
    static final String IDC_LABEL = "podcidr.example.com/site";
    static final String IDC_CLUSTER = "10.250.0.0/28";
    static final int IDC_NODES = 6;
    static final int IDC_CAPACITY = 4;
    /** Allocated in the default group with the group idc: the preset subnet and the 10 other nodes'. */
    static final int DEFAULT_ALLOCATED_WITH_IDC = 11;
    private static final ObjectMapper JSON = new ObjectMapper();

    final ApiServerSim sim;
    final Path kubeconfig;
    final String duplicateNode;
    /** The pools file of the group idc, or null. */
    final Path poolsFile;

    StatusFixture(Path dir) throws IOException {
        this(dir, false);
    }

    /**
     * Starts the simulator with the fixture's nodes.
     *
     * @param dir where to write the kubeconfig (and the pools file)
     * @param idcGroup whether a third of the nodes form the group idc of a pools file
     */
    StatusFixture(Path dir, boolean idcGroup) throws IOException {
        sim = ApiServerSim.start();
        kubeconfig = sim.writeKubeconfig(dir.resolve("kubeconfig"));
        if (idcGroup) {
            poolsFile = dir.resolve("pools.yaml");
            Files.writeString(poolsFile, "groups:\n  - name: idc\n    nodeSelector:\n      matchLabels:\n"
                    + "        " + IDC_LABEL + ": idc\n    clusterCIDRs: [" + IDC_CLUSTER + "]\n"
                    + "    nodeCIDRMaskSizeIPv4: 30\n");
        } else {
            poolsFile = null;
        }
        NodeGenerator gen = new NodeGenerator(7);
        for (int i = 0; i < NODES - 1; i++) {
            ObjectNode node = i == 0 ? gen.node(i, true, PRESET) : gen.node(i, i % 3 == 0);
            if (idcGroup && i % 3 == 1) {
                ((ObjectNode) node.at("/metadata/labels")).put(IDC_LABEL, "idc");
            }
            sim.createNode(node);
        }
        // created last, so the first node keeps the subnet
        ObjectNode copy = gen.node(NODES - 1, true, PRESET);
        sim.createNode(copy);
        duplicateNode = copy.at("/metadata/name").asText();
    }

    /** Flags of one replica: the fixture's pool, election with short durations, endpoints on free ports. */
    ControllerFlags flags(String identity) {
        ControllerFlags.Result r = ControllerFlags.parse(new String[] {
            "--kubeconfig=" + kubeconfig, "--pools-file=" + (poolsFile == null ? "" : poolsFile), "--cluster-cidr=" + CLUSTER, "--node-cidr-mask-size=28",
            "--reserved-cidrs=" + RESERVED, "--remove-taints=" + NodeGenerator.TKE_ENI_TAINT_KEY,
            "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0",
            "--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s",
            "--leader-elect-retry-period=1s"}, Map.of("POD_NAME", identity));
        assertTrue(r.ok(), () -> r.errors().toString());
        return r.flags();
    }

    /** Starts a replica with its own registry. */
    ControllerApp start(String identity) throws IOException {
        ControllerFlags f = flags(identity);
        return ControllerApp.start(f, KubeClients.of(f.kubeconfig(), 50, 100, false), new CollectorRegistry(),
                () -> { });
    }

    /** Nodes holding pod CIDRs in the API, and the distinct subnets they hold. */
    record ApiState(int nodesWithCidrs, int distinctSubnets, int nodesWithout) {
    }

    ApiState apiState() {
        List<ObjectNode> nodes = sim.list(ResourceType.NODES, null);
        Set<String> subnets = new HashSet<>();
        int with = 0;
        for (ObjectNode n : nodes) {
            JsonNode cidrs = n.at("/spec/podCIDRs");
            if (cidrs.size() > 0) {
                with++;
                cidrs.forEach(c -> subnets.add(c.asText()));
            }
        }
        return new ApiState(with, subnets.size(), nodes.size() - with);
    }

    /** The status JSON of a replica. */
    static JsonNode statusJson(ControllerApp app) throws IOException {
        return JSON.readTree(ControllerAppTest.get(app.metricsAddress(), "/status.json").body());
    }

    /** Waits until the leader's page shows the converged state the class comment describes. */
    static void awaitConverged(ControllerApp app) throws InterruptedException {
        ControllerAppTest.await(() -> {
            try {
                JsonNode s = statusJson(app);
                return s.at("/role").asText().equals("leader") && s.at("/pools/0/allocated").asInt() == ALLOCATED
                        && s.at("/waitingForRoom/total").asInt() == WAITING
                        && s.at("/failingClosed/total").asInt() == 1;
            } catch (IOException e) {
                return false;
            }
        }, "the leader's status shows 15 allocated, 2 waiting, 1 failing closed");
    }

    @Override
    public void close() {
        sim.close();
    }

    /** The pod part of a Lease holder's identity ({@code POD_NAME_<uuid>}); other values as they are. */
    static String pod(String identity) {
        if (identity == null) {
            return null;
        }
        int cut = identity.lastIndexOf('_');
        return cut < 0 ? identity : identity.substring(0, cut);
    }
}
