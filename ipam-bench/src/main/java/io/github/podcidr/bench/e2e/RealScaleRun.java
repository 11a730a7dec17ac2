package io.github.podcidr.bench.e2e;

import io.github.podcidr.apiserver.NodeGenerator;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * End-to-end figures on a real Kubernetes API server, side by side: our controller's jar, kube-controller-manager's
 * node IPAM controller (from the same bin directory as kube-apiserver) and the API server's capacity for the same
 * writes ({@link CapacityClient}), interleaved within each repetition (ours, kcm, capacity, ours, kcm, ...) so that
 * noise from a shared machine falls on all of them alike.
 *
 * <p>Each phase: a fresh control plane ({@code --control-plane-bin DIR}: etcd + kube-apiserver via
 * {@code RealControlPlane}; or {@code --kubeconfig FILE}: any cluster, whose nodes are all deleted first), N
 * realistic nodes created 32 at a time over HTTP/2 (a quarter with the TKE taint), one watch on nodes from the
 * resourceVersion after the load, then the contender started as its own process. Measured from outside, without
 * loading the server: the time from the contender's start until the watch has seen every node with a pod CIDR, and
 * until it saw the first; ours' {@code /readyz}; the node requests the API server counted itself
 * ({@code apiserver_request_total{resource="nodes"}}, the delta over the phase); the contender's CPU time and peak
 * RSS ({@code VmHWM}); and kube-apiserver's and etcd's CPU when this run started them. Then the restart: the
 * contender is killed (SIGKILL), one new node is created, the contender is started again, and the time to
 * {@code /readyz} (ours) and to the new node's pod CIDR is measured.
 *
 * <p>Options: {@code --control-plane-bin DIR} or {@code --kubeconfig FILE}; {@code --nodes 2000,10000};
 * {@code --limits none,20/30} (client-side QPS/burst for every contender; {@code none} is no limit);
 * {@code --reps 3}; {@code --contenders ours,kcm,capacity} (also {@code ours@PATH} for another build of the jar,
 * e.g. to compare a change with the build before it, and a suffix {@code :N} on ours or capacity for N workers or
 * threads instead of {@code --workers}, e.g. {@code ours:16,capacity:16}, and on ours a suffix {@code ~FLAG} for
 * more JVM flags after the image's, each after a {@code ~} (ours runs with {@code -XX:TieredStopAtLevel=1}, as the
 * image does; {@code ours~-XX:TieredStopAtLevel=4} turns C2 back on,
 * {@code ours~-XX:TieredStopAtLevel=4~-XX:SharedArchiveFile=app.jsa} adds a class-data-sharing archive); {@code capacity+json} sends the capacity client's
 * patches without asking for protobuf answers; ratios are against plain {@code capacity});
 * {@code --jar} (controller-app/target/podcidr-controller.jar);
 * {@code --workers 32} (ours' workers, its default {@code ControllerSettings.DEFAULT_WORKERS}, and the capacity
 * client's threads); {@code --controller-xmx 512m};
 * {@code --restart true}; {@code --jfr DIR} (a JFR recording of each run of ours, dumped before it is killed);
 * {@code --timeout 1800} (seconds per wait). A benchmark main, not a test: it measures and prints Markdown tables.
 *
 * <p>A cluster's daily life ({@link DayTwo}): {@code --mode steady} (N nodes holding their pod CIDRs, the
 * contender at rest for {@code --duration 5m} after {@code --settle 30s}: CPU per minute, RSS, requests by user
 * agent) and {@code --mode burst} ({@code --burst 1000} new nodes created at once by {@code --burst-clients 8}
 * clients after {@code --settle 10s}: time until all are assigned, each node's wait p50/p99/max; ours' own
 * histograms say where its time went); {@code --mode fill} is the first fill and restart above, the default.
 * Kubelet-like traffic ({@link KubeletTraffic}, the same for every contender): {@code --kubelet-traffic true} (the
 * default in steady and burst, off in fill), {@code --kubelet-status-period 300s} (one status heartbeat per node
 * per period, spread evenly), {@code --node-leases true} (each node's Lease renewed every 10 s too). {@code --raw-out
 * FILE} appends every per-run line to FILE (for {@code ipam-bench/results/}). For tests: {@code --sim true} runs
 * against {@code apiserver-sim} in this JVM, {@code --controller-main CLASS} starts ours from this JVM's class path
 * instead of {@code --jar}, {@code --log-dir DIR} (ipam-bench/target) holds the contenders' logs.
 */
