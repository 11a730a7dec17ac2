package io.github.podcidr.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.github.podcidr.controller.ControllerFlags;
import io.kubernetes.client.openapi.models.V1ClusterRole;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1Toleration;
import io.kubernetes.client.util.Yaml;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart, rendered offline by helm itself (helm-java bundles it as a native library): lint, the templates
 * for the defaults and for each switch, every document as the official client's model classes, and container args
 * that the controller's own flag parser accepts.
 */
class ChartTest {
    private static final Path CHART = Path.of("podcidr-controller");
    private static final String TKE_TAINT = "tke.cloud.tencent.com/eni-ip-unavailable";

    /** The --set list of the TKE + Flannel guide, unchanged. */
    static final Map<String, String> TKE_GUIDE = new LinkedHashMap<>();

    static {
        TKE_GUIDE.put("clusterCIDR", "10.244.0.0/16");
        TKE_GUIDE.put("nodeCIDRMaskSize", "24");
        TKE_GUIDE.put("removeTaints[0]", TKE_TAINT);
        TKE_GUIDE.put("tolerations[0].key", TKE_TAINT);
        TKE_GUIDE.put("tolerations[0].operator", "Exists");
        TKE_GUIDE.put("tolerations[1].key", "node-role.kubernetes.io/master");
        TKE_GUIDE.put("tolerations[1].operator", "Exists");
        TKE_GUIDE.put("tolerations[2].key", "tke.cloud.tencent.com/uninitialized");
        TKE_GUIDE.put("tolerations[2].operator", "Exists");
        TKE_GUIDE.put("tolerations[3].key", "node.cloudprovider.kubernetes.io/uninitialized");
        TKE_GUIDE.put("tolerations[3].operator", "Exists");
    }

    /** The rendered documents, by kind. */
    record Rendered(String yaml, List<Object> objects) {
        <T> List<T> all(Class<T> type) {
            List<T> out = new ArrayList<>();
            for (Object o : objects) {
                if (type.isInstance(o)) {
                    out.add(type.cast(o));
                }
            }
            return out;
        }

        <T> T one(Class<T> type) {
            List<T> found = all(type);
            assertEquals(1, found.size(), () -> "one " + type.getSimpleName() + " expected in\n" + yaml);
            return found.get(0);
        }

        V1Container container() {
            return one(V1Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
        }

        V1PodSpec pod() {
            return one(V1Deployment.class).getSpec().getTemplate().getSpec();
        }
    }

    private static Rendered render(Map<String, String> values) throws IOException {
        TemplateCommand t = new Helm(CHART).template().withName("podcidr-controller").withNamespace("kube-system");
        values.forEach(t::set);
        String yaml = t.call();
        List<Object> objects = new ArrayList<>();
        // ServiceMonitor is not a core kind, and client-java 25 has no model of policy/v1beta1 (the PDB's version on
        // Kubernetes 1.20, which helm-java renders for offline): split them off and check them as maps
        for (String doc : yaml.split("(?m)^---\\s*$")) {
            if (doc.isBlank() || !doc.contains("kind:")) {
                continue;
            }
            if (doc.contains("kind: ServiceMonitor") || doc.contains("apiVersion: policy/v1beta1")) {
                objects.add(Yaml.getSnakeYaml(Map.class).load(doc));
            } else {
                objects.add(Yaml.load(doc));
            }
        }
        return new Rendered(yaml, objects);
    }

    private static ControllerFlags acceptedByTheController(Rendered r) {
        List<String> args = r.container().getArgs();
        ControllerFlags.Result parsed = ControllerFlags.parse(args.toArray(String[]::new),
                Map.of("POD_NAMESPACE", "kube-system", "POD_NAME", "podcidr-controller-abc"));
        assertTrue(parsed.errors().isEmpty(), () -> "the controller refuses the chart's args " + args + ": "
                + parsed.errors());
        assertNotNull(parsed.flags());
        return parsed.flags();
    }

