package io.github.podcidr.k8s;

import io.github.podcidr.ipam.ExistingNode;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.ipam.RestoreReport;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.extended.event.legacy.LegacyEventBroadcaster;
import io.kubernetes.client.extended.workqueue.DefaultRateLimitingQueue;
import io.kubernetes.client.extended.workqueue.RateLimitingQueue;
import io.kubernetes.client.extended.workqueue.ratelimiter.ItemExponentialFailureRateLimiter;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pod CIDR controller for one leader term: node informer (paged LIST, slimmed objects), restore of every
 * existing node's pod CIDRs, then a rate-limited work queue of node names drained by worker threads that
 * {@linkplain PodCidrReconciler reconcile} each node.
 *
 * <pre>{@code
 * PodCidrController c = new PodCidrController(clients, settings, ControllerMetrics.NONE, WriteFence.OPEN);
 * c.start();            // returns once restored and working; isReady() is then true
 * ...
 * c.close();            // stops taking work, lets in-flight writes finish
 * }</pre>
 *
 * <p>Startup order: informer synced, then {@code NodeIpam.restore} of every cached node (oldest first, including
 * nodes outside the selection, and never failing on a malformed pod CIDR), then every node is queued and the
 * workers start. A node's subnets are released only when the informer no longer has the node.
 */
