package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The fence bounds when a write lands, not only when it starts (issue 13, item 3): a write that waited for the
 * client-side rate limit past the fence is not sent, and a write that a slow server holds past the fence is
 * abandoned by the server (kube-apiserver's {@code timeout} parameter), so that nothing the old leader sent lands
 * once the new leader has listed the nodes.
 */
class WriteFenceDeadlineTest {
    private static final String PATCH = "[{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"10.244.7.0/24\"}]";

    private final SimFixture f = new SimFixture();
    private final List<ControllerRunner> runners = new ArrayList<>();

    @AfterEach
    void tearDown() {
        runners.forEach(ControllerRunner::close);
        f.close();
    }

    /** A fence open until a given System.nanoTime(). */
    private static WriteFence openUntil(long deadline) {
        return new WriteFence() {
            @Override
            public boolean mayWrite() {
                return System.nanoTime() < deadline;
            }

            @Override
            public Duration remaining() {
                long left = deadline - System.nanoTime();
                return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
            }
        };
    }

    @Test
    void aWriteWhoseFenceClosesDuringTheRateLimitWaitIsNotSent() throws Exception {
        f.createNode("n1");
        ApiClient client = Config.fromConfig(new StringReader(f.sim.kubeconfig()));
        // Where KubeClients puts its token bucket: an interceptor of the client, ahead of the writer's own.
        client.setHttpClient(client.getHttpClient().newBuilder().addInterceptor(chain -> {
            try {
                Thread.sleep(600);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return chain.proceed(chain.request());
        }).build());
        WriteFence fence = openUntil(System.nanoTime() + Duration.ofMillis(200).toNanos());
        NodeWriter writer = NodeWriter.of(client, fence, Duration.ofSeconds(10));
        long before = f.patches();

        ApiException e = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
                () -> writer.patch("n1", PATCH));

        assertEquals(0, e.getCode(), "no answer: the outcome counts as unknown, the subnet stays reserved");
        assertEquals(before, f.patches(), "the fence closed while the write waited for the rate limit: not sent");
        assertEquals(List.of(), f.podCidrs("n1"));
    }

    @Test
    void aWriteHeldByASlowServerPastTheFenceIsAbandonedNotStored() throws Exception {
        f.createNode("n1");
        f.createNode("warm-up");
        ApiClient client = Config.fromConfig(new StringReader(f.sim.kubeconfig()));
        client.setUserAgent("slow-writer");
        NodeWriter.of(client, WriteFence.OPEN, Duration.ofSeconds(10)).patch("warm-up", PATCH); // classes, connection
        f.sim.faults().latencyForClient("slow-writer", "patch", "nodes", Duration.ofSeconds(3));
        WriteFence fence = openUntil(System.nanoTime() + Duration.ofSeconds(1).toNanos());
        NodeWriter writer = NodeWriter.of(client, fence, Duration.ofSeconds(10));
        long started = System.nanoTime();

        ApiException e = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
                () -> writer.patch("n1", PATCH));
        double seconds = (System.nanoTime() - started) / 1e9;

        assertTrue(e.getCode() == 0 || e.getCode() == 504, "timed out or abandoned by the server: " + e.getCode());
        assertTrue(seconds < 2.5, "the write's deadline is the fence's (1 s), not the request timeout (10 s): "
                + seconds + " s");
        Thread.sleep(3_000); // past the server's 3 s: a write it still held would be stored by now
        assertEquals(List.of(), f.podCidrs("n1"), "the server stored a write after the fence closed");
    }

    /**
     * Two replicas with different cluster ranges, so that the server's nodes tell whose write landed: A (10.244/16)
     * leads, then its API server becomes slow (4 s on every request of A's, Lease renewals included) while nodes
     * arrive; B (10.245/16) takes over. B selects none of the new nodes (it adopts what they hold and writes nothing
     * to them), so a late write of A's is not stopped by B's own write's guard: it is what a stale leader's write
     * does to a node the new leader has not reached yet. No node may hold one of A's subnets with a resourceVersion
     * newer than the server's when B sent its first node LIST.
     */
    @Test
    void noWriteOfASlowOldLeaderLandsAfterTheNewLeadersFirstList() throws Exception {
        Duration lease = Duration.ofSeconds(3);
        Duration renew = Duration.ofSeconds(2);
        Duration retry = Duration.ofMillis(300);
        AtomicLong versionAtFirstList = new AtomicLong(-1);
        AtomicInteger lostA = new AtomicInteger();
        ControllerRunner a = replica("replica-a", "10.244.0.0/16", NodeSelector.all(), lease, renew, retry, lostA,
                null);
        SimFixture.await(Duration.ofSeconds(10), () -> a.isLeader() && a.isReady(), () -> "A leads");

        f.sim.faults().latencyForClient("replica-a", "*", "*", Duration.ofSeconds(4));
        NodeSelector onlyB = NodeSelector.parse("[{\"key\":\"group\",\"operator\":\"In\",\"values\":[\"b\"]}]");
        ControllerRunner b = replica("replica-b", "10.245.0.0/16", onlyB, lease, renew, retry, new AtomicInteger(),
                versionAtFirstList);
        f.createNodes("late", 40); // A's open watch sees them at once; its writes meet the slow server
        SimFixture.await(Duration.ofSeconds(30), () -> b.isLeader() && b.isReady(), () -> "B leads");
        Thread.sleep(6_000); // every write A could still have in flight has had its 4 s

        long listed = versionAtFirstList.get();
        assertTrue(listed > 0, "B's first LIST was seen");
        List<String> late = new ArrayList<>();
        int fromA = 0;
        for (ObjectNode n : f.sim.list(ResourceType.NODES, null)) {
            String cidr = n.at("/spec/podCIDR").asText("");
            if (cidr.startsWith("10.244.")) {
                fromA++;
                long rv = Long.parseLong(n.at("/metadata/resourceVersion").asText());
                if (rv > listed) {
                    late.add(n.at("/metadata/name").asText() + " " + cidr + " at rv " + rv);
                }
            }
        }
        System.out.printf("WriteFenceDeadlineTest: old leader's writes stored %d, after the new leader's first"
                + " LIST (rv %d): %d%n", fromA, listed, late.size());
        assertEquals(List.of(), late, "writes of the old leader stored after the new leader listed the nodes");
        SimFixture.await(Duration.ofSeconds(10), () -> lostA.get() == 1, () -> "A reports its lost term");
    }

    private ControllerRunner replica(String id, String cidr, NodeSelector selector, Duration lease, Duration renew, Duration retry,
                                     AtomicInteger lost, AtomicLong versionAtFirstList) throws Exception {
        ControllerSettings settings = ControllerSettings.builder().clusterCidrs(List.of(Cidr.parse(cidr)))
                .nodeSelector(selector).workers(4).build();
        LeaderElectionSettings election = LeaderElectionSettings.defaults("kube-system", "podcidr-controller", id)
                .withDurations(lease, renew, retry);
        ApiClientFactory clients = () -> {
            ApiClient c = Config.fromConfig(new StringReader(f.sim.kubeconfig()));
            c.setUserAgent(id);
            if (versionAtFirstList != null) {
                c.setHttpClient(c.getHttpClient().newBuilder().addInterceptor(chain -> {
                    okhttp3.Request r = chain.request();
                    if ("GET".equals(r.method()) && "/api/v1/nodes".equals(r.url().encodedPath())
                            && r.url().queryParameter("watch") == null) {
                        versionAtFirstList.compareAndSet(-1, f.sim.resourceVersion());
                    }
                    return chain.proceed(r);
                }).build());
            }
            return c;
        };
        ControllerRunner r = new ControllerRunner(clients, settings, election, ControllerMetrics.NONE,
                lost::incrementAndGet);
        runners.add(r);
        r.start();
        return r;
    }
}
