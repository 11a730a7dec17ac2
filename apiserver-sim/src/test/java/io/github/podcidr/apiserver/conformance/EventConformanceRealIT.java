package io.github.podcidr.apiserver.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.conformance.Differential.Answer;
import io.kubernetes.client.extended.event.EventType;
import io.kubernetes.client.extended.event.legacy.EventRecorder;
import io.kubernetes.client.extended.event.legacy.LegacyEventBroadcaster;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1EventSource;
import io.kubernetes.client.openapi.models.V1ObjectReference;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * core/v1 Events as client-java's {@code LegacyEventBroadcaster} writes them for a Node (create, then a strategic
 * merge patch of count and lastTimestamp), their validation, field selectors, and events.k8s.io/v1 Events, sent to
 * apiserver-sim and to kube-apiserver 1.20. The two groups share one storage on the real server and not in the
 * sim, so each group is exercised in its own namespace.
 */
class EventConformanceRealIT {
    private static final String CORE = "/api/v1/namespaces/default/events";
    private static final String V1_NS = "conf-events";
    private static final String V1 = "/apis/events.k8s.io/v1/namespaces/" + V1_NS + "/events";
    private static Scenarios s;

    @BeforeAll
    static void start() {
        s = new Scenarios();
        s.send("POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + V1_NS + "\"}}");
        s.send("POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"other\"}}");
    }

    @AfterAll
    static void stop() {
        if (s != null) {
            s.close();
        }
    }

    /** The event the legacy recorder builds for a Node (namespace default, involvedObject without namespace). */
    private static String nodeEvent(String name, String namespace, String extra) {
        return "{\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"" + namespace + "\"},\"involvedObject\":"
            + "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"node-1\",\"uid\":\"6a1f4c1e-0000-4000-8000-00000000"
            + "0001\"},\"reason\":\"CIDRNotAvailable\",\"message\":\"no CIDR left for node-1\",\"source\":"
            + "{\"component\":\"podcidr-controller\"},\"firstTimestamp\":\"2024-01-01T00:00:00.123Z\","
            + "\"lastTimestamp\":\"2024-01-01T00:00:00.123456789+02:00\",\"count\":1,\"type\":\"Warning\"" + extra + "}";
    }