    @Test
    void lintStrictPasses() {
        LintResult lint = new Helm(CHART).lint().strict().call();
        assertFalse(lint.isFailed(), () -> String.join("\n", lint.getMessages()));
    }

    @Test
    void defaultsRenderAHardenedHostNetworkDeployment() throws IOException {
        Rendered r = render(Map.of());
        V1Deployment d = r.one(V1Deployment.class);
        assertEquals(2, d.getSpec().getReplicas());
        V1PodSpec pod = r.pod();
        assertEquals(Boolean.TRUE, pod.getHostNetwork());
        assertEquals("ClusterFirstWithHostNet", pod.getDnsPolicy());
        assertEquals("system-cluster-critical", pod.getPriorityClassName());
        assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
        V1Container c = r.container();
        assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
        assertEquals("/healthz", c.getLivenessProbe().getHttpGet().getPath());
        assertEquals("/readyz", c.getReadinessProbe().getHttpGet().getPath());
        assertEquals("metadata.namespace", c.getEnv().stream().filter(e -> e.getName().equals("POD_NAMESPACE"))
                .findFirst().orElseThrow().getValueFrom().getFieldRef().getFieldPath());
        assertEquals("metadata.name", c.getEnv().stream().filter(e -> e.getName().equals("POD_NAME"))
                .findFirst().orElseThrow().getValueFrom().getFieldRef().getFieldPath());
        assertTrue(c.getEnv().stream().anyMatch(e -> e.getName().equals("JAVA_TOOL_OPTIONS")
                && e.getValue().contains("MaxRAMPercentage")));
        assertEquals("node-role.kubernetes.io/control-plane", pod.getTolerations().get(0).getKey());
        assertEquals("kubernetes.io/hostname", pod.getAffinity().getPodAntiAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution().get(0).getTopologyKey());
        ControllerFlags flags = acceptedByTheController(r);
        assertEquals("10.244.0.0/16", flags.settings().clusterCidrs().get(0).toString());
        assertEquals("kube-system", flags.election().namespace());
        assertTrue(r.all(V1Service.class).isEmpty(), "no metrics Service unless asked");
        assertFalse(r.yaml().contains("kind: PodDisruptionBudget"));
    }

    @Test
    void theTkeGuideCommandKeepsWorking() throws IOException {
        Rendered r = render(TKE_GUIDE);
        assertTrue(r.container().getArgs().contains("--remove-taints=" + TKE_TAINT), r.container().getArgs()
                .toString());
        List<String> tolerated = r.pod().getTolerations().stream().map(V1Toleration::getKey).toList();
        assertEquals(List.of("node-role.kubernetes.io/control-plane", TKE_TAINT, "node-role.kubernetes.io/master",
                "tke.cloud.tencent.com/uninitialized", "node.cloudprovider.kubernetes.io/uninitialized"), tolerated);
        ControllerFlags flags = acceptedByTheController(r);
        assertEquals(24, flags.settings().nodeMaskIpv4());
        assertEquals(TKE_TAINT, flags.settings().removeTaints().get(0).key());
    }

    @Test
    void leaderElectionOffRendersNoRole() throws IOException {
        Rendered r = render(Map.of("leaderElection.enabled", "false", "replicaCount", "1"));
        assertTrue(r.container().getArgs().contains("--leader-elect=false"));
        assertTrue(r.all(V1Role.class).isEmpty());
        assertFalse(acceptedByTheController(r).election().enabled());
    }

