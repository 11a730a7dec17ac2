package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.podcidr.ipam.Cidr;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Taking over from another elector on a real kube-apiserver 1.20: a Lease as client-go leaves it when it releases
 * (the Go podcidr-controller on SIGTERM, e.g. during a {@code helm upgrade} from the Go chart) is free at once; a
 * live holder whose clock runs behind ours keeps its Lease, and loses it one lease duration after it stops renewing.
 */
class LeaseHandoverRealIT {
    /** The chart's default timings: a standby that misread a released Lease would wait the whole 15 s. */
    private static final Duration LEASE = Duration.ofSeconds(15);
    private static final Duration RENEW = Duration.ofSeconds(10);
    private static final Duration RETRY = Duration.ofMillis(500);
    private static final DateTimeFormatter MICRO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX");
    private static RealFixture f;

    @BeforeAll
    static void startControlPlane() {
        f = RealFixture.start();
    }

    @AfterAll
    static void stopControlPlane() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void aLeaseReleasedByClientGoIsTakenWithinOneRetryPeriod() throws Exception {
        // What client-go's LeaderElector.release() writes: holderIdentity "" (not null), a 1 s duration, times now.
        String now = ZonedDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS).format(MICRO_TIME);
        RealFixture.Answer created = f.send("POST", "/apis/coordination.k8s.io/v1/namespaces/" + RealFixture.NAMESPACE
                + "/leases", "application/json", """
                {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s"},
                 "spec":{"holderIdentity":"","leaseDurationSeconds":1,"acquireTime":"%s","renewTime":"%s",
                         "leaseTransitions":3}}""".formatted(RealFixture.LEASE, now, now));
        assertEquals(201, created.code(), () -> "Lease not created: " + created.body());
        assertEquals("", created.body().at("/spec/holderIdentity").asText(null), "the server keeps the empty holder");
        f.createNode(RealFixture.JSON.readValue("{\"metadata\":{\"name\":\"handover-1\"}}",
                com.fasterxml.jackson.databind.node.ObjectNode.class));