    @Test
    void eventsAgree() throws Exception {
        s.diff.compareExactly("firstTimestamp", "lastTimestamp", "eventTime");
        s.same("core Event for a Node in default (times re-written in UTC seconds)",
            s.send("POST", CORE, nodeEvent("node-1.17a1b2c3d4e5f6a7", "default", "")));
        s.same("its name keeps upper-case letters (no name validation for core Events)",
            s.send("POST", CORE, nodeEvent("node-1.HQaPwMm1PyxK", "default", "")));
        s.same("core Event for a Node in another namespace: 422",
            s.send("POST", "/api/v1/namespaces/other/events", nodeEvent("node-1.x", "other", "")));
        s.same("involvedObject.namespace differs from the event's: 422", s.send("POST", CORE,
            "{\"metadata\":{\"name\":\"pod.1\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\",\"namespace\":"
                + "\"other\"},\"reason\":\"R\"}"));
        s.same("an empty core Event (zero values written back)", s.send("POST", CORE,
            "{\"metadata\":{\"name\":\"empty.1\"}}"));
        s.same("no name: 422", s.send("POST", CORE, "{\"metadata\":{},\"involvedObject\":{\"kind\":\"Node\"}}"));
        s.same("a bad label key (generic metadata checks): 422", s.send("POST", CORE,
            "{\"metadata\":{\"name\":\"lbl.1\",\"labels\":{\"bad key!\":\"v\"}}}"));
        s.same("a namespace error hides the metadata errors", s.send("POST", "/api/v1/namespaces/other/events",
            "{\"metadata\":{\"name\":\"lbl.2\",\"labels\":{\"bad key!\":\"v\"}},\"involvedObject\":{\"kind\":\"Node\"}}"));
        s.same("with eventTime the reporting fields are required: 422", s.send("POST", CORE,
            "{\"metadata\":{\"name\":\"Bad_Name\"},\"involvedObject\":{\"kind\":\"Node\",\"name\":\"n1\",\"namespace\":"
                + "\"default\"},\"eventTime\":\"2024-01-01T00:00:00.000000Z\"}"));
        s.same("with eventTime, reporting fields and a namespaced object", s.send("POST", CORE,
            "{\"metadata\":{\"name\":\"et.1\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\",\"namespace\":"
                + "\"default\"},\"eventTime\":\"2024-01-01T00:00:00.000001Z\",\"action\":\"Assign\",\"reason\":\"R\","
                + "\"reportingComponent\":\"podcidr.io/controller\",\"reportingInstance\":\"replica-1\"}"));
        s.same("count a string: 400", s.send("POST", CORE, "{\"metadata\":{\"name\":\"c.1\"},\"count\":\"2\"}"));
        s.same("firstTimestamp not a time: 400", s.send("POST", CORE,
            "{\"metadata\":{\"name\":\"c.2\"},\"firstTimestamp\":\"yesterday\"}"));
        s.same("unknown fields are pruned", s.send("POST", CORE,
            "{\"metadata\":{\"name\":\"u.1\"},\"involvedObject\":{\"kind\":\"Node\",\"extra\":1},\"colour\":\"red\"}"));

        s.same("the recorder's aggregation patch (count, lastTimestamp, message)", s.send("PATCH",
            CORE + "/node-1.17a1b2c3d4e5f6a7", Differential.STRATEGIC_PATCH,
            "{\"count\":2,\"lastTimestamp\":\"2024-01-01T00:05:00Z\",\"message\":\"no CIDR left for node-1\"}"));
        s.same("a merge patch of lastTimestamp with a fraction", s.send("PATCH",
            CORE + "/node-1.17a1b2c3d4e5f6a7", Differential.MERGE_PATCH,
            "{\"lastTimestamp\":\"2024-01-01T00:06:00.5Z\"}"));
        s.same("update without resourceVersion (events allow it)", s.send("PUT", CORE + "/empty.1",
            "{\"metadata\":{\"name\":\"empty.1\"},\"reason\":\"Updated\"}"));
        s.same("update of a missing event creates it", s.send("PUT", CORE + "/made.1",
            "{\"metadata\":{\"name\":\"made.1\"},\"reason\":\"Created\"}"));

        String[] selectors = {"involvedObject.kind%3DNode", "involvedObject.name%3Dnode-1",
            "involvedObject.namespace%3D", "involvedObject.uid%3D6a1f4c1e-0000-4000-8000-000000000001",
            "reason%3DCIDRNotAvailable", "type%3DWarning", "source%3Dpodcidr-controller",
            "involvedObject.kind%3DNode,reason!%3DOther", "reportingComponent%3Dpodcidr.io/controller",
            "metadata.name%3Dempty.1", "spec.foo%3Dbar"};
        for (String sel : selectors) {
            s.same("core field selector " + sel, s.send("GET", CORE + "?fieldSelector=" + sel, null));
        }
        s.same("core field selector across namespaces", s.send("GET",
            "/api/v1/events?fieldSelector=involvedObject.kind%3DNode", null));

        String v1Event = "{\"metadata\":{\"name\":\"v1.a\"},\"eventTime\":\"2024-01-01T00:00:00.000000Z\","
            + "\"action\":\"Allocate\",\"reportingController\":\"podcidr.io/controller\",\"reportingInstance\":"
            + "\"replica-1\",\"reason\":\"CIDRNotAvailable\",\"regarding\":{\"kind\":\"Pod\",\"name\":\"p\","
            + "\"namespace\":\"" + V1_NS + "\"},\"type\":\"Warning\",\"note\":\"hello\"}";
        s.same("events.k8s.io/v1 Event", s.send("POST", V1, v1Event));
        s.same("events.k8s.io/v1 missing eventTime, bad type, deprecated count: 422", s.send("POST", V1,
            "{\"metadata\":{\"name\":\"v1.b\"},\"reason\":\"R\",\"regarding\":{\"kind\":\"Node\",\"name\":\"n1\"},"
                + "\"type\":\"Bogus\",\"deprecatedCount\":3}"));
        s.same("events.k8s.io/v1 bad name and no type: 422", s.send("POST", V1,
            "{\"metadata\":{\"name\":\"V1_c\"},\"eventTime\":\"2024-01-01T00:00:00.000000Z\",\"action\":\"A\","
                + "\"reportingController\":\"c\",\"reportingInstance\":\"i\",\"reason\":\"R\",\"regarding\":"
                + "{\"kind\":\"Pod\",\"name\":\"p\",\"namespace\":\"" + V1_NS + "\"}}"));
        s.same("events.k8s.io/v1 series count 1 and deprecated source: 422", s.send("POST", V1,
            "{\"metadata\":{\"name\":\"v1.d\"},\"eventTime\":\"2024-01-01T00:00:00.000000Z\",\"action\":\"A\","
                + "\"reportingController\":\"c\",\"reportingInstance\":\"i\",\"reason\":\"R\",\"type\":\"Normal\","
                + "\"regarding\":{\"kind\":\"Pod\",\"name\":\"p\",\"namespace\":\"" + V1_NS + "\"},\"series\":{\"count\":1,"
                + "\"lastObservedTime\":\"2024-01-01T00:00:00.000000Z\"},\"deprecatedSource\":{\"component\":\"x\"}}"));
        s.same("events.k8s.io/v1 eventTime with 3 digits: 400", s.send("POST", V1,
            v1Event.replace("v1.a", "v1.e").replace("00.000000Z", "00.000Z")));
        s.differsAs120("events.k8s.io/v1 Event for a Node in its namespace (regarding without namespace)",
            s.send("POST", "/apis/events.k8s.io/v1/namespaces/default/events", v1Event.replace("v1.a", "v1.node")
                .replace(",\"namespace\":\"" + V1_NS + "\"", "").replace("\"Pod\"", "\"Node\"")),
            "an event with eventTime in namespace default may regard a cluster-scoped object since 1.22",
            real -> real.code() == 422 && real.json().path("message").asText().equals("Event \"v1.node\" is invalid: "
                + "involvedObject.namespace: Invalid value: \"\": does not match event.namespace"),
            sim -> sim.code() == 201 && sim.json().at("/regarding/kind").asText().equals("Node"));
        String[] v1Selectors = {"regarding.kind%3DPod", "regarding.name%3Dp", "reason%3DCIDRNotAvailable",
            "reportingController%3Dpodcidr.io/controller", "type%3DWarning", "involvedObject.name%3Dp"};
        for (String sel : v1Selectors) {
            s.same("events.k8s.io field selector " + sel, s.send("GET", V1 + "?fieldSelector=" + sel, null));
        }
        s.same("delete an event", s.send("DELETE", CORE + "/empty.1", null));

        recorderEventsAreAccepted();
        s.finish("EventConformanceRealIT");
    }

