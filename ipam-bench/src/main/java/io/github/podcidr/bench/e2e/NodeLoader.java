package io.github.podcidr.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.podcidr.apiserver.NodeGenerator;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Creates realistic generated nodes (a quarter carrying the TKE taint) on a real API server, many at once over one
 * HTTP/2 connection, and keeps what a writer needs of each from the server's answer: its uid and the index of the TKE
 * taint among the taints the server stored (kube-apiserver 1.20 adds {@code node.kubernetes.io/not-ready} to every
 * node it creates).
 */
final class NodeLoader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = 20261126;

    /** Node {@code i} as created: name, uid, the TKE taint's index in {@code spec.taints} (or -1). */
    record Created(String name, String uid, int tkeTaintIndex) {
    }

    private final RealCluster cluster;
    private final NodeGenerator generator = new NodeGenerator(SEED);

    NodeLoader(RealCluster cluster) {
        this.cluster = cluster;
    }

    /** Whether generated node {@code index} carries the TKE taint. */
    static boolean tainted(int index) {
        return index % 4 == 0;
    }

    /**
     * Creates nodes {@code 0..count-1}, {@code concurrency} requests in flight.
     *
     * @return the created nodes by index
     */
    Created[] load(int count, int concurrency) throws IOException, InterruptedException {
        return load(count, concurrency, false);
    }

    /**
     * Creates nodes {@code 0..count-1} that already hold their pod CIDR ({@link CapacityClient#podCidr(int)}, inside
     * every contender's range) and no TKE taint: a cluster at rest, where a controller has nothing to write.
     */
    Created[] loadAssigned(int count, int concurrency) throws IOException, InterruptedException {
        return load(count, concurrency, true);
    }

    private Created[] load(int count, int concurrency, boolean assigned) throws IOException, InterruptedException {
        Created[] out = new Created[count];
        Semaphore inFlight = new Semaphore(concurrency);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        for (int i = 0; i < count && failed.get() == null; i++) {
            inFlight.acquire();
            int index = i;
            send(cluster.http(), index, assigned).whenComplete((created, error) -> {
                if (error != null) {
                    failed.compareAndSet(null, error);
                } else {
                    out[index] = created;
                }
                inFlight.release();
            });
        }
        inFlight.acquire(concurrency);
        if (failed.get() != null) {
            throw new IllegalStateException("creating nodes failed: " + failed.get().getMessage(), failed.get());
        }
        return out;
    }

    /** Creates node {@code index} and waits for the answer. */
    Created create(int index) throws InterruptedException {
        return create(cluster.http(), index);
    }

    /** Creates node {@code index} (without pod CIDR) through {@code client} and waits for the answer. */
    Created create(java.net.http.HttpClient client, int index) throws InterruptedException {
        try {
            return send(client, index, false).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("creating node " + index + " failed: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    private CompletableFuture<Created> send(java.net.http.HttpClient client, int index, boolean assigned) {
        String body;
        synchronized (generator) {
            body = (assigned ? generator.node(index, false, CapacityClient.podCidr(index))
                    : generator.node(index, tainted(index))).toString();
        }
        HttpRequest req = cluster.request("/api/v1/nodes").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return client.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).thenApply(r -> {
            if (r.statusCode() != 201) {
                throw new IllegalStateException("POST node " + NodeGenerator.name(index) + ": HTTP " + r.statusCode()
                        + " " + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
            }
            try {
                JsonNode node = JSON.readTree(r.body());
                int tke = -1;
                JsonNode taints = node.path("spec").path("taints");
                for (int t = 0; t < taints.size(); t++) {
                    if (NodeGenerator.TKE_ENI_TAINT_KEY.equals(taints.get(t).path("key").asText())) {
                        tke = t;
                    }
                }
                return new Created(node.path("metadata").path("name").asText(),
                        node.path("metadata").path("uid").asText(), tke);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }
}
