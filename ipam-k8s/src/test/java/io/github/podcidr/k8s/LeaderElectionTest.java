package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two controller replicas, each with its own clients, against one simulated API server: only the leader writes, a
 * graceful stop releases the Lease so the standby takes over in about one retry period, and a leader that cannot
 * renew stops writing and reports the loss.
 */
class LeaderElectionTest {
    private static final Duration LEASE = Duration.ofSeconds(3);
    private static final Duration RENEW = Duration.ofSeconds(2);
    private static final Duration RETRY = Duration.ofMillis(300);

    private final SimFixture f = new SimFixture();
    private final List<ControllerRunner> runners = new ArrayList<>();

    /** Counts the subnets a replica wrote. */
    static final class Counting implements ControllerMetrics {
        final AtomicInteger assigned = new AtomicInteger();
        final AtomicInteger journalWaits = new AtomicInteger();

        @Override
        public void assigned(String node, List<Cidr> cidrs) {
            assigned.incrementAndGet();
        }

        @Override
        public void intentJournalWaited(long nanos) {
            journalWaits.incrementAndGet();
        }
    }

    @AfterEach
    void tearDown() {
        runners.forEach(ControllerRunner::close);
        f.close();
    }

    private ControllerRunner replica(String identity, Counting metrics, AtomicInteger lost) throws Exception {
        ControllerSettings settings = ControllerSettings.builder().clusterCidrs(List.of(Cidr.parse("10.244.0.0/16")))
                .workers(2).build();
        LeaderElectionSettings election = LeaderElectionSettings.defaults("kube-system", "podcidr-controller",
                identity).withDurations(LEASE, RENEW, RETRY);
        ControllerRunner r = new ControllerRunner(f.clients(), settings, election, metrics, lost::incrementAndGet);
        runners.add(r);
        r.start();
        return r;
    }

    private String holder() {
        ObjectNode lease = f.sim.get(ResourceType.LEASES, "kube-system", "podcidr-controller");
        return lease == null ? null : lease.at("/spec/holderIdentity").asText(null);
    }

