package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ResourceType;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The elector's rules, each against the simulated API server over HTTP: expiry on this replica's monotonic clock from
 * the last change it saw, and a stop (or a lost term) that no later renewal undoes.
 */
class LeaseElectorTest {
    private static final Duration LEASE = Duration.ofSeconds(3);
    private static final Duration RENEW = Duration.ofSeconds(2);
    private static final Duration RETRY = Duration.ofMillis(200);
    private static final String NS = "kube-system";
    private static final String NAME = "podcidr-controller";

    private final SimFixture f = new SimFixture();

    @AfterEach
    void tearDown() {
        f.close();
    }

    private LeaseElector elector(String identity, java.util.function.LongSupplier nanoTime) throws Exception {
        LeaderElectionSettings s = LeaderElectionSettings.defaults(NS, NAME, identity).withDurations(LEASE, RENEW,
                RETRY);
        return new LeaseElector(new LeaseStore(NS, NAME, Config.fromConfig(new StringReader(f.sim.kubeconfig()))), s,
                nanoTime);
    }

    private ObjectNode lease() {
        return f.sim.get(ResourceType.LEASES, NS, NAME);
    }

    private void holdAs(String holder, String renewTime) {
        ObjectNode lease = lease();
        if (lease == null) {
            lease = SimFixture.JSON.objectNode();
            lease.putObject("metadata").put("name", NAME).put("namespace", NS);
            lease.putObject("spec").put("holderIdentity", holder).put("leaseDurationSeconds", 3)
                    .put("leaseTransitions", 1).put("acquireTime", renewTime).put("renewTime", renewTime);
            f.sim.create(ResourceType.LEASES, lease);
            return;
        }
        ((ObjectNode) lease.get("spec")).put("holderIdentity", holder).put("renewTime", renewTime);
        f.sim.update(ResourceType.LEASES, lease);
    }

    /**
     * The holder's renewTime says nothing (it is a minute in the future here, another machine's wall clock): the
     * Lease is free only once its record has stood unchanged for a lease duration on this replica's own clock, and
     * every change it sees starts that count again. A restarted container of the same pod (same POD_NAME, new
     * suffix) is such another holder: it does not take its old term back before that.
     */
    @Test
    void expiryCountsOnThisReplicasClockFromTheLastChangeItSaw() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        holdAs("podcidr-0_1b4e28ba-2fa1-11d2-883f-0016d3cca427", "2099-01-01T00:00:00.000000Z");
        LeaseElector e = elector("podcidr-0_6fa459ea-ee8a-3ca4-894e-db77e160355e", now::get);

