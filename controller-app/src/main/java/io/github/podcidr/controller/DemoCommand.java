package io.github.podcidr.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeAssignment;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolExhaustedException;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.ipam.RestoreReport;
import io.github.podcidr.k8s.ControllerRunner;
import io.github.podcidr.k8s.ControllerSettings;
import io.github.podcidr.k8s.LeaderElectionSettings;
import io.github.podcidr.k8s.NodeGroupSettings;
import io.github.podcidr.k8s.TaintRule;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.VersionApi;
import io.kubernetes.client.openapi.models.V1Taint;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code demo}: the controller's main job on an embedded cluster. Starts an in-memory API server (apiserver-sim)
 * with realistic TKE nodes, some tainted with {@code tke.cloud.tencent.com/eni-ip-unavailable}, a few already holding
 * pod CIDRs and one holding a duplicate of another's; runs the real {@link ControllerRunner} against it over HTTP,
 * with leader election, as in a cluster; shows progress; serves the status page ({@code /status}) and
 * {@code /metrics} while it runs, and with {@code --serve} until Ctrl-C; prints a summary. Exit 0 only if every
 * selected node ends with one pod CIDR per family of its group, from its group's ranges.
 *
 * <p>A share of the nodes, spread evenly, carries a label ({@code --label-share}, by default every fourth node
 * {@code podcidr.example.com/site=idc}), so that a {@code --pools-file} such as the README's forms a second group.
 */
final class DemoCommand {
    static final String DEMO_CLUSTER_IPV4 = "10.244.0.0/16";
    static final String DEMO_CLUSTER_IPV6 = "fd00:10:244::/48";
    /** Nodes created with pod CIDRs already set (the duplicate comes on top). */
    static final int PRESET_NODES = 3;
    /** The longest IPv4 node mask the demo picks on its own: a /28 still holds 14 pods. */
    static final int LONGEST_AUTO_MASK = 28;
    static final Duration DEMO_RETRY_PERIOD = Duration.ofSeconds(1);
    /** The seed of the demo's nodes. */
    static final long NODE_SEED = 42;
    /** The label the demo puts on a share of its nodes unless told otherwise: the README's IDC nodes. */
    static final String DEFAULT_LABEL_SHARE = "podcidr.example.com/site=idc:0.25";

    /** Where the build puts the simulator, relative to the runnable jar (the jar's manifest Class-Path). */
    static final String SIMULATOR_JAR = "demo-lib/apiserver-sim.jar";
    /** The README's demo command. */
    static final String DEMO_COMMAND = "mvn -B -q package -DskipTests && java -jar"
            + " controller-app/target/podcidr-controller.jar demo";

    private DemoCommand() {
    }

