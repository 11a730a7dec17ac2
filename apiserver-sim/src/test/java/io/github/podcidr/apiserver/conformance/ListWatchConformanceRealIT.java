package io.github.podcidr.apiserver.conformance;

import static io.github.podcidr.apiserver.conformance.Differential.JSON;
import static io.github.podcidr.apiserver.conformance.Differential.MERGE_PATCH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.github.podcidr.apiserver.conformance.Differential.Answer;
import io.github.podcidr.apiserver.real.RealControlPlane;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lists and watches of nodes sent to apiserver-sim and to kube-apiserver 1.20.2: paging with limit and continue,
 * label and field selectors (valid and not), resourceVersion and resourceVersionMatch, continue tokens that are
 * invalid, a namespaced list; watch event sequences from a resourceVersion, a selector that objects enter and
 * leave, bad parameters, and the bookmark of a watch that allows them.
 *
 * <p>Watches are read to their end ({@code timeoutSeconds}) after the writes they report, so the events compared
 * are the replay of the servers' history, not a race. The bookmark watch lasts 65 seconds (both servers send a
 * bookmark about once a minute, and only when the resource changed after the watch started) and runs while the
 * other scenarios do.
 */
class ListWatchConformanceRealIT {
    private static RealControlPlane real;
    private static Differential diff;
    private static CompletableFuture<Answer[]> bookmarkWatch;

    @BeforeAll
    static void start() {
        real = RealControlPlane.builder().start();
        diff = new Differential(real);
        String path = "/api/v1/nodes?watch=true&allowWatchBookmarks=true&timeoutSeconds=65"
                + "&labelSelector=never%3Dmatches";
        CompletableFuture<Answer> simWatch = CompletableFuture.supplyAsync(() -> diff.watchSim(path));
        CompletableFuture<Answer> realWatch = CompletableFuture.supplyAsync(() -> diff.watchReal(path));
        bookmarkWatch = simWatch.thenCombine(realWatch, Differential::pair);
        try {
            Thread.sleep(2000); // the watch is open on both before the nodes below change the resource
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (int i = 0; i < 5; i++) {
            String zone = i < 3 ? "a" : "b";
            Answer[] created = diff.send("POST", "/api/v1/nodes", JSON, "{\"metadata\":{\"name\":\"l-" + i
                    + "\",\"labels\":{\"zone\":\"" + zone + "\"" + (i == 4 ? ",\"edge\":\"\"" : "") + "}},"
                    + "\"spec\":{\"unschedulable\":" + (i == 1) + "}}");
            assertEquals(201, created[0].code(), created[0].body());
            assertEquals(201, created[1].code(), created[1].body());
        }
    }

    @AfterAll
    static void stop() {
        Differential.finishSuite(diff, real, "ListWatchConformanceRealIT");
    }

    private static void same(String scenario, Answer[] both) {
        assertEquals(null, diff.check(scenario, both), scenario);
    }

    private static Answer[] list(String query) {
        return diff.send("GET", "/api/v1/nodes?" + query, null, null);
    }

    /**
     * A list served from kube-apiserver's watch cache (resourceVersion=0) comes in the cache's map order, not by
     * name; nothing promises an order there, so both answers are compared with their items sorted by name.
     */
    private static Answer[] byName(Answer[] both) {
        Answer[] out = new Answer[2];
        for (int i = 0; i < 2; i++) {
            Answer a = both[i];
            if (a.json() != null && a.json().get("items") instanceof ArrayNode items) {
                java.util.List<JsonNode> sorted = new java.util.ArrayList<>();
                items.forEach(sorted::add);
                sorted.sort(java.util.Comparator.comparing(n -> n.at("/metadata/name").asText()));
                com.fasterxml.jackson.databind.node.ObjectNode copy =
                        (com.fasterxml.jackson.databind.node.ObjectNode) a.json().deepCopy();
                copy.putArray("items").addAll(sorted);
                a = new Answer(a.code(), a.contentType(), copy.toString(), copy);
            }
            out[i] = a;
        }
        return out;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Test
    void pagingWithLimitAndContinue() {
        Answer[] page = list("labelSelector=zone&limit=2");
        same("first page of 2", page);
        int pages = 1;
        while (page[0].json().at("/metadata/continue").isTextual()) {
            String simToken = page[0].json().at("/metadata/continue").asText();
            String realToken = page[1].json().at("/metadata/continue").asText();
            page = Differential.pair(
                    diff.sendSim("GET", "/api/v1/nodes?labelSelector=zone&limit=2&continue=" + enc(simToken), null, null),
                    diff.sendReal("GET", "/api/v1/nodes?labelSelector=zone&limit=2&continue=" + enc(realToken), null,
                            null));
            same("page " + (++pages) + " of 2", page);
        }
        assertEquals(3, pages);
        same("limit larger than the list", list("labelSelector=zone&limit=50"));
        same("resourceVersion=0 ignores the limit", byName(list("labelSelector=zone&resourceVersion=0&limit=2")));
        same("resourceVersion=0 with NotOlderThan", byName(list("labelSelector=zone&resourceVersion=0"
                + "&resourceVersionMatch=NotOlderThan&limit=2")));
        same("continue with resourceVersion=0 is allowed", Differential.pair(
                diff.sendSim("GET", "/api/v1/nodes?labelSelector=zone&limit=2&resourceVersion=0&continue=" + enc(
                        list("labelSelector=zone&limit=2")[0].json().at("/metadata/continue").asText()), null, null),
                diff.sendReal("GET", "/api/v1/nodes?labelSelector=zone&limit=2&resourceVersion=0&continue=" + enc(
                        list("labelSelector=zone&limit=2")[1].json().at("/metadata/continue").asText()), null, null)));
        same("continue that is not base64: 400", list("limit=2&continue=" + enc("!!!")));
        String wrongVersion = Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"v\":\"meta.k8s.io/v0\",\"rv\":5,\"start\":\"l-1\"}".getBytes(StandardCharsets.UTF_8));
        same("continue of an unknown version: 400", list("limit=2&continue=" + wrongVersion));
        String noStart = Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"v\":\"meta.k8s.io/v1\",\"rv\":5,\"start\":\"\"}".getBytes(StandardCharsets.UTF_8));
        same("continue without a start key: 400", list("limit=2&continue=" + noStart));
        same("continue with a resourceVersion: 400", list("limit=2&resourceVersion=5&continue=" + wrongVersion));
    }

