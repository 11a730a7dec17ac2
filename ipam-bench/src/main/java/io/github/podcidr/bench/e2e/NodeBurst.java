package io.github.podcidr.bench.e2e;

import java.net.http.HttpClient;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A scale-up burst as a cluster autoscaler makes one: {@code count} new nodes (without pod CIDR, a quarter with the
 * TKE taint) created at once by {@code clients} parallel clients, each with its own HTTP/2 connection, each sending
 * its next POST when the last is answered. Records when each POST was answered: a node's wait for its pod CIDR is
 * measured from there to the watch event that carries it ({@link NodeWatch#assignedAt}).
 */
final class NodeBurst {
    /** The burst's nodes by name with the time (System.nanoTime) their POST was answered, and when it began. */
    record Created(long startNanos, Map<String, Long> answeredAt) {
    }

    /**
     * Per-node waits and the whole burst, in seconds; {@code seenP50}/{@code seenP99}: from a node's POST answered
     * to this run's own watch seeing it at all (the server's watch dispatch, which the contender's informer waits
     * for too; the capacity client is told by the POST instead).
     */
    record Latency(int nodes, double allSeconds, double p50, double p99, double max, double seenP50, double seenP99) {
        String describe() {
            return String.format(Locale.ROOT, "burst_nodes=%d all_assigned_s=%.2f p50_s=%.3f p99_s=%.3f max_s=%.3f"
                    + " watch_seen_p50_s=%.3f watch_seen_p99_s=%.3f", nodes, allSeconds, p50, p99, max, seenP50,
                    seenP99);
        }
    }

    private NodeBurst() {
    }

    /**
     * Creates nodes {@code first..first+count-1}.
     *
     * @param onCreated called with each node as its POST is answered (e.g. the capacity client's queue)
     */
    static Created create(RealCluster cluster, NodeLoader loader, int first, int count, int clients,
                          Consumer<NodeLoader.Created> onCreated) throws InterruptedException {
        Map<String, Long> answered = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger(first);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread[] threads = new Thread[clients];
        HttpClient[] connections = new HttpClient[clients];
        for (int c = 0; c < clients; c++) {
            connections[c] = cluster.client(HttpClient.Version.HTTP_2);
        }
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            HttpClient http = connections[c];
            threads[c] = new Thread(() -> {
                for (int i = next.getAndIncrement(); i < first + count && failed.get() == null;
                     i = next.getAndIncrement()) {
                    try {
                        NodeLoader.Created node = loader.create(http, i);
                        answered.put(node.name(), System.nanoTime());
                        onCreated.accept(node);
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        failed.compareAndSet(null, e);
                    }
                }
            }, "burst-" + c);
            threads[c].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failed.get() != null) {
            throw new IllegalStateException("the burst failed: " + failed.get().getMessage(), failed.get());
        }
        return new Created(start, answered);
    }

    /** The waits of a burst's nodes, once the watch has seen every one with a pod CIDR. */
    static Latency latency(Created burst, NodeWatch watch) {
        double[] waits = burst.answeredAt().entrySet().stream()
                .mapToDouble(e -> (watch.assignedAt(e.getKey()) - e.getValue()) / 1e9).sorted().toArray();
        long last = burst.answeredAt().keySet().stream().mapToLong(watch::assignedAt).max().orElse(burst.startNanos());
        double[] seen = burst.answeredAt().entrySet().stream().filter(e -> watch.seenAt(e.getKey()) != null)
                .mapToDouble(e -> (watch.seenAt(e.getKey()) - e.getValue()) / 1e9).sorted().toArray();
        return new Latency(waits.length, (last - burst.startNanos()) / 1e9, E2eSupport.percentile(waits, 0.50),
                E2eSupport.percentile(waits, 0.99), waits.length == 0 ? Double.NaN : waits[waits.length - 1],
                E2eSupport.percentile(seen, 0.50), E2eSupport.percentile(seen, 0.99));
    }

    /** Whether every node of the burst has been seen with a pod CIDR. */
    static boolean allAssigned(Created burst, NodeWatch watch) {
        return burst.answeredAt().keySet().stream().allMatch(n -> watch.assignedAt(n) != null);
    }
}
