package io.github.podcidr.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.github.podcidr.controller.ControllerFlags;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeGroup;
import io.kubernetes.client.util.Yaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's {@code pools:} value: rendered into a ConfigMap that the Deployment mounts and passes as
 * {@code --pools-file}, a checksum that rolls the pods when the groups change, the schema refusing what the
 * controller would refuse, and the rendered file and args accepted by the controller's own parser.
 */
class ChartPoolsTest {
    private static final String POOLS = """
            pools:
              - name: idc
                nodeSelector:
                  matchLabels:
                    podcidr.example.com/site: idc
                clusterCIDRs: [10.250.0.0/16, fd00:250::/48]
                nodeCIDRMaskSizeIPv4: 26
                reservedCIDRs: [10.250.255.0/24]
              - name: gpu
                nodeSelector:
                  matchExpressions:
                    - {key: node.kubernetes.io/instance-type, operator: In, values: [GN10X]}
                clusterCIDRs: [10.251.0.0/20]
            """;

    @TempDir
    Path dir;

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> render(String values, Map<String, String> sets) throws IOException {
        Path file = dir.resolve("values-" + System.nanoTime() + ".yaml");
        Files.writeString(file, values);
        TemplateCommand t = new Helm(ChartDocs.CHART).template().withName("podcidr-controller")
                .withNamespace("kube-system").withValuesFile(file);
        sets.forEach(t::set);
        List<Map<String, Object>> docs = new ArrayList<>();
        for (String doc : t.call().split("(?m)^---\\s*$")) {
            if (!doc.isBlank() && doc.contains("kind:")) {
                docs.add(Yaml.getSnakeYaml(Map.class).load(doc));
            }
        }
        return docs;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> podSpec(List<Map<String, Object>> docs) {
        return ChartDocs.map(ChartDocs.map(ChartDocs.map(ChartDocs.only(docs, "Deployment"), "spec"), "template"),
                "spec");
    }

    @SuppressWarnings("unchecked")
    private static List<String> args(List<Map<String, Object>> docs) {
        return (List<String>) ChartDocs.list(podSpec(docs), "containers").get(0).get("args");
    }

    @Test
    @SuppressWarnings("unchecked")
    void poolsBecomeAMountedPoolsFileThatTheControllerAccepts() throws IOException {
        List<Map<String, Object>> docs = render(POOLS, Map.of());
        Map<String, Object> cm = ChartDocs.only(docs, "ConfigMap");
        assertEquals("podcidr-controller-pools", ChartDocs.map(cm, "metadata").get("name"));
        String file = (String) ChartDocs.map(cm, "data").get("pools.yaml");
        assertTrue(file.startsWith("groups:\n"), file);

        List<String> args = args(docs);
        assertTrue(args.contains("--pools-file=/etc/podcidr/pools.yaml"), args::toString);
        assertTrue(args.contains("--cluster-cidr=10.244.0.0/16"), "the default group stays: " + args);
        Map<String, Object> container = ChartDocs.list(podSpec(docs), "containers").get(0);
        assertTrue(ChartDocs.list(container, "volumeMounts").stream().anyMatch(m -> "/etc/podcidr".equals(
                m.get("mountPath")) && Boolean.TRUE.equals(m.get("readOnly")) && "pools".equals(m.get("name"))));
        assertTrue(ChartDocs.list(podSpec(docs), "volumes").stream().anyMatch(v -> "pools".equals(v.get("name"))
                && "podcidr-controller-pools".equals(((Map<String, Object>) v.get("configMap")).get("name"))));

        // The controller reads the rendered file and args as it would in the pod.
        Path mounted = dir.resolve("pools.yaml");
        Files.writeString(mounted, file);
        List<String> local = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("--pools-file=")) {
                local.add("--pools-file=" + mounted);
            } else if (!a.contains("$(")) {
                local.add(a);
            }
        }
        ControllerFlags.Result r = ControllerFlags.parse(local.toArray(String[]::new),
                Map.of("POD_NAME", "p", "POD_NAMESPACE", "kube-system"));
        assertTrue(r.ok(), () -> r.errors().toString());
        List<NodeGroup> groups = r.flags().settings().nodeGroups().stream().map(g -> g.group()).toList();
        assertEquals(List.of("idc", "gpu"), groups.stream().map(NodeGroup::name).toList());
        assertEquals(new NodeGroup.Pool(Cidr.parse("10.250.0.0/16"), 26), groups.get(0).pools().get(0));
        assertEquals(new NodeGroup.Pool(Cidr.parse("10.251.0.0/20"), 24), groups.get(1).pools().get(0));
        assertEquals("idc", r.flags().settings().groupOf(Map.of("podcidr.example.com/site", "idc")));
        assertEquals("gpu", r.flags().settings().groupOf(Map.of("node.kubernetes.io/instance-type", "GN10X")));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aChangeOfTheGroupsRollsThePodsAndNoPoolsRenderNothing() throws IOException {
        Map<String, Object> meta = ChartDocs.map(ChartDocs.map(ChartDocs.map(ChartDocs.only(render(POOLS, Map.of()),
                "Deployment"), "spec"), "template"), "metadata");
        String checksum = (String) ChartDocs.map(meta, "annotations").get("checksum/pools");
        Map<String, Object> changed = ChartDocs.map(ChartDocs.map(ChartDocs.map(ChartDocs.only(
                render(POOLS.replace("26", "27"), Map.of()), "Deployment"), "spec"), "template"), "metadata");
        assertFalse(checksum.equals(ChartDocs.map(changed, "annotations").get("checksum/pools")));

        List<Map<String, Object>> none = render("{}", Map.of());
        assertNull(ChartDocs.only(none, "ConfigMap"));
        assertFalse(args(none).stream().anyMatch(a -> a.startsWith("--pools-file")));
        Map<String, Object> plain = ChartDocs.map(ChartDocs.map(ChartDocs.map(ChartDocs.only(none, "Deployment"),
                "spec"), "template"), "metadata");
        assertNull(plain.get("annotations"), "no annotations without pools or podAnnotations");
    }

