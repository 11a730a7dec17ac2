package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.podcidr.k8s.NodeDecision.Kind;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** One row per state of a node: what reconcile decides, with no API server and no fakes. */
class NodeDecisionTest {

    /**
     * @param state  gone | plain | podCIDR | podCIDRs | deleting
     * @param written the resourceVersion of our last write ("-" for none); the node's own is 7
     * @param holds whether the allocator holds a subnet for it
     * @param group its group ("-" for none)
     */
    @ParameterizedTest(name = "{0}, written at {1}, holds {2}, group {3} -> {4}")
    @CsvSource({
            "gone,     -, true,  default, RELEASE",
            "gone,     7, false, -,       RELEASE",
            "plain,    7, false, default, WAIT_FOR_CACHE",
            "podCIDR,  7, true,  default, WAIT_FOR_CACHE",
            "plain,    6, false, default, ASSIGN",
            "plain,    -, false, default, ASSIGN",
            "plain,    -, true,  default, ASSIGN",
            "podCIDR,  -, false, default, ADOPT",
            "podCIDRs, -, true,  -,       ADOPT",
            "podCIDR,  -, false, -,       ADOPT",
            "deleting, -, true,  default, SETTLE_HELD",
            "plain,    -, true,  -,       SETTLE_HELD",
            "deleting, -, false, default, KEEP",
            "deleting, -, false, -,       KEEP",
            "plain,    -, false, -,       UNTAINT",
    })
    void decidesOneActionPerState(String state, String written, boolean holds, String group, Kind expected) {
        V1Node node = node(state);
        NodeDecision d = NodeDecision.decide(node, "-".equals(written) ? null : written, holds,
                "-".equals(group) ? null : group);
        assertEquals(expected, d.kind());
        assertEquals(expected == Kind.ASSIGN ? group : null, d.group(), "only an assignment names the group");
        assertEquals(expected == Kind.ADOPT ? List.of("10.244.1.0/24") : List.of(), d.podCidrs());
    }

    private static V1Node node(String state) {
        if (state.equals("gone")) {
            return null;
        }
        V1ObjectMeta meta = new V1ObjectMeta().name("n").uid("u").resourceVersion("7");
        V1NodeSpec spec = new V1NodeSpec();
        switch (state) {
            case "podCIDR" -> spec.podCIDR("10.244.1.0/24");
            case "podCIDRs" -> spec.podCIDR("10.244.1.0/24").podCIDRs(List.of("10.244.1.0/24"));
            case "deleting" -> meta.deletionTimestamp(OffsetDateTime.parse("2026-12-06T00:00:00Z"));
            default -> { }
        }
        return new V1Node().metadata(meta).spec(spec);
    }
}