public final class RealScaleRun {
    /** The pod range every contender is given: 32,768 subnets of /24, outside the service range 10.96.0.0/16. */
    static final String CLUSTER_CIDR = "10.128.0.0/9";
    static final int NODE_MASK = 24;

    /** A client-side limit: {@code qps <= 0} is none. */
    record Limit(String label, double qps, int burst) {
        static Limit parse(String s) {
            if (s.equals("none")) {
                return new Limit("none", -1, 30);
            }
            String[] qb = s.split("/");
            if (qb.length != 2) {
                throw new IllegalArgumentException("--limits: expected none or QPS/BURST, e.g. 20/30, got " + s);
            }
            return new Limit(s, Double.parseDouble(qb[0]), Integer.parseInt(qb[1]));
        }
    }

    /** One contender's phase. Times in seconds from the contender's start; NaN where not measured. */
    record Result(String contender, int nodes, String limit, int rep, double loadSeconds, double seconds,
                  double firstWrite, double ready, double cpuSeconds, long rssBytes, Map<String, Double> requests,
                  double serverCpuSeconds, double restartReady, double restartNewNode, long restartRssBytes) {
    }

    record Config(Path bin, Path kubeconfig, String jar, String xmx, int workers, Duration timeout,
                          Path jfr, boolean restart, boolean sim, String controllerMain, Path logDir,
                          Traffic traffic, Duration settle) {
        RealCluster cluster() throws IOException, InterruptedException {
            if (sim) {
                return RealCluster.startSim();
            }
            if (kubeconfig != null) {
                RealCluster c = RealCluster.fromKubeconfig(kubeconfig);
                c.deleteAllNodes(timeout);
                return c;
            }
            return RealCluster.start(bin);
        }
    }

    /** The kubelet-like traffic of every phase: off, or on with a status period and Leases or not. */
    record Traffic(boolean on, Duration statusPeriod, boolean leases) {
        KubeletTraffic start(RealCluster cluster, int nodes) throws InterruptedException {
            if (!on) {
                return null;
            }
            List<String> names = new ArrayList<>(nodes);
            for (int i = 0; i < nodes; i++) {
                names.add(NodeGenerator.name(i));
            }
            KubeletTraffic t = new KubeletTraffic(cluster, names, statusPeriod, leases, 128);
            t.createLeases();
            t.start();
            return t;
        }

        String label() {
            return on ? "status/" + statusPeriod.toSeconds() + "s" + (leases ? "+leases/10s" : "") : "off";
        }
    }

    /** One contender at rest: CPU seconds per minute, RSS at the end, the API requests made in the window. */
    record Steady(String contender, int nodes, int rep, String traffic, double windowSeconds, double cpuPerMinute,
                  long rssBytes, double serverCpuPerMinute, Map<String, Long> requests, String trafficAchieved) {
    }

    /** One contender's burst: the wait of each new node and, for ours, where its time went. */
    record Burst(String contender, int nodes, int rep, String traffic, NodeBurst.Latency latency, String breakdown,
                 String trafficAchieved) {
    }

