package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.RestoreReport;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Taking over from the Go podcidr-controller (or any other tool) on a real kube-apiserver 1.20, under the same Lease
 * name in the same namespace (issue 13, items 6 and 8): a Lease written without {@code leaseTransitions} (as
 * {@code kubectl create} or another elector leaves it) is read, not a crash; a Lease held by another identity that
 * stops renewing is taken one lease duration later; and nodes the Go controller assigned (pod CIDRs set, the
 * removable taint already gone) are adopted with no write at all, as the audit log shows. The third case of the
 * migration, a Lease released by client-go ({@code holderIdentity: ""}), is {@link LeaseHandoverRealIT}'s first test.
 */
class MigrationRealIT extends RealTier {
    private static final Duration LEASE = Duration.ofSeconds(4);
    private static final Duration RENEW = Duration.ofSeconds(3);
    private static final Duration RETRY = Duration.ofMillis(500);
    private static final String LEASES = "/apis/coordination.k8s.io/v1/namespaces/" + RealFixture.NAMESPACE + "/leases";
    private static final DateTimeFormatter MICRO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX");
    private static final ControllerSettings SETTINGS = ControllerSettings.builder()
            .clusterCidrs(List.of(Cidr.parse("10.244.0.0/16"))).nodeMaskIpv4(24)
            .removeTaints(List.of(TaintRule.parse("tke.cloud.tencent.com/eni-ip-unavailable"))).build();

    private static String now() {
        return ZonedDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS).format(MICRO_TIME);
    }

    @Test
    void aLeaseWithoutLeaseTransitionsIsReadAndTakenAfterALeaseDurationOfSilence() throws Exception {
        // No leaseTransitions, no acquireTime: what `kubectl create -f` of a hand-written Lease stores.
        RealFixture.Answer created = f.send("POST", LEASES, "application/json", """
                {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s"},
                 "spec":{"holderIdentity":"someone-else","leaseDurationSeconds":2,"renewTime":"%s"}}"""
                .formatted(RealFixture.LEASE, now()));
        assertEquals(201, created.code(), () -> "Lease not created: " + created.body());
        assertTrue(created.body().at("/spec/leaseTransitions").isMissingNode(), "the server stores no count");
        replicas = new RealReplicas(f, SETTINGS, LEASE, RENEW, RETRY);
        long started = System.nanoTime();
        RealReplicas.Replica r = replicas.start("java-replica");
        replicas.awaitLeader(Duration.ofSeconds(30));
        double seconds = (System.nanoTime() - started) / 1e9;
        JsonNode lease = f.lease();
        System.out.printf("MigrationRealIT: a Lease without leaseTransitions or acquireTime (holder silent, 2 s"
                + " duration) taken %.2f s after start (lease 4 s); leaseTransitions now %d%n", seconds,
                lease.at("/spec/leaseTransitions").asInt(-1));
        assertTrue(seconds >= LEASE.toSeconds() - 0.5, "a held Lease is taken only after a lease duration of"
                + " silence, even without acquireTime: " + seconds + " s");
        assertEquals("java-replica", f.leaseHolder());
        assertEquals(1, lease.at("/spec/leaseTransitions").asInt(-1), "a missing count reads as 0; one transition");
        assertEquals(0, r.lost.get());
    }

    @Test
    void aLeaseHeldByAnotherIdentityThatStopsRenewingIsTakenAfterTheLeaseDuration() throws Exception {
        // As the Go controller's elector leaves it when its pod is killed: a holder, times, 4 s, never renewed again.
        String now = now();
        RealFixture.Answer created = f.send("POST", LEASES, "application/json", """
                {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s"},
                 "spec":{"holderIdentity":"podcidr-controller-6d8f9c7b5-x2k4q_0f3c","leaseDurationSeconds":%d,
                         "acquireTime":"%s","renewTime":"%s","leaseTransitions":2}}"""
                .formatted(RealFixture.LEASE, LEASE.toSeconds(), now, now));
        assertEquals(201, created.code(), () -> "Lease not created: " + created.body());
        long silentSince = System.nanoTime();
        replicas = new RealReplicas(f, SETTINGS, LEASE, RENEW, RETRY);
        replicas.start("java-replica");
        RealFixture.await(Duration.ofSeconds(30), () -> "java-replica".equals(f.leaseHolder()),
                () -> "the replica to take the Lease; it is " + f.lease());
        double seconds = (System.nanoTime() - silentSince) / 1e9;
        System.out.printf("MigrationRealIT: a Lease held by another identity that stopped renewing taken %.2f s"
                + " after its last renewal (lease %d s, retry %d ms); leaseTransitions %d%n", seconds,
                LEASE.toSeconds(), RETRY.toMillis(), f.lease().at("/spec/leaseTransitions").asInt());
        assertTrue(seconds >= LEASE.toSeconds() - 0.5, "taken before a lease duration of silence: " + seconds);
        assertTrue(seconds < LEASE.toSeconds() + RETRY.toMillis() / 1000.0 + 2, "taken too late: " + seconds);
        assertEquals(3, f.lease().at("/spec/leaseTransitions").asInt());
    }

    @Test
    void nodesTheGoControllerAssignedAreAdoptedWithNoWrite() throws Exception {
        int count = 40;
        for (int i = 0; i < count; i++) {
            ObjectNode node = RealFixture.JSON.readValue("""
                    {"metadata":{"name":"go-assigned-%d","labels":{"kubernetes.io/os":"linux"}},
                     "spec":{"podCIDR":"10.244.%d.0/24","podCIDRs":["10.244.%d.0/24"]}}""".formatted(i, i, i),
                    ObjectNode.class);
            f.createNode(node);
        }
        int mark = f.auditMark();
        replicas = new RealReplicas(f, SETTINGS, LEASE, RENEW, RETRY);
        RealReplicas.Replica r = replicas.start("java-replica");
        replicas.awaitLeader(Duration.ofSeconds(30));
        Thread.sleep(3_000); // time for any write the adoption might make
        RestoreReport report = r.controller().restoreReport();
        Map<String, Integer> patches = f.nodePatchesByNode(mark);
        Map<String, Integer> byVerb = f.requestsByVerb(mark);
        System.out.printf("MigrationRealIT: %d nodes assigned by the Go controller: %d adopted, %d problems;"
                + " requests of the controller %s%n", count, report.nodes().size(), report.problems().size(), byVerb);
        assertEquals(count, report.nodes().size(), "every node's pod CIDR adopted");
        assertEquals(List.of(), report.problems());
        assertEquals(Map.of(), patches, "node patches of the controller (the audit log)");
        assertTrue(byVerb.keySet().stream().noneMatch(k -> k.endsWith(" nodes") && !k.startsWith("list")
                && !k.startsWith("watch") && !k.startsWith("get")), "only reads of nodes: " + byVerb);
        assertEquals(0, r.assigned.get());
        for (int i = 0; i < count; i++) {
            assertEquals(List.of("10.244." + i + ".0/24"), RealFixture.podCidrs(f.node("go-assigned-" + i)));
        }
    }
}
