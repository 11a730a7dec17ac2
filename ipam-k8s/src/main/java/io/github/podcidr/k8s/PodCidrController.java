package io.github.podcidr.k8s;

import io.github.podcidr.ipam.ExistingNode;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.ipam.RestoreReport;
import io.kubernetes.client.extended.event.legacy.LegacyEventBroadcaster;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1EventSource;
import io.kubernetes.client.openapi.models.V1Node;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pod CIDR controller for one leader term: a {@link NodeCache}, the restore of every existing node's pod CIDRs,
 * then a {@link WorkLoop} of node names that {@linkplain PodCidrReconciler reconciles} each node.
 *
 * <pre>{@code
 * PodCidrController c = new PodCidrController(clients, settings, ControllerMetrics.NONE, WriteFence.OPEN);
 * c.start();            // returns once restored and working; isReady() is then true
 * c.status().queueDepth();
 * c.close();            // stops taking work, lets in-flight writes finish
 * }</pre>
 *
 * <p>Startup order: node cache synced, then {@code NodeIpam.restore} of every cached node (oldest first, including
 * nodes outside the selection, and never failing on a malformed pod CIDR), then every node is queued and the
 * workers start. A node's subnets are released only when the node cache no longer has the node.
 */
public final class PodCidrController implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PodCidrController.class);

    private final ApiClientFactory clients;
    private final ControllerSettings settings;
    private final ControllerMetrics metrics;
    private final WriteFence fence;
    private final NodeIpam ipam;
    private final WorkLoop<String> loop;
    private final ControllerStatus status = new ControllerStatus(this);
    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile NodeCache cache;
    private volatile ProblemLedger problems;
    private LegacyEventBroadcaster broadcaster;
    private PodCidrReconciler reconciler;
    private volatile RestoreReport restoreReport;

    /**
     * Creates a controller; nothing runs until {@link #start()}.
     *
     * @param clients makes API clients for the cluster
     * @param settings what to allocate and how
     * @param metrics where counters go
     * @param fence asked right before every write
     */
    public PodCidrController(ApiClientFactory clients, ControllerSettings settings, ControllerMetrics metrics,
                             WriteFence fence) {
        this.clients = Objects.requireNonNull(clients, "clients");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.fence = Objects.requireNonNull(fence, "fence");
        this.ipam = settings.newIpam();
        this.loop = new WorkLoop<>("podcidr-worker", "node", metrics);
    }

    /**
     * Starts the node cache, waits for it to sync, restores, queues every node and starts the workers.
     *
     * @throws IOException if an API client cannot be made
     * @throws InterruptedException if interrupted while waiting for the node cache
     * @throws CacheSyncTimeoutException if the node cache has not synced within the settings' cache sync timeout
     *     (it keeps running until {@link #stop})
     */
    public void start() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        ApiClient watchClient = clients.create();
        watchClient.setReadTimeout(0); // watches stay open for minutes without a byte
        ApiClient writeClient = clients.create();
        // a write that is never answered must fail (and be retried), not hang a worker: the outcome is then unknown
        writeClient.setReadTimeout((int) settings.requestTimeout().toMillis());

        NodeEvents events = NodeEvents.NONE;
        if (!settings.dryRun()) {
            broadcaster = new LegacyEventBroadcaster(new CoreV1Api(writeClient));
            events = new NodeEvents(broadcaster.newRecorder(new V1EventSource().component("podcidr-controller")),
                    settings.exhaustedEventInterval(), Clock.systemUTC());
            broadcaster.startRecording();
        }
        NodeCache nodes = new NodeCache(watchClient, settings);
        problems = new ProblemLedger(events, metrics, !settings.removeTaints().isEmpty());
        reconciler = new PodCidrReconciler(ipam, nodes::get, NodeWriter.of(writeClient, fence,
                settings.requestTimeout()), NodeReader.of(writeClient), problems, metrics, settings, fence, loop::add);
        cache = nodes;

        nodes.start();
        long syncDeadline = t0 + settings.cacheSyncTimeout().toNanos();
        while (!nodes.hasSynced()) {
            if (stopping.get()) {
                return;
            }
            if (System.nanoTime() - syncDeadline >= 0) {
                throw new CacheSyncTimeoutException(settings.cacheSyncTimeout(), nodes.lastError());
            }
            Thread.sleep(50);
        }
        long synced = System.nanoTime();
        restore(nodes);
        queueEveryNode(nodes);
        loop.start(settings.workers(), reconciler::reconcile);
        ready.set(true);
        LOG.atInfo().setMessage("controller ready").addKeyValue("nodes", nodes.names().size())
                .addKeyValue("synced_ms", (synced - t0) / 1_000_000)
                .addKeyValue("restored_ms", (System.nanoTime() - synced) / 1_000_000)
                .addKeyValue("workers", settings.workers()).addKeyValue("dry_run", settings.dryRun()).log();
    }

    /**
     * Queues every cached node once restored, those without a pod CIDR first: after a restart they are the nodes
     * that waited while no leader ran, and each of the others is a check that usually writes nothing (at 20,000
     * nodes, half a second of them before a new node's turn). Then the names the cache saw meanwhile, which
     * include nodes deleted since the list (their reconcile releases what restore adopted for them).
     */
    private void queueEveryNode(NodeCache nodes) {
        List<String> assigned = new ArrayList<>();
        for (String name : nodes.names()) {
            V1Node n = nodes.get(name);
            if (n != null && NodeDecision.podCidrsOf(n).isEmpty()) {
                loop.add(name);
            } else {
                assigned.add(name);
            }
        }
        assigned.forEach(loop::add);
        nodes.deliverTo(loop::add);
    }

    private void restore(NodeCache nodes) {
        List<V1Node> all = new ArrayList<>(nodes.list());
        all.sort(Comparator.comparing((V1Node n) -> n.getMetadata().getCreationTimestamp(),
                        Comparator.nullsLast(Comparator.<OffsetDateTime>naturalOrder()))
                .thenComparing(n -> n.getMetadata().getName()));
        List<ExistingNode> existing = new ArrayList<>(all.size());
        for (V1Node n : all) {
            existing.add(new ExistingNode(n.getMetadata().getName(), NodeDecision.podCidrsOf(n)));
        }
        // Each node is adopted for its group by its labels: a pod CIDR in another group's range is reported.
        RestoreReport report = ipam.restore(existing, e -> {
            V1Node n = nodes.get(e.name());
            return settings.groupOf(n == null ? java.util.Map.of() : NodeCache.labelsOf(n));
        });
        for (NodeReport r : report.problems()) {
            V1Node n = nodes.get(r.node());
            problems.report(r, n == null ? null : n.getMetadata().getUid());
        }
        restoreReport = report;
        StringBuilder pools = new StringBuilder();
        for (NodeGroup g : ipam.groups()) {
            for (PoolStats s : ipam.stats(g.name())) {
                pools.append(pools.length() == 0 ? "" : ", ").append(settings.hasNodeGroups() ? g.name() + " " : "")
                        .append(s.cluster()).append(" /").append(s.nodePrefixLength()).append(' ')
                        .append(s.allocated()).append('/').append(s.capacity());
            }
        }
        LOG.atInfo().setMessage("restored").addKeyValue("nodes", all.size())
                .addKeyValue("with_cidrs", report.nodes().size()).addKeyValue("subnets", report.adoptedSubnets())
                .addKeyValue("problems", report.problems().size()).addKeyValue("pools", pools).log();
    }

    /**
     * Tells whether restore is done and the workers run.
     *
     * @return true once {@link #start()} completed
     */
    public boolean isReady() {
        return ready.get();
    }

    /**
     * Tells whether every worker thread is alive (false before start and after close).
     *
     * @return true if the controller can make progress
     */
    public boolean isHealthy() {
        return ready.get() && !stopping.get() && loop.isHealthy();
    }

    /**
     * Returns the allocator (for gauges and tests).
     *
     * @return the allocator of this controller
     */
    public NodeIpam ipam() {
        return ipam;
    }

    /**
     * Returns the restore report of the start, or null before.
     *
     * @return what restore found
     */
    public RestoreReport restoreReport() {
        return restoreReport;
    }

    /**
     * Returns the read-only view of this term's queue and of the problems found on nodes.
     *
     * @return the view (the same object for the controller's life)
     */
    public ControllerStatus status() {
        return status;
    }

    WorkLoop<String> loop() {
        return loop;
    }

    NodeCache cache() {
        return cache;
    }

    ProblemLedger ledger() {
        return problems;
    }

    ControllerSettings settings() {
        return settings;
    }

    /**
     * Stops taking work, waits up to {@code grace} for reconciles in flight (and their writes) to finish, then stops
     * the node cache and the event recorder.
     *
     * @param grace how long to wait for workers
     */
    public void stop(Duration grace) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        ready.set(false);
        loop.stop(grace);
        NodeCache nodes = cache;
        if (nodes != null) {
            nodes.stop();
        }
        if (broadcaster != null) {
            broadcaster.shutdown();
        }
        LOG.info("controller stopped");
    }

    /** Stops with a 5 second grace period. */
    @Override
    public void close() {
        stop(Duration.ofSeconds(5));
    }
}