    private RealScaleRun() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = E2eSupport.options(args);
        Path bin = o.containsKey("control-plane-bin") ? Path.of(o.get("control-plane-bin")) : null;
        Path kubeconfig = o.containsKey("kubeconfig") ? Path.of(o.get("kubeconfig")) : null;
        boolean sim = Boolean.parseBoolean(o.getOrDefault("sim", "false"));
        if (bin == null && kubeconfig == null && !sim) {
            System.err.println("real-scale-run: give --control-plane-bin DIR (starts etcd + kube-apiserver; its"
                    + " kube-controller-manager is the kcm contender) or --kubeconfig FILE, e.g. --control-plane-bin"
                    + " \"$(scripts/control-plane/install.sh)\"");
            System.exit(2);
        }
        String mode = o.getOrDefault("mode", "fill");
        if (!List.of("fill", "steady", "burst").contains(mode)) {
            System.err.println("real-scale-run: --mode is fill (the default: first fill, then restart), steady or"
                    + " burst, got " + mode);
            System.exit(2);
        }
        Traffic traffic = new Traffic(Boolean.parseBoolean(o.getOrDefault("kubelet-traffic",
                mode.equals("fill") ? "false" : "true")),
                duration(o.getOrDefault("kubelet-status-period", "300s")),
                Boolean.parseBoolean(o.getOrDefault("node-leases", "false")));
        Config cfg = new Config(kubeconfig != null ? null : bin, kubeconfig,
                o.getOrDefault("jar", "controller-app/target/podcidr-controller.jar"),
                o.getOrDefault("controller-xmx", "512m"), Integer.parseInt(o.getOrDefault("workers", "32")),
                Duration.ofSeconds(Long.parseLong(o.getOrDefault("timeout", "1800"))),
                o.containsKey("jfr") ? Path.of(o.get("jfr")) : null,
                Boolean.parseBoolean(o.getOrDefault("restart", "true")), sim, o.get("controller-main"),
                Path.of(o.getOrDefault("log-dir", "ipam-bench/target")), traffic,
                duration(o.getOrDefault("settle", mode.equals("steady") ? "30s" : "10s")));
        List<String> contenders = List.of(o.getOrDefault("contenders", "ours,kcm,capacity").split(","));
        for (String c : contenders) {
            if (c.startsWith("ours") && cfg.controllerMain() == null && !Files.isRegularFile(Path.of(jarOf(c, cfg)))) {
                System.err.println("real-scale-run: no controller jar at " + jarOf(c, cfg)
                        + "; build it: mvn -B -q -pl controller-app -am package -DskipTests");
                System.exit(2);
            }
            if (c.equals("kcm") && bin == null) {
                System.err.println("real-scale-run: the kcm contender needs --control-plane-bin DIR (for its"
                        + " kube-controller-manager)");
                System.exit(2);
            }
        }
        if (cfg.jfr() != null) {
            Files.createDirectories(cfg.jfr());
        }
        int reps = Integer.parseInt(o.getOrDefault("reps", "3"));
        Path rawOut = o.containsKey("raw-out") ? Path.of(o.get("raw-out")) : null;
        if (mode.equals("steady") || mode.equals("burst")) {
            dayTwo(cfg, mode, o, contenders, reps, rawOut);
            return;
        }
        List<Result> results = new ArrayList<>();
        for (String n : o.getOrDefault("nodes", "2000").split(",")) {
            for (String l : o.getOrDefault("limits", "none").split(",")) {
                for (int rep = 1; rep <= reps; rep++) {
                    for (String c : contenders) {
                        Result r = phase(cfg, bin, c, Integer.parseInt(n.trim()), Limit.parse(l.trim()), rep);
                        results.add(r);
                        raw(rawOut, describe(r));
                    }
                }
            }
        }
        System.out.println();
        System.out.println(table(results));
    }

    /** Prints a per-run line and, when {@code --raw-out FILE} is given, appends it there. */
    private static void raw(Path rawOut, String line) throws IOException {
        System.out.println(line);
        if (rawOut != null) {
            if (rawOut.toAbsolutePath().getParent() != null) {
                Files.createDirectories(rawOut.toAbsolutePath().getParent());
            }
            Files.writeString(rawOut, line + "\n", java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        }
    }

    /** {@code 300s}, {@code 5m}, {@code 1h} or {@code 250ms}. */
    static Duration duration(String s) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(s.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a duration such as 300s, 5m or 250ms, got " + s);
        }
        long v = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(v);
            case "s" -> Duration.ofSeconds(v);
            case "m" -> Duration.ofMinutes(v);
            default -> Duration.ofHours(v);
        };
    }

    /** Steady state and scale-up burst: each contender in turn within each repetition, then the medians. */
    private static void dayTwo(Config cfg, String mode, Map<String, String> o, List<String> contenders, int reps,
                               Path rawOut) throws Exception {
        Duration window = duration(o.getOrDefault("duration", "5m"));
        int burstNodes = Integer.parseInt(o.getOrDefault("burst", "1000"));
        int clients = Integer.parseInt(o.getOrDefault("burst-clients", "8"));
        List<Steady> steady = new ArrayList<>();
        List<Burst> bursts = new ArrayList<>();
        for (String n : o.getOrDefault("nodes", "20000").split(",")) {
            int nodes = Integer.parseInt(n.trim());
            for (int rep = 1; rep <= reps; rep++) {
                for (String c : contenders) {
                    if (mode.equals("steady")) {
                        Steady r = DayTwo.steady(cfg, c, nodes, rep, window);
                        steady.add(r);
                        raw(rawOut, DayTwo.describe(r));
                    } else {
                        Burst r = DayTwo.burst(cfg, c, nodes, burstNodes, clients, rep);
                        bursts.add(r);
                        raw(rawOut, DayTwo.describe(r));
                    }
                }
            }
        }
        System.out.println();
        System.out.println(mode.equals("steady") ? DayTwo.steadyTable(steady) : DayTwo.burstTable(bursts));
    }

    static String jarOf(String contender, Config cfg) {
        String c = contender.replaceFirst("~.*$", "").replaceFirst(":\\d+$", "");
        return c.startsWith("ours@") ? c.substring(5) : cfg.jar();
    }

    /** The contender's concurrency: its {@code :N} suffix, else {@code --workers}. */
    private static int concurrencyOf(String contender, Config cfg) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(":(\\d+)$")
                .matcher(contender.replaceFirst("~.*$", ""));
        return m.find() ? Integer.parseInt(m.group(1)) : cfg.workers();
    }

    private static Result phase(Config cfg, Path bin, String contender, int nodes, Limit limit, int rep)
            throws Exception {
        System.out.printf(Locale.ROOT, "%s %s nodes=%d limit=%s rep=%d: starting%n", Instant.now(), contender, nodes,
                limit.label(), rep);
        try (RealCluster cluster = cfg.cluster()) {
            NodeLoader loader = new NodeLoader(cluster);
            long l0 = System.nanoTime();
            NodeLoader.Created[] created = loader.load(nodes, 32);
            double loadSeconds = (System.nanoTime() - l0) / 1e9;
            KubeletTraffic traffic = cfg.traffic().start(cluster, nodes);
            KubeletTraffic.Counts tc0 = traffic == null ? null : traffic.counts();
            try (NodeWatch watch = NodeWatch.start(cluster, cluster.nodesResourceVersion())) {
                Map<String, Double> before = cluster.nodeRequests();
                Map<String, Double> trafficBefore = traffic == null ? Map.of() : traffic.nodeRequests();
                // with the traffic on, a control plane started here tells the contender's requests apart exactly
                int auditMark = traffic != null && cluster.owned() ? cluster.requestMark() : -1;
                long serverCpu0 = serverCpuNanos(cluster);
                long t0 = System.nanoTime();
                long deadline = t0 + cfg.timeout().toNanos();
                if (contender.startsWith("capacity")) {
                    new CapacityClient(cluster, concurrencyOf(contender, cfg), limit.qps(), limit.burst(),
                            contender.contains("+json") ? null : CapacityClient.ACCEPT)
                            .run(created);
                    watch.awaitAssigned(nodes, deadline, () -> true, "capacity");
                    double seconds = (watch.lastAssigned() - t0) / 1e9;
                    double serverCpu = (serverCpuNanos(cluster) - serverCpu0) / 1e9;
                    Thread.sleep(1000);
                    return new Result(contender, nodes, limit.label(), rep, loadSeconds, seconds,
                            (watch.firstAssignedSince(t0) - t0) / 1e9, Double.NaN, Double.NaN, -1,
                            contenderRequests(cluster, before, traffic, trafficBefore, auditMark),
                            serverCpu, Double.NaN, Double.NaN, -1);
                }
                String tag = contender.replaceAll("[^A-Za-z0-9.-]", "_") + "-" + nodes + "-"
                        + limit.label().replace('/', '_') + "-" + rep;
                Child child = Child.start(cfg, bin, contender, cluster, limit, tag, t0);
                double seconds;
                double firstWrite;
                double cpu;
                long rss;
                double serverCpu;
                Map<String, Double> requests;
                try {
                    watch.awaitAssigned(nodes, deadline, child::alive, contender);
                    seconds = (watch.lastAssigned() - t0) / 1e9;
                    firstWrite = (watch.firstAssignedSince(t0) - t0) / 1e9;
                    cpu = child.cpuSeconds();
                    System.out.println("  " + contender + " CPU seconds by thread: " + child.cpuByThread());
                    serverCpu = (serverCpuNanos(cluster) - serverCpu0) / 1e9;
                    Thread.sleep(1000); // stragglers (e.g. conflicting second writes) show up in the counts
                    requests = contenderRequests(cluster, before, traffic, trafficBefore, auditMark);
                    rss = E2eSupport.peakRss(child.pid());
                } finally {
                    child.kill(cfg);
                }
                double restartReady = Double.NaN;
                double restartNewNode = Double.NaN;
                long restartRss = -1;
                if (cfg.restart()) {
                    NodeLoader.Created extra = loader.create(nodes);
                    long t1 = System.nanoTime();
                    Child again = Child.start(cfg, bin, contender, cluster, limit, tag + "-restart", t1);
                    try {
                        watch.awaitNode(extra.name(), t1 + cfg.timeout().toNanos(), again::alive,
                                contender + " restarted, new node " + extra.name());
                        restartNewNode = (watch.assignedAt(extra.name()) - t1) / 1e9;
                        restartReady = again.awaitReady(t1 + cfg.timeout().toNanos());
                        restartRss = E2eSupport.peakRss(again.pid());
                    } finally {
                        again.kill(cfg);
                    }
                }
                return new Result(contender, nodes, limit.label(), rep, loadSeconds, seconds, firstWrite,
                        child.readySeconds(), cpu, rss, requests, serverCpu, restartReady, restartNewNode,
                        restartRss);
            } finally {
                if (traffic != null) {
                    System.out.println("  traffic " + cfg.traffic().label() + ": " + traffic.describe(tc0,
                            traffic.counts()) + " answers=" + traffic.codes());
                    traffic.close();
                }
            }
        }
    }

    /**
     * The contender's node requests since the marks: from the audit log when {@code auditMark >= 0}, else the
     * server's count minus the traffic's own (give or take the requests in flight at either end).
     */
    private static Map<String, Double> contenderRequests(RealCluster cluster, Map<String, Double> before,
                                                         KubeletTraffic traffic, Map<String, Double> trafficBefore,
                                                         int auditMark) throws IOException, InterruptedException {
        if (auditMark >= 0) {
            return cluster.contenderNodeRequestsSince(auditMark);
        }
        return minus(delta(before, cluster.nodeRequests()), trafficDelta(traffic, trafficBefore));
    }

    /** The traffic's own node requests since {@code before} (none when it is off). */
    private static Map<String, Double> trafficDelta(KubeletTraffic traffic, Map<String, Double> before) {
        return traffic == null ? Map.of() : delta(before, traffic.nodeRequests());
    }

    /** {@code a - b} by key, keeping the positive differences. */
    private static Map<String, Double> minus(Map<String, Double> a, Map<String, Double> b) {
        Map<String, Double> out = new TreeMap<>();
        a.forEach((k, v) -> {
            double d = v - b.getOrDefault(k, 0.0);
            if (d > 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    private static Map<String, Double> delta(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> out = new TreeMap<>();
        after.forEach((k, v) -> {
            double d = v - before.getOrDefault(k, 0.0);
            if (d > 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    /** CPU time of the kube-apiserver and etcd this process started (0 for a cluster given by kubeconfig). */
    static long serverCpuNanos(RealCluster cluster) {
        if (!cluster.owned()) {
            return 0;
        }
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("/kube-apiserver") || c.endsWith("/etcd"))
                        .orElse(false))
                .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
    }

    /** A contender running as its own process, with a thread polling its /readyz when it has one. */
    static final class Child {
        private final Process process;
        private final long started;
        private final int healthPort;
        private int metricsPort = -1;
        private final Thread probe;
        private volatile long readyAt = -1;
        private Path jfrFile;

        private Child(Process process, long started, int healthPort) {
            this.process = process;
            this.started = started;
            this.healthPort = healthPort;
            this.probe = new Thread(this::probe, "readyz-probe");
            this.probe.setDaemon(true);
            if (healthPort > 0) {
                probe.start();
            }
        }

        static Child start(Config cfg, Path bin, String contender, RealCluster cluster, Limit limit, String tag,
                           long t0) throws IOException {
            List<String> cmd = new ArrayList<>();
            int healthPort = -1;
            int metricsPort = -1;
            if (contender.startsWith("ours")) {
                healthPort = E2eSupport.freePort();
                metricsPort = E2eSupport.freePort();
                // the image's JIT flag (C1 only); ours~-XX:TieredStopAtLevel=4 runs with C2 again
                cmd.addAll(List.of(E2eSupport.javaBin(), "-Xmx" + cfg.xmx(), "-XX:+ExitOnOutOfMemoryError",
                        "-XX:TieredStopAtLevel=1"));
                if (cfg.jfr() != null) {
                    cmd.add("-XX:StartFlightRecording=name=bench,settings=profile");
                }
                if (contender.contains("~")) { // one or more JVM flags, each after a ~
                    cmd.addAll(List.of(contender.substring(contender.indexOf('~') + 1).split("~")));
                }
                if (cfg.controllerMain() != null) { // from this JVM's class path (the tests of this run)
                    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), cfg.controllerMain()));
                } else {
                    cmd.addAll(List.of("-jar", jarOf(contender, cfg)));
                }
                cmd.addAll(List.of("--kubeconfig=" + cluster.kubeconfig(),
                        "--cluster-cidr=" + CLUSTER_CIDR, "--node-cidr-mask-size=" + NODE_MASK,
                        "--leader-elect=false", "--remove-taints=" + NodeGenerator.TKE_ENI_TAINT_KEY,
                        "--log-level=warn", "--workers=" + concurrencyOf(contender, cfg),
                        "--metrics-bind-address=127.0.0.1:" + metricsPort,
                        "--health-probe-bind-address=127.0.0.1:" + healthPort,
                        "--kube-api-qps=" + (limit.qps() > 0 ? limit.qps() : -1),
                        "--kube-api-burst=" + limit.burst()));
            } else if (contender.equals("kcm")) {
                cmd.addAll(List.of(bin.resolve("kube-controller-manager").toString(),
                        "--kubeconfig=" + cluster.kubeconfig(), "--controllers=nodeipam",
                        "--allocate-node-cidrs=true", "--cluster-cidr=" + CLUSTER_CIDR,
                        "--node-cidr-mask-size=" + NODE_MASK, "--leader-elect=false",
                        "--use-service-account-credentials=false", "--port=0", "--secure-port=0",
                        // client-go turns its rate limiter off for a QPS below 0
                        "--kube-api-qps=" + (limit.qps() > 0 ? limit.qps() : -1),
                        "--kube-api-burst=" + limit.burst(), "--v=1"));
            } else {
                throw new IllegalArgumentException("unknown contender " + contender
                        + "; expected ours, ours@JAR, kcm or capacity (ours and capacity with an optional :N)");
            }
            Path log = cfg.logDir().resolve("real-scale-" + (contender.startsWith("ours") ? "ours" : contender)
                    + ".log");
            Files.createDirectories(log.getParent());
            Files.writeString(log, "=== " + Instant.now() + " " + tag + ": " + String.join(" ", cmd) + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            Child c = new Child(p, t0, healthPort);
            c.metricsPort = metricsPort;
            c.jfrFile = cfg.jfr() == null ? null : cfg.jfr().resolve(tag + ".jfr");
            return c;
        }

        private void probe() {
            HttpClient http = HttpClient.newHttpClient();
            while (process.isAlive()) {
                if (E2eSupport.ready(http, healthPort)) {
                    readyAt = System.nanoTime();
                    return;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        boolean alive() {
            return process.isAlive();
        }

        long pid() {
            return process.pid();
        }

        /** The port of its /metrics (ours), -1 for none. */
        int metricsPort() {
            return metricsPort;
        }

        /** Seconds from the start to the first 200 of /readyz, NaN if none (yet, or no probe). */
        double readySeconds() {
            return readyAt < 0 ? Double.NaN : (readyAt - started) / 1e9;
        }

        /** Waits for /readyz (when there is a probe) and returns {@link #readySeconds()}. */
        double awaitReady(long deadlineNanos) throws InterruptedException {
            while (healthPort > 0 && readyAt < 0 && process.isAlive() && System.nanoTime() - deadlineNanos < 0) {
                Thread.sleep(10);
            }
            return readySeconds();
        }

        /** User + system CPU seconds so far, from /proc/PID/stat (clock ticks of 10 ms). */
        double cpuSeconds() throws IOException {
            return E2eSupport.cpuSeconds(process.pid());
        }

        /**
         * CPU seconds by thread name (digits folded into {@code #}), largest first, the top ten: where the
         * contender's CPU went (compilers, GC, workers, the informer's decoding).
         */
        String cpuByThread() throws IOException {
            Map<String, Double> byName = new TreeMap<>();
            try (var tasks = Files.list(Path.of("/proc/" + process.pid() + "/task"))) {
                for (Path t : tasks.toList()) {
                    try {
                        String stat = Files.readString(t.resolve("stat"));
                        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
                                .replaceAll("[0-9]+", "#");
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        byName.merge(name, (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0, Double::sum);
                    } catch (IOException gone) {
                        // the thread ended meanwhile
                    }
                }
            }
            return byName.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .limit(10).map(e -> String.format(Locale.ROOT, "%s=%.2f", e.getKey(), e.getValue()))
                    .collect(Collectors.joining(", "));
        }

        /** Dumps the JFR recording (when asked for), then SIGKILL, as a crashed or evicted leader. */
        void kill(Config cfg) throws IOException, InterruptedException {
            probe.interrupt();
            if (jfrFile != null && process.isAlive()) {
                Process dump = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(process.pid()), "JFR.dump", "name=bench", "filename=" + jfrFile)
                        .redirectErrorStream(true).start();
                dump.getInputStream().readAllBytes();
                dump.waitFor();
            }
            process.destroyForcibly();
            process.waitFor();
        }
    }

    private static String describe(Result r) {
        return String.format(Locale.ROOT, "%s nodes=%d limit=%s rep=%d load_s=%.1f seconds=%.2f first_write_s=%.2f"
                        + " ready_s=%.2f cpu_s=%.1f rss_mib=%.0f server_cpu_s=%.1f restart_ready_s=%.2f"
                        + " restart_new_node_s=%.2f restart_rss_mib=%.0f requests=%s", r.contender(), r.nodes(),
                r.limit(), r.rep(), r.loadSeconds(), r.seconds(), r.firstWrite(), r.ready(), r.cpuSeconds(),
                r.rssBytes() / 1048576.0, r.serverCpuSeconds(), r.restartReady(), r.restartNewNode(),
                r.restartRssBytes() / 1048576.0, r.requests());
    }

    static double median(double... values) {
        double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String table(List<Result> results) {
        Map<String, List<Result>> groups = results.stream().collect(Collectors.groupingBy(
                r -> r.nodes() + "|" + r.limit() + "|" + r.contender(), LinkedHashMap::new, Collectors.toList()));
        StringBuilder sb = new StringBuilder();
        sb.append("| nodes | client limit | contender | runs | seconds to all assigned (median; each) | vs capacity"
                + " (median of per-run ratios) | first write s | /readyz s | contender CPU s | peak RSS |"
                + " apiserver+etcd CPU s | node requests per node (verb code; mean of the runs) |\n");
        sb.append("|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|\n");
        for (List<Result> g : groups.values()) {
            Result first = g.get(0);
            double[] ratios = g.stream().mapToDouble(r -> results.stream()
                    .filter(c -> c.contender().equals("capacity") && c.nodes() == r.nodes()
                            && c.limit().equals(r.limit()) && c.rep() == r.rep())
                    .mapToDouble(c -> r.seconds() / c.seconds()).findFirst().orElse(Double.NaN)).toArray();
            Map<String, Double> requests = new TreeMap<>();
            g.forEach(r -> r.requests().forEach((k, v) -> requests.merge(k, v, Double::sum)));
            String perNode = requests.entrySet().stream().map(e -> String.format(Locale.ROOT, "%s %.3f", e.getKey(),
                    e.getValue() / ((double) first.nodes() * g.size()))).collect(Collectors.joining(", "));
            sb.append(String.format(Locale.ROOT, "| %,d | %s | %s | %d | **%.1f** (%s) | %s | %s | %s | %s | %s | %.0f"
                            + " | %s |%n", first.nodes(), first.limit(), first.contender(), g.size(),
                    median(g.stream().mapToDouble(Result::seconds).toArray()),
                    g.stream().map(r -> String.format(Locale.ROOT, "%.1f", r.seconds()))
                            .collect(Collectors.joining(", ")),
                    fmt("%.2f", median(ratios)), fmt("%.2f", median(g.stream().mapToDouble(Result::firstWrite)
                            .toArray())), fmt("%.2f", median(g.stream().mapToDouble(Result::ready).toArray())),
                    fmt("%.1f", median(g.stream().mapToDouble(Result::cpuSeconds).toArray())),
                    mib(g.stream().mapToLong(Result::rssBytes).max().orElse(-1)),
                    median(g.stream().mapToDouble(Result::serverCpuSeconds).toArray()), perNode));
        }
        sb.append("\nRestart (SIGKILL after all were assigned, one new node created, the contender started again):"
                + "\n\n| nodes | client limit | contender | runs | /readyz s (median; each) | new node's pod CIDR s"
                + " (median; each) | peak RSS |\n|---:|---|---|---:|---|---|---:|\n");
        for (List<Result> g : groups.values()) {
            Result first = g.get(0);
            if (Double.isNaN(median(g.stream().mapToDouble(Result::restartNewNode).toArray()))) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "| %,d | %s | %s | %d | %s (%s) | **%s** (%s) | %s |%n",
                    first.nodes(), first.limit(), first.contender(), g.size(),
                    fmt("%.2f", median(g.stream().mapToDouble(Result::restartReady).toArray())),
                    each(g, Result::restartReady),
                    fmt("%.2f", median(g.stream().mapToDouble(Result::restartNewNode).toArray())),
                    each(g, Result::restartNewNode),
                    mib(g.stream().mapToLong(Result::restartRssBytes).max().orElse(-1))));
        }
        return sb.toString();
    }

    private static String each(List<Result> g, java.util.function.ToDoubleFunction<Result> f) {
        return g.stream().map(r -> fmt("%.2f", f.applyAsDouble(r))).collect(Collectors.joining(", "));
    }

    static String fmt(String format, double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, format, v);
    }

    static String mib(long bytes) {
        return bytes < 0 ? "—" : String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0);
    }
}
