package io.github.podcidr.apiserver.conformance;

import static io.github.podcidr.apiserver.conformance.Differential.JSON;
import static io.github.podcidr.apiserver.conformance.Differential.MERGE_PATCH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.apiserver.conformance.Differential.Answer;
import io.github.podcidr.apiserver.conformance.Differential.Known;
import io.github.podcidr.apiserver.real.RealControlPlane;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Nodes CRUD sent to apiserver-sim and to kube-apiserver 1.20.2: create with and without spec, pod CIDRs valid,
 * invalid, with host bits, dual-stack, three, mismatched; get, update, delete, 404, 409 on a stale
 * resourceVersion and on a duplicate, name validation, the not-ready taint of admission, the immutability of the
 * pod CIDRs, finalizers, deletecollection, the status subresource.
 *
 * <p>The real server runs with the feature gate {@code IPv6DualStack} on: it is off by default in 1.20 (alpha), on
 * in every version since 1.21, and the sim serves the newer API.
 */
class NodeConformanceRealIT {
    /** 1.20 reports an invalid pod CIDR for the whole list with its own text (newer: per entry, the value alone). */
    static final Known CIDR_MESSAGE = Known.of("invalid pod CIDR message",
            "Invalid value: \\[\\]string\\{\\\\\"([^\\\\]*)\\\\\"\\}: must be valid CIDR",
            "Invalid value: \\\\\"$1\\\\\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");

    private static RealControlPlane real;
    private static Differential diff;

    @BeforeAll
    static void start() {
        real = RealControlPlane.builder().apiserverFlag("--feature-gates=IPv6DualStack=true").start();
        diff = new Differential(real);
    }

    @AfterAll
    static void stop() {
        Differential.finishSuite(diff, real, "NodeConformanceRealIT");
    }

    private static Answer[] create(String body) {
        return diff.send("POST", "/api/v1/nodes", JSON, body);
    }

    private static void delete(String name) {
        diff.send("DELETE", "/api/v1/nodes/" + name, null, null);
    }

    private static void same(String scenario, Answer[] both, Known... known) {
        String d = diff.check(scenario, both, known);
        assertEquals(null, d, scenario);
    }

