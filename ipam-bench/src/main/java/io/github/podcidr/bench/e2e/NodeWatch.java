package io.github.podcidr.bench.e2e;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * One watch on nodes, from a given resourceVersion, that records when each node is first seen with a
 * {@code spec.podCIDR}. The events are read with a streaming parser that keeps only the node's name, resourceVersion
 * and pod CIDR (the rest of each 10 to 16 KB node is skipped), on a connection of its own. When the server ends the
 * watch it is resumed from the last resourceVersion seen.
 */
final class NodeWatch implements AutoCloseable {
    private static final JsonFactory FACTORY = new JsonFactory();

    private final RealCluster cluster;
    private final HttpClient http;
    private final Map<String, Long> assignedAt = new ConcurrentHashMap<>();
    /** When each node was first seen at all (its ADDED event, or the first event after this watch began). */
    private final Map<String, Long> seenAt = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile String resourceVersion;
    private volatile boolean closed;
    private volatile InputStream body;
    private volatile String failure;

    private NodeWatch(RealCluster cluster, String resourceVersion) {
        this.cluster = cluster;
        this.http = cluster.client(HttpClient.Version.HTTP_1_1);
        this.resourceVersion = resourceVersion;
        this.thread = new Thread(this::run, "node-watch");
        this.thread.setDaemon(true);
    }

    /** Starts watching nodes from {@code resourceVersion} (e.g. {@link RealCluster#nodesResourceVersion()}). */
    static NodeWatch start(RealCluster cluster, String resourceVersion) {
        NodeWatch w = new NodeWatch(cluster, resourceVersion);
        w.thread.start();
        return w;
    }

    private void run() {
        while (!closed) {
            try {
                HttpResponse<InputStream> r = http.send(cluster.request("/api/v1/nodes?watch=1&resourceVersion="
                        + resourceVersion + "&timeoutSeconds=3600").build(), HttpResponse.BodyHandlers.ofInputStream());
                body = r.body();
                if (r.statusCode() != 200) {
                    failure = "watch: HTTP " + r.statusCode() + " " + new String(body.readAllBytes());
                    return;
                }
                try (JsonParser p = FACTORY.createParser(body)) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        event(p);
                    }
                }
            } catch (IOException e) {
                if (!closed) {
                    pause();
                }
            } catch (InterruptedException e) {
                return;
            } catch (IllegalStateException e) {
                failure = e.getMessage();
                return;
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One {@code {"type":..., "object":{...}}}; the parser is on its START_OBJECT. */
    private void event(JsonParser p) throws IOException {
        String type = null;
        String name = null;
        String rv = null;
        String podCidr = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            if (field.equals("type")) {
                type = p.getText();
            } else if (field.equals("object") && p.currentToken() == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String part = p.currentName();
                    p.nextToken();
                    if (part.equals("metadata") || part.equals("spec")) {
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String key = p.currentName();
                            p.nextToken();
                            switch (key) {
                                case "name" -> name = p.getText();
                                case "resourceVersion" -> rv = p.getText();
                                case "podCIDR" -> podCidr = p.getText();
                                default -> p.skipChildren();
                            }
                        }
                    } else {
                        p.skipChildren();
                    }
                }
            } else {
                p.skipChildren();
            }
        }
        if ("ERROR".equals(type)) {
            throw new IllegalStateException("the node watch ended with an ERROR event (e.g. 410 Gone: the run fell"
                    + " too far behind); resourceVersion " + resourceVersion);
        }
        if (rv != null) {
            resourceVersion = rv;
        }
        if (name != null) {
            long now = System.nanoTime();
            seenAt.putIfAbsent(name, now);
            if (podCidr != null && !podCidr.isEmpty()) {
                assignedAt.putIfAbsent(name, now);
            }
        }
    }

    /** How many nodes have been seen with a pod CIDR. */
    int assigned() {
        return assignedAt.size();
    }

    /** When (System.nanoTime) a node was first seen in any event, or null. */
    Long seenAt(String node) {
        return seenAt.get(node);
    }

    /** When (System.nanoTime) a node was first seen with a pod CIDR, or null. */
    Long assignedAt(String node) {
        return assignedAt.get(node);
    }

    /** The earliest time (System.nanoTime) a node was seen with a pod CIDR at or after {@code since}, or -1. */
    long firstAssignedSince(long since) {
        return assignedAt.values().stream().mapToLong(Long::longValue).filter(t -> t - since >= 0).min().orElse(-1);
    }

    /** The latest time a node was first seen with a pod CIDR, or -1 when none was. */
    long lastAssigned() {
        return assignedAt.values().stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    /**
     * Waits until {@code count} nodes have a pod CIDR.
     *
     * @param alive false when the contender died (the wait then fails at once)
     * @throws IllegalStateException on timeout, a dead contender or a failed watch
     */
    void awaitAssigned(int count, long deadlineNanos, BooleanSupplier alive, String what) throws InterruptedException {
        while (assignedAt.size() < count) {
            await(deadlineNanos, alive, what + " (" + assignedAt.size() + " of " + count + " assigned)");
        }
    }

    /** Waits until {@code node} has a pod CIDR; see {@link #awaitAssigned}. */
    void awaitNode(String node, long deadlineNanos, BooleanSupplier alive, String what) throws InterruptedException {
        while (!assignedAt.containsKey(node)) {
            await(deadlineNanos, alive, what);
        }
    }

    private void await(long deadlineNanos, BooleanSupplier alive, String what) throws InterruptedException {
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
        if (!alive.getAsBoolean()) {
            throw new IllegalStateException("the contender exited before " + what);
        }
        if (System.nanoTime() - deadlineNanos > 0) {
            throw new IllegalStateException("timed out waiting for " + what);
        }
        Thread.sleep(10);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        InputStream b = body;
        if (b != null) {
            try {
                b.close();
            } catch (IOException ignored) {
                // closing only to end the thread
            }
        }
    }
}