    /**
     * Whether the simulator's classes can be loaded. Only this class's {@code Run} touches them, so the check comes
     * before any of them is resolved.
     */
    static boolean simulatorPresent() {
        try {
            Class.forName("io.github.podcidr.apiserver.ApiServerSim", false, DemoCommand.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    static FlagSet flagSet() {
        FlagSet f = new FlagSet("demo");
        f.add("nodes", FlagSet.Kind.INT, "2000", "nodes in the embedded cluster")
                .add("tainted", FlagSet.Kind.INT, "500", "of which carry the TKE taint"
                        + " tke.cloud.tencent.com/eni-ip-unavailable:NoSchedule (at most a quarter of --nodes"
                        + " when left out)")
                .add("dual-stack", FlagSet.Kind.BOOL, "false", "add the IPv6 range " + DEMO_CLUSTER_IPV6
                        + " (one /64 per node)");
        ClusterRanges.addFlags(f, DEMO_CLUSTER_IPV4);
        f.add(PoolsFile.FLAG, FlagSet.Kind.STRING, "", "YAML file of named node groups, as for the controller"
                        + " (--cluster-cidr is the default group); the nodes --label-share labels can form a group")
                .add("label-share", FlagSet.Kind.STRING, DEFAULT_LABEL_SHARE, "label a share of the nodes, spread"
                        + " evenly: key=value:share (0 to 1); by default every fourth node gets"
                        + " podcidr.example.com/site=idc, the label of the pools file in docs/configuration.md; empty: none")
                .add("node-selector", FlagSet.Kind.STRING, "", "JSON matchExpressions of the nodes that get pod CIDRs")
                .add("remove-taints", FlagSet.Kind.LIST, NodeGenerator.TKE_ENI_TAINT_KEY, "taints to remove")
                .add("workers", FlagSet.Kind.INT, String.valueOf(ControllerSettings.DEFAULT_WORKERS),
                        "reconcile threads")
                .add("kube-api-qps", FlagSet.Kind.FLOAT, "-1", "client-side rate limit; -1: none (the embedded"
                        + " server is in this process)")
                .add("kube-api-burst", FlagSet.Kind.INT, "100", "burst of the rate limit")
                .add("timeout", FlagSet.Kind.DURATION, "2m", "give up if the nodes have not converged by then")
                .add("serve", FlagSet.Kind.BOOL, "false", "once the nodes have converged (or --timeout has passed),"
                        + " keep the controller, the embedded API server and the status page running until Ctrl-C"
                        + " (the summary follows)")
                .add("status-bind-address", FlagSet.Kind.STRING, "127.0.0.1:0", "where the status page (/status,"
                        + " /status.json) and /metrics listen; port 0 picks a free port; the URL is printed")
                .add("log-format", FlagSet.Kind.STRING, "text", "text or json")
                .add("log-level", FlagSet.Kind.STRING, "warn", "the controller's log level");
        return f;
    }

    /** The checked demo configuration. */
    private record Config(int nodes, int tainted, ClusterRanges ranges, ControllerSettings settings, double qps,
                          int burst, Duration timeout, String autoMaskNote, boolean serve, BindAddress status,
                          LabelShare labelShare) {
    }

    /**
     * A label the demo puts on a share of its nodes, spread evenly.
     *
     * @param key the label key
     * @param value the label value
     * @param share 0 to 1
     */
    record LabelShare(String key, String value, double share) {
        static final LabelShare NONE = new LabelShare("", "", 0);
        private static final java.util.regex.Pattern KEY = java.util.regex.Pattern.compile(
                "([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
        private static final java.util.regex.Pattern VALUE = java.util.regex.Pattern.compile(
                "([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");

        /**
         * Parses {@code key=value:share}.
         *
         * @param text the flag's value; blank: no label
         * @return the label share
         * @throws IllegalArgumentException if the text does not read so
         */
        static LabelShare parse(String text) {
            if (text.isBlank()) {
                return NONE;
            }
            int eq = text.indexOf('=');
            int colon = text.lastIndexOf(':');
            String expected = "; expected key=value:share with a label key and value and a share from 0 to 1, e.g."
                    + " --label-share=" + DEFAULT_LABEL_SHARE;
            if (eq < 1 || colon < eq) {
                throw new IllegalArgumentException("is not key=value:share" + expected);
            }
            String key = text.substring(0, eq);
            String value = text.substring(eq + 1, colon);
            if (!KEY.matcher(key).matches() || !VALUE.matcher(value).matches()) {
                throw new IllegalArgumentException("has no valid label key and value" + expected);
            }
            double share;
            try {
                share = Double.parseDouble(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                share = Double.NaN;
            }
            if (!(share >= 0 && share <= 1)) {
                throw new IllegalArgumentException("has a share that is not a number from 0 to 1" + expected);
            }
            return new LabelShare(key, value, share);
        }

        /** Whether node {@code i} carries the label: when the running share crosses an integer. */
        boolean labels(int i) {
            return share > 0 && Math.floor((i + 1) * share) > Math.floor(i * share);
        }

        /** Node {@code i} of the demo's generator, labelled when its turn comes. */
        ObjectNode node(NodeGenerator gen, int i, boolean tainted, String... podCidrs) {
            ObjectNode node = gen.node(i, tainted, podCidrs);
            if (labels(i)) {
                ((ObjectNode) node.at("/metadata/labels")).put(key, value);
            }
            return node;
        }

        /** How many of {@code n} nodes carry the label. */
        int count(int n) {
            return share == 0 ? 0 : (int) Math.floor(n * share);
        }
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (!simulatorPresent()) {
            err.println("demo: the embedded API server (apiserver-sim) is not on the class path: the deployable jar"
                    + " and the image leave it out. Run the demo from a build of the sources, where it sits beside"
                    + " the jar (target/" + SIMULATOR_JAR + "): " + DEMO_COMMAND);
            return 1;
        }
        FlagSet flags = flagSet();
        FlagSet.Values v = flags.parse(args);
        if (v.help()) {
            flags.printHelp(out, "java -jar podcidr-controller.jar demo [flags]");
            return 0;
        }
        Config config = read(v);
        if (config == null) {
            Main.printErrors(err, "demo", v.errors());
            return Main.EXIT_CONFIG;
        }
        ControllerFlags.CommonFlags common = ControllerFlags.CommonFlags.read(v, "warn");
        Logging.configure(common.logFormat(), common.logLevel());
        try {
            return new Run(config, out).call();
        } catch (IOException e) {
            err.println("demo: " + e);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static Config read(FlagSet.Values v) {
        int nodes = v.integer("nodes", 2000, "2000");
        if (nodes < 1 || nodes > 200_000) {
            v.error("nodes", v.raw("nodes"), "must be within 1..200000; e.g. --nodes=2000");
        }
        // left out: 500, or a quarter of the nodes when there are fewer than 2,000
        int tainted = v.integer("tainted", Math.min(500, Math.max(0, nodes) / 4), "500");
        if (tainted < 0 || tainted > Math.max(nodes, 0)) {
            v.error("tainted", v.raw("tainted"), "must be within 0..--nodes (" + nodes + "); e.g. --tainted="
                    + Math.max(0, nodes / 4));
        }
        boolean dual = v.bool("dual-stack", false);
        List<String> cluster = dual ? List.of(DEMO_CLUSTER_IPV4, DEMO_CLUSTER_IPV6) : List.of(DEMO_CLUSTER_IPV4);
        ClusterRanges ranges = ClusterRanges.read(v, cluster, true);
        ControllerFlags.CommonFlags common = ControllerFlags.CommonFlags.read(v, "warn");
        double qps = v.decimal("kube-api-qps", ControllerFlags.UNLIMITED_QPS, "-1");
        if (qps <= 0 && qps != ControllerFlags.UNLIMITED_QPS) {
            v.error("kube-api-qps", v.raw("kube-api-qps"), "must be positive, or -1 for no limit; e.g."
                    + " --kube-api-qps=50");
        }
        int burst = v.integer("kube-api-burst", 100, "100");
        if (burst < 1) {
            v.error("kube-api-burst", v.raw("kube-api-burst"), "must be at least 1; e.g. --kube-api-burst=100");
        }
        Duration timeout = v.duration("timeout", Duration.ofMinutes(2), "2m");
        LabelShare labelShare = LabelShare.NONE;
        String shareText = v.string("label-share", DEFAULT_LABEL_SHARE);
        try {
            labelShare = LabelShare.parse(shareText);
        } catch (IllegalArgumentException e) {
            v.error("label-share", shareText, e.getMessage());
        }
        boolean pools = v.has(PoolsFile.FLAG) && !v.raw(PoolsFile.FLAG).isBlank();
        List<NodeGroupSettings> groups = pools && ranges != null ? PoolsFile.read(v, ranges) : List.of();
        boolean serve = v.bool("serve", false);
        BindAddress status = null;
        String statusText = v.string("status-bind-address", "127.0.0.1:0");
        try {
            status = BindAddress.parse(statusText);
        } catch (IllegalArgumentException e) {
            v.error("status-bind-address", statusText, e.getMessage());
        }
        if (!v.errors().isEmpty() || ranges == null || common == null || groups == null) {
            return null;
        }
        String note = null;
        boolean maskGiven = v.has("node-cidr-mask-size") || v.has("node-cidr-mask-size-ipv4");
        if (!maskGiven && ranges.cluster().stream().anyMatch(c -> c.family() == IpFamily.IPV4)) {
            // with named groups, only the nodes left to the default group take its subnets
            int defaultNodes = groups.isEmpty() ? nodes : defaultGroupNodes(nodes, labelShare,
                    common.settings(ranges, groups, false));
            int mask = ranges.maskIpv4();
            while (ipv4Capacity(ranges.withMaskIpv4(mask)) < defaultNodes && mask < LONGEST_AUTO_MASK) {
                mask++;
            }
            if (mask != ranges.maskIpv4()) {
                note = "node mask /" + mask + " chosen so that " + String.format("%,d", defaultNodes)
                        + (groups.isEmpty() ? " nodes" : " nodes of the default group") + " fit (set"
                        + " --node-cidr-mask-size to choose)";
                ranges = ranges.withMaskIpv4(mask);
            }
        }
        if (!v.has("remove-taints")) {
            common = new ControllerFlags.CommonFlags(common.selector(),
                    TaintRule.parseList(NodeGenerator.TKE_ENI_TAINT_KEY), common.workers(), common.logFormat(),
                    common.logLevel());
        }
        ControllerSettings settings = common.settings(ranges, groups, false);
        return new Config(nodes, tainted, ranges, settings, qps, burst, timeout, note, serve, status, labelShare);
    }

    /** How many of the demo's nodes fall to the default group: their labels as the demo makes them. */
    private static int defaultGroupNodes(int nodes, LabelShare share, ControllerSettings settings) {
        NodeGenerator gen = new NodeGenerator(NODE_SEED);
        int count = 0;
        for (int i = 0; i < nodes; i++) {
            if (NodeIpam.DEFAULT_GROUP.equals(settings.groupOf(labels(share.node(gen, i, false))))) {
                count++;
            }
        }
        return count;
    }

    private static Map<String, String> labels(JsonNode node) {
        Map<String, String> labels = new HashMap<>();
        node.at("/metadata/labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        return labels;
    }

    private static long ipv4Capacity(ClusterRanges ranges) {
        long total = 0;
        for (PoolStats s : ranges.newIpam().stats()) {
            if (s.family() == IpFamily.IPV4) {
                total += s.free();
            }
        }
        return total;
    }

    /** One run of the demo. */
    private static final class Run {
        private final Config config;
        private final PrintStream out;
        private final List<IpFamily> families;
        /** The families of each group, primary first. */
        private final Map<String, List<IpFamily>> groupFamilies = new java.util.LinkedHashMap<>();
        /** For finding the group whose ranges hold a pod CIDR. */
        private final NodeIpam ranges;
        private int selected;
        private int expectedTaints;
        /** The node created with another node's pod CIDRs, and the node whose CIDRs it copies; or -1. */
        private int duplicateIndex = -1;
        private int duplicatedIndex = -1;
        private int preset;
        private int presetNodes;
        /** Each group's pools at the end, as the controller saw them. */
        private Map<String, List<PoolStats>> poolStats;
        private RestoreReport restoreReport;
        private long closeStarted;
        /** Time spent serving with --serve, left out of the elapsed figures. */
        private long servedNanos;
        private long startedAt;

        Run(Config config, PrintStream out) {
            this.config = config;
            this.out = out;
            this.ranges = config.settings().newIpam();
            this.families = ranges.families();
            for (io.github.podcidr.ipam.NodeGroup g : ranges.groups()) {
                groupFamilies.put(g.name(), g.families());
            }
        }

        int call() throws IOException, InterruptedException {
            long t0 = System.nanoTime();
            try (ApiServerSim sim = ApiServerSim.start()) {
                populate(sim);
                long populated = System.nanoTime();
                out.printf("demo: %,d nodes in an embedded API server at %s (%,d tainted %s, %d with pod CIDRs"
                                + " already%s); cluster %s%s%n", config.nodes(), sim.baseUrl(),
                        config.tainted(), NodeGenerator.TKE_ENI_TAINT_KEY, presetNodes,
                        duplicateIndex < 0 ? "" : ", one of them a duplicate", describe(config.ranges()),
                        describeGroups());
                if (config.autoMaskNote() != null) {
                    out.println("demo: " + config.autoMaskNote());
                }
                DemoMetrics metrics = new DemoMetrics();
                // the defaults but a shorter retry period: the client's elector waits one retry period after
                // creating the Lease before it starts leading, and the demo should not sit idle for 2 s (whole seconds: the
                // elector waits retryPeriod.getSeconds() for its threads on close, and warns at 0)
                LeaderElectionSettings election = LeaderElectionSettings.defaults("kube-system",
                        "podcidr-controller", "demo-controller").withDurations(Duration.ofSeconds(15),
                        Duration.ofSeconds(10), DEMO_RETRY_PERIOD);
                KubeClients clients = KubeClients.ofText(sim.kubeconfig(), config.qps(), config.burst());
                warmUp(clients);
                // the status page and /metrics, as a cluster's controller serves them
                WriteRates rates = new WriteRates();
                CollectorRegistry registry = new CollectorRegistry();
                ControllerRunner[] holder = new ControllerRunner[1];
                PrometheusMetrics prometheus = new PrometheusMetrics(registry, () -> holder[0]);
                ControllerRunner runner = new ControllerRunner(clients, config.settings(), election,
                        new TeeMetrics(metrics, prometheus, rates), () -> { });
                holder[0] = runner;
                StatusPage page = new StatusPage(() -> StatusSnapshot.capture(runner, election.identity(), true,
                        rates));
                try (HttpEndpoints endpoints = HttpEndpoints.start(config.status(), null, registry, () -> true,
                        () -> true, page)) {
                    String url = url(endpoints.metricsAddress()) + "/status";
                    out.println("demo: status page at " + url + (config.serve() ? "" : " while the demo runs (--serve"
                            + " keeps it)"));
                    return drive(sim, runner, metrics, populated - t0, url);
                } finally {
                    prometheus.close();
                }
            }
        }

        /** The base URL of a bound address, with 127.0.0.1 for the wildcard address. */
        private static String url(java.net.InetSocketAddress a) {
            java.net.InetAddress ip = a.getAddress();
            String host = ip == null || ip.isAnyLocalAddress() ? "127.0.0.1" : ip.getHostAddress();
            return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
        }

        /** Runs the controller until every node is done (or the timeout), with --serve until Ctrl-C; summarises. */
        private int drive(ApiServerSim sim, ControllerRunner runner, DemoMetrics metrics, long populateNanos,
                          String url) throws IOException, InterruptedException {
            long started = System.nanoTime();
            startedAt = started;
            long readyAt = 0;
            boolean converged = false;
            Progress progress = new Progress(out, Progress.isTerminal(), selected);
            long target = selected - preset;
            try {
                runner.start();
                long deadline = started + config.timeout().toNanos();
                while (System.nanoTime() < deadline) {
                    if (readyAt == 0 && runner.controller() != null && runner.controller().isReady()) {
                        readyAt = System.nanoTime();
                    }
                    long done = Math.min(selected, preset + metrics.nodesAssigned.get());
                    progress.update(done, metrics.taintsRemoved.get(), expectedTaints,
                            (System.nanoTime() - started) / 1_000_000);
                    if (metrics.nodesAssigned.get() >= target && metrics.taintsRemoved.get() >= expectedTaints
                            && unassigned(sim).isEmpty()) {
                        converged = true;
                        break;
                    }
                    Thread.sleep(metrics.nodesAssigned.get() >= target ? 200 : 50);
                }
                // the last count: the loop may have stopped right after a write that the line before did not show
                progress.update(Math.min(selected, preset + metrics.nodesAssigned.get()), metrics.taintsRemoved.get(),
                        expectedTaints, (System.nanoTime() - started) / 1_000_000);
                progress.finish();
                if (runner.controller() != null) {
                    poolStats = statsByGroup(runner.controller().ipam());
                    restoreReport = runner.controller().restoreReport();
                }
                if (config.serve()) {
                    long serving = System.nanoTime();
                    serve(sim, url, converged);
                    servedNanos = System.nanoTime() - serving;
                }
            } finally {
                closeStarted = System.nanoTime();
                runner.close();
            }
            long finished = System.nanoTime();
            List<String> missing = unassigned(sim);
            summary(sim, metrics, runner, missing, populateNanos, readyAt == 0 ? -1 : readyAt - started,
                    finished - started, converged);
            return missing.isEmpty() ? 0 : 1;
        }

        /** Keeps everything running until SIGINT (Ctrl-C) or SIGTERM. */
        private void serve(ApiServerSim sim, String url, boolean converged) throws InterruptedException {
            java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
            Signals.onTerminate(stop::countDown);
            out.printf("demo: %s; serving the status page at %s (JSON: %s.json, metrics: %s) and the embedded API"
                            + " server at %s until Ctrl-C; the summary follows%n",
                    converged ? "every node is done" : "not every node got its subnets", url, url,
                    url.substring(0, url.length() - "/status".length()) + "/metrics", sim.baseUrl());
            out.flush();
            stop.await();
            out.println("demo: stopping");
        }

        /**
         * Asks the server its version once, as kubectl does first. Besides checking the server answers, this loads
         * the client's classes before the elector's first try, which it abandons (with an error line) if it takes
         * longer than one retry period, as a cold start on a busy machine can.
         */
        private static void warmUp(KubeClients clients) throws IOException {
            try {
                new VersionApi(clients.create()).getCode().execute();
            } catch (ApiException e) {
                throw new IOException("the embedded API server does not answer: " + e.getMessage(), e);
            }
        }

        /** Creates the nodes: tainted ones spread evenly, a few with pod CIDRs, one holding a duplicate. */
        private void populate(ApiServerSim sim) {
            int n = config.nodes();
            NodeGenerator gen = new NodeGenerator(NODE_SEED);
            Map<Integer, List<String>> presets = presetCidrs(n, gen);
            List<TaintRule> rules = config.settings().removeTaints();
            V1Taint eni = new V1Taint().key(NodeGenerator.TKE_ENI_TAINT_KEY).effect("NoSchedule");
            boolean taintRemovable = rules.stream().anyMatch(r -> r.matches(eni));
            Map<String, Boolean> pair = new HashMap<>();
            for (int i = 0; i < n; i++) {
                // spread the tainted nodes evenly: node i is tainted when the running share crosses an integer
                boolean tainted = (long) (i + 1) * config.tainted() / n > (long) i * config.tainted() / n;
                List<String> cidrs = presets.getOrDefault(i, List.of());
                ObjectNode node = config.labelShare().node(gen, i, tainted, cidrs.toArray(String[]::new));
                sim.createNode(node);
                boolean isSelected = config.settings().groupOf(labels(node)) != null;
                if (isSelected) {
                    selected++;
                    if (!cidrs.isEmpty()) {
                        preset++;
                    }
                }
                if (tainted && taintRemovable) {
                    expectedTaints++;
                }
                if (i == duplicateIndex || i == duplicatedIndex) {
                    pair.put(node.at("/metadata/name").asText(), tainted && taintRemovable);
                }
            }
            if (pair.size() == 2) {
                // The controller keeps the subnet for the older node (then the first name) and fails closed on the
                // other, which keeps its taints.
                String loser = pair.keySet().stream().max(java.util.Comparator.comparing((String name) ->
                        sim.getNode(name).at("/metadata/creationTimestamp").asText()).thenComparing(name -> name))
                        .orElseThrow();
                if (pair.get(loser)) {
                    expectedTaints--;
                }
            }
        }

        /**
         * Pod CIDRs for a few nodes, each taken from its group's pools as the controller would hand them out (the
         * 4th of every 7 subnets, to spread them), plus a copy of the first one's on a later node of the same group.
         */
        private Map<Integer, List<String>> presetCidrs(int n, NodeGenerator gen) {
            Map<Integer, List<String>> out = new java.util.LinkedHashMap<>();
            if (n < 10) {
                return out;
            }
            NodeIpam scratch = config.settings().newIpam();
            int scratchNodes = 0;
            for (int k = 0; k < PRESET_NODES; k++) {
                int index = (k + 1) * n / (PRESET_NODES + 1);
                String group = groupOfIndex(gen, index);
                if (group == null) {
                    continue;
                }
                List<String> pick = null;
                try {
                    for (int j = 0; j < 7; j++) {
                        NodeAssignment a = scratch.assign("scratch-" + scratchNodes++, group);
                        if (j == 3) {
                            pick = a.podCidrs();
                        }
                    }
                } catch (PoolExhaustedException e) {
                    // a tiny pool: fewer presets
                }
                if (pick != null) {
                    out.put(index, pick);
                }
            }
            presetNodes = out.size();
            if (out.isEmpty()) {
                return out;
            }
            // the last node of the first preset node's group, not itself a preset one, claims that node's subnets
            Map.Entry<Integer, List<String>> first = out.entrySet().iterator().next();
            String group = groupOfIndex(gen, first.getKey());
            for (int i = n - 1; i > first.getKey() && i >= n - 1000; i--) {
                if (!out.containsKey(i) && group.equals(groupOfIndex(gen, i))) {
                    out.put(i, first.getValue());
                    duplicateIndex = i;
                    duplicatedIndex = first.getKey();
                    presetNodes++;
                    break;
                }
            }
            return out;
        }

        /** The group of node {@code i} by the labels the demo gives it, or null. */
        private String groupOfIndex(NodeGenerator gen, int i) {
            return config.settings().groupOf(labels(config.labelShare().node(gen, i, false)));
        }

        /**
         * Selected nodes (those of a group) without one pod CIDR per family of their group from their group's
         * ranges, from what the API server holds.
         */
        private List<String> unassigned(ApiServerSim sim) {
            List<String> missing = new ArrayList<>();
            for (ObjectNode n : sim.list(ResourceType.NODES, null)) {
                String group = config.settings().groupOf(labels(n));
                if (group != null && !complete(n, group)) {
                    missing.add(n.at("/metadata/name").asText());
                }
            }
            return missing;
        }

        /** Whether a node holds one pod CIDR per family of its group, each in its group's ranges. */
        private boolean complete(JsonNode node, String group) {
            List<IpFamily> expected = groupFamilies.get(group);
            JsonNode cidrs = node.at("/spec/podCIDRs");
            boolean ok = cidrs instanceof ArrayNode a && a.size() == expected.size();
            for (int i = 0; ok && i < expected.size(); i++) {
                String text = cidrs.get(i).asText();
                ok = Cidr.isValid(text) && Cidr.parse(text).family() == expected.get(i)
                        && ranges.groupOf(Cidr.parse(text)).filter(group::equals).isPresent();
            }
            return ok;
        }

        private Map<String, List<PoolStats>> statsByGroup(NodeIpam ipam) {
            Map<String, List<PoolStats>> out = new java.util.LinkedHashMap<>();
            for (io.github.podcidr.ipam.NodeGroup g : ipam.groups()) {
                out.put(g.name(), ipam.stats(g.name()));
            }
            return out;
        }

        private void summary(ApiServerSim sim, DemoMetrics m, ControllerRunner runner, List<String> missing,
                             long populateNanos, long readyNanos, long elapsedNanos, boolean converged) {
            long patches = sim.requests().count("patch", "nodes");
            out.println();
            out.println("Summary");
            row("nodes", String.format("%,d (%,d selected, %,d tainted, %d with pod CIDRs at start)", config.nodes(),
                    selected, config.tainted(), preset));
            StringBuilder subnets = new StringBuilder(String.format("IPv4 %,d", m.ipv4.get()));
            if (families.contains(IpFamily.IPV6)) {
                subnets.append(String.format(", IPv6 %,d", m.ipv6.get()));
            }
            row("subnets assigned", subnets + String.format(" (to %,d nodes)", m.nodesAssigned.get()));
            row("taints removed", String.format("%,d of %,d", m.taintsRemoved.get(), expectedTaints));
            List<String> problems = new ArrayList<>();
            if (restoreReport != null) {
                for (NodeReport r : restoreReport.problems()) {
                    for (NodeReport.Finding f : r.findings()) {
                        if (problems.size() >= 6) {
                            break;
                        }
                        problems.add(f.kind() == NodeReport.Kind.DUPLICATE
                                ? "duplicate " + f.value() + ": " + r.node() + " claims the subnet of " + f.holder()
                                        + " and keeps its taints"
                                : r.node() + ": " + f.kind().token() + " " + f.value());
                    }
                }
            }
            int nodes = restoreReport == null ? 0 : restoreReport.problems().size();
            row("conflicts found", String.format("%d node%s with conflicting pod CIDRs%s (events and"
                            + " podcidr_cidr_conflicts_total: %s)", nodes, nodes == 1 ? "" : "s",
                    problems.isEmpty() ? "" : ": " + String.join("; ", problems), m.conflicts()));
            if (!m.writeFailures().isEmpty()) {
                row("write failures", m.writeFailures().toString());
            }
            row("API writes", String.format("%,d node patches, %.3f per node; %,d requests in all %s", patches,
                    (double) patches / config.nodes(), sim.requests().total(), sim.requests().snapshot()));
            row("elapsed", String.format("%.2f s from start to every node done (ready after %s), %.2f s graceful"
                            + " stop, %.2f s creating the nodes", (closeStarted - startedAt - servedNanos) / 1e9,
                    readyNanos < 0 ? "never" : String.format("%.2f s", readyNanos / 1e9),
                    (elapsedNanos - (closeStarted - startedAt)) / 1e9, populateNanos / 1e9));
            boolean grouped = config.settings().hasNodeGroups();
            Map<String, int[]> nodesByGroup = new java.util.LinkedHashMap<>();
            groupFamilies.keySet().forEach(g -> nodesByGroup.put(g, new int[2]));
            if (grouped) {
                for (ObjectNode n : sim.list(ResourceType.NODES, null)) {
                    String group = config.settings().groupOf(labels(n));
                    if (group != null) {
                        int[] c = nodesByGroup.get(group);
                        c[0]++;
                        c[1] += complete(n, group) ? 1 : 0;
                    }
                }
            }
            (poolStats != null ? poolStats : usage(sim)).forEach((group, stats) -> {
                if (grouped) {
                    int[] c = nodesByGroup.get(group);
                    row("group " + group, String.format("%,d nodes, %,d with one pod CIDR per family from the"
                            + " group's ranges", c[0], c[1]));
                }
                for (PoolStats s : stats) {
                    row("pool usage", String.format("%s%s /%d: %,d of %,d subnets used (%.1f%%), %,d free, %,d"
                                    + " reserved", grouped ? group + " " : "", s.cluster(), s.nodePrefixLength(),
                            s.allocated(), s.capacity(), 100.0 * s.allocated() / s.capacity(), s.free(),
                            s.reserved()));
                }
            });
            String lease = leaseHolder(sim);
            row("lease", "kube-system/podcidr-controller holder after stop: "
                    + (lease.isEmpty() ? "none (released)" : lease));
            if (missing.isEmpty()) {
                row("result", config.settings().hasNodeGroups()
                        ? "OK: every node of a group has one pod CIDR per family of its group, from the group's ranges"
                        : "OK: every selected node has one pod CIDR per family");
            } else {
                row("result", String.format("FAILED: %,d selected nodes lack pod CIDRs%s, e.g. %s", missing.size(),
                        converged ? "" : " after " + GoDuration.format(config.timeout()),
                        missing.subList(0, Math.min(5, missing.size()))));
            }
        }

        /** Pool usage as the API server holds it (the controller's own view is gone once it stopped). */
        private Map<String, List<PoolStats>> usage(ApiServerSim sim) {
            NodeIpam ipam = config.settings().newIpam();
            for (ObjectNode n : sim.list(ResourceType.NODES, null)) {
                List<String> cidrs = new ArrayList<>();
                n.at("/spec/podCIDRs").forEach(c -> cidrs.add(c.asText()));
                String group = config.settings().groupOf(labels(n));
                if (group != null) {
                    ipam.adopt(n.at("/metadata/name").asText(), group, cidrs);
                }
            }
            return statsByGroup(ipam);
        }

        private static String leaseHolder(ApiServerSim sim) {
            ObjectNode lease = sim.get(ResourceType.LEASES, "kube-system", "podcidr-controller");
            return lease == null ? "" : lease.at("/spec/holderIdentity").asText("");
        }

        private void row(String name, String value) {
            out.printf("  %-18s %s%n", name, value);
        }

        /** The named groups and the labelled nodes, or nothing without named groups. */
        private String describeGroups() {
            if (!config.settings().hasNodeGroups()) {
                return "";
            }
            StringBuilder b = new StringBuilder();
            for (NodeGroupSettings g : config.settings().nodeGroups()) {
                b.append("; group ").append(g.name());
                for (io.github.podcidr.ipam.NodeGroup.Pool p : g.group().pools()) {
                    b.append(' ').append(p.cluster()).append(" /").append(p.nodePrefixLength());
                }
                if (!g.group().reserved().isEmpty()) {
                    b.append(", reserved ").append(g.group().reserved());
                }
            }
            LabelShare l = config.labelShare();
            if (l.share() > 0) {
                b.append(String.format("; %,d nodes labelled %s=%s", l.count(config.nodes()), l.key(), l.value()));
            }
            return b.toString();
        }

        private static String describe(ClusterRanges r) {
            List<String> parts = new ArrayList<>();
            for (Cidr c : r.cluster()) {
                parts.add(c + " /" + r.maskOf(c));
            }
            return String.join(", ", parts) + (r.reserved().isEmpty() ? "" : ", reserved " + r.reserved());
        }
    }
}