    @Test
    void createWithAndWithoutSpec() {
        same("create without spec", create("{\"metadata\":{\"name\":\"c-nospec\"}}"));
        same("create with spec {}", create("{\"metadata\":{\"name\":\"c-emptyspec\"},\"spec\":{}}"));
        same("create with labels, status and an unknown field", create("{\"metadata\":{\"name\":\"c-full\","
                + "\"labels\":{\"a\":\"1\"},\"annotations\":{\"x\":\"y\"}},\"spec\":{\"providerID\":\"qcloud:///1\","
                + "\"unschedulable\":false},\"status\":{\"capacity\":{\"cpu\":\"2\",\"pods\":\"110\"},"
                + "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
                + "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"}]},\"bogus\":1}"));
        same("create with the not-ready taint already there", create("{\"metadata\":{\"name\":\"c-tainted\"},"
                + "\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoSchedule\"},"
                + "{\"key\":\"tke.cloud.tencent.com/uninitialized\",\"value\":\"true\",\"effect\":\"NoSchedule\"}]}}"));
        same("create with a not-ready NoExecute taint", create("{\"metadata\":{\"name\":\"c-noexec\"},"
                + "\"spec\":{\"taints\":[{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\"}]}}"));
        same("create duplicate: 409 AlreadyExists", create("{\"metadata\":{\"name\":\"c-nospec\"}}"));
        same("dry-run create", diff.send("POST", "/api/v1/nodes?dryRun=All", JSON,
                "{\"metadata\":{\"name\":\"c-dry\"},\"spec\":{\"podCIDR\":\"10.9.0.0/24\"}}"));
        same("dry-run create is not stored", diff.send("GET", "/api/v1/nodes/c-dry", null, null));
        for (String n : new String[] {"c-nospec", "c-emptyspec", "c-full", "c-tainted", "c-noexec"}) {
            same("delete " + n, diff.send("DELETE", "/api/v1/nodes/" + n, null, null));
        }
    }

    @Test
    void podCidrsOnCreate() {
        same("podCIDR only", create("{\"metadata\":{\"name\":\"p-single\"},\"spec\":{\"podCIDR\":\"10.1.0.0/24\"}}"));
        same("podCIDRs only", create("{\"metadata\":{\"name\":\"p-list\"},\"spec\":{\"podCIDRs\":[\"10.1.1.0/24\"]}}"));
        same("podCIDR with host bits", create("{\"metadata\":{\"name\":\"p-host\"},\"spec\":{\"podCIDR\":"
                + "\"10.1.2.1/24\"}}"));
        same("dual-stack podCIDRs", create("{\"metadata\":{\"name\":\"p-dual\"},\"spec\":{\"podCIDR\":"
                + "\"10.1.3.0/24\",\"podCIDRs\":[\"10.1.3.0/24\",\"fd00:1::/64\"]}}"));
        same("three podCIDRs: 422", create("{\"metadata\":{\"name\":\"p-three\"},\"spec\":{\"podCIDRs\":"
                + "[\"10.1.4.0/24\",\"fd00:2::/64\",\"10.1.5.0/24\"]}}"));
        same("two IPv4 podCIDRs: 422", create("{\"metadata\":{\"name\":\"p-two4\"},\"spec\":{\"podCIDRs\":"
                + "[\"10.1.4.0/24\",\"10.1.5.0/24\"]}}"));
        same("podCIDR disagreeing with podCIDRs[0]", create("{\"metadata\":{\"name\":\"p-mismatch\"},\"spec\":"
                + "{\"podCIDR\":\"10.1.6.0/24\",\"podCIDRs\":[\"10.1.7.0/24\"]}}"));
        same("invalid podCIDR: 422", create("{\"metadata\":{\"name\":\"p-bad\"},\"spec\":{\"podCIDR\":\"bad\"}}"),
                CIDR_MESSAGE);
        same("IPv4 octet out of range: 422", create("{\"metadata\":{\"name\":\"p-bad2\"},\"spec\":{\"podCIDRs\":"
                + "[\"10.300.0.0/24\"]}}"), CIDR_MESSAGE);
        // Go 1.17+ refuses leading zeros (1.20 built here with Debian's Go); newer servers read them as decimal
        same("IPv4 octet with a leading zero: 422", create("{\"metadata\":{\"name\":\"p-zero\"},\"spec\":"
                + "{\"podCIDRs\":[\"10.244.05.0/24\"]}}"), CIDR_MESSAGE);
        same("prefix length with a leading zero", create("{\"metadata\":{\"name\":\"p-zero2\"},\"spec\":"
                + "{\"podCIDRs\":[\"10.244.6.0/024\"]}}"));
        delete("p-zero");
        delete("p-zero2");
        for (String n : new String[] {"p-single", "p-list", "p-host", "p-dual", "p-mismatch"}) {
            delete(n);
        }
    }

    @Test
    void namesAndTaintsAreValidated() {
        same("name with upper case: 422", create("{\"metadata\":{\"name\":\"Bad_Name\"}}"));
        same("name missing: 422", create("{\"metadata\":{}}"));
        same("label key invalid: 422", create("{\"metadata\":{\"name\":\"v-label\",\"labels\":{\"-a\":\"1\"}}}"));
        same("taint with bad effect and empty key: 422", create("{\"metadata\":{\"name\":\"v-taint\"},\"spec\":"
                + "{\"taints\":[{\"key\":\"\",\"effect\":\"Bad\"}]}}"));
        same("taint without effect: 422", create("{\"metadata\":{\"name\":\"v-taint2\"},\"spec\":"
                + "{\"taints\":[{\"key\":\"a\",\"value\":\"b\"}]}}"));
        same("duplicate taints: 422", create("{\"metadata\":{\"name\":\"v-taint3\"},\"spec\":"
                + "{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"},{\"key\":\"a\",\"value\":\"x\","
                + "\"effect\":\"NoSchedule\"}]}}"));
    }

    @Test
    void getUpdateDelete() {
        create("{\"metadata\":{\"name\":\"u-1\",\"labels\":{\"a\":\"1\"}}}");
        Answer[] got = diff.send("GET", "/api/v1/nodes/u-1", null, null);
        same("get", got);
        same("get missing: 404", diff.send("GET", "/api/v1/nodes/u-missing", null, null));
        String simRv = got[0].json().at("/metadata/resourceVersion").asText();
        String realRv = got[1].json().at("/metadata/resourceVersion").asText();
        String put = "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"u-1\",\"resourceVersion\":\"%s\","
                + "\"labels\":{\"a\":\"2\"}},\"spec\":{\"podCIDR\":\"10.2.0.0/24\"},\"status\":{\"capacity\":"
                + "{\"cpu\":\"4\"}}}";
        Answer[] updated = Differential.pair(
                diff.sendSim("PUT", "/api/v1/nodes/u-1", JSON, String.format(put, simRv)),
                diff.sendReal("PUT", "/api/v1/nodes/u-1", JSON, String.format(put, realRv)));
        same("update with the current resourceVersion (status ignored, taints dropped)", updated);
        same("update with a stale resourceVersion: 409", Differential.pair(
                diff.sendSim("PUT", "/api/v1/nodes/u-1", JSON, String.format(put, simRv)),
                diff.sendReal("PUT", "/api/v1/nodes/u-1", JSON, String.format(put, realRv))));
        same("update without resourceVersion", diff.send("PUT", "/api/v1/nodes/u-1", JSON,
                "{\"metadata\":{\"name\":\"u-1\"},\"spec\":{\"podCIDR\":\"10.2.0.0/24\"}}"));
        same("update changing the pod CIDR: 422", diff.send("PUT", "/api/v1/nodes/u-1", JSON,
                "{\"metadata\":{\"name\":\"u-1\"},\"spec\":{\"podCIDR\":\"10.3.0.0/24\"}}"));
        same("update clearing the pod CIDR: 422", diff.send("PUT", "/api/v1/nodes/u-1", JSON,
                "{\"metadata\":{\"name\":\"u-1\"},\"spec\":{}}"));
        same("update with another name: 400", diff.send("PUT", "/api/v1/nodes/u-1", JSON,
                "{\"metadata\":{\"name\":\"u-2\"},\"spec\":{}}"));
        same("update missing: 404", diff.send("PUT", "/api/v1/nodes/u-missing", JSON,
                "{\"metadata\":{\"name\":\"u-missing\"}}"));
        same("update status subresource", diff.send("PUT", "/api/v1/nodes/u-1/status", JSON,
                "{\"metadata\":{\"name\":\"u-1\",\"labels\":{\"ignored\":\"x\"}},\"spec\":{\"podCIDR\":"
                        + "\"10.4.0.0/24\"},\"status\":{\"capacity\":{\"cpu\":\"8\"},\"allocatable\":{\"cpu\":\"7\"}}}"));
        same("patch status subresource", diff.send("PATCH", "/api/v1/nodes/u-1/status", MERGE_PATCH,
                "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]},"
                        + "\"spec\":{\"unschedulable\":true}}"));
        same("delete with a wrong uid precondition: 409", diff.send("DELETE", "/api/v1/nodes/u-1", JSON,
                "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"preconditions\":{\"uid\":"
                        + "\"00000000-0000-0000-0000-000000000000\"}}"));
        same("delete", diff.send("DELETE", "/api/v1/nodes/u-1", null, null));
        same("delete missing: 404", diff.send("DELETE", "/api/v1/nodes/u-1", null, null));
    }

    @Test
    void finalizers() {
        same("create with a finalizer", create("{\"metadata\":{\"name\":\"f-1\",\"finalizers\":[\"example.com/a\"]},"
                + "\"spec\":{\"podCIDRs\":[\"10.5.0.0/24\"]}}"));
        same("delete with a finalizer: pending", diff.send("DELETE", "/api/v1/nodes/f-1", null, null));
        same("delete again: still pending", diff.send("DELETE", "/api/v1/nodes/f-1", null, null));
        same("a finalizer added to a node being deleted: 422", diff.send("PATCH", "/api/v1/nodes/f-1", MERGE_PATCH,
                "{\"metadata\":{\"finalizers\":[\"example.com/a\",\"example.com/b\"]}}"));
        same("a pod CIDR change on a node being deleted: 422", diff.send("PATCH", "/api/v1/nodes/f-1",
                MERGE_PATCH, "{\"spec\":{\"podCIDR\":\"10.6.0.0/24\",\"podCIDRs\":[\"10.6.0.0/24\"]}}"));
        same("a label added to a node being deleted", diff.send("PATCH", "/api/v1/nodes/f-1", MERGE_PATCH,
                "{\"metadata\":{\"labels\":{\"b\":\"2\"}}}"));
        same("the last finalizer removed: the node goes", diff.send("PATCH", "/api/v1/nodes/f-1", MERGE_PATCH,
                "{\"metadata\":{\"finalizers\":null}}"));
        same("gone after its finalizers", diff.send("GET", "/api/v1/nodes/f-1", null, null));
    }

    @Test
    void deleteCollection() {
        for (int i = 0; i < 3; i++) {
            create("{\"metadata\":{\"name\":\"dc-" + i + "\",\"labels\":{\"dc\":\"" + (i < 2 ? "yes" : "no")
                    + "\"}}}");
        }
        same("deletecollection by label", diff.send("DELETE", "/api/v1/nodes?labelSelector=dc%3Dyes", null, null));
        same("what deletecollection left", diff.send("GET", "/api/v1/nodes?labelSelector=dc", null, null));
        delete("dc-2");
    }
}
