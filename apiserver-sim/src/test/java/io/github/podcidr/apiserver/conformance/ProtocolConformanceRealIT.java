package io.github.podcidr.apiserver.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.conformance.Differential.Answer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The protocol around the resources, sent to apiserver-sim and to kube-apiserver 1.20: namespaces, discovery,
 * health endpoints, unknown paths, bad bodies and content types, methods, Accept headers, dryRun, fieldManager
 * and pretty.
 *
 * <p>Discovery documents are compared on what the sim serves: the real server lists many more resources, groups
 * and versions; for each resource the sim lists, the real entry must hold the same fields (kind, scope, short
 * names, storage hash) and at least its verbs.
 */
class ProtocolConformanceRealIT {
    private static final String LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    private static Scenarios s;

    @BeforeAll
    static void start() {
        s = new Scenarios();
    }

    @AfterAll
    static void stop() {
        if (s != null) {
            s.close();
        }
    }

    @Test
    void protocolAgrees() {
        namespaces();
        discovery();
        bodies();
        methodsAndHeaders();
        s.finish("ProtocolConformanceRealIT");
    }

    private void namespaces() {
        for (String ns : new String[] {"default", "kube-system", "kube-public", "kube-node-lease"}) {
            s.sameAfter120("get namespace " + ns, s.send("GET", "/api/v1/namespaces/" + ns, null),
                "1.21 added the label kubernetes.io/metadata.name", addNameLabel());
        }
        s.sameAfter120("create a namespace with finalizers, a status and an unknown field",
            s.send("POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"ns1\",\"labels\":{\"a\":\"b\"}},"
                + "\"spec\":{\"finalizers\":[\"example.com/x\"]},\"status\":{\"phase\":\"Terminating\"},\"foo\":1}"),
            "1.21 added the label kubernetes.io/metadata.name", addNameLabel());
        s.same("create a namespace with an invalid name: 422", s.send("POST", "/api/v1/namespaces",
            "{\"metadata\":{\"name\":\"Bad.NS\"}}"));
        s.same("create an existing namespace: 409", s.send("POST", "/api/v1/namespaces",
            "{\"metadata\":{\"name\":\"default\"}}"));
        s.same("get a missing namespace: 404", s.send("GET", "/api/v1/namespaces/nope", null));
        s.same("a namespaced create into a missing namespace: 404", s.send("POST", "/api/v1/namespaces/nope/events",
            "{\"metadata\":{\"name\":\"e\"}}"));
        s.same("namespaces by field selector status.phase=Terminating",
            s.send("GET", "/api/v1/namespaces?fieldSelector=status.phase%3DTerminating", null));
        s.same("namespaces by an unsupported field selector",
            s.send("GET", "/api/v1/namespaces?fieldSelector=spec.x%3Dy", null));
    }

    /** The 1.20 answer with the label 1.21 adds to every namespace. */
    private static java.util.function.UnaryOperator<JsonNode> addNameLabel() {
        return real -> {
            JsonNode meta = real.get("metadata");
            if (meta instanceof ObjectNode m && m.has("name")) {
                ObjectNode labels = m.has("labels") ? (ObjectNode) m.get("labels") : m.putObject("labels");
                labels.put("kubernetes.io/metadata.name", m.get("name").asText());
            }
            return real;
        };
    }

    private void discovery() {
        s.same("/healthz", s.send("GET", "/healthz", null));
        s.same("/livez", s.send("GET", "/livez", null));
        s.same("/readyz", s.send("GET", "/readyz", null));
        s.same("/api (each server's own address normalised)", ownAddress(s.send("GET", "/api", null)));
        s.same("POST /api: 405", s.send("POST", "/api", "{}"));
        s.same("/apis/<unknown group>: plain-text 404", s.send("GET", "/apis/example.com", null));
        s.same("/apis/<unknown group>/v1/things: plain-text 404", s.send("GET", "/apis/example.com/v1/things", null));
        s.same("/apis/coordination.k8s.io/v2: 404 Status", s.send("GET", "/apis/coordination.k8s.io/v2", null));
        s.same("/api/v1/things: 404 Status", s.send("GET", "/api/v1/things", null));
        s.same("a subresource leases do not have: 404", s.send("GET", LEASES + "/x/status", null));
        Answer[] unknown = s.send("GET", "/no/such/path", null);
        s.same("an unknown path: 404 with the list of paths (compared by shape)", shapes(unknown));
        Answer[] root = s.send("GET", "/", null);
        s.same("/ lists the paths (compared by shape)", shapes(root));
        s.same("/version (compared by shape: the values name each server's release)",
            shapes(s.send("GET", "/version", null)));
        for (String path : new String[] {"/api/v1", "/apis/coordination.k8s.io/v1", "/apis/events.k8s.io/v1"}) {
            Answer[] both = s.send("GET", path, null);
            s.sameAfter120(path + " (the resources the sim serves)", servedOnly(both), "1.20 leaves singularName "
                + "empty and stores leases as v1beta1 (another storageVersionHash); the sim's resources verbs are "
                + "a subset", real -> real);
        }
        for (String path : new String[] {"/apis/coordination.k8s.io", "/apis/events.k8s.io", "/apis"}) {
            s.same(path + " (the group versions the sim serves)", groupsServed(s.send("GET", path, null)));
        }
    }

