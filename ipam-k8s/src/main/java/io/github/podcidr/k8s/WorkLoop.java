package io.github.podcidr.k8s;

import io.kubernetes.client.extended.workqueue.DefaultRateLimitingQueue;
import io.kubernetes.client.extended.workqueue.RateLimitingQueue;
import io.kubernetes.client.extended.workqueue.ratelimiter.ItemExponentialFailureRateLimiter;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rate-limited work queue of keys drained by worker threads, as controller-runtime's Controller: it knows nothing
 * of what a key names, only that one key is never handed to two workers at once and that a failed key comes back
 * with per-key exponential backoff.
 *
 * <pre>{@code
 * WorkLoop<String> loop = new WorkLoop<>("podcidr-worker", "node", metrics);
 * loop.add("node-1");                      // may be called before start: the key waits
 * loop.start(16, name -> reconcile(name)); // ReconcileResult.done(), retry() or requeueAfter(d)
 * loop.stop(Duration.ofSeconds(5));        // stops taking work, waits for keys in flight
 * }</pre>
 *
 * @param <K> the key type (a node name for the pod CIDR controller)
 */
final class WorkLoop<K> {
    private static final Logger LOG = LoggerFactory.getLogger(WorkLoop.class);
    /** Backoff of a failing key: 50 ms doubling up to 5 minutes, per key (no global bucket, which would make
     * thousands of keys waiting for room delay each other). */
    private static final Duration RETRY_BASE = Duration.ofMillis(50);
    private static final Duration RETRY_MAX = Duration.ofMinutes(5);

    private final String threadName;
    private final String keyLabel;
    private final QueueMetrics metrics;
    private final RateLimitingQueue<K> queue;
    /** Key to when it was added without delay and not yet taken, for the queue-latency metric. */
    private final Map<K, Long> addedAt = new ConcurrentHashMap<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicInteger workersAlive = new AtomicInteger();
    private volatile int workerCount;
    private ExecutorService workers;

    /**
     * Creates a loop whose queue takes keys at once; no worker runs until {@link #start}.
     *
     * @param threadName the prefix of the worker threads' names
     * @param keyLabel what a key is, as the field name of log lines (e.g. {@code node})
     * @param metrics where queue counts and work durations go
     */
    WorkLoop(String threadName, String keyLabel, QueueMetrics metrics) {
        this.threadName = Objects.requireNonNull(threadName, "threadName");
        this.keyLabel = Objects.requireNonNull(keyLabel, "keyLabel");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.queue = new DefaultRateLimitingQueue<>(Executors.newSingleThreadExecutor(daemon(threadName + "-delay")),
                new ItemExponentialFailureRateLimiter<>(RETRY_BASE, RETRY_MAX));
    }

    static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Queues a key now, counting it for the queue metrics when it was not already waiting.
     *
     * @param key the key
     */
    void add(K key) {
        if (addedAt.putIfAbsent(key, System.nanoTime()) == null) {
            metrics.queueAdded();
        }
        queue.add(key);
    }

    /**
     * Starts the workers.
     *
     * @param count how many keys may be worked on at once
     * @param work what to do with a key; a runtime exception counts as {@code error} and retries the key
     */
    void start(int count, Function<K, ReconcileResult> work) {
        workerCount = count;
        workers = Executors.newFixedThreadPool(count, daemon(threadName));
        for (int i = 0; i < count; i++) {
            workers.submit(() -> work(work));
        }
    }

    private void work(Function<K, ReconcileResult> work) {
        workersAlive.incrementAndGet();
        try {
            while (!queue.isShuttingDown()) {
                K key;
                try {
                    key = queue.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (key == null) {
                    return; // shutting down
                }
                Long added = addedAt.remove(key);
                if (added != null) {
                    metrics.queueWaited(System.nanoTime() - added);
                }
                if (stopping.get()) {
                    queue.done(key); // stop taking work: what is still queued is for the next term
                    return;
                }
                runOne(key, work);
            }
        } finally {
            workersAlive.decrementAndGet();
        }
    }

    private void runOne(K key, Function<K, ReconcileResult> work) {
        long t0 = System.nanoTime();
        String outcome = "done";
        try {
            ReconcileResult result = work.apply(key);
            switch (result.kind()) {
                case DONE -> queue.forget(key);
                case RETRY -> {
                    outcome = "requeue";
                    queue.addRateLimited(key);
                    metrics.queueRetried();
                }
                case REQUEUE_AFTER -> {
                    outcome = "requeue";
                    queue.forget(key);
                    queue.addAfter(key, result.delay());
                }
                default -> throw new AssertionError(result);
            }
        } catch (RuntimeException e) {
            outcome = "error";
            LOG.atError().setMessage("reconcile failed").addKeyValue(keyLabel, key).setCause(e).log();
            queue.addRateLimited(key);
            metrics.queueRetried();
        } finally {
            queue.done(key);
            metrics.reconciled(outcome, System.nanoTime() - t0);
        }
    }

    /**
     * Returns the number of keys waiting in the queue.
     *
     * @return the queue length
     */
    int depth() {
        return queue.length();
    }

    /**
     * Tells whether the workers were started, none has died and the loop is not stopping.
     *
     * @return true if the loop can make progress
     */
    boolean isHealthy() {
        return workers != null && !stopping.get() && workersAlive.get() == workerCount;
    }

    /**
     * Stops taking work and waits up to {@code grace} for the keys in flight; workers still busy then are
     * interrupted (a request already sent cannot be recalled by that).
     *
     * @param grace how long to wait for workers
     * @return true if every worker finished within the grace period
     */
    boolean stop(Duration grace) {
        if (!stopping.compareAndSet(false, true)) {
            return true;
        }
        queue.shutDown();
        if (workers == null) {
            return true;
        }
        workers.shutdown();
        try {
            if (workers.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                return true;
            }
            LOG.atWarn().setMessage("workers still busy; stopping them").addKeyValue("grace_ms", grace.toMillis())
                    .log();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownNow();
        return false;
    }
}
