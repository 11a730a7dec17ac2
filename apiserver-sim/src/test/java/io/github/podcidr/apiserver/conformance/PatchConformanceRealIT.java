package io.github.podcidr.apiserver.conformance;

import static io.github.podcidr.apiserver.conformance.Differential.JSON;
import static io.github.podcidr.apiserver.conformance.Differential.JSON_PATCH;
import static io.github.podcidr.apiserver.conformance.Differential.MERGE_PATCH;
import static io.github.podcidr.apiserver.conformance.Differential.STRATEGIC_PATCH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.apiserver.conformance.Differential.Answer;
import io.github.podcidr.apiserver.real.RealControlPlane;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The three patch types on {@code spec.podCIDR(s)}, {@code spec.taints}, labels, finalizers and
 * {@code nodes/status}, sent to apiserver-sim and to kube-apiserver 1.20.2: JSON patch test/add/replace/remove
 * semantics (as the patch library kube-apiserver uses implements them), the controller's guarded patch, merge
 * patch, strategic merge patch with its directives.
 *
 * <p>Not compared: {@code $setElementOrder/taints} in a strategic merge patch. kube-apiserver 1.20 panics on it
 * ({@code runtime error: hash of unhashable type map[string]interface {}}: taints have no merge key, so the order
 * list is read as a list of primitives) and drops the connection; the sim ignores the directive.
 */
class PatchConformanceRealIT {
    private static RealControlPlane real;
    private static Differential diff;

    @BeforeAll
    static void start() {
        real = RealControlPlane.builder().apiserverFlag("--feature-gates=IPv6DualStack=true").start();
        diff = new Differential(real);
    }

    @AfterAll
    static void stop() {
        Differential.finishSuite(diff, real, "PatchConformanceRealIT");
    }

    private static void node(String name, String spec) {
        Answer[] both = diff.send("POST", "/api/v1/nodes", JSON,
                "{\"metadata\":{\"name\":\"" + name + "\",\"labels\":{\"a\":\"1\"}},\"spec\":" + spec + "}");
        assertEquals(201, both[0].code(), both[0].body());
        assertEquals(201, both[1].code(), both[1].body());
    }

    private static void patch(String scenario, String name, String type, String body) {
        same(scenario, diff.send("PATCH", "/api/v1/nodes/" + name, type, body));
    }

    private static void same(String scenario, Answer[] both) {
        assertEquals(null, diff.check(scenario, both), scenario);
    }

    private static void delete(String name) {
        diff.send("DELETE", "/api/v1/nodes/" + name, null, null);
    }

    @Test
    void jsonPatchSemantics() {
        node("j-1", "{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"},{\"key\":\"b\",\"effect\":\"NoExecute\"}]}");
        patch("replace of a missing member adds it", "j-1", JSON_PATCH,
                "[{\"op\":\"replace\",\"path\":\"/spec/unschedulable\",\"value\":true}]");
        patch("test whose parent is missing: 422", "j-1", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/configSource/configMap\",\"value\":null}]");
        patch("unknown op: 422", "j-1", JSON_PATCH, "[{\"op\":\"frob\",\"path\":\"/spec/podCIDR\",\"value\":\"x\"}]");
        patch("test of a missing member against null passes", "j-1", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/podCIDR\",\"value\":null}]");
        patch("test of a missing member against a value: 422", "j-1", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/podCIDR\",\"value\":\"10.0.0.0/24\"}]");
        patch("test of a present member against null: 422", "j-1", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/unschedulable\",\"value\":null}]");
        patch("remove of a missing member: 422", "j-1", JSON_PATCH, "[{\"op\":\"remove\",\"path\":\"/spec/podCIDR\"}]");
        patch("test by index", "j-1", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/taints/1/key\",\"value\":\"b\"}]");
        patch("test of an index out of range: 422", "j-1", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/taints/7/key\",\"value\":\"b\"}]");
        patch("remove of an index out of range: 422", "j-1", JSON_PATCH,
                "[{\"op\":\"remove\",\"path\":\"/spec/taints/7\"}]");
        patch("replace of an index out of range: 422", "j-1", JSON_PATCH,
                "[{\"op\":\"replace\",\"path\":\"/spec/taints/7\",\"value\":{\"key\":\"c\",\"effect\":\"NoSchedule\"}}]");
        patch("add past the end: 422", "j-1", JSON_PATCH,
                "[{\"op\":\"add\",\"path\":\"/spec/taints/9\",\"value\":{\"key\":\"c\",\"effect\":\"NoSchedule\"}}]");
        patch("add with - appends", "j-1", JSON_PATCH,
                "[{\"op\":\"add\",\"path\":\"/spec/taints/-\",\"value\":{\"key\":\"c\",\"effect\":\"NoSchedule\"}}]");
        patch("add at index 0 inserts", "j-1", JSON_PATCH,
                "[{\"op\":\"add\",\"path\":\"/spec/taints/0\",\"value\":{\"key\":\"d\",\"effect\":\"NoSchedule\"}}]");
        patch("missing path: 422", "j-1", JSON_PATCH, "[{\"op\":\"add\",\"value\":\"x\"}]");
        patch("empty path: 422", "j-1", JSON_PATCH, "[{\"op\":\"add\",\"path\":\"\",\"value\":{}}]");
        patch("add without value writes null", "j-1", JSON_PATCH, "[{\"op\":\"add\",\"path\":\"/spec/podCIDR\"}]");
        patch("a patch that is not an array: 400", "j-1", JSON_PATCH, "{\"op\":\"remove\",\"path\":\"/spec\"}");
        patch("an operation that is not an object: 400", "j-1", JSON_PATCH, "[1]");
        patch("all or nothing: the second op fails", "j-1", JSON_PATCH,
                "[{\"op\":\"add\",\"path\":\"/metadata/labels/b\",\"value\":\"2\"},"
                        + "{\"op\":\"remove\",\"path\":\"/metadata/labels/zz\"}]");
        patch("an invalid taint added: 422", "j-1", JSON_PATCH,
                "[{\"op\":\"add\",\"path\":\"/spec/taints/-\",\"value\":{\"key\":\"bad key\",\"effect\":\"Never\"}}]");
        patch("move and copy", "j-1", JSON_PATCH,
                "[{\"op\":\"copy\",\"from\":\"/metadata/labels/a\",\"path\":\"/metadata/labels/c\"},"
                        + "{\"op\":\"move\",\"from\":\"/metadata/labels/a\",\"path\":\"/metadata/labels/m\"}]");
        delete("j-1");
    }