    @Test
    void dualStackAndReservedRangesAndSelectorReachTheController() throws IOException {
        Map<String, String> v = new LinkedHashMap<>();
        // helm-java escapes commas itself; on the helm command line write 10.244.0.0/16\\,fd00:10:244::/56
        v.put("clusterCIDR", "10.244.0.0/16,fd00:10:244::/56");
        v.put("nodeCIDRMaskSizeIPv6", "64");
        v.put("reservedCIDRs[0]", "10.244.255.0/24");
        v.put("allocateNodeSelector", "[{\"key\":\"pool\",\"operator\":\"In\",\"values\":[\"external\"]}]");
        v.put("extraArgs[0]", "--workers=8");
        Rendered r = render(v);
        ControllerFlags flags = acceptedByTheController(r);
        assertEquals(2, flags.settings().clusterCidrs().size());
        assertEquals(64, flags.settings().nodeMaskIpv6());
        assertEquals("10.244.255.0/24", flags.settings().reservedCidrs().get(0).toString());
        assertEquals("pool", flags.settings().nodeSelector().requirements().get(0).key());
        assertEquals(8, flags.settings().workers());
    }

    @Test
    void metricsServiceMonitorAndDisruptionBudgetWhenEnabled() throws IOException {
        Rendered r = render(Map.of("metrics.enabled", "true", "metrics.serviceMonitor.enabled", "true",
                "podDisruptionBudget.enabled", "true"));
        V1Service s = r.one(V1Service.class);
        assertEquals(10290, s.getSpec().getPorts().get(0).getPort());
        List<Map<?, ?>> maps = new ArrayList<>();
        r.all(Map.class).forEach(maps::add);
        Map<?, ?> pdb = maps.stream().filter(m -> "PodDisruptionBudget".equals(m.get("kind"))).findFirst()
                .orElseThrow(() -> new AssertionError("no PodDisruptionBudget in\n" + r.yaml()));
        // helm-java renders for Kubernetes 1.20 offline, which serves PDBs as policy/v1beta1 only (1.21 added v1)
        assertEquals("policy/v1beta1", pdb.get("apiVersion"));
        assertEquals(1, ((Map<?, ?>) pdb.get("spec")).get("minAvailable"));
        Map<?, ?> monitor = maps.stream().filter(m -> "ServiceMonitor".equals(m.get("kind"))).findFirst()
                .orElseThrow(() -> new AssertionError("no ServiceMonitor in\n" + r.yaml()));
        assertEquals("ServiceMonitor", monitor.get("kind"));
        assertTrue(r.container().getArgs().contains("--metrics-bind-address=:10290"));
        acceptedByTheController(r);
    }

    @Test
    void rbacIsLeastPrivilege() throws IOException {
        Rendered r = render(Map.of());
        V1ClusterRole cr = r.one(V1ClusterRole.class);
        List<String> rules = new ArrayList<>();
        for (V1PolicyRule rule : cr.getRules()) {
            rules.add(rule.getApiGroups() + " " + rule.getResources() + " " + rule.getVerbs());
        }
        assertEquals(List.of("[] [nodes] [get, list, watch, patch]", "[] [events] [create, patch]",
                "[events.k8s.io] [events] [create, patch]"), rules);
        V1Role role = r.one(V1Role.class);
        assertEquals("kube-system", role.getMetadata().getNamespace());
        assertEquals(List.of("podcidr-controller"), role.getRules().get(1).getResourceNames());
        assertEquals(List.of("get", "update"), role.getRules().get(1).getVerbs());
    }

    @Test
    void aTypoOrAWrongTypeFailsAgainstTheSchema() {
        IllegalStateException typo = assertThrows(IllegalStateException.class,
                () -> render(Map.of("clusterCidr", "10.244.0.0/16")));
        assertTrue(typo.getMessage().contains("clusterCidr"), typo.getMessage());
        IllegalStateException type = assertThrows(IllegalStateException.class,
                () -> render(Map.of("nodeCIDRMaskSize", "big")));
        assertTrue(type.getMessage().contains("nodeCIDRMaskSize"), type.getMessage());
        IllegalStateException cidr = assertThrows(IllegalStateException.class,
                () -> render(Map.of("clusterCIDR", "10.244.0.0")));
        assertTrue(cidr.getMessage().contains("clusterCIDR"), cidr.getMessage());
    }
}