public final class PodCidrController implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PodCidrController.class);
    /** Backoff of a failing node: 50 ms doubling up to 5 minutes, per node (no global bucket, which would make
     * thousands of nodes waiting for room delay each other). */
    private static final Duration RETRY_BASE = Duration.ofMillis(50);
    private static final Duration RETRY_MAX = Duration.ofMinutes(5);

    private final ApiClientFactory clients;
    private final ControllerSettings settings;
    private final ControllerMetrics metrics;
    private final WriteFence fence;
    private final NodeIpam ipam;
    private final RateLimitingQueue<String> queue;
    /** Node name to when it was added without delay and not yet taken, for the queue-latency metric. */
    private final java.util.Map<String, Long> addedAt = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicInteger workersAlive = new AtomicInteger();
    private final Object startLock = new Object();
    /**
     * Names the informer's handlers saw before {@link #start()} queued the nodes (guarded by {@link #startLock});
     * null from then on, when handlers queue names themselves.
     */
    private volatile Set<String> seenBeforeStart = new LinkedHashSet<>();
    private SharedInformerFactory informers;
    private SharedIndexInformer<V1Node> informer;
    private ExecutorService workers;
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
        ExecutorService delays = Executors.newSingleThreadExecutor(daemon("podcidr-queue-delay"));
        this.queue = new DefaultRateLimitingQueue<>(delays,
                new ItemExponentialFailureRateLimiter<>(RETRY_BASE, RETRY_MAX));
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Starts the informer, waits for it to sync, restores, queues every node and starts the workers.
     *
     * @throws IOException if an API client cannot be made
     * @throws InterruptedException if interrupted while waiting for the informer
     * @throws CacheSyncTimeoutException if the informer has not synced within the settings' cache sync timeout
     *     (the informer keeps running until {@link #stop})
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

        NodeSlimmer slimmer = new NodeSlimmer(settings.labelKeys());
        informers = new SharedInformerFactory(watchClient);
        PagedNodeListerWatcher lister = new PagedNodeListerWatcher(watchClient, settings.listPageSize(),
                new SlimNodeCodec(settings.labelKeys()));
        informer = informers.sharedIndexInformerFor(lister, V1Node.class, 0);
        informer.setTransform(slimmer);
        addHandler(informer);
        NodeWriter writer = NodeWriter.of(writeClient, fence, settings.requestTimeout());
        reconciler = new PodCidrReconciler(ipam, this::cached, writer, NodeReader.of(writeClient), events, metrics,
                settings, fence, this::add);

        informers.startAllRegisteredInformers();
        long syncDeadline = t0 + settings.cacheSyncTimeout().toNanos();
        while (!informer.hasSynced()) {
            if (stopping.get()) {
                return;
            }
            if (System.nanoTime() - syncDeadline >= 0) {
                throw new CacheSyncTimeoutException(settings.cacheSyncTimeout(), lister.lastError());
            }
            Thread.sleep(50);
        }
        long synced = System.nanoTime();
        restore();
        queueEveryNode();
        workers = Executors.newFixedThreadPool(settings.workers(), daemon("podcidr-worker"));
        for (int i = 0; i < settings.workers(); i++) {
            workers.submit(this::work);
        }
        ready.set(true);
        LOG.atInfo().setMessage("controller ready").addKeyValue("nodes", informer.getIndexer().listKeys().size())
                .addKeyValue("synced_ms", (synced - t0) / 1_000_000)
                .addKeyValue("restored_ms", (System.nanoTime() - synced) / 1_000_000)
                .addKeyValue("workers", settings.workers()).addKeyValue("dry_run", settings.dryRun()).log();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void addHandler(SharedIndexInformer<V1Node> inf) {
        // Raw type on purpose: on a relist the client hands tombstones (DeletedFinalStateUnknown), not V1Node, to
        // onDelete, and a typed handler would fail on the cast. Only the name is needed, which both carry.
        ResourceEventHandler handler = new ResourceEventHandler<KubernetesObject>() {
            @Override
            public void onAdd(KubernetesObject obj) {
                enqueue(obj);
            }

            @Override
            public void onUpdate(KubernetesObject oldObj, KubernetesObject newObj) {
                if (!(oldObj instanceof V1Node o) || !(newObj instanceof V1Node n) || changed(o, n)) {
                    enqueue(newObj);
                }
            }

            @Override
            public void onDelete(KubernetesObject obj, boolean finalStateUnknown) {
                enqueue(obj);
            }
        };
        inf.addEventHandler(handler);
    }

    /** True if anything reconcile reads differs (slimmed nodes differ in resourceVersion on every heartbeat). */
    private static boolean changed(V1Node o, V1Node n) {
        return !Objects.equals(o.getSpec(), n.getSpec())
                || !Objects.equals(o.getMetadata().getLabels(), n.getMetadata().getLabels())
                || !Objects.equals(o.getMetadata().getUid(), n.getMetadata().getUid())
                || !Objects.equals(o.getMetadata().getDeletionTimestamp(), n.getMetadata().getDeletionTimestamp());
    }

    private void enqueue(KubernetesObject obj) {
        if (obj != null && obj.getMetadata() != null && obj.getMetadata().getName() != null) {
            String name = obj.getMetadata().getName();
            if (seenBeforeStart != null) {
                synchronized (startLock) {
                    if (seenBeforeStart != null) {
                        seenBeforeStart.add(name);
                        return;
                    }
                }
            }
            add(name);
        }
    }

    /**
     * Queues every cached node once restored, those without a pod CIDR first: after a restart they are the nodes
     * that waited while no leader ran, and each of the others is a check that usually writes nothing (at 20,000
     * nodes, half a second of them before a new node's turn). Then the names the handlers saw meanwhile, which
     * include nodes deleted since the list (their reconcile releases what restore adopted for them).
     */
    private void queueEveryNode() {
        List<String> assigned = new ArrayList<>();
        for (String name : informer.getIndexer().listKeys()) {
            V1Node n = cached(name);
            if (n != null && PodCidrReconciler.podCidrsOf(n).isEmpty()) {
                add(name);
            } else {
                assigned.add(name);
            }
        }
        assigned.forEach(this::add);
        synchronized (startLock) {
            seenBeforeStart.forEach(this::add);
            seenBeforeStart = null;
        }
    }

    private V1Node cached(String name) {
        return informer.getIndexer().getByKey(name);
    }

    private void restore() {
        List<V1Node> nodes = new ArrayList<>(informer.getIndexer().list());
        nodes.sort(Comparator.comparing((V1Node n) -> n.getMetadata().getCreationTimestamp(),
                        Comparator.nullsLast(Comparator.<OffsetDateTime>naturalOrder()))
                .thenComparing(n -> n.getMetadata().getName()));
        List<ExistingNode> existing = new ArrayList<>(nodes.size());
        for (V1Node n : nodes) {
            existing.add(new ExistingNode(n.getMetadata().getName(), PodCidrReconciler.podCidrsOf(n)));
        }
        // Each node is adopted for its group by its labels: a pod CIDR in another group's range is reported.
        RestoreReport report = ipam.restore(existing, e -> {
            V1Node n = cached(e.name());
            java.util.Map<String, String> labels = n == null ? null : n.getMetadata().getLabels();
            return settings.groupOf(labels == null ? java.util.Map.of() : labels);
        });
        for (NodeReport r : report.problems()) {
            V1Node n = cached(r.node());
            reconciler.report(r, n == null ? null : n.getMetadata().getUid());
        }
        restoreReport = report;
        StringBuilder pools = new StringBuilder();
        for (io.github.podcidr.ipam.NodeGroup g : ipam.groups()) {
            for (PoolStats s : ipam.stats(g.name())) {
                pools.append(pools.length() == 0 ? "" : ", ").append(settings.hasNodeGroups() ? g.name() + " " : "")
                        .append(s.cluster()).append(" /").append(s.nodePrefixLength()).append(' ')
                        .append(s.allocated()).append('/').append(s.capacity());
            }
        }
        LOG.atInfo().setMessage("restored").addKeyValue("nodes", nodes.size())
                .addKeyValue("with_cidrs", report.nodes().size()).addKeyValue("subnets", report.adoptedSubnets())
                .addKeyValue("problems", report.problems().size()).addKeyValue("pools", pools).log();
    }

    private void work() {
        workersAlive.incrementAndGet();
        try {
            while (!queue.isShuttingDown()) {
                String name;
                try {
                    name = queue.get();
                    Long added = addedAt.remove(name);
                    if (added != null) {
                        metrics.queueWaited(System.nanoTime() - added);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (name == null) {
                    return; // shutting down
                }
                if (stopping.get()) {
                    queue.done(name); // stop taking work: what is still queued is for the next leader
                    return;
                }
                long t0 = System.nanoTime();
                String outcome = "done";
                try {
                    ReconcileResult result = reconciler.reconcile(name);
                    switch (result.kind()) {
                        case DONE -> queue.forget(name);
                        case RETRY -> {
                            outcome = "requeue";
                            queue.addRateLimited(name);
                            metrics.queueRetried();
                        }
                        case REQUEUE_AFTER -> {
                            outcome = "requeue";
                            queue.forget(name);
                            queue.addAfter(name, result.delay());
                        }
                        default -> throw new AssertionError(result);
                    }
                } catch (RuntimeException e) {
                    outcome = "error";
                    LOG.atError().setMessage("reconcile failed").addKeyValue("node", name).setCause(e).log();
                    queue.addRateLimited(name);
                    metrics.queueRetried();
                } finally {
                    queue.done(name);
                    metrics.reconciled(outcome, System.nanoTime() - t0);
                }
            }
        } finally {
            workersAlive.decrementAndGet();
        }
    }

    /** Queues a node name now, counting it for the work-queue metrics when it was not already waiting. */
    private void add(String name) {
        if (addedAt.putIfAbsent(name, System.nanoTime()) == null) {
            metrics.queueAdded();
        }
        queue.add(name);
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
        return ready.get() && !stopping.get() && workersAlive.get() == settings.workers();
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
     * Returns the number of node names waiting in the queue.
     *
     * @return the queue length
     */
    public int queueDepth() {
        return queue.length();
    }

    /**
     * Returns the number of nodes waiting for a free subnet.
     *
     * @return nodes that found every pool of some family full
     */
    public int waitingForRoom() {
        return reconciler == null ? 0 : reconciler.waitingForRoom();
    }

    /**
     * Returns the number of nodes whose pod CIDRs the controller cannot vouch for (another node's, outside every
     * cluster CIDR, unreadable): they keep the taints the controller would remove.
     *
     * @return the count, 0 before start
     */
    public int failingClosed() {
        return reconciler == null ? 0 : reconciler.failedClosed();
    }

    /**
     * Returns how many nodes have a finding of each kind on their pod CIDRs (duplicate, outside the pools,
     * non-canonical, ...), from the latest look at each node in this leader term.
     *
     * @return kind to number of nodes; kinds without a node are absent
     */
    public java.util.Map<io.github.podcidr.ipam.NodeReport.Kind, Integer> nodesByFinding() {
        return reconciler == null ? java.util.Map.of() : reconciler.nodesByFinding();
    }

    /**
     * Returns the latest problems found on nodes' pod CIDRs in this leader term, each as first reported (at most 50),
     * for a status page. A problem stays listed after it is resolved; {@link #nodesWithFindings(int)} says which
     * remain.
     *
     * @return newest first; empty before start
     */
    public List<NodeProblem> latestProblems() {
        return reconciler == null ? List.of() : reconciler.latestProblems();
    }

    /**
     * Returns the group a node belongs to by its labels as the node cache holds them now (see
     * {@link ControllerSettings#groupOf}): one cache lookup and one match per group, for naming the group of a few
     * listed nodes.
     *
     * @param node the node's name
     * @return the group's name, or empty if the node is not in the cache or in no group
     */
    public java.util.Optional<String> groupOfNode(String node) {
        SharedIndexInformer<V1Node> nodes = informer;
        V1Node n = nodes == null ? null : nodes.getIndexer().getByKey(node);
        if (n == null || n.getMetadata() == null) {
            return java.util.Optional.empty();
        }
        java.util.Map<String, String> labels = n.getMetadata().getLabels();
        return java.util.Optional.ofNullable(settings.groupOf(labels == null ? java.util.Map.of() : labels));
    }

    /**
     * Returns the first nodes, by name, waiting for a free subnet (see {@link #waitingForRoom()} for how many).
     *
     * @param limit the most names to return
     * @return sorted names, at most {@code limit}
     */
    public java.util.SortedSet<String> nodesWaitingForRoom(int limit) {
        return reconciler == null ? java.util.Collections.emptySortedSet() : reconciler.nodesWaitingForRoom(limit);
    }

    /**
     * Returns the first nodes, by name, that keep their taints because their pod CIDRs cannot be vouched for (see
     * {@link #failingClosed()} for how many).
     *
     * @param limit the most names to return
     * @return sorted names, at most {@code limit}
     */
    public java.util.SortedSet<String> nodesFailingClosed(int limit) {
        return reconciler == null ? java.util.Collections.emptySortedSet() : reconciler.nodesFailingClosed(limit);
    }

    /**
     * Returns the first nodes, by name, with findings on their pod CIDRs now, and the kinds found (see
     * {@link #nodesByFinding()} for the counts).
     *
     * @param limit the most nodes to return
     * @return node name to kinds, at most {@code limit} entries
     */
    public java.util.SortedMap<String, java.util.Set<io.github.podcidr.ipam.NodeReport.Kind>> nodesWithFindings(
            int limit) {
        return reconciler == null ? java.util.Collections.emptySortedMap() : reconciler.nodesWithFindings(limit);
    }

    /**
     * Returns the number of nodes with findings on their pod CIDRs now, whatever their kinds.
     *
     * @return the count, 0 before start
     */
    public int nodesWithFindingsCount() {
        return reconciler == null ? 0 : reconciler.nodesWithFindingsCount();
    }

    /**
     * Returns the kinds of findings on a node's pod CIDRs now (from the latest look at the node in this term).
     *
     * @param node the node's name
     * @return the kinds; empty when none, or before start
     */
    public java.util.Set<io.github.podcidr.ipam.NodeReport.Kind> findingsOf(String node) {
        return reconciler == null ? java.util.Set.of() : reconciler.findingsOf(node);
    }

    /**
     * Tells whether a node keeps its taints because its pod CIDRs cannot be vouched for.
     *
     * @param node the node's name
     * @return true if it fails closed now
     */
    public boolean isFailingClosed(String node) {
        return reconciler != null && reconciler.isFailingClosed(node);
    }

    /**
     * Stops taking work, waits up to {@code grace} for reconciles in flight (and their writes) to finish, then stops
     * the informer and the event recorder.
     *
     * @param grace how long to wait for workers
     */
    public void stop(Duration grace) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        ready.set(false);
        queue.shutDown();
        if (workers != null) {
            workers.shutdown();
            try {
                if (!workers.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.atWarn().setMessage("workers still busy; stopping them")
                            .addKeyValue("grace_ms", grace.toMillis()).log();
                    workers.shutdownNow();
                }
            } catch (InterruptedException e) {
                workers.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (informers != null) {
            informers.stopAllRegisteredInformers();
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