    @Test
    void labelAndFieldSelectors() {
        same("label =", list("labelSelector=" + enc("zone=a")));
        same("label ==", list("labelSelector=" + enc("zone==b")));
        same("label != (matches nodes without the label too)", list("labelSelector=" + enc("zone!=a")));
        same("label in", list("labelSelector=" + enc("zone in (a,c)")));
        same("label notin", list("labelSelector=" + enc("zone notin (a)")));
        same("label exists", list("labelSelector=edge"));
        same("label does not exist", list("labelSelector=" + enc("!edge,zone")));
        same("labels combined", list("labelSelector=" + enc("zone=b,edge")));
        same("label selector unclosed set: 400", list("labelSelector=" + enc("zone in (a")));
        same("label selector bad key: 400", list("labelSelector=" + enc("zone=a,-bad=1")));
        same("field metadata.name=", list("fieldSelector=" + enc("metadata.name=l-2")));
        same("field metadata.name!=", list("fieldSelector=" + enc("metadata.name!=l-2") + "&labelSelector=zone"));
        same("field spec.unschedulable=true", list("fieldSelector=" + enc("spec.unschedulable=true")));
        same("field unsupported: 400", list("fieldSelector=" + enc("spec.podCIDR=10.0.0.0/24")));
        same("field metadata.namespace on a cluster-scoped list", list("fieldSelector="
                + enc("metadata.namespace=default")));
        same("field selector without operator: 400", list("fieldSelector=metadata.name"));
        same("label and field together", list("labelSelector=" + enc("zone=a") + "&fieldSelector="
                + enc("metadata.name!=l-0")));
    }

    @Test
    void resourceVersionMatch() {
        same("resourceVersionMatch without resourceVersion: 422", list("resourceVersionMatch=NotOlderThan"));
        same("resourceVersionMatch unknown: 422", list("resourceVersion=1&resourceVersionMatch=Newest"));
        same("resourceVersionMatch Exact with 0: 422", list("resourceVersion=0&resourceVersionMatch=Exact"));
        Answer[] before = list("labelSelector=zone");
        diff.send("PATCH", "/api/v1/nodes/l-3", MERGE_PATCH, "{\"metadata\":{\"labels\":{\"touched\":\"1\"}}}");
        String simRv = before[0].json().at("/metadata/resourceVersion").asText();
        String realRv = before[1].json().at("/metadata/resourceVersion").asText();
        same("Exact at an older resourceVersion shows the old state", Differential.pair(
                diff.sendSim("GET", "/api/v1/nodes?labelSelector=zone&resourceVersionMatch=Exact&resourceVersion="
                        + simRv, null, null),
                diff.sendReal("GET", "/api/v1/nodes?labelSelector=zone&resourceVersionMatch=Exact&resourceVersion="
                        + realRv, null, null)));
        same("a legacy resourceVersion with a limit reads that revision", Differential.pair(
                diff.sendSim("GET", "/api/v1/nodes?labelSelector=zone&limit=10&resourceVersion=" + simRv, null, null),
                diff.sendReal("GET", "/api/v1/nodes?labelSelector=zone&limit=10&resourceVersion=" + realRv, null,
                        null)));
        diff.send("PATCH", "/api/v1/nodes/l-3", MERGE_PATCH, "{\"metadata\":{\"labels\":{\"touched\":null}}}");
    }

