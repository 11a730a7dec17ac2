package io.github.podcidr.bench.e2e;

import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * End-to-end scale figures: the deployable controller ({@code controller-app/target/podcidr-controller.jar}) as a
 * separate JVM with a fixed heap ({@code -Xmx}) against {@code apiserver-sim} in this JVM, with realistic generated
 * nodes (10 to 16 KB of JSON each). Measured per size:
 * <ul>
 *   <li><b>restart</b>: every node already holds a pod CIDR; time from the controller's start to {@code /readyz}
 *       (informer synced, every node restored), its heap after a full GC, its peak RSS;</li>
 *   <li><b>assign</b>: no node holds one, a quarter carry the TKE taint; time until every node has its pod CIDR (and
 *       lost its taint), with the client-side rate limit off and at the default 50 QPS / 100 burst; API requests per
 *       node by verb, counted by the simulator;</li>
 *   <li>the simulator's own heap and CPU, reported apart (it runs in this process).</li>
 * </ul>
 *
 * <p>Run after {@code mvn -B -q package -DskipTests} from the repository root, e.g.
 * {@code java -Xmx12g -cp ipam-bench/target/benchmarks.jar io.github.podcidr.bench.e2e.ScaleRun --nodes 5000,50000,130000}.
 * Options: {@code --nodes} (comma list), {@code --controller-xmx} (512m), {@code --jar} (the controller jar),
 * {@code --modes restart,assign,assign-qps} and {@code --timeout} (seconds per phase, 1800); kubelet-like traffic on
 * every node from before the controller starts ({@link KubeletTraffic}): {@code --kubelet-traffic true},
 * {@code --kubelet-status-period 300s}, {@code --node-leases true}; its own requests are left out of the table, and
 * the rate it achieved is printed. A benchmark main, not a test: nothing here asserts, it measures and prints a
 * Markdown table. The day-two modes (steady state, scale-up burst) are {@link RealScaleRun}'s, which runs on this
 * simulator too ({@code --sim true}).
 */
public final class ScaleRun {
    private static final String TKE_TAINT = NodeGenerator.TKE_ENI_TAINT_KEY;

    /** One measured phase. */
    record Row(String mode, int nodes, double seconds, long patches, Map<String, Long> requests, long heapBytes,
               long rssBytes, double simCpuSeconds, long simHeapBytes) {
    }

