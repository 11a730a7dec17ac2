package io.github.podcidr.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.Release;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.real.RealControlPlane;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Taint;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.Yaml;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bootstrap of a new cluster with a real scheduler (issue 28): every node is NotReady and tainted
 * {@code node.kubernetes.io/not-ready:NoSchedule}, as the nodes of a Flannel cluster are while their CNI waits for a
 * pod CIDR that only this controller gives, and the chart's pods must still be placed, or no node ever becomes
 * Ready.
 *
 * <p>kube-apiserver, kube-controller-manager (its deployment, replicaset and serviceaccount-token controllers only:
 * no node lifecycle controller taints or evicts) and kube-scheduler 1.20.2 run; the nodes are API objects with
 * capacity but no kubelet, so the pods are placed ({@code spec.nodeName}) but never start. The chart is installed
 * with helm (helm-java) into kube-system, with its defaults on Flannel nodes and with the TKE guide's values on TKE
 * nodes (which also carry the ENI taint and the cloud provider's uninitialized taint). The negative control installs
 * it with {@code hostNetwork=false}, which drops the not-ready and network-unavailable tolerations: the pods stay
 * Pending with a FailedScheduling event naming the not-ready taint, and are placed once the taints go, as they do
 * when a node turns Ready.
 */
class BootstrapSchedulingRealIT {
    private static final Path CHART = Path.of("podcidr-controller");
    private static final String NAMESPACE = "kube-system";
    private static final String RELEASE = "podcidr-controller";
    private static final String NOT_READY = "node.kubernetes.io/not-ready";
    private static final String NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";
    private static final String UNINITIALIZED = "node.cloudprovider.kubernetes.io/uninitialized";
    private static final Duration SCHEDULE_TIMEOUT = Duration.ofSeconds(90);
    private static final Gson GSON = new Gson();

    @TempDir
    Path dir;
    private RealControlPlane cp;
    private ApiClient admin;
    private Path kubeconfig;

    @BeforeEach
    void start() throws IOException {
        // the fewest controllers that make the pods: without serviceaccount-token the ReplicaSet's creates are refused
        // ("No API token found for service account"), since 1.20's admission mounts a token Secret into each pod
        cp = RealControlPlane.builder().controllerManager("deployment", "replicaset", "serviceaccount-token")
                .scheduler().start();
        kubeconfig = cp.writeKubeconfig(dir.resolve("admin.kubeconfig"), cp.adminToken());
        admin = Config.fromConfig(new StringReader(cp.adminKubeconfig()));
    }

    @AfterEach
    void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void theDefaultsAreScheduledOnNotReadyFlannelNodes() throws Exception {
        List<String> nodes = List.of(flannelNode(1, NOT_READY), flannelNode(2, NOT_READY, NETWORK_UNAVAILABLE));
        install(Map.of());

        List<V1Pod> pods = awaitPods(RELEASE, 2, p -> p.getSpec().getNodeName() != null, "placed on a node");
        assertPlacedOnDistinctNodes(pods, nodes);
        assertStillNotReady(nodes, NOT_READY);
    }

    @Test
    void theTkeGuideIsScheduledOnNotReadyTkeNodes() throws Exception {
        List<String> nodes = List.of(tkeNode(0), tkeNode(1));
        install(ControllerRbacRealIT.TKE_GUIDE);

        List<V1Pod> pods = awaitPods(RELEASE, 2, p -> p.getSpec().getNodeName() != null, "placed on a node");
        assertPlacedOnDistinctNodes(pods, nodes);
        assertStillNotReady(nodes, NOT_READY);
        assertStillNotReady(nodes, ControllerRbacRealIT.TKE_TAINT);
        assertStillNotReady(nodes, UNINITIALIZED);
    }

    /** The negative control: without the not-ready toleration the same nodes take no pod, until the taint goes. */
    @Test
    void withoutTheBootstrapTolerationsThePodsStayPendingUntilTheNodesAreReady() throws Exception {
        List<String> nodes = List.of(flannelNode(1, NOT_READY), flannelNode(2, NOT_READY));
        install(Map.of("hostNetwork", "false"));

        List<V1Pod> pending = awaitPods(RELEASE, 2, p -> p.getSpec().getNodeName() == null
                && hasFailedScheduling(p), "refused by the scheduler (a FailedScheduling event)");
        List<CoreV1Event> events = failedScheduling();
        System.out.println("[bootstrap-real] hostNetwork=false: " + pending.size() + " pods Pending; "
                + events.get(0).getReason() + ": " + events.get(0).getMessage());
        for (V1Pod p : pending) {
            String message = events.stream()
                    .filter(e -> p.getMetadata().getName().equals(e.getInvolvedObject().getName()))
                    .map(CoreV1Event::getMessage).findFirst().orElseThrow();
            assertTrue(message.contains("{" + NOT_READY + ": }") && message.contains("didn't tolerate"),
                    "the scheduler names the not-ready taint: " + message);
        }
        // still Pending some seconds later: the scheduler retried (its backoff starts at 1 s) and nothing placed them
        Thread.sleep(5_000);
        assertEquals(List.of(), pods(RELEASE).stream().map(p -> p.getSpec().getNodeName()).filter(Objects::nonNull)
                .toList(), "no pod placed on a NotReady node without the toleration");

        // the taints go, as the node lifecycle controller removes them once a kubelet reports Ready: the same pods
        // are placed
        for (String node : nodes) {
            V1Node n = new CoreV1Api(admin).readNode(node).execute();
            n.getSpec().setTaints(List.of());
            new CoreV1Api(admin).replaceNode(node, n).execute();
        }
        List<V1Pod> placed = awaitPods(RELEASE, 2, p -> p.getSpec().getNodeName() != null,
                "placed once the not-ready taint is gone");
        assertEquals(names(pending), names(placed), "the same pods, nothing else was in the way");
        assertPlacedOnDistinctNodes(placed, nodes);
    }

    private void install(Map<String, String> values) {
        InstallCommand install = new Helm(CHART).install().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeConfig(kubeconfig);
        values.forEach(install::set);
        Release installed = install.call();
        assertEquals("deployed", installed.getStatus(), installed.getOutput());
        System.out.println("[bootstrap-real] helm install " + RELEASE + " " + (values.isEmpty() ? "(defaults)"
                : values.keySet().toString()));
    }

    /**
     * A node of a kubeadm cluster with Flannel, registered by its kubelet and waiting for a pod CIDR: NotReady
     * because the CNI has no configuration yet, with the given NoSchedule taints (the not-ready one first, as the
     * API server's TaintNodesByCondition admission adds it).
     */
    private String flannelNode(int index, String... taints) {
        String name = "flannel-" + index;
        StringBuilder taintYaml = new StringBuilder();
        for (String t : taints) {
            taintYaml.append("    - {key: ").append(t).append(", effect: NoSchedule}\n");
        }
        String yaml = """
                apiVersion: v1
                kind: Node
                metadata:
                  name: %1$s
                  labels:
                    kubernetes.io/hostname: %1$s
                    kubernetes.io/os: linux
                    kubernetes.io/arch: amd64
                spec:
                  taints:
                %2$sstatus:
                  capacity: {cpu: "2", memory: 4026532Ki, pods: "110", ephemeral-storage: 41152812Ki}
                  allocatable: {cpu: "2", memory: 3924132Ki, pods: "110", ephemeral-storage: 37926431477}
                  conditions:
                    - type: Ready
                      status: "False"
                      reason: KubeletNotReady
                      message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
                      lastHeartbeatTime: "2026-12-06T05:00:00Z"
                      lastTransitionTime: "2026-12-06T05:00:00Z"
                  addresses:
                    - {type: InternalIP, address: 192.168.0.%3$d}
                    - {type: Hostname, address: %1$s}
                """.formatted(name, taintYaml, 10 + index);
        return createNode(GSON.toJsonTree(Yaml.getSnakeYaml(Map.class).load(yaml)).getAsJsonObject());
    }

    /**
     * A TKE node as NodeGenerator makes it (realistic labels, capacity, images), as it is before this controller ran:
     * NotReady, tainted not-ready, ENI without IP and not yet initialized by the cloud controller.
     */
    private String tkeNode(int index) {
        ObjectNode node = new NodeGenerator(28).node(index, true);
        ArrayNode taints = (ArrayNode) node.path("spec").path("taints");
        taints.insertObject(0).put("key", NOT_READY).put("effect", "NoSchedule");
        taints.addObject().put("key", UNINITIALIZED).put("value", "true").put("effect", "NoSchedule");
        for (var c : node.path("status").path("conditions")) {
            if (c.path("type").asText().equals("Ready")) {
                ((ObjectNode) c).put("status", "False").put("reason", "KubeletNotReady").put("message",
                        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                                + "message:Network plugin returns error: cni plugin not initialized");
            }
        }
        node.put("apiVersion", "v1").put("kind", "Node");
        return createNode(JsonParser.parseString(node.toString()).getAsJsonObject());
    }

    private String createNode(JsonObject node) {
        KubernetesApiResponse<DynamicKubernetesObject> created = new DynamicKubernetesApi("", "v1", "nodes", admin)
                .create(new DynamicKubernetesObject(node));
        assertTrue(created.isSuccess(), () -> "node refused: " + created.getStatus());
        return created.getObject().getMetadata().getName();
    }

    private List<V1Pod> pods(String release) throws ApiException {
        return new CoreV1Api(admin).listNamespacedPod(NAMESPACE)
                .labelSelector("app.kubernetes.io/instance=" + release).execute().getItems();
    }

    private List<CoreV1Event> failedScheduling() throws ApiException {
        return new CoreV1Api(admin).listNamespacedEvent(NAMESPACE).fieldSelector("reason=FailedScheduling")
                .execute().getItems();
    }

    private boolean hasFailedScheduling(V1Pod pod) {
        try {
            return failedScheduling().stream()
                    .anyMatch(e -> pod.getMetadata().getName().equals(e.getInvolvedObject().getName()));
        } catch (ApiException e) {
            throw new IllegalStateException("cannot list events: " + e.getCode() + " " + e.getResponseBody(), e);
        }
    }

    /**
     * Waits until the release has exactly {@code count} pods and each passes {@code done}; fails with the pods' state,
     * the events and the scheduler's and controller manager's logs after {@link #SCHEDULE_TIMEOUT}.
     */
    private List<V1Pod> awaitPods(String release, int count, Predicate<V1Pod> done, String what) throws Exception {
        long started = System.nanoTime();
        long deadline = started + SCHEDULE_TIMEOUT.toNanos();
        List<V1Pod> pods = List.of();
        while (System.nanoTime() < deadline) {
            pods = pods(release);
            if (pods.size() == count && pods.stream().allMatch(done)) {
                System.out.printf("[bootstrap-real] %d pods %s after %.1f s: %s%n", count, what,
                        (System.nanoTime() - started) / 1e9, pods.stream().map(p -> p.getMetadata().getName()
                                + "->" + p.getSpec().getNodeName()).toList());
                return pods;
            }
            Thread.sleep(200);
        }
        List<String> states = new ArrayList<>();
        for (V1Pod p : pods) {
            states.add(p.getMetadata().getName() + " nodeName=" + p.getSpec().getNodeName() + " conditions="
                    + (p.getStatus() == null ? null : p.getStatus().getConditions()));
        }
        List<String> events = new CoreV1Api(admin).listNamespacedEvent(NAMESPACE).execute().getItems().stream()
                .map(e -> e.getInvolvedObject().getKind() + "/" + e.getInvolvedObject().getName() + " "
                        + e.getReason() + ": " + e.getMessage()).toList();
        fail("not " + count + " pods " + what + " after " + SCHEDULE_TIMEOUT.toSeconds() + " s: " + states
                + "\nevents: " + events + "\nkube-scheduler:\n" + cp.schedulerLog() + "\nkube-controller-manager:\n"
                + cp.controllerManagerLog());
        return pods;
    }

    private static TreeSet<String> names(List<V1Pod> pods) {
        return pods.stream().map(p -> p.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The chart's required anti-affinity: two replicas on two different nodes, both of the cluster's. */
    private static void assertPlacedOnDistinctNodes(List<V1Pod> pods, List<String> nodes) {
        TreeSet<String> placed = pods.stream().map(p -> p.getSpec().getNodeName())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(nodes), placed, "one replica on each node");
    }

    /** Nothing made the nodes Ready behind the test's back: the taint is still there when the pods are placed. */
    private void assertStillNotReady(List<String> nodes, String taint) throws ApiException {
        for (String node : nodes) {
            List<V1Taint> taints = new CoreV1Api(admin).readNode(node).execute().getSpec().getTaints();
            assertTrue(taints != null && taints.stream().anyMatch(t -> t.getKey().equals(taint)
                    && t.getEffect().equals("NoSchedule")), node + " still carries " + taint + ": " + taints);
        }
    }
}
