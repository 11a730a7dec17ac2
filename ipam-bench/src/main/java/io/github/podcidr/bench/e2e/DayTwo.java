package io.github.podcidr.bench.e2e;

import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * A cluster's daily life for {@link RealScaleRun}'s modes {@code steady} and {@code burst}: N nodes that already hold
 * their pod CIDRs, kubelet-like traffic on them ({@link KubeletTraffic}, the same for every contender), the
 * contender started and found working (a probe node created after its start has received a pod CIDR), then a settle
 * period, then:
 * <ul>
 *   <li><b>steady</b>: a window (default 5 minutes) in which nothing but the traffic happens: the contender's CPU
 *       seconds per minute ({@code /proc/PID/stat}), its RSS at the end ({@code VmRSS}), kube-apiserver's and etcd's
 *       CPU per minute, and the API requests of every client but the traffic and this run, by user agent, verb,
 *       resource and code (the started control plane's audit log). The capacity contender runs nothing: its row is
 *       the server under the traffic alone;</li>
 *   <li><b>burst</b>: K new nodes (default 1,000) created at once by 8 parallel clients ({@link NodeBurst}); the
 *       time until all K have a pod CIDR and each node's wait from its POST's answer to the watch event carrying its
 *       CIDR (p50, p99, max). The capacity client patches each node as soon as its POST is answered (16 threads).
 *       For ours, its own /metrics before and after the burst give where the time went.</li>
 * </ul>
 */
final class DayTwo {
    private static final RealScaleRun.Limit NO_LIMIT = RealScaleRun.Limit.parse("none");

    private DayTwo() {
    }

    static RealScaleRun.Steady steady(RealScaleRun.Config cfg, String contender, int nodes, int rep, Duration window)
            throws Exception {
        System.out.printf(Locale.ROOT, "%s steady %s nodes=%d rep=%d: starting%n", Instant.now(), contender, nodes,
                rep);
        try (RealCluster cluster = cfg.cluster()) {
            NodeLoader loader = new NodeLoader(cluster);
            loader.loadAssigned(nodes, 32);
            KubeletTraffic traffic = cfg.traffic().start(cluster, nodes);
            RealScaleRun.Child child = null;
            try (NodeWatch watch = NodeWatch.start(cluster, cluster.nodesResourceVersion())) {
                child = startAndProbe(cfg, contender, cluster, loader, watch, nodes, "steady-" + nodes + "-" + rep);
                Thread.sleep(cfg.settle().toMillis());
                double cpu0 = child == null ? 0 : child.cpuSeconds();
                long server0 = RealScaleRun.serverCpuNanos(cluster);
                int mark = cluster.requestMark();
                cluster.resetSimCounts();
                KubeletTraffic.Counts tc0 = traffic == null ? null : traffic.counts();
                long t0 = System.nanoTime();
                Thread.sleep(window.toMillis());
                double seconds = (System.nanoTime() - t0) / 1e9;
                double cpu = child == null ? Double.NaN : child.cpuSeconds() - cpu0;
                long rss = child == null ? -1 : E2eSupport.rss(child.pid());
                double server = (RealScaleRun.serverCpuNanos(cluster) - server0) / 1e9;
                String achieved = traffic == null ? "traffic off" : traffic.describe(tc0, traffic.counts());
                // null: not measured (a cluster given by kubeconfig has no audit log here)
                Map<String, Long> requests = cluster.owned() || cluster.simulated() ? new TreeMap<>() : null;
                cluster.requestsByAgentSince(mark).forEach((k, v) -> {
                    if (!k.startsWith(KubeletTraffic.USER_AGENT + " ") && !k.startsWith("Java-http-client ")
                            && !k.startsWith("kube-apiserver ")) { // the traffic, this run, the server itself
                        requests.put(k, v);
                    }
                });
                if (child != null && !child.alive()) {
                    throw new IllegalStateException(contender + " exited during the steady window; see its log in "
                            + cfg.logDir());
                }
                return new RealScaleRun.Steady(contender, nodes, rep, cfg.traffic().label(), seconds,
                        cpu / seconds * 60, rss, cluster.owned() ? server / seconds * 60 : Double.NaN, requests,
                        achieved);
            } finally {
                if (child != null) {
                    child.kill(cfg);
                }
                if (traffic != null) {
                    traffic.close();
                }
            }
        }
    }

    static RealScaleRun.Burst burst(RealScaleRun.Config cfg, String contender, int nodes, int count, int clients,
                                    int rep) throws Exception {
        System.out.printf(Locale.ROOT, "%s burst %s nodes=%d burst=%d rep=%d: starting%n", Instant.now(), contender,
                nodes, count, rep);
        try (RealCluster cluster = cfg.cluster()) {
            NodeLoader loader = new NodeLoader(cluster);
            loader.loadAssigned(nodes, 32);
            KubeletTraffic traffic = cfg.traffic().start(cluster, nodes);
            RealScaleRun.Child child = null;
            List<Thread> patchers = new ArrayList<>();
            try (NodeWatch watch = NodeWatch.start(cluster, cluster.nodesResourceVersion())) {
                child = startAndProbe(cfg, contender, cluster, loader, watch, nodes, "burst-" + nodes + "-" + rep);
                Thread.sleep(cfg.settle().toMillis());
                HttpClient local = HttpClient.newHttpClient();
                Map<String, Double> before = child != null && child.metricsPort() > 0
                        ? E2eSupport.scrape(local, child.metricsPort()) : null;
                KubeletTraffic.Counts tc0 = traffic == null ? null : traffic.counts();
                double cpu0 = child == null ? Double.NaN : child.cpuSeconds();
                long server0 = RealScaleRun.serverCpuNanos(cluster);
                LinkedBlockingQueue<NodeLoader.Created> toPatch = new LinkedBlockingQueue<>();
                if (contender.startsWith("capacity")) {
                    CapacityClient capacity = new CapacityClient(cluster, cfg.workers(), -1, 30,
                            contender.contains("+json") ? null : CapacityClient.ACCEPT);
                    AtomicInteger cidr = new AtomicInteger(nodes + 1 + count); // past every node of this phase
                    for (int w = 0; w < cfg.workers(); w++) {
                        Thread t = new Thread(() -> {
                            try {
                                while (true) {
                                    capacity.send(toPatch.take(), CapacityClient.podCidr(cidr.getAndIncrement()));
                                }
                            } catch (InterruptedException stop) {
                                // the burst is over
                            }
                        }, "capacity-" + w);
                        t.setDaemon(true);
                        t.start();
                        patchers.add(t);
                    }
                }
                NodeBurst.Created created = NodeBurst.create(cluster, loader, nodes + 1, count, clients,
                        contender.startsWith("capacity") ? toPatch::add : n -> { });
                long deadline = System.nanoTime() + cfg.timeout().toNanos();
                RealScaleRun.Child c = child;
                while (!NodeBurst.allAssigned(created, watch)) {
                    if (c != null && !c.alive()) {
                        throw new IllegalStateException(contender + " exited during the burst; see its log in "
                                + cfg.logDir());
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("timed out waiting for the burst's pod CIDRs (" + contender
                                + ")");
                    }
                    Thread.sleep(10);
                }
                NodeBurst.Latency latency = NodeBurst.latency(created, watch);
                String breakdown = before == null ? "" : breakdown(before, E2eSupport.scrape(local,
                        child.metricsPort()), latency);
                String achieved = (traffic == null ? "traffic off" : traffic.describe(tc0, traffic.counts()))
                        + String.format(Locale.ROOT, " cpu_s: contender=%.2f server=%.2f",
                        child == null ? Double.NaN : child.cpuSeconds() - cpu0, cluster.owned()
                                ? (RealScaleRun.serverCpuNanos(cluster) - server0) / 1e9 : Double.NaN);
                return new RealScaleRun.Burst(contender, nodes, rep, cfg.traffic().label(), latency, breakdown,
                        achieved);
            } finally {
                patchers.forEach(Thread::interrupt);
                if (child != null) {
                    child.kill(cfg);
                }
                if (traffic != null) {
                    traffic.close();
                }
            }
        }
    }

    /**
     * Starts the contender (none for capacity), creates node {@code probe} without pod CIDR and waits until it has
     * one: the contender has listed the cluster and writes.
     */
    private static RealScaleRun.Child startAndProbe(RealScaleRun.Config cfg, String contender, RealCluster cluster,
                                                    NodeLoader loader, NodeWatch watch, int probe, String tag)
            throws Exception {
        if (contender.startsWith("capacity")) {
            return null;
        }
        long t0 = System.nanoTime();
        RealScaleRun.Child child = RealScaleRun.Child.start(cfg, cfg.bin(), contender, cluster, NO_LIMIT,
                contender.replaceAll("[^A-Za-z0-9.-]", "_") + "-" + tag, t0);
        try {
            NodeLoader.Created p = loader.create(probe);
            watch.awaitNode(p.name(), t0 + cfg.timeout().toNanos(), child::alive, contender + ", probe node "
                    + p.name());
            System.out.printf(Locale.ROOT, "  %s: probe node assigned %.2f s after start%n", contender,
                    (watch.assignedAt(p.name()) - t0) / 1e9);
            return child;
        } catch (Exception | Error e) {
            child.kill(cfg);
            throw e;
        }
    }

    /** Sum and count of one histogram over the series whose labels contain {@code labels}, after minus before. */
    private static double[] delta(Map<String, Double> before, Map<String, Double> after, String metric,
                                  String labels) {
        double[] out = new double[2];
        after.forEach((k, v) -> {
            int which = k.startsWith(metric + "_sum") ? 0 : k.startsWith(metric + "_count") ? 1 : -1;
            if (which >= 0 && Arrays.stream(labels.split(",")).allMatch(k::contains)) { // labels in any order
                out[which] += v - before.getOrDefault(k, 0.0);
            }
        });
        return out;
    }

    /**
     * Where ours' time went during the burst, from its own histograms (the delta over the burst): the queue wait of
     * a node name, the work on it (the reconcile, its PATCH included), the wait for the intent journal's Lease
     * update before the PATCH (with the round trip of every Lease update, the elector's renewals included), and the
     * PATCH's round trip as its client saw it; and the delivery of each watch event from the connection to the
     * informer's handler, which queues the name (every event, the kubelet traffic's heartbeats included). Counts are passes, not nodes: each new node is
     * queued at least twice (its ADDED event, then the MODIFIED event of its own patch, a pass without a write). What
     * no histogram of ours covers is the rest of a node's wait: the server's POST → watch event to ours (on the
     * wire, up to decoding), and the server's patch → watch event to this run.
     */
    static String breakdown(Map<String, Double> before, Map<String, Double> after, NodeBurst.Latency latency) {
        double[] delivery = delta(before, after, "podcidr_watch_event_delivery_seconds", "");
        double[] queue = delta(before, after, "workqueue_queue_duration_seconds", "name=\"podcidr\"");
        double[] work = delta(before, after, "workqueue_work_duration_seconds", "name=\"podcidr\"");
        double[] reconcile = delta(before, after, "podcidr_reconcile_duration_seconds", "");
        double[] journal = delta(before, after, "podcidr_intent_journal_wait_seconds", "");
        double[] lease = delta(before, after, "podcidr_api_request_duration_seconds",
                "verb=\"update\",resource=\"leases\"");
        double[] patch = delta(before, after, "podcidr_api_request_duration_seconds",
                "verb=\"patch\",resource=\"nodes\"");
        StringBuilder sb = new StringBuilder();
        stage(sb, "event_to_handler", delivery);
        stage(sb, "queue_wait", queue);
        stage(sb, "work", work);
        stage(sb, "reconcile", reconcile);
        stage(sb, "journal_wait", journal);
        stage(sb, "lease_update_rtt", lease);
        stage(sb, "patch_rtt", patch);
        after.forEach((k, v) -> { // the requests ours made during the burst, by verb, resource and code
            double d = v - before.getOrDefault(k, 0.0);
            if (k.startsWith("podcidr_api_requests_total{") && d > 0) {
                sb.append(' ').append(k.substring("podcidr_api_requests_total".length()).replace("\"", ""))
                        .append('=').append(Math.round(d));
            }
        });
        int nodes = Math.max(1, latency.nodes());
        double firstPassQueue = queue[0] / nodes; // every pass's wait summed, per new node: an upper bound
        sb.append(String.format(Locale.ROOT, " per_node_ms: queue_wait<=%.1f work<=%.1f patch_rtt=%.1f",
                firstPassQueue * 1e3, work[0] / nodes * 1e3, patch[1] == 0 ? Double.NaN : patch[0] / patch[1] * 1e3));
        return sb.toString().trim();
    }

    private static void stage(StringBuilder sb, String name, double[] sumCount) {
        sb.append(String.format(Locale.ROOT, " %s_n=%.0f %s_mean_ms=%.2f", name, sumCount[1], name,
                sumCount[1] == 0 ? Double.NaN : sumCount[0] / sumCount[1] * 1e3));
    }

    static String describe(RealScaleRun.Steady r) {
        return String.format(Locale.ROOT, "steady %s nodes=%d rep=%d traffic=%s window_s=%.0f cpu_s_per_min=%.2f"
                        + " rss_mib=%.0f server_cpu_s_per_min=%.1f requests=%s %s", r.contender(), r.nodes(), r.rep(),
                r.traffic(), r.windowSeconds(), r.cpuPerMinute(), r.rssBytes() / 1048576.0, r.serverCpuPerMinute(),
                r.requests(), r.trafficAchieved());
    }

    static String describe(RealScaleRun.Burst r) {
        return String.format(Locale.ROOT, "burst %s nodes=%d rep=%d traffic=%s %s %s%s", r.contender(), r.nodes(),
                r.rep(), r.traffic(), r.latency().describe(), r.trafficAchieved(),
                r.breakdown().isEmpty() ? "" : " breakdown: " + r.breakdown());
    }

    static String steadyTable(List<RealScaleRun.Steady> rows) {
        Map<String, List<RealScaleRun.Steady>> groups = rows.stream().collect(Collectors.groupingBy(
                r -> r.nodes() + "|" + r.contender(), LinkedHashMap::new, Collectors.toList()));
        StringBuilder sb = new StringBuilder("| nodes | traffic | contender | runs | CPU s per minute (median; each)"
                + " | % of one core | RSS at the end | apiserver+etcd CPU s per minute | requests in the window"
                + " (agent verb resource code: count, all runs) |\n|---:|---|---|---:|---|---:|---:|---:|---|\n");
        for (List<RealScaleRun.Steady> g : groups.values()) {
            RealScaleRun.Steady first = g.get(0);
            double cpu = median(g, RealScaleRun.Steady::cpuPerMinute);
            Map<String, Long> requests = new TreeMap<>();
            boolean measured = g.stream().allMatch(r -> r.requests() != null);
            g.stream().filter(r -> r.requests() != null)
                    .forEach(r -> r.requests().forEach((k, v) -> requests.merge(k, v, Long::sum)));
            sb.append(String.format(Locale.ROOT, "| %,d | %s | %s | %d | **%s** (%s) | %s | %s | %s | %s |%n",
                    first.nodes(), first.traffic(), first.contender().startsWith("capacity") ? "none (traffic only)"
                            : first.contender(), g.size(), RealScaleRun.fmt("%.2f", cpu),
                    each(g, RealScaleRun.Steady::cpuPerMinute), RealScaleRun.fmt("%.2f %%", cpu / 60 * 100),
                    RealScaleRun.mib(g.stream().mapToLong(RealScaleRun.Steady::rssBytes).max().orElse(-1)),
                    RealScaleRun.fmt("%.1f", median(g, RealScaleRun.Steady::serverCpuPerMinute)),
                    !measured ? "not measured (no audit log: --kubeconfig)" : requests.isEmpty() ? "none"
                            : requests.entrySet().stream().map(e -> e.getKey() + ": "
                            + e.getValue()).collect(Collectors.joining(", "))));
        }
        return sb.toString();
    }

    static String burstTable(List<RealScaleRun.Burst> rows) {
        Map<String, List<RealScaleRun.Burst>> groups = rows.stream().collect(Collectors.groupingBy(
                r -> r.nodes() + "|" + r.contender(), LinkedHashMap::new, Collectors.toList()));
        StringBuilder sb = new StringBuilder("| nodes | new nodes | traffic | contender | runs | all assigned s"
                + " (median; each) | p50 s | p99 s | max s |\n|---:|---:|---|---|---:|---|---:|---:|---:|\n");
        for (List<RealScaleRun.Burst> g : groups.values()) {
            RealScaleRun.Burst first = g.get(0);
            sb.append(String.format(Locale.ROOT, "| %,d | %,d | %s | %s | %d | **%s** (%s) | %s | %s | %s |%n",
                    first.nodes(), first.latency().nodes(), first.traffic(), first.contender(), g.size(),
                    RealScaleRun.fmt("%.2f", median(g, r -> r.latency().allSeconds())),
                    each(g, r -> r.latency().allSeconds()),
                    RealScaleRun.fmt("%.3f", median(g, r -> r.latency().p50())),
                    RealScaleRun.fmt("%.3f", median(g, r -> r.latency().p99())),
                    RealScaleRun.fmt("%.3f", median(g, r -> r.latency().max()))));
        }
        return sb.toString();
    }

    private static <T> double median(List<T> g, ToDoubleFunction<T> f) {
        return RealScaleRun.median(g.stream().mapToDouble(f).toArray());
    }

    private static <T> String each(List<T> g, ToDoubleFunction<T> f) {
        return g.stream().map(r -> RealScaleRun.fmt("%.2f", f.applyAsDouble(r))).collect(Collectors.joining(", "));
    }
}