    @Test
    void theControllersGuardedPatch() {
        node("g-1", "{}");
        node("g-2", "{}");
        Answer[] got = diff.send("GET", "/api/v1/nodes/g-1", null, null);
        String simUid = got[0].json().at("/metadata/uid").asText();
        String realUid = got[1].json().at("/metadata/uid").asText();
        String guarded = "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":\"%s\"},"
                + "{\"op\":\"test\",\"path\":\"/spec/podCIDR\",\"value\":null},"
                + "{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"10.20.0.0/24\"},"
                + "{\"op\":\"add\",\"path\":\"/spec/podCIDRs\",\"value\":[\"10.20.0.0/24\"]}]";
        same("guarded add of the pod CIDR to a node created without spec", Differential.pair(
                diff.sendSim("PATCH", "/api/v1/nodes/g-1", JSON_PATCH, String.format(guarded, simUid)),
                diff.sendReal("PATCH", "/api/v1/nodes/g-1", JSON_PATCH, String.format(guarded, realUid))));
        same("the same guarded patch again: 422", Differential.pair(
                diff.sendSim("PATCH", "/api/v1/nodes/g-1", JSON_PATCH, String.format(guarded, simUid)),
                diff.sendReal("PATCH", "/api/v1/nodes/g-1", JSON_PATCH, String.format(guarded, realUid))));
        patch("guarded patch with a stale uid: 422", "g-2", JSON_PATCH, String.format(guarded, simUid));
        patch("dual-stack pod CIDRs by JSON patch", "g-2", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/podCIDRs\",\"value\":null},"
                        + "{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"10.21.0.0/24\"},"
                        + "{\"op\":\"add\",\"path\":\"/spec/podCIDRs\",\"value\":[\"10.21.0.0/24\",\"fd00:21::/64\"]}]");
        patch("pod CIDR changed by replace: 422", "g-2", JSON_PATCH,
                "[{\"op\":\"replace\",\"path\":\"/spec/podCIDR\",\"value\":\"10.22.0.0/24\"}]");
        patch("pod CIDRs removed: 422", "g-2", JSON_PATCH,
                "[{\"op\":\"remove\",\"path\":\"/spec/podCIDRs\"},{\"op\":\"remove\",\"path\":\"/spec/podCIDR\"}]");
        node("g-3", "{\"taints\":[{\"key\":\"tke.cloud.tencent.com/uninitialized\",\"value\":\"true\","
                + "\"effect\":\"NoSchedule\"},{\"key\":\"keep\",\"effect\":\"NoSchedule\"},"
                + "{\"key\":\"tke.cloud.tencent.com/eni-ip-unavailable\",\"effect\":\"NoSchedule\"}]}");
        patch("taints removed by index, highest first, each tested", "g-3", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/taints/2/key\",\"value\":\"tke.cloud.tencent.com/eni-ip-unavailable\"},"
                        + "{\"op\":\"remove\",\"path\":\"/spec/taints/2\"},"
                        + "{\"op\":\"test\",\"path\":\"/spec/taints/0/key\",\"value\":\"tke.cloud.tencent.com/uninitialized\"},"
                        + "{\"op\":\"remove\",\"path\":\"/spec/taints/0\"}]");
        patch("a taint removal whose test no longer holds: 422", "g-3", JSON_PATCH,
                "[{\"op\":\"test\",\"path\":\"/spec/taints/0/key\",\"value\":\"tke.cloud.tencent.com/uninitialized\"},"
                        + "{\"op\":\"remove\",\"path\":\"/spec/taints/0\"}]");
        patch("the last taints removed", "g-3", JSON_PATCH,
                "[{\"op\":\"remove\",\"path\":\"/spec/taints/1\"},{\"op\":\"remove\",\"path\":\"/spec/taints/0\"}]");
        for (String n : new String[] {"g-1", "g-2", "g-3"}) {
            delete(n);
        }
    }

