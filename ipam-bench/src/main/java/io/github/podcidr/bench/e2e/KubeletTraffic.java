package io.github.podcidr.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the kubelets of a cluster send the API server at rest, paced, for nodes that have no kubelet: per node, a
 * status heartbeat once per {@code statusPeriod} (as kubelet 1.20's {@code tryUpdateNodeStatus}: a GET of the node
 * from the watch cache, {@code resourceVersion=0}, then a strategic-merge PATCH of {@code nodes/NAME/status} that
 * changes every condition's {@code lastHeartbeatTime}), and optionally its Lease in {@code kube-node-lease} renewed
 * every 10 s (an update of the cached Lease; a GET after a conflict). Node {@code k} of {@code n} is due at
 * {@code start + k * period / n + m * period}, so the requests come at an even rate, not in bursts; a tick every
 * 5 ms sends what is due, at most {@code maxInFlight} at a time. When the server cannot keep up, requests fall
 * behind their schedule and {@link #counts()} shows it; nothing is skipped.
 *
 * <p>The traffic has its own {@link HttpClient} (its own HTTP/2 connection, apart from the run's and the
 * contender's) and the User-Agent {@value #USER_AGENT}, so an audit log tells it apart. One connection stands for
 * many kubelets: the server's per-request work is the same, its per-connection work (TLS handshakes) is not.
 */
final class KubeletTraffic implements AutoCloseable {
    /** The User-Agent of every request of this traffic. */
    static final String USER_AGENT = "podcidr-bench-kubelet";
    /** kubelet's default {@code --node-status-update-frequency} with the Lease on: status at least every 5 min. */
    static final Duration DEFAULT_STATUS_PERIOD = Duration.ofMinutes(5);
    /** kubelet 1.20's Lease renew interval: a quarter of its 40 s duration. */
    static final Duration LEASE_PERIOD = Duration.ofSeconds(10);
    private static final int LEASE_DURATION_SECONDS = 40;
    private static final String NAMESPACE = "kube-node-lease";
    private static final String LEASES = "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases";
    private static final List<String> CONDITIONS = List.of("MemoryPressure", "DiskPressure", "PIDPressure", "Ready");
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(java.time.ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Heartbeats and Lease renewals completed (answered 2xx), failed (any other answer or none), and behind
     * (due by now but not sent, because {@code maxInFlight} were in flight), at {@code nanos} (System.nanoTime).
     */
    record Counts(long nanos, long statusDone, long statusFailed, long statusBehind, long leaseDone,
                  long leaseFailed, long leaseBehind) {
    }

    private final RealCluster cluster;
    private final HttpClient http;
    private final List<String> nodes;
    private final Duration statusPeriod;
    private final boolean leases;
    private final Semaphore inFlight;
    private final String[] leaseVersions;
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kubelet-traffic");
        t.setDaemon(true);
        return t;
    });
    private final LongAdder statusDone = new LongAdder();
    private final LongAdder statusFailed = new LongAdder();
    private final LongAdder leaseDone = new LongAdder();
    private final LongAdder leaseFailed = new LongAdder();
    private final Map<String, LongAdder> codes = new ConcurrentHashMap<>();
    private final AtomicLong statusSent = new AtomicLong();
    private final AtomicLong leaseSent = new AtomicLong();
    private final int maxInFlight;
    private volatile long start = -1;

    /**
     * @param nodes the nodes whose kubelets this stands for (they must exist)
     * @param statusPeriod how often each node's status is patched (kubelet's default 5 minutes)
     * @param leases whether each node's Lease is renewed every 10 s too ({@link #createLeases()} first)
     * @param maxInFlight requests in flight at most
     */
    KubeletTraffic(RealCluster cluster, List<String> nodes, Duration statusPeriod, boolean leases, int maxInFlight) {
        if (statusPeriod.isNegative() || statusPeriod.isZero()) {
            throw new IllegalArgumentException("--kubelet-status-period must be positive, e.g. 300s or 60s, got "
                    + statusPeriod);
        }
        this.cluster = cluster;
        this.http = cluster.client(HttpClient.Version.HTTP_2);
        this.nodes = List.copyOf(nodes);
        this.statusPeriod = statusPeriod;
        this.leases = leases;
        this.maxInFlight = maxInFlight;
        this.inFlight = new Semaphore(maxInFlight);
        this.leaseVersions = new String[nodes.size()];
    }

    /** Heartbeats per second this traffic is meant to send (one per node per period). */
    double statusRate() {
        return nodes.size() / (statusPeriod.toNanos() / 1e9);
    }

    /** Lease renewals per second it is meant to send, 0 when off. */
    double leaseRate() {
        return leases ? nodes.size() / (LEASE_PERIOD.toNanos() / 1e9) : 0;
    }

    /** Creates every node's Lease (as a kubelet does on its first renewal), {@code maxInFlight} at a time. */
    void createLeases() throws InterruptedException {
        if (!leases) {
            return;
        }
        for (int i = 0; i < nodes.size(); i++) {
            inFlight.acquire();
            int k = i;
            http.sendAsync(post(LEASES, lease(k, null)), HttpResponse.BodyHandlers.ofByteArray())
                    .whenComplete((r, e) -> {
                        if (r != null && r.statusCode() == 201) {
                            leaseVersions[k] = version(r.body());
                        } else if (r != null && r.statusCode() != 409) {
                            System.err.println("kubelet traffic: creating lease " + nodes.get(k) + ": HTTP "
                                    + r.statusCode());
                        }
                        inFlight.release();
                    });
        }
        inFlight.acquire(maxInFlight);
        inFlight.release(maxInFlight);
    }

    /** Starts sending on the schedule. */
    void start() {
        start = System.nanoTime();
        ticker.scheduleAtFixedRate(this::tick, 0, 5, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        long elapsed = System.nanoTime() - start;
        long statusDue = due(elapsed, statusPeriod);
        while (statusSent.get() < statusDue && inFlight.tryAcquire()) {
            heartbeat((int) (statusSent.getAndIncrement() % nodes.size()));
        }
        if (leases) {
            long leaseDue = due(elapsed, LEASE_PERIOD);
            while (leaseSent.get() < leaseDue && inFlight.tryAcquire()) {
                renew((int) (leaseSent.getAndIncrement() % nodes.size()));
            }
        }
    }

    /** How many requests of a stream with one per node per {@code period} are due after {@code elapsed}. */
    private long due(long elapsed, Duration period) {
        return (long) Math.floor((double) elapsed * nodes.size() / period.toNanos()) + 1;
    }

    private void heartbeat(int k) {
        String name = nodes.get(k);
        HttpRequest get = request("/api/v1/nodes/" + name + "?resourceVersion=0").GET().build();
        http.sendAsync(get, HttpResponse.BodyHandlers.discarding()).thenCompose(r -> {
            code("get nodes", r.statusCode());
            HttpRequest patch = request("/api/v1/nodes/" + name + "/status")
                    .header("Content-Type", "application/strategic-merge-patch+json")
                    .method("PATCH", HttpRequest.BodyPublishers.ofString(statusPatch(Instant.now()))).build();
            return http.sendAsync(patch, HttpResponse.BodyHandlers.discarding());
        }).whenComplete((r, e) -> {
            if (r != null) {
                code("patch nodes/status", r.statusCode());
            }
            (r != null && r.statusCode() == 200 ? statusDone : statusFailed).increment();
            inFlight.release();
        });
    }

    private void renew(int k) {
        String name = nodes.get(k);
        CompletableFuture<HttpResponse<byte[]>> put = http.sendAsync(request(LEASES + "/" + name)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(lease(k, leaseVersions[k]))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        put.thenCompose(r -> {
            code("update leases", r.statusCode());
            if (r.statusCode() == 200) {
                leaseVersions[k] = version(r.body());
                return CompletableFuture.completedFuture(true);
            }
            // as the kubelet: after a failed update, read the Lease again for the next try
            return http.sendAsync(request(LEASES + "/" + name).GET().build(), HttpResponse.BodyHandlers.ofByteArray())
                    .thenApply(g -> {
                        code("get leases", g.statusCode());
                        if (g.statusCode() == 200) {
                            leaseVersions[k] = version(g.body());
                        }
                        return false;
                    });
        }).whenComplete((ok, e) -> {
            (Boolean.TRUE.equals(ok) ? leaseDone : leaseFailed).increment();
            inFlight.release();
        });
    }

    private void code(String what, int code) {
        codes.computeIfAbsent(what + " " + code, c -> new LongAdder()).increment();
    }

    /** The body of kubelet 1.20's heartbeat patch: every condition's {@code lastHeartbeatTime}, in order. */
    static String statusPatch(Instant now) {
        String at = DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(ChronoUnit.SECONDS));
        StringBuilder order = new StringBuilder();
        StringBuilder conditions = new StringBuilder();
        for (String type : CONDITIONS) {
            order.append(order.length() == 0 ? "" : ",").append("{\"type\":\"").append(type).append("\"}");
            conditions.append(conditions.length() == 0 ? "" : ",").append("{\"lastHeartbeatTime\":\"").append(at)
                    .append("\",\"type\":\"").append(type).append("\"}");
        }
        return "{\"status\":{\"$setElementOrder/conditions\":[" + order + "],\"conditions\":[" + conditions + "]}}";
    }

    private String lease(int k, String resourceVersion) {
        String name = nodes.get(k);
        return "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"" + name
                + "\",\"namespace\":\"" + NAMESPACE + "\""
                + (resourceVersion == null ? "" : ",\"resourceVersion\":\"" + resourceVersion + "\"")
                + "},\"spec\":{\"holderIdentity\":\"" + name + "\",\"leaseDurationSeconds\":" + LEASE_DURATION_SECONDS
                + ",\"renewTime\":\"" + MICRO.format(Instant.now()) + "\"}}";
    }

    private static String version(byte[] lease) {
        try {
            return JSON.readTree(lease).path("metadata").path("resourceVersion").asText(null);
        } catch (IOException e) {
            return null;
        }
    }

    private HttpRequest.Builder request(String path) {
        return cluster.request(path).header("User-Agent", USER_AGENT).timeout(Duration.ofSeconds(30));
    }

    private HttpRequest post(String path, String body) {
        return request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** What was sent and answered so far. */
    Counts counts() {
        long now = System.nanoTime();
        long elapsed = start < 0 ? 0 : now - start;
        long statusBehind = start < 0 ? 0 : Math.max(0, due(elapsed, statusPeriod) - statusSent.get());
        long leaseBehind = start < 0 || !leases ? 0 : Math.max(0, due(elapsed, LEASE_PERIOD) - leaseSent.get());
        return new Counts(now, statusDone.sum(), statusFailed.sum(), statusBehind, leaseDone.sum(),
                leaseFailed.sum(), leaseBehind);
    }

    /**
     * Its node requests answered so far, keyed as {@link RealCluster#nodeRequests()} keys the server's count, so that
     * a run can take them out of a contender's figures (give or take the requests in flight at either end).
     */
    Map<String, Double> nodeRequests() {
        Map<String, Double> out = new TreeMap<>();
        codes.forEach((k, v) -> {
            String[] f = k.split(" ");
            if (f[1].startsWith("nodes")) {
                String sub = f[1].contains("/") ? f[1].substring(f[1].indexOf('/') + 1) : "";
                out.merge(cluster.nodeRequestKey(f[0], sub, Integer.parseInt(f[2])), v.doubleValue(), Double::sum);
            }
        });
        return out;
    }

    /** Answers by {@code "verb resource code"}. */
    Map<String, Long> codes() {
        Map<String, Long> out = new TreeMap<>();
        codes.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /**
     * One line on the rates meant and achieved between two {@link #counts()}, e.g. {@code kubelet_status_per_s
     * target=66.7 achieved=66.5 failed=0 behind=0 lease_per_s target=0 ...}.
     */
    String describe(Counts from, Counts to) {
        double s = (to.nanos() - from.nanos()) / 1e9;
        return String.format(Locale.ROOT, "kubelet_status_per_s target=%.1f achieved=%.1f failed=%d behind=%d"
                        + " lease_per_s target=%.1f achieved=%.1f failed=%d behind=%d", statusRate(),
                (to.statusDone() - from.statusDone()) / s, to.statusFailed() - from.statusFailed(),
                to.statusBehind(), leaseRate(), (to.leaseDone() - from.leaseDone()) / s,
                to.leaseFailed() - from.leaseFailed(), to.leaseBehind());
    }

    /** Stops sending and waits (up to 30 s) for the answers in flight. */
    @Override
    public void close() throws InterruptedException {
        ticker.shutdownNow();
        ticker.awaitTermination(5, TimeUnit.SECONDS);
        if (inFlight.tryAcquire(maxInFlight, 30, TimeUnit.SECONDS)) {
            inFlight.release(maxInFlight);
        }
    }
}
