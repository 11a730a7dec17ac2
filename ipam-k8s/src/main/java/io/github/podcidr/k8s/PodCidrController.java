package io.github.podcidr.k8s;

import io.github.podcidr.ipam.ExistingNode;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.ipam.RestoreReport;
import io.kubernetes.client.extended.event.legacy.LegacyEventBroadcaster;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
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
import java.util.UUID;
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
    private final IntentJournal.Location journalAt;
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
        this(clients, settings, metrics, fence, null);
    }

    /**
     * Creates a controller that records the writes it sends in an intent journal (see {@link IntentJournal}), and
     * finishes those an earlier term left; nothing runs until {@link #start()}.
     *
     * @param clients makes API clients for the cluster
     * @param settings what to allocate and how
     * @param metrics where counters go
     * @param fence asked right before every write
     * @param journalAt the journal's Lease, the same for every replica; null for none (then a write of an earlier
     *     term that lands late is not guarded against)
     */
    public PodCidrController(ApiClientFactory clients, ControllerSettings settings, ControllerMetrics metrics,
                             WriteFence fence, IntentJournal.Location journalAt) {
        this.journalAt = journalAt;
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
        IntentJournal journal = journalAt == null || settings.dryRun() ? IntentJournal.NONE
                : IntentJournal.in(new CoordinationV1Api(writeClient), journalAt.namespace(), journalAt.name(),
                        "term-" + UUID.randomUUID());
        List<IntentJournal.Intent> inherited;
        try {
            inherited = journal.seal(); // before any write of this term, and so that no earlier term writes again
        } catch (ApiException e) {
            throw new IOException("cannot seal the intent journal " + journalAt.namespace() + "/" + journalAt.name()
                    + " (HTTP " + e.getCode() + "): the controller needs get, create and update on that Lease", e);
        }
        NodeCache nodes = new NodeCache(watchClient, settings, metrics);
        problems = new ProblemLedger(events, metrics, !settings.removeTaints().isEmpty());
        reconciler = new PodCidrReconciler(ipam, nodes::get, NodeWriter.of(writeClient, fence,
                settings.requestTimeout()), NodeReader.of(writeClient), problems, metrics, settings, fence, journal,
                loop::add);
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
        finish(inherited, nodes, journal);
        queueEveryNode(nodes);
        loop.start(settings.workers(), reconciler::reconcile);
        ready.set(true);
        LOG.atInfo().setMessage("controller ready").addKeyValue("nodes", nodes.names().size())
                .addKeyValue("synced_ms", (synced - t0) / 1_000_000)
                .addKeyValue("restored_ms", (System.nanoTime() - synced) / 1_000_000)
                .addKeyValue("workers", settings.workers()).addKeyValue("dry_run", settings.dryRun()).log();
    }

    /**
     * Holds the subnets of an earlier term's unsettled writes for their nodes, so that they go to no other node; the
     * nodes' reconciles then write them again (queued first, as nodes without pod CIDRs). An intent whose node is
     * gone, re-created (another uid) or already has pod CIDRs is settled: its guarded write can no longer land.
     */
    private void finish(List<IntentJournal.Intent> inherited, NodeCache nodes, IntentJournal journal) {
        for (IntentJournal.Intent i : inherited) {
            V1Node n = nodes.get(i.node());
            if (n == null || !Objects.equals(n.getMetadata().getUid(), i.uid())
                    || !NodeDecision.podCidrsOf(n).isEmpty()) {
                journal.settle(i.node());
                continue;
            }
            NodeReport r = ipam.adopt(i.node(), settings.groupOf(NodeCache.labelsOf(n)), i.cidrs());
            LOG.atInfo().setMessage("holding an earlier term's write that may still land").addKeyValue("node", i.node())
                    .addKeyValue("cidr", String.join(",", i.cidrs())).addKeyValue("held", r.adopted().size()).log();
            if (!r.findings().isEmpty()) {
                LOG.atError().setMessage("an earlier term's write conflicts with what nodes hold")
                        .addKeyValue("node", i.node()).addKeyValue("cidr", String.join(",", i.cidrs()))
                        .addKeyValue("findings", r.findings()).log();
            }
        }
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