    private ScaleRun() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = E2eSupport.options(args);
        String jar = opts.getOrDefault("jar", "controller-app/target/podcidr-controller.jar");
        String xmx = opts.getOrDefault("controller-xmx", "512m");
        int timeout = Integer.parseInt(opts.getOrDefault("timeout", "1800"));
        List<String> modes = List.of(opts.getOrDefault("modes", "restart,assign,assign-qps").split(","));
        RealScaleRun.Traffic traffic = new RealScaleRun.Traffic(
                Boolean.parseBoolean(opts.getOrDefault("kubelet-traffic", "false")),
                RealScaleRun.duration(opts.getOrDefault("kubelet-status-period", "300s")),
                Boolean.parseBoolean(opts.getOrDefault("node-leases", "false")));
        if (!Files.isRegularFile(Path.of(jar))) {
            System.err.println("no controller jar at " + jar + "; build it first: mvn -B -q package -DskipTests");
            System.exit(2);
        }
        List<Row> rows = new ArrayList<>();
        for (String n : opts.getOrDefault("nodes", "5000").split(",")) {
            int nodes = Integer.parseInt(n.trim());
            for (String mode : modes) {
                Row row = run(mode, nodes, jar, xmx, timeout, traffic);
                rows.add(row);
                System.out.println(describe(row));
            }
        }
        System.out.println();
        System.out.println(table(rows, xmx));
    }

    private static Row run(String mode, int nodes, String jar, String xmx, int timeout, RealScaleRun.Traffic traffic)
            throws Exception {
        boolean restart = mode.equals("restart");
        try (ApiServerSim sim = ApiServerSim.start()) {
            NodeGenerator gen = new NodeGenerator(20261126);
            for (int i = 0; i < nodes; i++) {
                // 10.0.0.0/8 cut into /25: 131,072 subnets, room for 130,000 nodes
                String cidr = restart ? "10." + (i >>> 9) + "." + ((i >>> 1) & 255) + "." + ((i & 1) * 128) + "/25"
                        : null;
                sim.createNode(cidr == null ? gen.node(i, i % 4 == 0) : gen.node(i, false, cidr));
            }
            Path kubeconfig = Files.createTempFile("scale", ".kubeconfig");
            sim.writeKubeconfig(kubeconfig);
            System.gc();
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            long simHeap = memory.getHeapMemoryUsage().getUsed();
            KubeletTraffic kubelets = traffic.start(RealCluster.of(sim), nodes);
            KubeletTraffic.Counts tc0 = kubelets == null ? null : kubelets.counts();
            sim.requests().reset();
            Map<String, Long> trafficBefore = kubelets == null ? Map.of() : kubelets.codes();
            int metricsPort = E2eSupport.freePort();
            int healthPort = E2eSupport.freePort();
            List<String> cmd = new ArrayList<>(List.of(E2eSupport.javaBin(), "-Xmx" + xmx, "-XX:+ExitOnOutOfMemoryError", "-jar",
                    jar, "--kubeconfig=" + kubeconfig, "--cluster-cidr=10.0.0.0/8", "--node-cidr-mask-size=25",
                    "--leader-elect=false", "--remove-taints=" + TKE_TAINT, "--log-level=warn",
                    "--metrics-bind-address=127.0.0.1:" + metricsPort,
                    "--health-probe-bind-address=127.0.0.1:" + healthPort));
            cmd.add(mode.equals("assign-qps") ? "--kube-api-qps=50" : "--kube-api-qps=-1");
            cmd.add("--kube-api-burst=100");
            long cpu0 = processCpuNanos();
            long t0 = System.nanoTime();
            Process controller = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of("ipam-bench/target/scale-controller.log")
                            .toFile())).start();
            try {
                long deadline = t0 + Duration.ofSeconds(timeout).toNanos();
                HttpClient http = HttpClient.newHttpClient();
                double seconds;
                if (restart) {
                    while (!E2eSupport.ready(http, healthPort)) {
                        check(controller, deadline, "ready");
                        Thread.sleep(50);
                    }
                    seconds = (System.nanoTime() - t0) / 1e9;
                } else {
                    // every node needs exactly one write; count them as the simulator sees them
                    while (sim.requests().count("patch", "nodes") < nodes) {
                        check(controller, deadline, "assignment");
                        Thread.sleep(50);
                    }
                    seconds = (System.nanoTime() - t0) / 1e9;
                    Thread.sleep(500); // let stragglers show up in the counts
                    verifyAllAssigned(sim, nodes);
                }
                long simCpu = processCpuNanos() - cpu0;
                long heap = heapAfterGc(controller.pid(), http, metricsPort);
                long rss = E2eSupport.peakRss(controller.pid());
                Map<String, Long> requests = new TreeMap<>(sim.requests().snapshot());
                if (kubelets != null) {
                    System.out.println("  traffic " + traffic.label() + ": " + kubelets.describe(tc0,
                            kubelets.counts()));
                    // the traffic's own requests (keys "verb resource code") out of the simulator's counts
                    Map<String, Long> before = trafficBefore;
                    kubelets.codes().forEach((k, v) -> requests.computeIfPresent(k.substring(0, k.lastIndexOf(' ')),
                            (key, n) -> n - (v - before.getOrDefault(k, 0L)) > 0
                                    ? n - (v - before.getOrDefault(k, 0L)) : null));
                }
                return new Row(mode, nodes, seconds, sim.requests().count("patch", "nodes"), requests, heap, rss,
                        simCpu / 1e9, simHeap);
            } finally {
                if (kubelets != null) {
                    kubelets.close();
                }
                controller.destroy();
                controller.waitFor();
                Files.deleteIfExists(kubeconfig);
            }
        }
    }

    private static void verifyAllAssigned(ApiServerSim sim, int nodes) {
        int missing = 0;
        int tainted = 0;
        for (var n : sim.list(io.github.podcidr.apiserver.ResourceType.NODES, null)) {
            if (!n.at("/spec/podCIDR").isTextual()) {
                missing++;
            }
            for (var t : n.at("/spec/taints")) {
                if (TKE_TAINT.equals(t.path("key").asText())) {
                    tainted++;
                }
            }
        }
        if (missing > 0 || tainted > 0) {
            throw new IllegalStateException(missing + " of " + nodes + " nodes without a pod CIDR, " + tainted
                    + " still tainted");
        }
    }

    private static void check(Process p, long deadline, String what) {
        if (!p.isAlive()) {
            throw new IllegalStateException("the controller exited with " + p.exitValue() + " before " + what
                    + "; see ipam-bench/target/scale-controller.log");
        }
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException("timed out waiting for " + what);
        }
    }

    /** Forces a full GC in the controller (jcmd) and reads its heap from its own /metrics. */
    private static long heapAfterGc(long pid, HttpClient http, int metricsPort) throws Exception {
        Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), "GC.run").redirectErrorStream(true).start();
        gc.getInputStream().readAllBytes();
        gc.waitFor();
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : metrics.split("\n")) {
            if (line.startsWith("jvm_memory_bytes_used{area=\"heap\"")) {
                return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return -1;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static String describe(Row r) {
        return String.format(Locale.ROOT, "%s nodes=%d seconds=%.1f patches=%d heap_mib=%.0f rss_mib=%.0f"
                        + " sim_cpu_s=%.1f sim_heap_mib=%.0f requests=%s", r.mode(), r.nodes(), r.seconds(),
                r.patches(), r.heapBytes() / 1048576.0, r.rssBytes() / 1048576.0, r.simCpuSeconds(),
                r.simHeapBytes() / 1048576.0, r.requests());
    }

    private static String table(List<Row> rows, String xmx) {
        StringBuilder sb = new StringBuilder();
        sb.append("| mode | nodes | seconds | nodes/s | writes/node | requests/node by verb | controller heap after"
                + " GC (-Xmx").append(xmx).append(") | controller peak RSS | simulator CPU s | simulator heap |\n");
        sb.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            StringBuilder verbs = new StringBuilder();
            r.requests().forEach((k, v) -> verbs.append(verbs.length() == 0 ? "" : ", ").append(k).append(' ')
                    .append(String.format(Locale.ROOT, "%.3f", (double) v / r.nodes())));
            sb.append(String.format(Locale.ROOT, "| %s | %,d | %.1f | %,.0f | %.2f | %s | %.0f MiB | %.0f MiB | %.1f"
                            + " | %.0f MiB |%n", r.mode(), r.nodes(), r.seconds(), r.nodes() / r.seconds(),
                    (double) r.patches() / r.nodes(), verbs, r.heapBytes() / 1048576.0, r.rssBytes() / 1048576.0,
                    r.simCpuSeconds(), r.simHeapBytes() / 1048576.0));
        }
        return sb.toString();
    }
}
