package io.github.podcidr.apiserver.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.conformance.Differential.Answer;
import io.kubernetes.client.extended.leaderelection.LeaderElectionRecord;
import io.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.util.Date;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * coordination.k8s.io/v1 Leases, as client-java's {@code LeaseLock} (and our {@code FencedLock} on top of it)
 * writes them, sent to apiserver-sim and to kube-apiserver 1.20: create, read, optimistic updates, MicroTime
 * formats, optional fields, validation, pruning, lists, selectors, missing namespaces, delete.
 */
class LeaseConformanceRealIT {
    private static final String NS = "conf-leases";
    private static final String LEASES = "/apis/coordination.k8s.io/v1/namespaces/" + NS + "/leases";
    private static Scenarios s;

    @BeforeAll
    static void start() {
        s = new Scenarios();
        s.diff.compareExactly("renewTime", "acquireTime");
        s.send("POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + NS + "\"}}");
    }

    @AfterAll
    static void stop() {
        if (s != null) {
            s.close();
        }
    }

    private static String lease(String name, String spec) {
        return "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"" + name
            + "\"},\"spec\":" + spec + "}";
    }

    @Test
    void leasesAgree() throws Exception {
        String full = "{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,\"acquireTime\":"
            + "\"2024-01-01T00:00:00.000000Z\",\"renewTime\":\"2024-01-01T00:00:01.123456Z\",\"leaseTransitions\":0}";
        s.same("create a full Lease", s.send("POST", LEASES, lease("l1", full)));
        s.same("get it", s.send("GET", LEASES + "/l1", null));
        s.same("create again: AlreadyExists", s.send("POST", LEASES, lease("l1", full)));

        String next = "{\"holderIdentity\":\"b\",\"leaseDurationSeconds\":15,\"renewTime\":"
            + "\"2024-01-01T00:00:05.000000Z\",\"leaseTransitions\":1}";
        s.same("update without resourceVersion: 422", s.send("PUT", LEASES + "/l1", lease("l1", next)));
        s.same("update with a stale resourceVersion: 409", s.send("PUT", LEASES + "/l1",
            withRv(lease("l1", next), "1")));
        Answer[] current = s.send("GET", LEASES + "/l1", null);
        s.same("update with the current resourceVersion", Differential.pair(
            s.diff.sendSim("PUT", LEASES + "/l1", Differential.JSON, withRv(lease("l1", next), Scenarios.rv(current[0]))),
            s.diff.sendReal("PUT", LEASES + "/l1", Differential.JSON,
                withRv(lease("l1", next), Scenarios.rv(current[1])))));
        s.same("the update replaced the spec", s.send("GET", LEASES + "/l1", null));
        s.same("update of a missing Lease with a resourceVersion creates it: 201",
            s.send("PUT", LEASES + "/nowhere", withRv(lease("nowhere", next), "5")));
        s.same("update of a missing Lease without one creates it: 201",
            s.send("PUT", LEASES + "/made-by-put", lease("made-by-put", next)));
        s.same("update whose body names another Lease: 400",
            s.send("PUT", LEASES + "/l1", withRv(lease("other", next), "1")));

        String[][] times = {
            {"6 digits, Z", "2024-01-01T00:00:00.123456Z"},
            {"0 digits", "2024-01-01T00:00:00Z"},
            {"3 digits", "2024-01-01T00:00:00.123Z"},
            {"9 digits", "2024-01-01T00:00:00.123456789Z"},
            {"6 digits, +02:00 offset", "2024-01-01T00:00:00.123456+02:00"},
            {"0 digits, offset", "2024-01-01T00:00:00+02:00"},
            {"date only", "2024-01-01"},
            {"month 13", "2024-13-01T00:00:00.000000Z"},
            {"February 30", "2024-02-30T00:00:00.000000Z"},
            {"lower-case z", "2024-01-01T00:00:00.000000z"},
            {"not a time", "garbage"}};
        int i = 0;
        for (String[] t : times) {
            s.same("renewTime with " + t[0], s.send("POST", LEASES,
                lease("t" + i++, "{\"renewTime\":\"" + t[1] + "\"}")));
        }
        s.same("renewTime as a number", s.send("POST", LEASES, lease("t-number", "{\"renewTime\":1704067200}")));
        s.same("acquireTime null", s.send("POST", LEASES, lease("t-null", "{\"acquireTime\":null}")));

        s.same("holderIdentity \"\"", s.send("POST", LEASES, lease("h-empty", "{\"holderIdentity\":\"\"}")));
        s.same("holderIdentity null", s.send("POST", LEASES,
            lease("h-null", "{\"holderIdentity\":null,\"leaseDurationSeconds\":null}")));
        s.same("no spec at all", s.send("POST", LEASES, "{\"metadata\":{\"name\":\"h-absent\"}}"));
        s.same("holderIdentity a number", s.send("POST", LEASES, lease("h-number", "{\"holderIdentity\":5}")));
        s.same("leaseDurationSeconds 0", s.send("POST", LEASES, lease("d0", "{\"leaseDurationSeconds\":0}")));
        s.same("leaseDurationSeconds -5", s.send("POST", LEASES, lease("d-5", "{\"leaseDurationSeconds\":-5}")));
        s.same("leaseDurationSeconds \"15\"", s.send("POST", LEASES,
            lease("d-text", "{\"leaseDurationSeconds\":\"15\"}")));
        s.same("leaseDurationSeconds 1.5", s.send("POST", LEASES, lease("d-float", "{\"leaseDurationSeconds\":1.5}")));
        s.same("leaseDurationSeconds beyond int32", s.send("POST", LEASES,
            lease("d-big", "{\"leaseDurationSeconds\":4294967296}")));
        s.sameAfter120("leaseTransitions -1", s.send("POST", LEASES, lease("tr", "{\"leaseTransitions\":-1}")),
            "the message reads \"must to greater or equal than 0\" in 1.20",
            Scenarios.replaceText("must to greater or equal than 0", "must be greater than or equal to 0"));
        s.same("unknown fields are pruned (spec, top level, metadata; strategy and preferredHolder are gated off)",
            s.send("POST", LEASES, "{\"metadata\":{\"name\":\"pruned\",\"colour\":\"red\"},\"extra\":1,\"spec\":"
                + "{\"holderIdentity\":\"a\",\"strategy\":\"OldestEmulationVersion\",\"preferredHolder\":\"b\","
                + "\"HolderIdentity\":\"case-sensitive\"}}"));
        s.same("merge patch of renewTime and an unknown field", s.send("PATCH", LEASES + "/pruned",
            Differential.MERGE_PATCH, "{\"spec\":{\"renewTime\":\"2024-01-01T00:00:00.000001Z\",\"x\":1}}"));
        s.same("strategic merge patch to a negative duration: 422", s.send("PATCH", LEASES + "/pruned",
            Differential.STRATEGIC_PATCH, "{\"spec\":{\"leaseDurationSeconds\":-1}}"));
        s.same("JSON patch of holderIdentity", s.send("PATCH", LEASES + "/pruned", Differential.JSON_PATCH,
            "[{\"op\":\"replace\",\"path\":\"/spec/holderIdentity\",\"value\":\"c\"}]"));

        s.same("list in the namespace", s.send("GET", LEASES, null));
        s.same("list with a metadata.name field selector", s.send("GET", LEASES
            + "?fieldSelector=metadata.name%3Dl1", null));
        s.same("list with an unsupported field selector", s.send("GET", LEASES
            + "?fieldSelector=spec.holderIdentity%3Da", null));
        s.same("list across namespaces", s.send("GET", "/apis/coordination.k8s.io/v1/leases?labelSelector=x%3Dy",
            null));

        String missing = "/apis/coordination.k8s.io/v1/namespaces/no-such-ns/leases";
        s.same("create in a missing namespace: 404", s.send("POST", missing, lease("x", "{}")));
        s.same("get in a missing namespace: 404", s.send("GET", missing + "/x", null));
        s.same("list in a missing namespace: empty", s.send("GET", missing, null));
        s.same("update in a missing namespace", s.send("PUT", missing + "/x", lease("x", "{}")));

        s.same("delete", s.send("DELETE", LEASES + "/l1", null));
        s.same("delete again: 404", s.send("DELETE", LEASES + "/l1", null));
        s.same("get after delete: 404", s.send("GET", LEASES + "/l1", null));

        leaseLockWritesAreAccepted();
        s.finish("LeaseConformanceRealIT");
    }

