package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Makes realistic Node objects, as a kubelet on a Tencent Cloud (TKE) VM registers them and the cloud controller
 * labels them: well-known and provider labels and annotations, a provider ID, four conditions, addresses,
 * capacity/allocatable, nodeInfo, runtime handlers and 32–50 container images with sizes: 10–16 KB of JSON each.
 *
 * <pre>{@code
 * NodeGenerator gen = new NodeGenerator(7);                 // same seed, same nodes
 * ObjectNode plain = gen.node(0);                           // "10.0.0.0", no podCIDR, no taints
 * ObjectNode tainted = gen.node(1, true);                   // carries the TKE ENI taint
 * ObjectNode preset = gen.node(2, false, "10.244.2.0/24");  // podCIDR(s) already set
 * gen.populate(sim, 1000, 10);                              // nodes 0..999, the first 10 tainted
 * }</pre>
 * Node {@code i} is named {@link #name(int)}: an IPv4 address in 10.0.0.0/8, as TKE names nodes by their VPC IP.
 * Every node is a function of the seed and its index only. Nodes are Jackson trees, not client model classes, so
 * that the simulator needs no Kubernetes client at run time; {@code Json}-decode them into {@code V1Node} if needed.
 */
public final class NodeGenerator {
  /** The taint TKE sets on a node whose ENI has no IP yet; the controller may be asked to remove it. */
  public static final String TKE_ENI_TAINT_KEY = "tke.cloud.tencent.com/eni-ip-unavailable";

  private static final int IMAGE_POOL_SIZE = 400;
  private static final String[] REGISTRIES = {
      "ccr.ccs.tencentyun.com/tkeimages/", "ccr.ccs.tencentyun.com/library/", "registry.k8s.io/",
      "docker.io/library/", "quay.io/prometheus/", "ghcr.io/example-org/", "mirror.ccs.tencentyun.com/bitnami/"};
  private static final String[] IMAGE_NAMES = {
      "kube-proxy", "flannel", "coredns", "pause", "ip-masq-agent", "tke-eni-agent", "tke-bridge-agent",
      "node-problem-detector", "cbs-csi-node", "cfs-csi-node", "nginx", "redis", "mysql", "postgres", "busybox",
      "alpine", "node-exporter", "fluent-bit", "filebeat", "envoy", "istio-proxy", "java-app", "go-service",
      "python-worker", "kafka", "zookeeper", "elasticsearch", "grafana", "alertmanager", "etcd"};
  private static final String[] TEAMS = {
      "platform-infrastructure/", "payments-backend/", "observability-stack/", "data-pipelines/",
      "search-and-recommendation/", "identity-and-access/", "edge-gateway/", "mobile-api/"};
  private static final String[][] INSTANCE_TYPES = {
      {"SA5.2XLARGE16", "8", "16"}, {"SA5.4XLARGE32", "16", "32"}, {"S6.2XLARGE32", "8", "32"},
      {"S6.8XLARGE64", "32", "64"}, {"M6.4XLARGE64", "16", "64"}};
  private static final String[][] ZONES = {{"gz", "100003", "ap-guangzhou-3"}, {"gz", "100004", "ap-guangzhou-4"},
      {"gz", "100006", "ap-guangzhou-6"}, {"gz", "100007", "ap-guangzhou-7"}};

  private final long seed;
  private final List<ObjectNode> imagePool;

  /** A generator whose output depends only on {@code seed} and the node index. */
  public NodeGenerator(long seed) {
    this.seed = seed;
    this.imagePool = buildImagePool(new SplittableRandom(seed));
  }

  /** The name of node {@code index}: {@code 10.<a>.<b>.<c>} (index 0..16,777,215). */
  public static String name(int index) {
    if (index < 0 || index >= 1 << 24) {
      throw new IllegalArgumentException("node index must be within 0..16777215, got " + index);
    }
    return "10." + ((index >>> 16) & 255) + "." + ((index >>> 8) & 255) + "." + (index & 255);
  }

  /** Node {@code index} without podCIDR and without taints. */
  public ObjectNode node(int index) {
    return node(index, false);
  }

  /**
   * Node {@code index}; {@code tainted} adds {@code tke.cloud.tencent.com/eni-ip-unavailable:NoSchedule};
   * {@code podCidrs}, if given, become {@code spec.podCIDRs} and their first {@code spec.podCIDR}.
   */
  public ObjectNode node(int index, boolean tainted, String... podCidrs) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
    String name = name(index);
    String[] type = INSTANCE_TYPES[r.nextInt(INSTANCE_TYPES.length)];
    String[] zone = ZONES[r.nextInt(ZONES.length)];
    String instanceId = "ins-" + token(r, 8);
    String created = "2026-0" + (1 + r.nextInt(9)) + "-1" + r.nextInt(10) + "T0" + r.nextInt(10) + ":1"
        + r.nextInt(10) + ":2" + r.nextInt(10) + "Z";

    ObjectNode node = Json.object();
    ObjectNode meta = node.putObject("metadata");
    meta.put("name", name);
    ObjectNode labels = meta.putObject("labels");
    labels.put("beta.kubernetes.io/arch", "amd64");
    labels.put("beta.kubernetes.io/instance-type", type[0]);
    labels.put("beta.kubernetes.io/os", "linux");
    labels.put("cloud.tencent.com/auto-scaling-group-id", "asg-" + token(new SplittableRandom(index / 500), 8));
    labels.put("cloud.tencent.com/node-instance-id", instanceId);
    labels.put("failure-domain.beta.kubernetes.io/region", zone[0]);
    labels.put("failure-domain.beta.kubernetes.io/zone", zone[1]);
    labels.put("kubernetes.io/arch", "amd64");
    labels.put("kubernetes.io/hostname", name);
    labels.put("kubernetes.io/os", "linux");
    labels.put("node.kubernetes.io/instance-type", type[0]);
    labels.put("node.tke.cloud.tencent.com/cpu", type[1]);
    labels.put("node.tke.cloud.tencent.com/memory", type[2]);
    labels.put("tke.cloud.tencent.com/nodepool-id", "np-" + token(new SplittableRandom(index / 500 + 7), 8));
    labels.put("topology.com.tencent.cloud.csi.cbs/zone", zone[2]);
    labels.put("topology.kubernetes.io/region", zone[0]);
    labels.put("topology.kubernetes.io/zone", zone[1]);
    ObjectNode ann = meta.putObject("annotations");
    ann.put("csi.volume.kubernetes.io/nodeid", "{\"com.tencent.cloud.csi.cbs\":\"" + instanceId + "\"}");
    ann.put("node.alpha.kubernetes.io/ttl", "0");
    ann.put("volumes.kubernetes.io/controller-managed-attach-detach", "true");
    ann.put("flannel.alpha.coreos.com/backend-type", "vxlan");
    ann.put("flannel.alpha.coreos.com/kube-subnet-manager", "true");
    ann.put("flannel.alpha.coreos.com/public-ip", name);

    ObjectNode spec = node.putObject("spec");
    spec.put("providerID", "qcloud:///" + zone[1] + "/" + instanceId);
    if (podCidrs.length > 0) {
      spec.put("podCIDR", podCidrs[0]);
      ArrayNode list = spec.putArray("podCIDRs");
      for (String c : podCidrs) {
        list.add(c);
      }
    }
    if (tainted) {
      ObjectNode taint = spec.putArray("taints").addObject();
      taint.put("key", TKE_ENI_TAINT_KEY);
      taint.put("effect", "NoSchedule");
    }

    ObjectNode status = node.putObject("status");
    long memKi = Long.parseLong(type[2]) * 1024 * 1024 - 400_000;
    ObjectNode capacity = status.putObject("capacity");
    capacity.put("cpu", type[1]);
    capacity.put("ephemeral-storage", "103079844Ki");
    capacity.put("hugepages-1Gi", "0");
    capacity.put("hugepages-2Mi", "0");
    capacity.put("memory", memKi + "Ki");
    capacity.put("pods", "61");
    capacity.put("tke.cloud.tencent.com/eni-ip", "60");
    ObjectNode allocatable = status.putObject("allocatable");
    allocatable.put("cpu", (Integer.parseInt(type[1]) * 1000 - 190) + "m");
    allocatable.put("ephemeral-storage", "94998384074");
    allocatable.put("hugepages-1Gi", "0");
    allocatable.put("hugepages-2Mi", "0");
    allocatable.put("memory", (memKi - 1_800_000) + "Ki");
    allocatable.put("pods", "61");
    allocatable.put("tke.cloud.tencent.com/eni-ip", "60");
    ArrayNode conditions = status.putArray("conditions");
    condition(conditions, "MemoryPressure", "False", "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available", created);
    condition(conditions, "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
        created);
    condition(conditions, "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available",
        created);
    condition(conditions, "Ready", "True", "KubeletReady", "kubelet is posting ready status", created);
    ArrayNode addresses = status.putArray("addresses");
    addresses.addObject().put("type", "InternalIP").put("address", name);
    addresses.addObject().put("type", "Hostname").put("address", name);
    status.putObject("daemonEndpoints").putObject("kubeletEndpoint").put("Port", 10250);
    ObjectNode info = status.putObject("nodeInfo");
    info.put("machineID", token(r, 32));
    info.put("systemUUID", uuid(r));
    info.put("bootID", uuid(r));
    info.put("kernelVersion", "5.4.241-1-tlinux4-0017.12");
    info.put("osImage", "TencentOS Server 3.1 (Final)");
    info.put("containerRuntimeVersion", "containerd://1.6.9-tke.8");
    info.put("kubeletVersion", "v1.30.0-tke.5");
    info.put("kubeProxyVersion", "v1.30.0-tke.5");
    info.put("operatingSystem", "linux");
    info.put("architecture", "amd64");
    ArrayNode handlers = status.putArray("runtimeHandlers");
    for (String handler : new String[] {"", "runc"}) {
      ObjectNode h = handlers.addObject();
      h.put("name", handler);
      h.putObject("features").put("recursiveReadOnlyMounts", true).put("userNamespaces", false);
    }
    status.putObject("features").put("supplementalGroupsPolicy", true);
    ArrayNode images = status.putArray("images");
    List<Integer> picks = new ArrayList<>();
    for (int i = 0; i < IMAGE_POOL_SIZE; i++) {
      picks.add(i);
    }
    Collections.shuffle(picks, new java.util.Random(r.nextLong()));
    int count = 32 + r.nextInt(19); // 32..50, so that every node is at least 10 KB of JSON
    for (int i = 0; i < count; i++) {
      images.add(imagePool.get(picks.get(i)).deepCopy());
    }
    return node;
  }

  /**
   * Creates nodes {@code 0..count-1} in {@code sim} (directly, without HTTP), the first {@code tainted} of them
   * with the TKE ENI taint, none with a podCIDR. Returns {@code count}.
   */
  public int populate(ApiServerSim sim, int count, int tainted) {
    for (int i = 0; i < count; i++) {
      sim.createNode(node(i, i < tainted));
    }
    return count;
  }

  private static void condition(ArrayNode conditions, String type, String status, String reason, String message,
      String since) {
    ObjectNode c = conditions.addObject();
    c.put("lastHeartbeatTime", "2026-11-26T10:59:0" + (type.length() % 10) + "Z");
    c.put("lastTransitionTime", since);
    c.put("message", message);
    c.put("reason", reason);
    c.put("status", status);
    c.put("type", type);
  }

  private static List<ObjectNode> buildImagePool(SplittableRandom r) {
    List<ObjectNode> pool = new ArrayList<>(IMAGE_POOL_SIZE);
    for (int i = 0; i < IMAGE_POOL_SIZE; i++) {
      String repo = REGISTRIES[r.nextInt(REGISTRIES.length)] + TEAMS[r.nextInt(TEAMS.length)]
          + IMAGE_NAMES[r.nextInt(IMAGE_NAMES.length)]
          + (i >= IMAGE_NAMES.length ? "-" + token(r, 4) : "");
      ObjectNode image = Json.object();
      ArrayNode names = image.putArray("names");
      names.add(repo + "@sha256:" + hex(r, 64));
      names.add(repo + ":v" + (1 + r.nextInt(3)) + "." + r.nextInt(30) + "." + r.nextInt(10));
      image.put("sizeBytes", 2_000_000L + r.nextLong(900_000_000L));
      pool.add(image);
    }
    return pool;
  }

  private static String token(SplittableRandom r, int length) {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder b = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      b.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  private static String hex(SplittableRandom r, int length) {
    StringBuilder b = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      b.append(Character.forDigit(r.nextInt(16), 16));
    }
    return b.toString();
  }

  private static String uuid(SplittableRandom r) {
    String h = hex(r, 32);
    return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20)
        + "-" + h.substring(20);
  }
}