    @Test
    void mergePatch() {
        node("m-1", "{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]}");
        patch("podCIDR and podCIDRs set", "m-1", MERGE_PATCH,
                "{\"spec\":{\"podCIDR\":\"10.30.0.0/24\",\"podCIDRs\":[\"10.30.0.0/24\"]}}");
        patch("podCIDR alone changed: 422", "m-1", MERGE_PATCH, "{\"spec\":{\"podCIDR\":\"10.31.0.0/24\"}}");
        patch("taints replaced", "m-1", MERGE_PATCH, "{\"spec\":{\"taints\":[{\"key\":\"b\",\"effect\":\"NoExecute\"}]}}");
        patch("taints removed by null", "m-1", MERGE_PATCH, "{\"spec\":{\"taints\":null}}");
        patch("labels added and removed", "m-1", MERGE_PATCH, "{\"metadata\":{\"labels\":{\"b\":\"2\",\"a\":null}}}");
        patch("unknown fields dropped", "m-1", MERGE_PATCH, "{\"spec\":{\"bogus\":1},\"extra\":{\"x\":1}}");
        patch("a stale resourceVersion in the patch: 409", "m-1", MERGE_PATCH,
                "{\"metadata\":{\"resourceVersion\":\"1\",\"labels\":{\"c\":\"3\"}}}");
        patch("a patch that is not an object", "m-1", MERGE_PATCH, "[1]");
        same("status patched by merge patch, spec ignored", diff.send("PATCH", "/api/v1/nodes/m-1/status",
                MERGE_PATCH, "{\"status\":{\"capacity\":{\"cpu\":\"4\"}},\"spec\":{\"unschedulable\":true}}"));
        same("patch of a missing node: 404", diff.send("PATCH", "/api/v1/nodes/m-missing", MERGE_PATCH, "{}"));
        delete("m-1");
    }

    @Test
    void strategicMergePatch() {
        node("s-1", "{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"},{\"key\":\"b\",\"effect\":\"NoExecute\"}]}");
        patch("podCIDRs merged as a set (from empty)", "s-1", STRATEGIC_PATCH,
                "{\"spec\":{\"podCIDR\":\"10.40.0.0/24\",\"podCIDRs\":[\"10.40.0.0/24\"]}}");
        patch("podCIDRs merged as a set (same value)", "s-1", STRATEGIC_PATCH,
                "{\"spec\":{\"podCIDRs\":[\"10.40.0.0/24\"]}}");
        patch("taints replaced as a whole list", "s-1", STRATEGIC_PATCH,
                "{\"spec\":{\"taints\":[{\"key\":\"c\",\"effect\":\"NoSchedule\"},{\"key\":\"a\",\"effect\":\"NoSchedule\"}]}}");
        patch("$patch delete alone in spec.taints: 422", "s-1", STRATEGIC_PATCH,
                "{\"spec\":{\"taints\":[{\"$patch\":\"delete\"}]}}");
        patch("$patch delete with a key in spec.taints keeps that taint", "s-1", STRATEGIC_PATCH,
                "{\"spec\":{\"taints\":[{\"$patch\":\"delete\",\"key\":\"c\",\"effect\":\"NoSchedule\"}]}}");
        patch("$retainKeys on spec dropping the pod CIDRs: 422", "s-1", STRATEGIC_PATCH,
                "{\"spec\":{\"$retainKeys\":[\"taints\"],\"taints\":[{\"key\":\"c\",\"effect\":\"NoSchedule\"}]}}");
        patch("labels replaced by $patch replace", "s-1", STRATEGIC_PATCH,
                "{\"metadata\":{\"labels\":{\"$patch\":\"replace\",\"z\":\"9\"}}}");
        patch("finalizers merged as a set", "s-1", STRATEGIC_PATCH,
                "{\"metadata\":{\"finalizers\":[\"example.com/a\",\"example.com/b\"]}}");
        patch("$deleteFromPrimitiveList on finalizers", "s-1", STRATEGIC_PATCH,
                "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"example.com/a\",\"example.com/b\"]}}");
        patch("taints removed by null", "s-1", STRATEGIC_PATCH, "{\"spec\":{\"taints\":null}}");
        patch("a patch that is not an object: 400", "s-1", STRATEGIC_PATCH, "[1]");
        same("status conditions merged by type", diff.send("PATCH", "/api/v1/nodes/s-1/status", STRATEGIC_PATCH,
                "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}"));
        same("status conditions merged by type (second)", diff.send("PATCH", "/api/v1/nodes/s-1/status",
                STRATEGIC_PATCH, "{\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
                        + "{\"type\":\"Ready\",\"status\":\"True\"}]}}"));
        delete("s-1");
    }
}