    /** client-java's LeaseLock, as our controller drives it: create, get, update; the stored Leases compared. */
    private void leaseLockWritesAreAccepted() throws Exception {
        ApiClient simClient = Config.fromConfig(new StringReader(s.diff.sim().kubeconfig()));
        ApiClient realClient = Config.fromConfig(new StringReader(s.real.adminKubeconfig()));
        for (ApiClient c : new ApiClient[] {simClient, realClient}) {
            LeaseLock lock = new LeaseLock(NS, "podcidr-controller", "replica-1", c);
            Date now = new Date();
            assertEquals(true, lock.create(new LeaderElectionRecord("replica-1", 15, now, now, 0)));
            LeaderElectionRecord read = lock.get();
            assertEquals("replica-1", read.getHolderIdentity());
            assertEquals(true, lock.update(new LeaderElectionRecord("replica-1", 15, now, new Date(), 0)));
        }
        s.diff.compareExactly(); // times differ between the two runs: compare their presence only
        Answer[] both = s.send("GET", LEASES + "/podcidr-controller", null);
        ObjectNode simSpec = (ObjectNode) both[0].json().get("spec").deepCopy();
        ObjectNode realSpec = (ObjectNode) both[1].json().get("spec").deepCopy();
        for (ObjectNode spec : new ObjectNode[] {simSpec, realSpec}) {
            for (String f : new String[] {"renewTime", "acquireTime"}) {
                // MicroTime as written back: six fraction digits in UTC
                String t = spec.path(f).asText();
                assertEquals(true, t.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z"), f + "=" + t);
                spec.put(f, "<" + f + ">");
            }
        }
        assertEquals(realSpec, simSpec);
    }

    private static String withRv(String json, String rv) {
        return json.replace("\"metadata\":{", "\"metadata\":{\"resourceVersion\":\"" + rv + "\",");
    }
}