    /** The Lease's holders, in order, from a one-second watch that starts at {@code resourceVersion}. */
    private List<String> leaseHolders(long resourceVersion) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(f.sim.baseUri().resolve(
                "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?watch=true&timeoutSeconds=1"
                        + "&resourceVersion=" + resourceVersion)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        List<String> holders = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            JsonNode event = RealFixture.JSON.readTree(line);
            if (event.at("/object/metadata/name").asText().equals("podcidr-controller")) {
                holders.add(event.at("/object/spec/holderIdentity").asText(""));
            }
        }
        return holders;
    }

    @Test
    void onlyTheLeaderWritesAndAGracefulStopHandsOverQuickly() throws Exception {
        Counting ma = new Counting();
        Counting mb = new Counting();
        AtomicInteger lost = new AtomicInteger();
        ControllerRunner a = replica("replica-a", ma, lost);
        SimFixture.await(Duration.ofSeconds(10), () -> a.isLeader() && a.isReady(), () -> "a leads");
        ControllerRunner b = replica("replica-b", mb, lost);
        assertTrue(b.isReady(), "a standby is ready so that rollouts proceed");
        f.createNodes("n", 20);
        f.awaitAllAssigned(NodeSelector.all(), 1, Duration.ofSeconds(20));
        assertEquals("replica-a", holder());
        assertFalse(b.isLeader());
        assertNull(b.controller());
        SimFixture.await(Duration.ofSeconds(5), () -> ma.assigned.get() == 20, () -> "20 counted: " + ma.assigned);
        assertEquals(0, mb.assigned.get(), "the standby wrote nothing");
        assertEquals(20, ma.journalWaits.get(), "each write waited for its intent to be stored, once");

        long beforeStop = f.sim.resourceVersion();
        long stopped = System.nanoTime();
        a.close();
        SimFixture.await(Duration.ofSeconds(10), () -> b.isLeader() && b.isReady(), () -> "b takes over");
        Duration takeover = Duration.ofNanos(System.nanoTime() - stopped);
        // The standby retries every 300 ms, so it may take the released Lease before close() returns: read the
        // Lease's history from a watch instead of its current holder.
        List<String> holders = leaseHolders(beforeStop);
        assertEquals("replica-b", holders.get(holders.size() - 1), "holders since the stop: " + holders);
        assertTrue(holders.lastIndexOf("") > holders.lastIndexOf("replica-a")
                && holders.lastIndexOf("") < holders.indexOf("replica-b"),
                "the lease is released on shutdown, before the standby takes it: " + holders);
        assertTrue(takeover.compareTo(LEASE) < 0, "took over in " + takeover.toMillis() + " ms, before a lease"
                + " duration, because the lease was released");
        assertEquals("replica-b", holder());
        assertEquals(20, b.controller().restoreReport().adoptedSubnets(), "the new leader restored every subnet");

        f.createNodes("m", 5);
        f.awaitAllAssigned(NodeSelector.all(), 1, Duration.ofSeconds(20));
        SimFixture.await(Duration.ofSeconds(5), () -> mb.assigned.get() == 5, () -> "5 counted: " + mb.assigned);
        assertEquals(20, ma.assigned.get());
        assertEquals(0, lost.get());
        f.assertInvariants(b.controller(), NodeSelector.all(), Set.of());
        assertEquals(List.of(IpFamily.IPV4), b.controller().ipam().families());
    }

    /**
     * A Lease whose renewTime is long past is still taken only after one lease duration of this replica's own
     * observation: the renewTime is another machine's wall clock, which may be skewed (client-go does the same).
     */
    @Test
    void aLeaseThatLooksLongExpiredIsTakenAfterOneLeaseDurationOfOurOwnObservation() throws Exception {
        ObjectNode lease = SimFixture.JSON.objectNode();
        lease.putObject("metadata").put("name", "podcidr-controller").put("namespace", "kube-system");
        lease.putObject("spec").put("holderIdentity", "ghost").put("leaseDurationSeconds", 3).put("leaseTransitions", 4)
                .put("acquireTime", "2026-01-01T00:00:00.000000Z").put("renewTime", "2026-01-01T00:00:00.000000Z");
        f.sim.create(ResourceType.LEASES, lease);
        long t0 = System.nanoTime();
        ControllerRunner a = replica("replica-a", new Counting(), new AtomicInteger());
        SimFixture.await(Duration.ofSeconds(10), a::isLeader, () -> "a leads");
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(LEASE) >= 0, "taken before a lease duration: " + took.toMillis() + " ms");
        assertTrue(took.compareTo(LEASE.plusSeconds(3)) < 0, "took " + took.toMillis() + " ms");
        assertEquals("replica-a", holder());
    }

    /**
     * SIGTERM's path while a slow server holds 16 node writes (each answered 6 s after it arrives, within its 8 s
     * deadline): the Lease is released only after every one of them was stored, so a standby that takes the released
     * Lease at once can never see one of them land after it listed the nodes. Before this change the workers got 5 s,
     * were interrupted, and the Lease was released while the 16 writes were still on their way.
     */
    @Test
    void aGracefulStopReleasesTheLeaseOnlyAfterEveryWriteSentHasLanded() throws Exception {
        ControllerSettings settings = ControllerSettings.builder().clusterCidrs(List.of(Cidr.parse("10.244.0.0/16")))
                .workers(16).requestTimeout(Duration.ofSeconds(8)).build();
        LeaderElectionSettings election = LeaderElectionSettings.defaults("kube-system", "podcidr-controller",
                "replica-a").withDurations(Duration.ofSeconds(10), Duration.ofSeconds(8), RETRY);
        ControllerRunner a = new ControllerRunner(f.clients(), settings, election, new Counting(), () -> { });
        runners.add(a);
        a.start();
        SimFixture.await(Duration.ofSeconds(10), () -> a.isLeader() && a.isReady(), () -> "a leads");
        f.sim.faults().latency("patch", "nodes", Duration.ofSeconds(6));
        f.createNodes("slow", 16);
        SimFixture.await(Duration.ofSeconds(10), () -> f.patches() == 16, () -> "16 writes held: " + f.patches());

        long t0 = System.nanoTime();
        a.close();
        double took = (System.nanoTime() - t0) / 1e9;

        ObjectNode lease = f.sim.get(ResourceType.LEASES, "kube-system", "podcidr-controller");
        assertEquals("", lease.at("/spec/holderIdentity").asText(), "released: " + lease);
        long released = Long.parseLong(lease.at("/metadata/resourceVersion").asText());
        SimFixture.await(Duration.ofSeconds(10), () -> java.util.stream.IntStream.range(0, 16)
                .allMatch(i -> f.podCidrs("slow" + i).size() == 1), () -> "the 16 writes stored");
        long lastWrite = 0;
        for (int i = 0; i < 16; i++) {
            ObjectNode node = f.sim.getNode("slow" + i);
            lastWrite = Math.max(lastWrite, Long.parseLong(node.at("/metadata/resourceVersion").asText()));
        }
        System.out.printf("LeaderElectionTest: close() took %.2f s with 16 writes held 6 s; last node write at"
                + " resourceVersion %d, Lease released at %d%n", took, lastWrite, released);
        assertTrue(lastWrite < released, "the Lease (resourceVersion " + released + ") was released before a node"
                + " write (resourceVersion " + lastWrite + ") landed");
    }

    @Test
    void aLeaderThatCannotRenewStopsWritingAndReportsTheLoss() throws Exception {
        Counting ma = new Counting();
        AtomicInteger lost = new AtomicInteger();
        ControllerRunner a = replica("replica-a", ma, lost);
        SimFixture.await(Duration.ofSeconds(10), () -> a.isLeader() && a.isReady(), () -> "a leads");
        f.sim.faults().failRate("update", "leases", 1.0, 500).failRate("get", "leases", 1.0, 500);
        SimFixture.await(Duration.ofSeconds(10), () -> lost.get() == 1, () -> "loss reported");
        assertFalse(a.isLeader());
        long writes = f.patches();
        f.createNodes("after-loss", 3);
        Thread.sleep(1000);
        assertEquals(writes, f.patches(), "no write after the lease is lost");
        assertEquals(List.of(), f.podCidrs("after-loss0"));
    }
}