    @Test
    void withoutClusterCidrOnlyTheGroupsAreConfigured() throws IOException {
        List<String> args = args(render(POOLS + "clusterCIDR: \"\"\n", Map.of()));
        assertFalse(args.stream().anyMatch(a -> a.startsWith("--cluster-cidr")), args::toString);
        IllegalStateException neither = assertThrows(IllegalStateException.class,
                () -> render("clusterCIDR: \"\"\n", Map.of()));
        assertTrue(neither.getMessage().contains("clusterCIDR is empty and pools has no group"),
                neither.getMessage());
    }

    @Test
    void theSchemaRefusesBadGroups() {
        Map<String, String> bad = Map.of(
                "pools:\n  - name: idc\n    clusterCIDR: [10.250.0.0/16]\n", "clusterCIDR",
                "pools:\n  - name: IDC\n    clusterCIDRs: [10.250.0.0/16]\n", "name",
                "pools:\n  - name: idc\n    clusterCIDRs: [10.250.0.0]\n", "clusterCIDRs",
                "pools:\n  - name: idc\n    clusterCIDRs: []\n", "clusterCIDRs",
                "pools:\n  - name: idc\n    clusterCIDRs: [10.250.0.0/16]\n    nodeCIDRMaskSizeIPv4: 33\n",
                "nodeCIDRMaskSizeIPv4",
                "pools:\n  - name: idc\n    clusterCIDRs: [10.250.0.0/16]\n    nodeSelector: {matchLabel: {a: b}}\n",
                "matchLabel",
                "pools:\n  - name: idc\n    clusterCIDRs: [10.250.0.0/16]\n"
                        + "    nodeSelector: {matchExpressions: [{key: a, operator: Near}]}\n", "operator",
                "pools:\n  - clusterCIDRs: [10.250.0.0/16]\n", "name");
        bad.forEach((values, what) -> {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> render(values, Map.of()),
                    () -> values + " was accepted");
            assertTrue(e.getMessage().contains(what), () -> values + ": " + e.getMessage());
        });
    }
}
