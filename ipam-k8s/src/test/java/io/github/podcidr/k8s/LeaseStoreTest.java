package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The Lease written back is the Lease as read with only the election record changed: fields this client does not
 * know (coordinated leader election's {@code spec.strategy} and {@code spec.preferredHolder}, 1.31+, or anything
 * newer) stay as they were. Neither kube-apiserver 1.20 nor the simulator (which follows 1.20's schema) stores those
 * fields, so this is checked on the object itself; {@code LeaseElectorTest} and {@code LeaseHandoverRealIT} check
 * labels, annotations and finalizers through the servers.
 */
class LeaseStoreTest {
    private static final String READ = """
            {"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
             "metadata":{"name":"podcidr-controller","namespace":"kube-system","resourceVersion":"42",
                         "labels":{"team":"net"},"finalizers":["example.com/keep"],"futureMeta":{"x":1}},
             "spec":{"holderIdentity":"other_1","leaseDurationSeconds":15,"leaseTransitions":4,
                     "acquireTime":"2026-12-06T05:00:00.000000Z","renewTime":"2026-12-06T05:00:10.000000Z",
                     "strategy":"OldestEmulationVersion","preferredHolder":"someone","futureSpec":[1,2]},
             "futureTop":"kept"}""";

    @Test
    void onlyTheElectionRecordChanges() {
        LeaseStore.Lease read = new LeaseStore.Lease(JsonParser.parseString(READ).getAsJsonObject());
        Instant t = Instant.parse("2026-12-06T05:01:00.123456Z");

        LeaseStore.Lease next = read.with(spec -> LeaseStore.record(spec, "me_2", 15, t, t, 5));

        JsonObject expected = JsonParser.parseString(READ).getAsJsonObject();
        JsonObject spec = expected.getAsJsonObject("spec");
        spec.addProperty("holderIdentity", "me_2");
        spec.addProperty("leaseTransitions", 5);
        spec.addProperty("acquireTime", "2026-12-06T05:01:00.123456Z");
        spec.addProperty("renewTime", "2026-12-06T05:01:00.123456Z");
        assertEquals(expected, next.json(), "everything else as read, resourceVersion included");
        assertEquals(JsonParser.parseString(READ).getAsJsonObject(), read.json(), "the Lease read is not changed");
        assertEquals("42", next.resourceVersion());
        assertEquals("OldestEmulationVersion", next.spec().get("strategy").getAsString());
        assertEquals("someone", next.spec().get("preferredHolder").getAsString());
    }

    @Test
    void aSpecWithEveryFieldMissingReadsAsFreeWithZeroCounts() {
        LeaseStore.Lease bare = new LeaseStore.Lease(JsonParser.parseString(
                "{\"metadata\":{\"name\":\"l\",\"resourceVersion\":\"1\"}}").getAsJsonObject());
        assertEquals("", bare.holder());
        assertEquals(0, bare.transitions());
        assertEquals(0, bare.leaseDurationSeconds());
        assertEquals(null, bare.renewTime());
        LeaseStore.Lease taken = bare.with(spec -> LeaseStore.record(spec, "me_1", 15, Instant.EPOCH, Instant.EPOCH,
                1));
        assertEquals("me_1", taken.holder());
        assertEquals("1970-01-01T00:00:00.000000Z", taken.spec().get("renewTime").getAsString());
    }

    @Test
    void aTimeOrCountWrittenByHandInAnotherFormReadsAsMissing() {
        LeaseStore.Lease odd = new LeaseStore.Lease(JsonParser.parseString("{\"spec\":{\"holderIdentity\":\"x\","
                + "\"renewTime\":\"yesterday\",\"leaseTransitions\":\"many\"}}").getAsJsonObject());
        assertEquals(null, odd.renewTime());
        assertEquals(0, odd.transitions());
        assertEquals("x", odd.holder());
    }
}
