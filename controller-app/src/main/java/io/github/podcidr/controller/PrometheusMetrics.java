package io.github.podcidr.controller;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.k8s.ControllerMetrics;
import io.github.podcidr.k8s.ControllerRunner;
import io.github.podcidr.k8s.PodCidrController;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.Histogram;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The controller's Prometheus metrics: counters fed by the controller through {@link ControllerMetrics}, and gauges
 * read from the runner when scraped (pool usage per cluster range, queue depth, nodes waiting for room, leadership).
 * Everything is registered in one registry, which {@link #close()} leaves as it found it.
 *
 * <pre>
 * podcidr_subnets_assigned_total{family}    podcidr_subnets_released_total{family}
 * podcidr_taints_removed_total              podcidr_write_failures_total{reason}
 * podcidr_pool_exhausted_total              podcidr_cidr_conflicts_total{kind}
 * podcidr_group_exhausted_total{group}      (with node groups, --pools-file; one series per configured group)
 * podcidr_reconcile_duration_seconds{outcome} (histogram)
 * podcidr_watch_event_delivery_seconds      (histogram: a node watch event read off the connection -> the informer's
 *     handler, which queues the node's name)
 * podcidr_intent_journal_wait_seconds       (histogram: a pod CIDR write waiting for its intent's Lease update)
 * podcidr_protobuf_decode_fallbacks_total   (0, or 1 once node lists and watches asked for JSON instead)
 * podcidr_pool_capacity_subnets{cidr,family,node_mask} and _allocated_, _reserved_, _free_ likewise; with node
 *     groups they carry a group label too ({group="default"} for --cluster-cidr's ranges)
 * podcidr_queue_depth  podcidr_nodes_waiting_for_room  podcidr_nodes_failing_closed  podcidr_leader  podcidr_ready
 * podcidr_nodes_with_pod_cidr_problem{kind}  podcidr_build_info{version}
 * workqueue_depth{name}  workqueue_adds_total{name}  workqueue_retries_total{name}   (client-go's names,
 * workqueue_queue_duration_seconds{name}  workqueue_work_duration_seconds{name}       name="podcidr")
 * </pre>
 */
final class PrometheusMetrics implements ControllerMetrics, AutoCloseable {
    /** The {@code name} label of the work-queue metrics. */
    static final String QUEUE = "podcidr";
    private final CollectorRegistry registry;
    private final List<Collector> registered = new ArrayList<>();
    private final Counter assigned;
    private final Counter released;
    private final Counter taintsRemoved;
    private final Counter writeFailures;
    private final Counter exhausted;
    private final Counter groupExhausted;
    private final Counter conflicts;
    private final Histogram reconcile;
    private final Histogram watchDelivery;
    private final Histogram journalWait;
    private final Counter protobufFallbacks;
    private final Counter queueAdds;
    private final Counter queueRetries;
    private final Histogram queueDuration;
    private final Histogram workDuration;

    PrometheusMetrics(CollectorRegistry registry, Supplier<ControllerRunner> runner) {
        this.registry = registry;
        assigned = add(Counter.build("podcidr_subnets_assigned_total",
                "Subnets written to nodes (or, in dry-run, that would have been).").labelNames("family").create());
        released = add(Counter.build("podcidr_subnets_released_total",
                "Subnets freed because their node was deleted.").labelNames("family").create());
        taintsRemoved = add(Counter.build("podcidr_taints_removed_total", "Taints removed from nodes.").create());
        writeFailures = add(Counter.build("podcidr_write_failures_total",
                "Node writes that failed, by reason (conflict, invalid, not_found, unavailable, rejected).")
                .labelNames("reason").create());
        exhausted = add(Counter.build("podcidr_pool_exhausted_total",
                "Times a node found every pool of a family full.").create());
        groupExhausted = add(Counter.build("podcidr_group_exhausted_total",
                "Times a node of a node group found every pool of a family of its group full.").labelNames("group")
                .create());
        conflicts = add(Counter.build("podcidr_cidr_conflicts_total",
                "Problems found with nodes' existing pod CIDRs (duplicate, outside_pools, misaligned, malformed,"
                        + " missing_family, in_other_group, ...).").labelNames("kind").create());
        reconcile = add(Histogram.build("podcidr_reconcile_duration_seconds",
                        "Time of one reconcile of one node, by outcome (done, requeue, error).")
                .labelNames("outcome")
                .buckets(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
                .create());
        watchDelivery = add(Histogram.build("podcidr_watch_event_delivery_seconds",
                        "Time from a node watch event read off the connection (decoded) to the informer's handler,"
                                + " which queues the node's name when anything reconcile reads changed.")
                .buckets(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                        5, 10)
                .create());
        journalWait = add(Histogram.build("podcidr_intent_journal_wait_seconds",
                        "Time a pod CIDR write waited for its intent to be stored in the intent journal's Lease"
                                + " before it was sent (one update shared by the writes that arrive meanwhile).")
                .buckets(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
                .create());
        protobufFallbacks = add(Counter.build("podcidr_protobuf_decode_fallbacks_total",
                "Times node lists and watches stopped asking for protobuf because its answers failed to decode"
                        + " several times in a row (JSON is asked for until the process restarts).").create());
        // client-go's work-queue metrics, same names, label and buckets (1e-8 s to 10 s, factor 10)
        double[] buckets = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
        queueAdds = add(Counter.build("workqueue_adds_total", "Total number of adds handled by workqueue")
                .labelNames("name").create());
        queueRetries = add(Counter.build("workqueue_retries_total", "Total number of retries handled by workqueue")
                .labelNames("name").create());
        queueDuration = add(Histogram.build("workqueue_queue_duration_seconds",
                "How long in seconds an item stays in workqueue before being requested (items added without"
                        + " delay).").labelNames("name").buckets(buckets).create());
        workDuration = add(Histogram.build("workqueue_work_duration_seconds",
                "How long in seconds processing an item from workqueue takes.").labelNames("name").buckets(buckets)
                .create());
        add(new Gauges(runner));
    }

    private <C extends Collector> C add(C collector) {
        registry.register(collector);
        registered.add(collector);
        return collector;
    }

    private static String family(Cidr c) {
        return c.family() == IpFamily.IPV4 ? "ipv4" : "ipv6";
    }

    @Override
    public void assigned(String node, List<Cidr> cidrs) {
        cidrs.forEach(c -> assigned.labels(family(c)).inc());
    }

    @Override
    public void released(String node, List<Cidr> cidrs) {
        cidrs.forEach(c -> released.labels(family(c)).inc());
    }

    @Override
    public void taintsRemoved(String node, int count) {
        taintsRemoved.inc(count);
    }

    @Override
    public void writeFailed(String reason) {
        writeFailures.labels(reason).inc();
    }

    @Override
    public void exhausted(String node) {
        exhausted.inc();
    }

    @Override
    public void exhausted(String node, String group) {
        exhausted.inc();
        groupExhausted.labels(group).inc();
    }

    @Override
    public void conflict(String kind) {
        conflicts.labels(kind).inc();
    }

    @Override
    public void reconciled(String outcome, long nanos) {
        reconcile.labels(outcome).observe(nanos / 1e9);
        workDuration.labels(QUEUE).observe(nanos / 1e9);
    }

    @Override
    public void watchEventDelivered(long nanos) {
        watchDelivery.observe(nanos / 1e9);
    }

    @Override
    public void intentJournalWaited(long nanos) {
        journalWait.observe(nanos / 1e9);
    }

    @Override
    public void protobufFallback() {
        protobufFallbacks.inc();
    }

    @Override
    public void queueAdded() {
        queueAdds.labels(QUEUE).inc();
    }

    @Override
    public void queueRetried() {
        queueRetries.labels(QUEUE).inc();
    }

    @Override
    public void queueWaited(long nanos) {
        queueDuration.labels(QUEUE).observe(nanos / 1e9);
    }

    /** Unregisters everything this object registered. */
    @Override
    public void close() {
        registered.forEach(registry::unregister);
        registered.clear();
    }

    /** Gauges computed at scrape time from the runner and the controller of the current term. */
    private static final class Gauges extends Collector {
        private final Supplier<ControllerRunner> runner;

        Gauges(Supplier<ControllerRunner> runner) {
            this.runner = runner;
        }

        @Override
        public List<MetricFamilySamples> collect() {
            ControllerRunner r = runner.get();
            PodCidrController c = r == null ? null : r.controller();
            List<io.github.podcidr.ipam.NodeGroup> groups = c != null && c.isReady() ? c.ipam().groups() : List.of();
            // With node groups, every pool series says its group; without, the label set stays as it always was.
            boolean grouped = groups.size() > 1
                    || groups.size() == 1 && !groups.get(0).name().equals(io.github.podcidr.ipam.NodeIpam.DEFAULT_GROUP);
            List<String> labels = grouped ? List.of("cidr", "family", "node_mask", "group")
                    : List.of("cidr", "family", "node_mask");
            GaugeMetricFamily capacity = new GaugeMetricFamily("podcidr_pool_capacity_subnets",
                    "Node subnets in the cluster range.", labels);
            GaugeMetricFamily allocated = new GaugeMetricFamily("podcidr_pool_allocated_subnets",
                    "Node subnets of the cluster range held by nodes.", labels);
            GaugeMetricFamily reserved = new GaugeMetricFamily("podcidr_pool_reserved_subnets",
                    "Node subnets of the cluster range never handed out (reserved ranges).", labels);
            GaugeMetricFamily free = new GaugeMetricFamily("podcidr_pool_free_subnets",
                    "Node subnets of the cluster range left to hand out.", labels);
            for (io.github.podcidr.ipam.NodeGroup g : groups) {
                for (PoolStats s : c.ipam().stats(g.name())) {
                    List<String> values = new ArrayList<>(List.of(s.cluster().toString(),
                            s.family().toString().toLowerCase(Locale.ROOT), String.valueOf(s.nodePrefixLength())));
                    if (grouped) {
                        values.add(g.name());
                    }
                    capacity.addMetric(values, s.capacity());
                    allocated.addMetric(values, s.allocated());
                    reserved.addMetric(values, s.reserved());
                    free.addMetric(values, s.free());
                }
            }
            List<MetricFamilySamples> out = new ArrayList<>(List.of(capacity, allocated, reserved, free));
            out.add(new GaugeMetricFamily("podcidr_queue_depth", "Node names waiting in the work queue.",
                    c == null ? 0 : c.status().queueDepth()));
            GaugeMetricFamily depth = new GaugeMetricFamily("workqueue_depth", "Current depth of workqueue",
                    List.of("name"));
            depth.addMetric(List.of(QUEUE), c == null ? 0 : c.status().queueDepth());
            out.add(depth);
            out.add(new GaugeMetricFamily("podcidr_nodes_waiting_for_room",
                    "Nodes that found every pool of some family full.", c == null ? 0 : c.status().waitingForRoom()));
            out.add(new GaugeMetricFamily("podcidr_nodes_failing_closed", "Nodes whose pod CIDR is another node's,"
                    + " outside every cluster CIDR or unreadable: they keep their taints.",
                    c == null ? 0 : c.status().failingClosed()));
            GaugeMetricFamily byFinding = new GaugeMetricFamily("podcidr_nodes_with_pod_cidr_problem",
                    "Nodes by kind of problem found on their pod CIDRs (bounded: one series per kind).",
                    List.of("kind"));
            java.util.Map<io.github.podcidr.ipam.NodeReport.Kind, Integer> found =
                    c == null ? java.util.Map.of() : c.status().nodesByFinding();
            for (io.github.podcidr.ipam.NodeReport.Kind kind : io.github.podcidr.ipam.NodeReport.Kind.values()) {
                byFinding.addMetric(List.of(kind.token()), found.getOrDefault(kind, 0));
            }
            out.add(byFinding);
            out.add(new GaugeMetricFamily("podcidr_leader", "1 while this replica leads, else 0.",
                    r != null && r.isLeader() ? 1 : 0));
            GaugeMetricFamily build = new GaugeMetricFamily("podcidr_build_info",
                    "Always 1; the version label says which build runs.", List.of("version"));
            build.addMetric(List.of(Version.current()), 1);
            out.add(build);
            out.add(new GaugeMetricFamily("podcidr_ready", "1 while /readyz answers ok, else 0.",
                    r != null && r.isReady() ? 1 : 0));
            return out;
        }
    }
}