    /** APIVersions with serverAddress, the address each server listens on, replaced by a placeholder. */
    private static Answer[] ownAddress(Answer[] both) {
        Answer[] out = new Answer[2];
        for (int i = 0; i < 2; i++) {
            ObjectNode doc = (ObjectNode) both[i].json().deepCopy();
            doc.get("serverAddressByClientCIDRs").forEach(c -> ((ObjectNode) c).put("serverAddress", "<address>"));
            out[i] = new Answer(both[i].code(), both[i].contentType(), doc.toString(), doc);
        }
        return out;
    }

    /** Both answers reduced to their code, content type and the set of keys (values differ by design). */
    private static Answer[] shapes(Answer[] both) {
        Answer[] out = new Answer[2];
        for (int i = 0; i < 2; i++) {
            ObjectNode shape = Scenarios.MAPPER.createObjectNode();
            shape.put("contentType", both[i].contentType());
            ArrayNode keys = shape.putArray("keys");
            if (both[i].json() != null) {
                both[i].json().fieldNames().forEachRemaining(keys::add);
            }
            out[i] = new Answer(both[i].code(), both[i].contentType(), shape.toString(), shape);
        }
        return out;
    }

    /**
     * The APIResourceLists with the real one cut to the sim's resources; singularName and storageVersionHash are
     * dropped from both when they differ only as 1.20 does, and the real verbs cut to the sim's when they hold them.
     */
    private static Answer[] servedOnly(Answer[] both) {
        ObjectNode sim = (ObjectNode) both[0].json().deepCopy();
        ObjectNode real = (ObjectNode) both[1].json().deepCopy();
        Map<String, JsonNode> simByName = new java.util.HashMap<>();
        sim.get("resources").forEach(r -> simByName.put(r.get("name").asText(), r));
        ArrayNode kept = real.putArray("resources");
        for (JsonNode r : both[1].json().get("resources")) {
            JsonNode mine = simByName.get(r.get("name").asText());
            if (mine == null) {
                continue;
            }
            ObjectNode copy = (ObjectNode) r.deepCopy();
            if (copy.path("singularName").asText().isEmpty()) {
                copy.set("singularName", mine.get("singularName"));
            }
            if (r.get("name").asText().equals("leases")
                && copy.path("storageVersionHash").asText().equals("/sY7hl8ol1U=")) {
                copy.set("storageVersionHash", mine.get("storageVersionHash")); // v1beta1 storage in 1.20
            }
            Set<String> realVerbs = new HashSet<>();
            r.get("verbs").forEach(v -> realVerbs.add(v.asText()));
            List<String> simVerbs = new ArrayList<>();
            mine.get("verbs").forEach(v -> simVerbs.add(v.asText()));
            if (realVerbs.containsAll(simVerbs)) {
                copy.set("verbs", mine.get("verbs"));
            }
            kept.add(copy);
        }
        return new Answer[] {both[0], new Answer(both[1].code(), both[1].contentType(), real.toString(), real)};
    }

    /** APIGroup / APIGroupList with the real versions cut to those the sim serves. */
    private static Answer[] groupsServed(Answer[] both) {
        ObjectNode real = (ObjectNode) both[1].json().deepCopy();
        Set<String> simGroups = new HashSet<>();
        JsonNode simDoc = both[0].json();
        if (simDoc.has("groups")) {
            simDoc.get("groups").forEach(g -> simGroups.add(g.get("name").asText()));
            ArrayNode kept = real.putArray("groups");
            both[1].json().get("groups").forEach(g -> {
                if (simGroups.contains(g.get("name").asText())) {
                    kept.add(onlyV1((ObjectNode) g.deepCopy()));
                }
            });
        } else {
            onlyV1(real);
        }
        return new Answer[] {both[0], new Answer(both[1].code(), both[1].contentType(), real.toString(), real)};
    }

    private static ObjectNode onlyV1(ObjectNode group) {
        ArrayNode versions = Scenarios.MAPPER.createArrayNode();
        group.get("versions").forEach(v -> {
            if (v.get("version").asText().equals("v1")) {
                versions.add(v);
            }
        });
        group.set("versions", versions);
        return group;
    }