    /**
     * The controller's events exactly as it records them (NodeEvents: a Warning on a Node reference without
     * namespace, source podcidr-controller), through client-java's LegacyEventBroadcaster on both servers: the
     * real server must accept the create and the aggregation patch, and both servers must store the same.
     */
    private void recorderEventsAreAccepted() throws Exception {
        ApiClient[] clients = {Config.fromConfig(new StringReader(s.diff.sim().kubeconfig())),
            Config.fromConfig(new StringReader(s.real.adminKubeconfig()))};
        for (ApiClient c : clients) {
            LegacyEventBroadcaster broadcaster = new LegacyEventBroadcaster(new CoreV1Api(c));
            EventRecorder recorder = broadcaster.newRecorder(new V1EventSource().component("podcidr-controller"));
            broadcaster.startRecording();
            try {
                V1ObjectReference ref = new V1ObjectReference().apiVersion("v1").kind("Node").name("node-9")
                    .uid("6a1f4c1e-0000-4000-8000-000000000009");
                recorder.event(ref, EventType.Warning, "CIDRNotAvailable", "%s", "no CIDR left for node-9");
                awaitCount(c == clients[0], 1);
                recorder.event(ref, EventType.Warning, "CIDRNotAvailable", "%s", "no CIDR left for node-9");
                awaitCount(c == clients[0], 2);
            } finally {
                broadcaster.shutdown();
            }
        }
        Answer[] both = s.send("GET", CORE + "?fieldSelector=involvedObject.name%3Dnode-9", null);
        JsonNode[] items = {both[0].json().get("items"), both[1].json().get("items")};
        assertEquals(1, items[1].size(), "the real server stored the controller's event: " + both[1].body());
        for (JsonNode list : items) {
            ObjectNode e = (ObjectNode) list.get(0);
            ((ObjectNode) e.get("metadata")).put("name", "<generated>");
            for (String f : new String[] {"firstTimestamp", "lastTimestamp"}) {
                assertEquals(true, e.path(f).asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"),
                    f + "=" + e.path(f));
                e.put(f, "<" + f + ": when each recorder ran>");
            }
        }
        s.same("the controller's event after aggregation, stored by both",
            Differential.pair(reparse(both[0], items[0]), reparse(both[1], items[1])));
    }

    private static Answer reparse(Answer a, JsonNode items) {
        ArrayNode copy = (ArrayNode) items.deepCopy();
        return new Answer(a.code(), a.contentType(), copy.toString(), copy);
    }

    private static void awaitCount(boolean sim, int count) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        while (Instant.now().isBefore(deadline)) {
            String path = CORE + "?fieldSelector=involvedObject.name%3Dnode-9";
            Answer a = sim ? s.diff.sendSim("GET", path, null, null) : s.diff.sendReal("GET", path, null, null);
            JsonNode items = a.json() == null ? null : a.json().get("items");
            if (items != null && items.size() == 1 && items.get(0).path("count").asInt() == count) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the " + (sim ? "sim" : "real server") + " never showed the event with count "
            + count + " (the recorder logs why a write failed)");
    }
}