    @Test
    void namespacedList() {
        same("leases in a namespace", diff.send("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                null, null));
        same("leases in all namespaces with a label selector", diff.send("GET",
                "/apis/coordination.k8s.io/v1/leases?labelSelector=x%3Dy", null, null));
    }

    @Test
    void watchEventSequences() {
        Answer[] start = list("fieldSelector=" + enc("metadata.name=l-0"));
        String simRv = start[0].json().at("/metadata/resourceVersion").asText();
        String realRv = start[1].json().at("/metadata/resourceVersion").asText();
        diff.send("POST", "/api/v1/nodes", JSON, "{\"metadata\":{\"name\":\"w-1\",\"labels\":{\"w\":\"no\"}}}");
        diff.send("PATCH", "/api/v1/nodes/w-1", MERGE_PATCH, "{\"metadata\":{\"labels\":{\"w\":\"yes\"}}}");
        diff.send("PATCH", "/api/v1/nodes/w-1", MERGE_PATCH, "{\"spec\":{\"unschedulable\":true}}");
        diff.send("PATCH", "/api/v1/nodes/w-1", MERGE_PATCH, "{\"metadata\":{\"labels\":{\"w\":\"no\"}}}");
        diff.send("DELETE", "/api/v1/nodes/w-1", null, null);
        String q = "&timeoutSeconds=1&fieldSelector=" + enc("metadata.name=w-1");
        same("ADDED, MODIFIED, DELETED from a resourceVersion", Differential.pair(
                diff.watchSim("/api/v1/nodes?watch=true&resourceVersion=" + simRv + q),
                diff.watchReal("/api/v1/nodes?watch=true&resourceVersion=" + realRv + q)));
        String sel = "&timeoutSeconds=1&labelSelector=" + enc("w=yes");
        same("an object entering (ADDED) and leaving (DELETED, its last matching state) the selector",
                Differential.pair(
                        diff.watchSim("/api/v1/nodes?watch=true&resourceVersion=" + simRv + sel),
                        diff.watchReal("/api/v1/nodes?watch=true&resourceVersion=" + realRv + sel)));
        Answer[] initial = diff.watch("/api/v1/nodes?watch=true&timeoutSeconds=1&labelSelector=" + enc("zone=b"));
        same("watch without resourceVersion starts with ADDED of what exists (in no particular order)",
                Differential.pair(eventsByName(initial[0]), eventsByName(initial[1])));
        same("watch from resourceVersion 0 likewise",
                diff.watch("/api/v1/nodes?watch=true&resourceVersion=0&timeoutSeconds=1&fieldSelector="
                        + enc("metadata.name=l-1")));
        same("watch with a bad timeoutSeconds: 400", diff.watch("/api/v1/nodes?watch=true&timeoutSeconds=x"));
        same("watch with resourceVersionMatch: 422",
                diff.watch("/api/v1/nodes?watch=true&resourceVersion=0&resourceVersionMatch=NotOlderThan"));
        same("watch with a bad label selector: 400", diff.watch("/api/v1/nodes?watch=true&timeoutSeconds=1"
                + "&labelSelector=" + enc("a in (b")));
    }

    @Test
    void bookmarks() throws Exception {
        Answer[] both = bookmarkWatch.get();
        // Compared: the types of the events sent (each kind once: bookmark counts depend on timing) and the shape
        // of the first event of each type.
        same("a watch allowing bookmarks, with a selector nothing matches, for 65 s",
                Differential.pair(firstOfEachType(both[0]), firstOfEachType(both[1])));
    }

    /** The watch cache sends the initial ADDED events in its map's order: compared sorted by name. */
    private static Answer eventsByName(Answer watch) {
        if (!(watch.json() instanceof ArrayNode events)) {
            return watch;
        }
        java.util.List<JsonNode> sorted = new java.util.ArrayList<>();
        events.forEach(sorted::add);
        sorted.sort(java.util.Comparator.comparing(e -> e.at("/object/metadata/name").asText()));
        ArrayNode out = JsonNodeFactory.instance.arrayNode().addAll(sorted);
        return new Answer(watch.code(), watch.contentType(), out.toString(), out);
    }

    private static Answer firstOfEachType(Answer watch) {
        if (!(watch.json() instanceof ArrayNode events)) {
            return watch;
        }
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (JsonNode e : events) {
            if (seen.add(e.path("type").asText())) {
                out.add(e);
            }
        }
        return new Answer(watch.code(), watch.contentType(), out.toString(), out);
    }
}