    private void bodies() {
        String lease = "{\"metadata\":{\"name\":\"p1\"}}";
        s.same("text/plain body: 415", s.send("POST", LEASES, "text/plain", lease));
        s.same("no Content-Type is read as JSON", s.send("POST", LEASES, null, "{\"metadata\":{\"name\":\"p0\"}}"));
        s.same("truncated JSON: 400", s.send("POST", LEASES, "{\"metadata\":{\"name\":\"p2\""));
        s.same("empty body: 400", s.send("POST", LEASES, ""));
        s.same("a JSON array: 400", s.send("POST", LEASES, "[]"));
        s.same("a JSON string: 400", s.send("POST", LEASES, "\"lease\""));
        s.same("a bad token: 400", s.send("POST", LEASES, "{\"metadata\":{\"name\":'p3'}}"));
        s.same("a missing colon: 400", s.send("POST", LEASES, "{\"metadata\" {}}"));
        s.same("a trailing comma: 400", s.send("POST", LEASES, "{\"metadata\":{\"name\":\"p3\"},}"));
        s.same("text after the object: 400", s.send("POST", LEASES, "{\"metadata\":{\"name\":\"p3\"}} x"));
        s.same("a long invalid body is summarised: 400", s.send("POST", LEASES,
            "{\"metadata\":{\"name\":\"p3\",\"labels\":{\"a\":\"b\",\"c\":\"d\",\"e\":\"f\"}"));
        s.same("kind a number: 400", s.send("POST", LEASES, "{\"kind\":5,\"metadata\":{\"name\":\"p3\"}}"));
        s.same("kind Node v1 to the leases URL: 400", s.send("POST", LEASES,
            "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p3\"}}"));
        s.same("an unregistered version: 400", s.send("POST", LEASES,
            "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v2\",\"metadata\":{\"name\":\"p3\"}}"));
        s.same("an unregistered kind: 400", s.send("POST", LEASES,
            "{\"kind\":\"Leash\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{\"name\":\"p3\"}}"));
        s.same("kind only, apiVersion from the URL", s.send("POST", LEASES,
            "{\"kind\":\"Lease\",\"metadata\":{\"name\":\"p4\"}}"));
        s.same("namespace in the body differs from the URL: 400", s.send("POST", LEASES,
            "{\"metadata\":{\"name\":\"p5\",\"namespace\":\"kube-system\"}}"));
        s.same("name in the body differs from the URL on PUT: 400", s.send("PUT", LEASES + "/p4",
            "{\"metadata\":{\"name\":\"other\",\"resourceVersion\":\"1\"}}"));
        s.same("unknown fields are pruned, not stored", s.send("POST", LEASES,
            "{\"metadata\":{\"name\":\"p6\"},\"spec\":{\"holderIdentity\":\"a\",\"unknown\":{\"deep\":true}},"
                + "\"status\":{}}"));
        s.same("a body that is null creates nothing: 422", s.send("POST", LEASES, "null"));
    }

    private void methodsAndHeaders() {
        s.same("PUT on a collection: 405", s.send("PUT", LEASES, "{\"metadata\":{\"name\":\"p1\"}}"));
        s.same("POST on an object: 405", s.send("POST", LEASES + "/p4", "{}"));
        s.same("PATCH on a collection: 405", s.send("PATCH", LEASES, Differential.MERGE_PATCH, "{}"));
        s.same("Accept application/json, */*", s.diff.send("GET", LEASES + "/p4", null, null,
            Map.of("Accept", "application/json, */*")));
        s.same("Accept */*", s.diff.send("GET", LEASES + "/p4", null, null, Map.of("Accept", "*/*")));
        s.same("Accept JSON first, protobuf second", s.diff.send("GET", LEASES + "/p4", null, null,
            Map.of("Accept", "application/json, application/vnd.kubernetes.protobuf")));
        s.same("Accept text/html: 406", s.diff.send("GET", LEASES + "/p4", null, null,
            Map.of("Accept", "text/html")));
        s.same("dryRun=All creates nothing and answers no resourceVersion", s.send("POST", LEASES + "?dryRun=All",
            "{\"metadata\":{\"name\":\"dry\"}}"));
        s.same("the dry-run object is not stored", s.send("GET", LEASES + "/dry", null));
        s.same("dryRun=Bogus: 422", s.send("POST", LEASES + "?dryRun=Bogus", "{\"metadata\":{\"name\":\"dry\"}}"));
        s.same("fieldManager is accepted", s.send("POST", LEASES + "?fieldManager=podcidr",
            "{\"metadata\":{\"name\":\"fm\"}}"));
        s.same("pretty=true answers the same document", s.send("GET", LEASES + "/fm?pretty=true", null));
        s.same("list with pretty=true", s.send("GET", LEASES + "?pretty=true", null));
    }
}