        ControllerSettings settings = ControllerSettings.builder()
                .clusterCidrs(List.of(Cidr.parse("10.244.0.0/16"))).nodeMaskIpv4(24).build();
        try (RealReplicas replicas = new RealReplicas(f, settings, LEASE, RENEW, RETRY)) {
            long started = System.nanoTime();
            replicas.start("java-replica");
            RealFixture.await(Duration.ofSeconds(30), () -> "java-replica".equals(f.leaseHolder()),
                    () -> "the replica to hold the Lease; it is " + f.lease());
            double seconds = (System.nanoTime() - started) / 1e9;
            JsonNode lease = f.lease();
            System.out.printf("LeaseHandoverRealIT: a Lease released by client-go taken %.2f s after start"
                    + " (retry period %d ms, lease duration %d s); leaseTransitions %d%n", seconds, RETRY.toMillis(),
                    LEASE.toSeconds(), lease.at("/spec/leaseTransitions").asInt());
            assertTrue(seconds < RETRY.toMillis() / 1000.0 + 1.0,
                    "a released Lease must be taken within the retry period + 1 s, not after a lease duration; took "
                            + seconds + " s");
            assertEquals(4, lease.at("/spec/leaseTransitions").asInt(), "a new holder counts one transition");
            RealFixture.await(Duration.ofSeconds(30),
                    () -> !RealFixture.podCidrs(f.node("handover-1")).isEmpty(), () -> "the node assigned");
        }
        assertEquals(List.of(), f.forbidden(), "requests of the controller refused with 403");
        f.reset();
    }

    /**
     * A holder that renews every second but whose clock runs 60 s behind this replica's (its renewTime always looks
     * a minute old) is live: expiry counts from when this replica saw the record change, not from renewTime.
     */
    @Test
    void aLiveHolderWithASkewedClockKeepsTheLeaseUntilItStopsRenewing() throws Exception {
        Duration lease = Duration.ofSeconds(4);
        String path = "/apis/coordination.k8s.io/v1/namespaces/" + RealFixture.NAMESPACE + "/leases";
        ZonedDateTime skewed = ZonedDateTime.now(ZoneOffset.UTC).minusSeconds(60).truncatedTo(ChronoUnit.MICROS);
        RealFixture.Answer created = f.send("POST", path, "application/json", """
                {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s"},
                 "spec":{"holderIdentity":"go-replica","leaseDurationSeconds":%d,"acquireTime":"%s",
                         "renewTime":"%s","leaseTransitions":1}}"""
                .formatted(RealFixture.LEASE, lease.toSeconds(), skewed.format(MICRO_TIME), skewed.format(MICRO_TIME)));
        assertEquals(201, created.code(), () -> "Lease not created: " + created.body());
        ControllerSettings settings = ControllerSettings.builder()
                .clusterCidrs(List.of(Cidr.parse("10.244.0.0/16"))).nodeMaskIpv4(24).build();
        try (RealReplicas replicas = new RealReplicas(f, settings, lease, Duration.ofSeconds(3), RETRY)) {
            replicas.start("java-replica");
            long renewUntil = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < renewUntil) { // the "Go" holder renews every second, on its skewed clock
                Thread.sleep(1000);
                JsonNode current = f.lease();
                assertEquals("go-replica", current.at("/spec/holderIdentity").asText(),
                        "a live holder lost its Lease to a replica that read its renewTime as expired");
                ((com.fasterxml.jackson.databind.node.ObjectNode) current.get("spec")).put("renewTime",
                        ZonedDateTime.now(ZoneOffset.UTC).minusSeconds(60).truncatedTo(ChronoUnit.MICROS)
                                .format(MICRO_TIME));
                RealFixture.Answer renewed = f.send("PUT", path + "/" + RealFixture.LEASE, "application/json",
                        current.toString());
                assertEquals(200, renewed.code(), () -> "renewal refused: " + renewed.body());
            }
            long stopped = System.nanoTime();
            RealFixture.await(Duration.ofSeconds(30), () -> "java-replica".equals(f.leaseHolder()),
                    () -> "the replica to take the Lease; it is " + f.lease());
            double seconds = (System.nanoTime() - stopped) / 1e9;
            System.out.printf("LeaseHandoverRealIT: a holder 60 s behind kept its Lease while renewing (10 s);"
                    + " taken %.2f s after its last renewal (lease %d s, retry %d ms)%n", seconds, lease.toSeconds(),
                    RETRY.toMillis());
            assertTrue(seconds >= lease.toSeconds() - 1, "taken before a lease duration of silence: " + seconds);
        }
        assertEquals(List.of(), f.forbidden(), "requests of the controller refused with 403");
        f.reset();
    }

    /**
     * Renewals change the Lease as read (issue 26, item 8): labels, annotations and a finalizer someone put on the
     * Lease survive the take-over and several renewals. kube-apiserver 1.20 has no {@code spec.strategy} or
     * {@code spec.preferredHolder} (coordinated leader election, 1.31+) and drops them on create, as it drops every
     * unknown field of a built-in kind; {@code LeaseStoreTest} shows they are written back as read.
     */
    @Test
    void renewalsKeepWhatOthersPutOnTheLease() throws Exception {
        String path = "/apis/coordination.k8s.io/v1/namespaces/" + RealFixture.NAMESPACE + "/leases";
        RealFixture.Answer created = f.send("POST", path, "application/json", """
                {"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
                 "metadata":{"name":"%s","labels":{"team":"net"},"annotations":{"owner":"platform"},
                             "finalizers":["example.com/keep"]},
                 "spec":{"holderIdentity":"","leaseDurationSeconds":1,"leaseTransitions":2,
                         "strategy":"OldestEmulationVersion","preferredHolder":"someone"}}"""
                .formatted(RealFixture.LEASE));
        assertEquals(201, created.code(), () -> "Lease not created: " + created.body());
        boolean keepsStrategy = created.body().at("/spec/strategy").isTextual();
        ControllerSettings settings = ControllerSettings.builder()
                .clusterCidrs(List.of(Cidr.parse("10.244.0.0/16"))).nodeMaskIpv4(24).build();
        try (RealReplicas replicas = new RealReplicas(f, settings, Duration.ofSeconds(4), Duration.ofSeconds(3),
                RETRY)) {
            replicas.start("java-replica");
            RealFixture.await(Duration.ofSeconds(30), () -> "java-replica".equals(f.leaseHolder()),
                    () -> "the replica to hold the Lease; it is " + f.lease());
            String first = f.lease().at("/spec/renewTime").asText();
            java.util.Set<String> renewTimes = new java.util.HashSet<>();
            RealFixture.await(Duration.ofSeconds(30), () -> {
                renewTimes.add(f.lease().at("/spec/renewTime").asText());
                return renewTimes.size() >= 4;
            }, () -> "three renewals after " + first + "; seen " + renewTimes);
            JsonNode lease = f.lease();
            System.out.printf("LeaseHandoverRealIT: after %d renewals the Lease keeps labels %s, annotations %s,"
                    + " finalizers %s; kube-apiserver 1.20 %s spec.strategy%n", renewTimes.size() - 1,
                    lease.at("/metadata/labels"), lease.at("/metadata/annotations"), lease.at("/metadata/finalizers"),
                    keepsStrategy ? "keeps" : "drops");
            assertEquals("java-replica", lease.at("/spec/holderIdentity").asText());
            assertEquals("net", lease.at("/metadata/labels/team").asText(), "label kept: " + lease);
            assertEquals("platform", lease.at("/metadata/annotations/owner").asText(), "annotation kept: " + lease);
            assertEquals("example.com/keep", lease.at("/metadata/finalizers/0").asText(), "finalizer kept: " + lease);
            assertEquals(3, lease.at("/spec/leaseTransitions").asInt());
            if (keepsStrategy) {
                assertEquals("OldestEmulationVersion", lease.at("/spec/strategy").asText(), "strategy kept: " + lease);
                assertEquals("someone", lease.at("/spec/preferredHolder").asText(), "preferredHolder kept: " + lease);
            }
        }
        RealFixture.Answer unfinalized = f.send("PATCH", path + "/" + RealFixture.LEASE,
                "application/merge-patch+json", "{\"metadata\":{\"finalizers\":null}}");
        assertEquals(200, unfinalized.code(), () -> "finalizer not removed: " + unfinalized.body());
        assertEquals(List.of(), f.forbidden(), "requests of the controller refused with 403");
        f.reset();
    }
}