        assertFalse(e.tryAcquireOrRenew(Duration.ZERO), "first sight of a held Lease");
        now.addAndGet(LEASE.toNanos() - 1_000_000);
        assertFalse(e.tryAcquireOrRenew(Duration.ZERO), "1 ms short of a lease duration");
        holdAs("podcidr-0_1b4e28ba-2fa1-11d2-883f-0016d3cca427", "2000-01-01T00:00:00.000000Z"); // renewed
        assertFalse(e.tryAcquireOrRenew(Duration.ZERO), "the change is seen: the count starts again");
        now.addAndGet(LEASE.toNanos() - 1_000_000);
        assertFalse(e.tryAcquireOrRenew(Duration.ZERO), "1 ms short of a lease duration since the change");
        assertEquals("podcidr-0_1b4e28ba-2fa1-11d2-883f-0016d3cca427", lease().at("/spec/holderIdentity").asText());
        now.addAndGet(1_000_000);
        assertTrue(e.tryAcquireOrRenew(Duration.ZERO), "a lease duration without change: taken");
        assertEquals("podcidr-0_6fa459ea-ee8a-3ca4-894e-db77e160355e", lease().at("/spec/holderIdentity").asText());
        assertEquals(2, lease().at("/spec/leaseTransitions").asInt(), "a new holder counts one transition");
        assertTrue(e.mayWrite());
    }

    /** A Lease that names nobody (released by client-go: holder "") is taken at the first try. */
    @Test
    void aReleasedLeaseIsTakenAtOnce() throws Exception {
        holdAs("", "2026-01-01T00:00:00.000000Z");
        LeaseElector e = elector("replica-a", () -> 5L);
        assertTrue(e.tryAcquireOrRenew(Duration.ZERO));
        assertEquals("replica-a", lease().at("/spec/holderIdentity").asText());
    }

    /**
     * After {@link LeaseElector#stop()} the fence stays closed: a renewal that was on the wire and is answered
     * afterwards (a successful Lease write naming this replica) does not re-open it, and the elector renews no more.
     */
    @Test
    void aStopStaysStoppedEvenWhenARenewalLandsAfterIt() throws Exception {
        LeaseElector e = elector("replica-a", System::nanoTime);
        AtomicInteger started = new AtomicInteger();
        AtomicInteger stopped = new AtomicInteger();
        Thread t = new Thread(() -> e.run(started::incrementAndGet, stopped::incrementAndGet));
        t.start();
        SimFixture.await(Duration.ofSeconds(10), e::mayWrite, () -> "replica-a leads");
        assertEquals(1, started.get());

        e.stop();
        assertFalse(e.mayWrite());
        assertEquals(Duration.ZERO, e.remaining());
        t.join(5000);
        assertFalse(t.isAlive(), "the election thread ends after a stop");
        assertEquals(1, stopped.get());

        assertTrue(e.tryAcquireOrRenew(RENEW), "a renewal answered after the stop (it names this replica)");
        assertFalse(e.mayWrite(), "and yet the fence stays closed");
        String rv = lease().at("/metadata/resourceVersion").asText();
        Thread.sleep(RETRY.toMillis() * 4);
        assertEquals(rv, lease().at("/metadata/resourceVersion").asText(), "no renewal after the stop");
        assertFalse(e.mayWrite());
    }

    /**
     * A term that ended because renewals failed for a renew deadline stays ended when the server answers again: the
     * fence does not re-open and the Lease is not written again (a new term takes a new process).
     */
    @Test
    void aLostTermStaysLostWhenTheServerRecovers() throws Exception {
        LeaseElector e = elector("replica-a", System::nanoTime);
        AtomicInteger stopped = new AtomicInteger();
        Thread t = new Thread(() -> e.run(() -> { }, stopped::incrementAndGet));
        t.start();
        SimFixture.await(Duration.ofSeconds(10), e::mayWrite, () -> "replica-a leads");
        f.sim.faults().failRate("update", "leases", 1.0, 500);
        SimFixture.await(Duration.ofSeconds(10), () -> stopped.get() == 1, () -> "the term ends");
        assertFalse(e.mayWrite());
        f.sim.faults().clear();
        String rv = lease().at("/metadata/resourceVersion").asText();
        Thread.sleep(RETRY.toMillis() * 4);
        assertFalse(e.mayWrite(), "the fence stays closed once the server answers again");
        assertEquals(rv, lease().at("/metadata/resourceVersion").asText(), "no Lease write after the loss");
        t.join(5000);
        assertFalse(t.isAlive());
    }

    /** Another holder named while leading (someone wrote the Lease) ends the term at once. */
    @Test
    void anotherHolderSeenWhileLeadingEndsTheTerm() throws Exception {
        LeaseElector e = elector("replica-a", System::nanoTime);
        AtomicInteger stopped = new AtomicInteger();
        Thread t = new Thread(() -> e.run(() -> { }, stopped::incrementAndGet));
        t.start();
        SimFixture.await(Duration.ofSeconds(10), e::mayWrite, () -> "replica-a leads");
        holdAs("intruder", "2026-01-01T00:00:00.000000Z");
        SimFixture.await(Duration.ofSeconds(5), () -> stopped.get() == 1, () -> "the term ends");
        assertFalse(e.mayWrite());
        assertEquals("intruder", lease().at("/spec/holderIdentity").asText(), "the intruder's record is left alone");
        t.join(5000);
    }

    /**
     * Renewals change the Lease as read: labels, annotations, finalizers and owner references that others put on it
     * survive the take-over and every renewal (the old lock rebuilt the metadata and lost the finalizers).
     */
    @Test
    void renewalsKeepWhatOthersPutOnTheLease() throws Exception {
        ObjectNode lease = SimFixture.JSON.objectNode();
        ObjectNode meta = lease.putObject("metadata").put("name", NAME).put("namespace", NS);
        meta.putObject("labels").put("team", "net");
        meta.putObject("annotations").put("owner", "platform");
        meta.putArray("finalizers").add("example.com/keep");
        meta.putArray("ownerReferences").addObject().put("apiVersion", "v1").put("kind", "ConfigMap")
                .put("name", "owner").put("uid", "6fa459ea-ee8a-3ca4-894e-db77e160355e");
        lease.putObject("spec").put("holderIdentity", "").put("leaseDurationSeconds", 1).put("leaseTransitions", 2);
        f.sim.create(ResourceType.LEASES, lease);
        LeaseElector e = elector("replica-a", System::nanoTime);
        Thread t = new Thread(() -> e.run(() -> { }, () -> { }));
        t.start();
        try {
            SimFixture.await(Duration.ofSeconds(10), e::mayWrite, () -> "replica-a leads");
            long taken = f.sim.requests().count("update", "leases");
            SimFixture.await(Duration.ofSeconds(10), () -> f.sim.requests().count("update", "leases") >= taken + 3,
                    () -> "three renewals");
            ObjectNode now = lease();
            assertEquals("replica-a", now.at("/spec/holderIdentity").asText());
            assertEquals("net", now.at("/metadata/labels/team").asText(), now.toString());
            assertEquals("platform", now.at("/metadata/annotations/owner").asText(), now.toString());
            assertEquals("example.com/keep", now.at("/metadata/finalizers/0").asText(), now.toString());
            assertEquals("owner", now.at("/metadata/ownerReferences/0/name").asText(), now.toString());
            assertEquals(3, now.at("/spec/leaseTransitions").asInt());
        } finally {
            e.stop();
            t.join(5000);
        }
    }
}
