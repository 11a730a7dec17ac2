package io.github.podcidr.bench.e2e;

import io.github.podcidr.apiserver.NodeGenerator;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The API server's capacity for the controller's writes: the smallest client that sends, for every node, the same
 * guarded JSON patch the controller sends (uid tested, {@code podCIDR}/{@code podCIDRs} tested absent then added, the
 * TKE taint tested at its index and removed), asking for the answer in protobuf as the controller does, from
 * {@code concurrency} threads sharing one HTTP/2 connection, with an optional client-side token bucket. It knows
 * every node from its creation (no LIST, no watch, no decoding of the answers): whatever the controller does on top
 * of this is the controller's own cost.
 */
final class CapacityClient {
    /** The controller's {@code Accept} for its writes (NodeWriter): the answer in protobuf, else JSON. */
    static final String ACCEPT = "application/vnd.kubernetes.protobuf, application/json;q=0.9";
    /** The User-Agent of its patches, so that an audit log tells them apart. */
    static final String USER_AGENT = "podcidr-bench-capacity";

    private final RealCluster cluster;
    private final int concurrency;
    private final double qps;
    private final int burst;
    private final String accept;
    private final Map<Integer, AtomicInteger> codes = new ConcurrentHashMap<>();

    /**
     * @param qps requests per second, or a value below 0 for no client-side limit
     * @param burst the bucket's size when limited
     * @param accept the {@code Accept} header of every patch, e.g. protobuf for a smaller and cheaper answer, or null
     *     for none (the server then answers in JSON)
     */
    CapacityClient(RealCluster cluster, int concurrency, double qps, int burst, String accept) {
        this.cluster = cluster;
        this.accept = accept;
        this.concurrency = concurrency;
        this.qps = qps;
        this.burst = burst;
    }

    /** The pod CIDR the capacity client gives node {@code index}: 10.128.0.0/9 cut into /24s. */
    static String podCidr(int index) {
        return "10." + (128 + (index >>> 8)) + "." + (index & 255) + ".0/24";
    }

    /** The patch the controller's NodePatch builds for a node without pod CIDR, with the TKE taint at its index. */
    static String patch(NodeLoader.Created node, String cidr) {
        StringBuilder sb = new StringBuilder(512).append("[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":\"")
                .append(node.uid()).append("\"},{\"op\":\"test\",\"path\":\"/spec/podCIDR\",\"value\":null},")
                .append("{\"op\":\"test\",\"path\":\"/spec/podCIDRs\",\"value\":null},")
                .append("{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"").append(cidr).append("\"},")
                .append("{\"op\":\"add\",\"path\":\"/spec/podCIDRs\",\"value\":[\"").append(cidr).append("\"]}");
        int t = node.tkeTaintIndex();
        if (t >= 0) {
            String at = "/spec/taints/" + t;
            sb.append(",{\"op\":\"test\",\"path\":\"").append(at).append("/key\",\"value\":\"")
                    .append(NodeGenerator.TKE_ENI_TAINT_KEY).append("\"}")
                    .append(",{\"op\":\"test\",\"path\":\"").append(at).append("/effect\",\"value\":\"NoSchedule\"}")
                    .append(",{\"op\":\"test\",\"path\":\"").append(at).append("/value\",\"value\":null}")
                    .append(",{\"op\":\"remove\",\"path\":\"").append(at).append("\"}");
        }
        return sb.append(']').toString();
    }

    /** Patches every node once; returns when every answer is in. */
    void run(NodeLoader.Created[] nodes) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        Bucket bucket = qps > 0 ? new Bucket(qps, burst) : null;
        Thread[] threads = new Thread[concurrency];
        for (int w = 0; w < concurrency; w++) {
            threads[w] = new Thread(() -> {
                for (int i = next.getAndIncrement(); i < nodes.length; i = next.getAndIncrement()) {
                    try {
                        if (bucket != null) {
                            bucket.acquire();
                        }
                        send(nodes[i], podCidr(i));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "capacity-" + w);
            threads[w].start();
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    /** Sends one node's patch with this client's {@code Accept} and waits for the answer. */
    void send(NodeLoader.Created node, String cidr) throws InterruptedException {
        HttpRequest.Builder req = cluster.request("/api/v1/nodes/" + node.name()
                        + "?fieldManager=podcidr-controller&timeout=10000ms")
                .header("User-Agent", USER_AGENT)
                .header("Content-Type", "application/json-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(patch(node, cidr)));
        if (accept != null) {
            req.header("Accept", accept);
        }
        int code;
        try {
            code = cluster.http().send(req.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            code = 0;
        }
        codes.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
    }

    /** Answers by HTTP code (0: no answer), as this client saw them. */
    Map<Integer, Integer> codes() {
        Map<Integer, Integer> out = new TreeMap<>();
        codes.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** client-go's token bucket: {@code burst} tokens, refilled at {@code qps}; waiters are served in order. */
    private static final class Bucket {
        private final double qps;
        private final int burst;
        private double tokens;
        private long stamp = System.nanoTime();

        Bucket(double qps, int burst) {
            this.qps = qps;
            this.burst = burst;
            this.tokens = burst;
        }

        void acquire() throws InterruptedException {
            long wait;
            synchronized (this) {
                long now = System.nanoTime();
                tokens = Math.min(burst, tokens + (now - stamp) * qps / 1e9) - 1;
                stamp = now;
                wait = tokens >= 0 ? 0 : (long) Math.ceil(-tokens / qps * 1e9);
            }
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
        }
    }
}
