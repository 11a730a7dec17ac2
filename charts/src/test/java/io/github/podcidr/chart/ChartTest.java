package io.github.podcidr.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.github.podcidr.controller.ControllerFlags;
import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.models.V1ClusterRole;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1LocalObjectReference;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Probe;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.V1TopologySpreadConstraint;
import io.kubernetes.client.openapi.models.V1Toleration;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.util.Yaml;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    /** The rendered documents, by kind, and each as a plain map (for what every object has: metadata). */
    record Rendered(String yaml, List<Object> objects, List<Map<String, Object>> maps) {
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
        return parse(t.call());
    }

    @SuppressWarnings("unchecked")
    private static Rendered parse(String yaml) throws IOException {
        List<Object> objects = new ArrayList<>();
        List<Map<String, Object>> maps = new ArrayList<>();
        // ServiceMonitor and PrometheusRule are not core kinds, and client-java 25 has no model of policy/v1beta1 (the
        // PDB's version on Kubernetes 1.20, which helm-java renders for offline): split them off and check them as maps
        for (String doc : yaml.split("(?m)^---\\s*$")) {
            if (doc.isBlank() || !doc.contains("kind:")) {
                continue;
            }
            maps.add(Yaml.getSnakeYaml(Map.class).load(doc));
            if (doc.contains("kind: ServiceMonitor") || doc.contains("kind: PrometheusRule")
                    || doc.contains("apiVersion: policy/v1beta1")) {
                objects.add(Yaml.getSnakeYaml(Map.class).load(doc));
            } else {
                objects.add(Yaml.load(doc));
            }
        }
        return new Rendered(yaml, objects, maps);
    }

    private static ControllerFlags acceptedByTheController(Rendered r) {
        return acceptedByTheController(r, "10.0.3.7");
    }

    /**
     * Parses the container's args as the controller would see them: the kubelet first replaces each $(VAR) by the
     * container's env var of that name (here POD_IP, the downward API's status.podIP, is {@code podIp}).
     */
    private static ControllerFlags acceptedByTheController(Rendered r, String podIp) {
        Map<String, String> downward = Map.of("status.podIP", podIp, "metadata.namespace", "kube-system",
                "metadata.name", "podcidr-controller-abc");
        Map<String, String> env = new LinkedHashMap<>();
        for (V1EnvVar e : r.container().getEnv()) {
            env.put(e.getName(), e.getValue() != null ? e.getValue()
                    : downward.get(e.getValueFrom().getFieldRef().getFieldPath()));
        }
        List<String> args = new ArrayList<>();
        for (String arg : r.container().getArgs()) {
            for (Map.Entry<String, String> e : env.entrySet()) {
                arg = arg.replace("$(" + e.getKey() + ")", e.getValue());
            }
            args.add(arg);
        }
        ControllerFlags.Result parsed = ControllerFlags.parse(args.toArray(String[]::new), env);
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
        // JVM flags live in the image's entrypoint: JAVA_TOOL_OPTIONS would print a non-JSON line to stderr
        assertTrue(c.getEnv().stream().noneMatch(e -> e.getName().equals("JAVA_TOOL_OPTIONS")), c.getEnv()
                .toString());
        assertEquals("podcidr-controller:0.1.0", c.getImage());
        assertFalse(r.yaml().contains("imagePullSecrets"), r.yaml());
        assertEquals(10, d.getSpec().getRevisionHistoryLimit());
        assertEquals("RollingUpdate", d.getSpec().getStrategy().getType());
        assertEquals(new IntOrString(0), d.getSpec().getStrategy().getRollingUpdate().getMaxSurge());
        assertEquals(new IntOrString(1), d.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable());
        assertEquals("/healthz", c.getStartupProbe().getHttpGet().getPath());
        assertEquals(new IntOrString("health"), c.getStartupProbe().getHttpGet().getPort());
        assertEquals(120, c.getStartupProbe().getPeriodSeconds() * c.getStartupProbe().getFailureThreshold(),
                "two minutes for the JVM to start");
        assertNull(c.getLivenessProbe().getInitialDelaySeconds(), "the startup probe holds the liveness probe");
        assertFalse(r.yaml().contains("topologySpreadConstraints"), r.yaml());
        // sized for 50,000 nodes (docs/benchmarks.md, Chart sizing): the request is the limit, the heap 75% of it
        assertEquals(Quantity.fromString("512Mi"), c.getResources().getLimits().get("memory"));
        assertEquals(c.getResources().getLimits().get("memory"), c.getResources().getRequests().get("memory"));
        assertEquals(BUILT_IN_TOLERATIONS, tolerations(r));
        assertEquals("kubernetes.io/hostname", pod.getAffinity().getPodAntiAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution().get(0).getTopologyKey());
        ControllerFlags flags = acceptedByTheController(r);
        assertEquals("10.244.0.0/16", flags.settings().clusterCidrs().get(0).toString());
        assertEquals("kube-system", flags.election().namespace());
        assertEquals(30L, pod.getTerminationGracePeriodSeconds());
        assertEquals(java.time.Duration.ofSeconds(25), flags.shutdownGracePeriod(),
                "the controller halts 5 s before the kubelet would kill it");
        assertTrue(r.all(V1Service.class).isEmpty(), "no metrics Service unless asked");
        assertFalse(r.yaml().contains("kind: PodDisruptionBudget"));
    }

    @Test
    void theShutdownGracePeriodFollowsThePodsAndTooShortOnesAreRefused() throws IOException {
        Rendered r = render(Map.of("terminationGracePeriodSeconds", "120"));
        assertEquals(120L, r.one(V1Deployment.class).getSpec().getTemplate().getSpec()
                .getTerminationGracePeriodSeconds());
        assertEquals(java.time.Duration.ofSeconds(115), acceptedByTheController(r).shutdownGracePeriod());
        IllegalStateException shortOne = assertThrows(IllegalStateException.class,
                () -> render(Map.of("terminationGracePeriodSeconds", "3")));
        assertTrue(shortOne.getMessage().contains("terminationGracePeriodSeconds"), shortOne.getMessage());
    }

    @Test
    void theTkeGuideCommandKeepsWorking() throws IOException {
        Rendered r = render(TKE_GUIDE);
        assertTrue(r.container().getArgs().contains("--remove-taints=" + TKE_TAINT), r.container().getArgs()
                .toString());
        // the built-in ones (the removeTaints key among them), then the guide's own, which repeat two harmlessly
        assertEquals(List.of(BUILT_IN_TOLERATIONS.get(0), BUILT_IN_TOLERATIONS.get(1), BUILT_IN_TOLERATIONS.get(2),
                BUILT_IN_TOLERATIONS.get(3), TKE_TAINT + " Exists", TKE_TAINT + " Exists",
                "node-role.kubernetes.io/master Exists", "tke.cloud.tencent.com/uninitialized Exists",
                "node.cloudprovider.kubernetes.io/uninitialized Exists"), tolerations(r));
        ControllerFlags flags = acceptedByTheController(r);
        assertEquals(24, flags.settings().nodeMaskIpv4());
        assertEquals(TKE_TAINT, flags.settings().removeTaints().get(0).key());
    }

    @Test
    void leaderElectionOffGrantsTheIntentJournalOnly() throws IOException {
        Rendered r = render(Map.of("leaderElection.enabled", "false", "replicaCount", "1"));
        assertTrue(r.container().getArgs().contains("--leader-elect=false"));
        V1Role role = r.one(V1Role.class);
        assertEquals(List.of("podcidr-controller-intents"), role.getRules().get(1).getResourceNames(),
                "a single replica still records its writes for the pod that replaces it");
        assertFalse(acceptedByTheController(r).election().enabled());
        assertEquals("podcidr-controller", acceptedByTheController(r).election().leaseName());
    }

    /** The tolerations of the defaults, as "key operator effect": the nodes that wait for the controller. */
    private static final List<String> BUILT_IN_TOLERATIONS = List.of(
            "node-role.kubernetes.io/control-plane Exists NoSchedule",
            "node.kubernetes.io/not-ready Exists NoSchedule",
            "node.kubernetes.io/network-unavailable Exists NoSchedule",
            "node.cloudprovider.kubernetes.io/uninitialized Exists NoSchedule");

    private static List<String> tolerations(Rendered r) {
        List<String> out = new ArrayList<>();
        for (V1Toleration t : r.pod().getTolerations()) {
            assertNull(t.getTolerationSeconds(), () -> "NoExecute is left to Kubernetes' defaults: " + t);
            out.add(t.getKey() + (t.getValue() == null ? "" : "=" + t.getValue()) + " " + t.getOperator()
                    + (t.getEffect() == null ? "" : " " + t.getEffect()));
        }
        return out;
    }

    @Test
    void eachRemovedTaintIsToleratedWithItsEffect() throws IOException {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("removeTaints[0]", "example.com/a");
        v.put("removeTaints[1]", "example.com/b:NoSchedule");
        v.put("removeTaints[2]", "example.com/c=waiting:NoExecute");
        v.put("removeTaints[3]", "example.com/d=waiting");
        v.put("removeTaints[4]", "node.cloudprovider.kubernetes.io/uninitialized:NoSchedule");  // built in already
        v.put("tolerations[0].key", "dedicated");
        v.put("tolerations[0].operator", "Equal");
        v.put("tolerations[0].value", "network");
        v.put("tolerations[0].effect", "NoSchedule");
        Rendered r = render(v);
        List<String> expected = new ArrayList<>(BUILT_IN_TOLERATIONS);
        expected.addAll(List.of("example.com/a Exists", "example.com/b Exists NoSchedule",
                "example.com/c Exists NoExecute", "example.com/d Exists",
                "dedicated=network Equal NoSchedule"));  // the operator's own, last and unchanged
        assertEquals(expected, tolerations(r));
        assertEquals("example.com/a,example.com/b:NoSchedule,example.com/c=waiting:NoExecute,example.com/d=waiting,"
                + "node.cloudprovider.kubernetes.io/uninitialized:NoSchedule", acceptedByTheController(r).settings()
                .removeTaints().stream().map(Object::toString).collect(Collectors.joining(",")));
    }

    @Test
    void withoutHostNetworkThePodsMeetTheRestrictedPodSecurityLevel() throws IOException {
        // the default: on the host network, which only the privileged level allows
        Rendered onHost = render(Map.of());
        assertEquals(List.of("hostNetwork"), restrictedViolations(onHost.pod()));
        Rendered r = render(Map.of("hostNetwork", "false"));
        V1PodSpec pod = r.pod();
        assertEquals(Boolean.FALSE, pod.getHostNetwork());
        assertNull(pod.getDnsPolicy(), "the default ClusterFirst on the pod network");
        assertEquals(List.of(), restrictedViolations(pod));
        // a pod on the pod network cannot start on a node without it: no not-ready and network-unavailable
        assertEquals(List.of(BUILT_IN_TOLERATIONS.get(0), BUILT_IN_TOLERATIONS.get(3)), tolerations(r));
        // the endpoints still bind the pod IP, now the pod's own
        assertEquals("10.0.3.7", acceptedByTheController(r).healthProbeAddress().host());
        IllegalStateException type = assertThrows(IllegalStateException.class,
                () -> render(Map.of("hostNetwork", "yes")));
        assertTrue(type.getMessage().contains("hostNetwork"), type.getMessage());
    }

    /**
     * What the Pod Security Standards' "restricted" level refuses in a pod spec (the checks that apply to what the
     * chart renders: host namespaces and ports, privileged, capabilities, volume types, non-root, privilege
     * escalation, seccomp), by the name of the field at fault.
     */
    private static List<String> restrictedViolations(V1PodSpec pod) {
        List<String> out = new ArrayList<>();
        if (Boolean.TRUE.equals(pod.getHostNetwork())) {
            out.add("hostNetwork");
        }
        if (Boolean.TRUE.equals(pod.getHostPID()) || Boolean.TRUE.equals(pod.getHostIPC())) {
            out.add("hostPID/hostIPC");
        }
        for (var volume : pod.getVolumes()) {
            if (volume.getEmptyDir() == null && volume.getConfigMap() == null && volume.getSecret() == null
                    && volume.getProjected() == null && volume.getDownwardAPI() == null) {
                out.add("volumes[" + volume.getName() + "]");
            }
        }
        var podContext = pod.getSecurityContext();
        for (V1Container c : pod.getContainers()) {
            var context = c.getSecurityContext();
            if (c.getPorts() != null && c.getPorts().stream().anyMatch(p -> p.getHostPort() != null)) {
                out.add("hostPort");
            }
            if (context == null || Boolean.TRUE.equals(context.getPrivileged())) {
                out.add("privileged");
                continue;
            }
            if (!Boolean.FALSE.equals(context.getAllowPrivilegeEscalation())) {
                out.add("allowPrivilegeEscalation");
            }
            if (context.getCapabilities() == null || !context.getCapabilities().getDrop().contains("ALL")
                    || (context.getCapabilities().getAdd() != null
                            && !List.of("NET_BIND_SERVICE").containsAll(context.getCapabilities().getAdd()))) {
                out.add("capabilities");
            }
            boolean nonRoot = context.getRunAsNonRoot() != null ? context.getRunAsNonRoot()
                    : podContext != null && Boolean.TRUE.equals(podContext.getRunAsNonRoot());
            Long user = context.getRunAsUser() != null ? context.getRunAsUser()
                    : podContext == null ? null : podContext.getRunAsUser();
            if (!nonRoot || (user != null && user == 0)) {
                out.add("runAsNonRoot");
            }
            var seccomp = context.getSeccompProfile() != null ? context.getSeccompProfile()
                    : podContext == null ? null : podContext.getSeccompProfile();
            if (seccomp == null || !List.of("RuntimeDefault", "Localhost").contains(seccomp.getType())) {
                out.add("seccompProfile");
            }
        }
        return out;
    }

    @Test
    void severalReplicasWithoutLeaderElectionAreRefused() throws IOException {
        for (String replicas : List.of("2", "3")) {
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> render(Map.of("leaderElection.enabled", "false", "replicaCount", replicas)),
                    () -> replicas + " replicas without leader election were rendered");
            String message = refused.getMessage();
            // what was wrong, why, and both ways out
            assertTrue(message.contains("replicaCount is " + replicas + " with leaderElection.enabled false"), message);
            assertTrue(message.contains("same subnet"), message);
            assertTrue(message.contains("leaderElection.enabled=true"), message);
            assertTrue(message.contains("replicaCount=1"), message);
        }
        // the default replicaCount (2) with leader election off is refused too
        assertThrows(IllegalStateException.class, () -> render(Map.of("leaderElection.enabled", "false")));
        // one replica, or none (scaled down), needs no election
        assertEquals(0, render(Map.of("leaderElection.enabled", "false", "replicaCount", "0"))
                .one(V1Deployment.class).getSpec().getReplicas());
        assertEquals(3, render(Map.of("replicaCount", "3")).one(V1Deployment.class).getSpec().getReplicas());
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
        assertTrue(r.container().getArgs().contains("--metrics-bind-address=[$(POD_IP)]:10290"),
                r.container().getArgs().toString());
        acceptedByTheController(r);
    }

    @Test
    void rbacIsLeastPrivilege() throws IOException {
        Rendered r = render(Map.of());
        // update on nodes only for the Go pods that still run during the upgrade from the Go chart (a rule of its
        // own, to be dropped in a later release); the reviews for the secured metrics address (metrics.secure)
        assertEquals(List.of("[] [nodes] [get, list, watch, patch]", "[] [nodes] [update]",
                "[] [events] [create, patch]", "[events.k8s.io] [events] [create, patch]",
                "[authentication.k8s.io] [tokenreviews] [create]",
                "[authorization.k8s.io] [subjectaccessreviews] [create]"), rules(clusterRole(r, "podcidr-controller")));
        V1Role role = r.one(V1Role.class);
        assertEquals("kube-system", role.getMetadata().getNamespace());
        assertEquals(List.of("podcidr-controller", "podcidr-controller-intents"),
                role.getRules().get(1).getResourceNames());
        assertEquals(List.of("get", "update"), role.getRules().get(1).getVerbs());
    }

    private static V1ClusterRole clusterRole(Rendered r, String name) {
        return r.all(V1ClusterRole.class).stream().filter(c -> c.getMetadata().getName().equals(name)).findFirst()
                .orElse(null);
    }

    private static List<String> rules(V1ClusterRole cr) {
        List<String> rules = new ArrayList<>();
        for (V1PolicyRule rule : cr.getRules()) {
            rules.add(rule.getNonResourceURLs() != null && !rule.getNonResourceURLs().isEmpty()
                    ? rule.getNonResourceURLs() + " " + rule.getVerbs()
                    : rule.getApiGroups() + " " + rule.getResources() + " " + rule.getVerbs());
        }
        return rules;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> scrapeEndpoint(Rendered r) {
        Map<String, Object> monitor = r.maps().stream().filter(m -> "ServiceMonitor".equals(m.get("kind")))
                .findFirst().orElseThrow(() -> new AssertionError("no ServiceMonitor in\n" + r.yaml()));
        return ((List<Map<String, Object>>) ((Map<String, Object>) monitor.get("spec")).get("endpoints")).get(0);
    }

    @Test
    void metricsAreSecureByDefaultAndTheProbesStayPlain() throws IOException {
        Rendered r = render(Map.of());
        assertTrue(r.container().getArgs().contains("--metrics-secure=true"), r.container().getArgs().toString());
        ControllerFlags flags = acceptedByTheController(r);
        assertTrue(flags.metricsSecure());
        assertNull(flags.metricsCertDir(), "a self-signed certificate");
        assertEquals(List.of("[/metrics, /status, /status.json] [get]"),
                rules(clusterRole(r, "podcidr-controller-metrics-reader")));
        // the probes: plain HTTP on their own port
        for (V1Probe p : List.of(r.container().getLivenessProbe(), r.container().getReadinessProbe(),
                r.container().getStartupProbe())) {
            assertEquals(new IntOrString("health"), p.getHttpGet().getPort());
            assertTrue(p.getHttpGet().getScheme() == null || p.getHttpGet().getScheme().equals("HTTP"));
        }
    }

    @Test
    void metricsSecureFalseServesPlainHttpAndGrantsNoReviews() throws IOException {
        Rendered r = render(Map.of("metrics.secure", "false", "metrics.enabled", "true",
                "metrics.serviceMonitor.enabled", "true"));
        assertTrue(r.container().getArgs().contains("--metrics-secure=false"), r.container().getArgs().toString());
        assertFalse(acceptedByTheController(r).metricsSecure());
        assertNull(clusterRole(r, "podcidr-controller-metrics-reader"));
        assertFalse(rules(clusterRole(r, "podcidr-controller")).toString().contains("review"));
        Map<String, Object> endpoint = scrapeEndpoint(r);
        assertEquals(Set.of("port", "path", "interval"), endpoint.keySet(), endpoint.toString());
    }

    @Test
    void theServiceMonitorScrapesHttpsWithPrometheussToken() throws IOException {
        Rendered r = render(Map.of("metrics.enabled", "true", "metrics.serviceMonitor.enabled", "true"));
        Map<String, Object> endpoint = scrapeEndpoint(r);
        assertEquals("https", endpoint.get("scheme"));
        assertEquals("/var/run/secrets/kubernetes.io/serviceaccount/token", endpoint.get("bearerTokenFile"));
        assertEquals(Map.of("insecureSkipVerify", true), endpoint.get("tlsConfig"), "self-signed certificates");
        assertEquals("metrics", endpoint.get("port"));
    }

    @Test
    void aMountedCertificateIsPassedAndTheServiceMonitorVerifiesIt() throws IOException {
        Rendered r = render(Map.of("metrics.certSecret", "podcidr-metrics-tls", "metrics.enabled", "true",
                "metrics.serviceMonitor.enabled", "true"));
        V1Container c = r.container();
        assertTrue(c.getArgs().contains("--metrics-cert-dir=/etc/podcidr-metrics-cert"), c.getArgs().toString());
        assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getName().equals("metrics-cert")
                && m.getMountPath().equals("/etc/podcidr-metrics-cert") && Boolean.TRUE.equals(m.getReadOnly())),
                c.getVolumeMounts().toString());
        V1Volume v = r.pod().getVolumes().stream().filter(x -> x.getName().equals("metrics-cert")).findFirst()
                .orElseThrow();
        assertEquals("podcidr-metrics-tls", v.getSecret().getSecretName());
        assertEquals(List.of("tls.crt", "tls.key"), v.getSecret().getItems().stream().map(i -> i.getPath())
                .toList());
        Map<String, Object> endpoint = scrapeEndpoint(r);
        assertEquals(Map.of("ca", Map.of("secret", Map.of("name", "podcidr-metrics-tls", "key", "ca.crt")),
                "serverName", "podcidr-controller-metrics.kube-system.svc"), endpoint.get("tlsConfig"));
        // the controller takes every arg; the directory exists only in the pod
        List<String> args = c.getArgs().stream().map(a -> a.replace("$(POD_IP)", "10.0.3.7")).toList();
        ControllerFlags.Result parsed = ControllerFlags.parse(args.toArray(String[]::new),
                Map.of("POD_NAMESPACE", "kube-system"));
        assertEquals(1, parsed.errors().size(), parsed.errors()::toString);
        assertTrue(parsed.errors().get(0).toString().startsWith("--metrics-cert-dir=/etc/podcidr-metrics-cert:"
                + " has no readable tls.crt"), parsed.errors()::toString);
        // without metrics.secure the Secret is neither mounted nor passed
        Rendered plain = render(Map.of("metrics.certSecret", "podcidr-metrics-tls", "metrics.secure", "false"));
        assertFalse(plain.yaml().contains("metrics-cert"), plain.yaml());
        acceptedByTheController(plain);
    }

    @Test
    void secureMetricsOnTheProbesPortAreRefused() throws IOException {
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> render(Map.of("metrics.port", "10291")));
        assertTrue(refused.getMessage().contains("metrics.port and healthPort are both 10291 with metrics.secure"
                + " true"), refused.getMessage());
        assertTrue(refused.getMessage().contains("metrics.secure=false"), refused.getMessage());
        // plain metrics may share the probes' port, as before
        acceptedByTheController(render(Map.of("metrics.port", "10291", "metrics.secure", "false")));
    }

    @Test
    void wrongMetricsSecurityValuesFailAgainstTheSchema() {
        IllegalStateException secure = assertThrows(IllegalStateException.class,
                () -> render(Map.of("metrics.secure", "yes")));
        assertTrue(secure.getMessage().contains("secure"), secure.getMessage());
        IllegalStateException secret = assertThrows(IllegalStateException.class,
                () -> render(Map.of("metrics.certSecret", "Metrics_TLS")));
        assertTrue(secret.getMessage().contains("certSecret"), secret.getMessage());
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

    private static final String DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
    private static final Map<String, String> SELECTOR = Map.of("app.kubernetes.io/name", "podcidr-controller",
            "app.kubernetes.io/instance", "podcidr-controller", "name", "podcidr-controller");

    /** Every value operators expect, set at once (as --set pairs). */
    static Map<String, String> operatorValues() {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("nameOverride", "pcc");
        v.put("commonLabels.team", "platform");
        v.put("commonLabels.cost-center", "net-42");
        v.put("image.repository", "registry.example/podcidr-controller");
        v.put("image.tag", "ignored-when-a-digest-is-set");
        v.put("image.digest", DIGEST);
        v.put("imagePullSecrets[0].name", "regcred");
        v.put("revisionHistoryLimit", "3");
        v.put("updateStrategy.rollingUpdate.maxUnavailable", "50%");
        v.put("topologySpreadConstraints[0].maxSkew", "1");
        v.put("topologySpreadConstraints[0].topologyKey", "topology.kubernetes.io/zone");
        v.put("topologySpreadConstraints[0].whenUnsatisfiable", "ScheduleAnyway");
        v.put("startupProbe.periodSeconds", "10");
        v.put("startupProbe.failureThreshold", "30");
        v.put("podDisruptionBudget.enabled", "true");
        v.put("podDisruptionBudget.maxUnavailable", "1");
        v.put("metrics.enabled", "true");
        v.put("metrics.serviceMonitor.enabled", "true");
        v.put("metrics.serviceMonitor.labels.release", "prometheus");
        v.put("metrics.prometheusRule.enabled", "true");
        v.put("metrics.prometheusRule.additionalLabels.release", "prometheus");
        v.put("grafana.dashboard.enabled", "true");
        v.put("bindAddress", "0.0.0.0");
        return v;
    }

    @Test
    @SuppressWarnings("unchecked")
    void operatorValuesReachEveryObjectButNeverTheSelector() throws IOException {
        Rendered r = render(operatorValues());
        // nameOverride renames the objects and app.kubernetes.io/name, as the Go chart's selector does
        V1Deployment d = r.one(V1Deployment.class);
        assertEquals("podcidr-controller-pcc", d.getMetadata().getName());
        Map<String, String> selector = Map.of("app.kubernetes.io/name", "pcc", "app.kubernetes.io/instance",
                "podcidr-controller", "name", "podcidr-controller");
        assertEquals(selector, d.getSpec().getSelector().getMatchLabels());
        assertEquals("pcc", d.getMetadata().getLabels().get("app.kubernetes.io/name"));
        Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
        assertTrue(podLabels.entrySet().containsAll(selector.entrySet()), podLabels.toString());
        assertEquals("platform", podLabels.get("team"), "commonLabels reach the pods");
        // commonLabels on every object
        assertEquals(List.of("ClusterRole", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment",
                "PodDisruptionBudget",
                "PrometheusRule", "Role", "RoleBinding", "Service", "ServiceAccount", "ServiceMonitor"), r.maps().stream()
                .map(m -> (String) m.get("kind")).sorted().toList());
        for (Map<String, Object> o : r.maps()) {
            Map<String, Object> labels = (Map<String, Object>) ((Map<String, Object>) o.get("metadata")).get("labels");
            assertEquals("platform", labels.get("team"), () -> o.get("kind") + " lacks commonLabels: " + labels);
            assertEquals("net-42", labels.get("cost-center"), () -> o.get("kind") + ": " + labels);
            assertEquals("podcidr-controller", labels.get("app.kubernetes.io/instance"), () -> o.get("kind") + "");
        }
        Map<String, Object> monitor = r.maps().stream().filter(m -> m.get("kind").equals("ServiceMonitor"))
                .findFirst().orElseThrow();
        assertEquals("prometheus", ((Map<String, Map<String, Object>>) monitor.get("metadata")).get("labels")
                .get("release"));
        assertEquals("metrics", r.one(V1Service.class).getMetadata().getLabels().get("app.kubernetes.io/component"));
        // the image by digest, from the private registry
        V1Container c = r.container();
        assertEquals("registry.example/podcidr-controller@" + DIGEST, c.getImage());
        assertEquals(List.of(new V1LocalObjectReference().name("regcred")), r.pod().getImagePullSecrets());
        assertEquals(3, d.getSpec().getRevisionHistoryLimit());
        assertEquals(new IntOrString("50%"), d.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable());
        assertEquals(new IntOrString(0), d.getSpec().getStrategy().getRollingUpdate().getMaxSurge(),
                "a partial updateStrategy keeps the other defaults");
        // a spread constraint without a selector gets the release's pods
        V1TopologySpreadConstraint spread = r.pod().getTopologySpreadConstraints().get(0);
        assertEquals("topology.kubernetes.io/zone", spread.getTopologyKey());
        assertEquals("ScheduleAnyway", spread.getWhenUnsatisfiable());
        assertEquals(selector, spread.getLabelSelector().getMatchLabels());
        assertEquals(300, c.getStartupProbe().getPeriodSeconds() * c.getStartupProbe().getFailureThreshold());
        // the explicit all-interfaces address
        assertTrue(c.getArgs().contains("--metrics-bind-address=0.0.0.0:10290"), c.getArgs().toString());
        assertEquals("0.0.0.0", acceptedByTheController(r).metricsAddress().host());
    }

    @Test
    void fullnameOverrideNamesEveryObjectAndTheBindingFollows() throws IOException {
        Rendered r = render(Map.of("fullnameOverride", "cidrs", "nameOverride", "ignored"));
        for (Map<String, Object> o : r.maps()) {
            Object name = ((Map<?, ?>) o.get("metadata")).get("name");
            assertTrue(name.equals("cidrs") || name.equals("cidrs-metrics-reader") && o.get("kind")
                    .equals("ClusterRole"), () -> o.get("kind") + " " + name);
        }
        assertEquals("cidrs", r.one(V1ServiceAccount.class).getMetadata().getName());
        assertEquals("cidrs", r.one(V1ClusterRoleBinding.class).getSubjects().get(0).getName());
        assertEquals("cidrs", r.pod().getServiceAccountName());
        assertEquals(Map.of("app.kubernetes.io/name", "ignored", "app.kubernetes.io/instance", "podcidr-controller",
                "name", "podcidr-controller"), r.one(V1Deployment.class).getSpec().getSelector().getMatchLabels(),
                "fullnameOverride names the objects only; nameOverride still sets app.kubernetes.io/name");
    }

    private static final Path GO_CHART = Path.of("src/test/resources/go-chart-v1.1.0");

    @Test
    void theSelectorIsTheGoChartsForTheSameValues() throws IOException {
        List<Map<String, String>> cases = List.of(Map.of(), Map.of("nameOverride", "pcc"),
                Map.of("nameOverride", "podcidr"), Map.of("fullnameOverride", "cidrs", "nameOverride", "pcc"));
        for (String release : List.of("podcidr-controller", "net")) {
            for (Map<String, String> values : cases) {
                TemplateCommand go = new Helm(GO_CHART).template().withName(release).withNamespace("kube-system");
                values.forEach(go::set);
                V1Deployment theirs = parse(go.call()).one(V1Deployment.class);
                TemplateCommand ours = new Helm(CHART).template().withName(release).withNamespace("kube-system");
                values.forEach(ours::set);
                V1Deployment d = parse(ours.call()).one(V1Deployment.class);
                // the selector cannot change on `helm upgrade` over the Go release; the pods must match it
                assertEquals(theirs.getSpec().getSelector(), d.getSpec().getSelector(), () -> release + " " + values);
                assertTrue(d.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(
                        d.getSpec().getSelector().getMatchLabels().entrySet()), () -> release + " " + values);
                if (!values.containsKey("fullnameOverride")) {
                    assertEquals(theirs.getMetadata().getName(), d.getMetadata().getName(), "upgraded in place");
                }
            }
        }
    }

    @Test
    void removeTaintsAsAStringAsTheGoChartTookIt() throws IOException {
        // --set removeTaints=<key>: one rule
        Rendered one = render(Map.of("removeTaints", TKE_TAINT));
        assertTrue(one.container().getArgs().contains("--remove-taints=" + TKE_TAINT), one.container().getArgs()
                .toString());
        assertEquals(TKE_TAINT, acceptedByTheController(one).settings().removeTaints().get(0).key());
        assertTrue(tolerations(one).contains(TKE_TAINT + " Exists"), tolerations(one).toString());
        // a comma list in one string (-f values, or --set-string with an escaped comma), spaces around items
        Rendered two = render(Map.of("removeTaints", TKE_TAINT + ", example.com/b:NoSchedule"));
        assertTrue(two.container().getArgs().contains("--remove-taints=" + TKE_TAINT + ",example.com/b:NoSchedule"),
                two.container().getArgs().toString());
        assertEquals(2, acceptedByTheController(two).settings().removeTaints().size());
        assertTrue(tolerations(two).contains("example.com/b Exists NoSchedule"), tolerations(two).toString());
        // the empty string is no rule
        assertTrue(render(Map.of("removeTaints", "")).container().getArgs().stream()
                .noneMatch(a -> a.startsWith("--remove-taints")));
        // a wrong type or a blank inside a rule still fails against the schema, naming the value
        for (Map.Entry<String, String> bad : List.of(Map.entry("removeTaints", "5"),
                Map.entry("removeTaints.key", TKE_TAINT), Map.entry("removeTaints", "a b"),
                Map.entry("removeTaints[0]", "a,b"))) {
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> render(Map.ofEntries(bad)), () -> bad + " was accepted");
            assertTrue(refused.getMessage().contains("removeTaints"), refused.getMessage());
        }
    }

    @Test
    void theEndpointsBindThePodIpByDefaultInEitherFamily() throws IOException {
        Rendered r = render(Map.of());
        V1EnvVar podIp = r.container().getEnv().stream().filter(e -> e.getName().equals("POD_IP")).findFirst()
                .orElseThrow(() -> new AssertionError("no POD_IP env var: " + r.container().getEnv()));
        assertEquals("status.podIP", podIp.getValueFrom().getFieldRef().getFieldPath());
        assertTrue(r.container().getArgs().containsAll(List.of("--metrics-bind-address=[$(POD_IP)]:10290",
                "--health-probe-bind-address=[$(POD_IP)]:10291")), r.container().getArgs().toString());
        ControllerFlags v4 = acceptedByTheController(r, "10.0.3.7");
        assertEquals("10.0.3.7", v4.metricsAddress().host());
        assertEquals(10290, v4.metricsAddress().port());
        assertEquals("10.0.3.7", v4.healthProbeAddress().host());
        assertEquals(10291, v4.healthProbeAddress().port());
        assertEquals("/10.0.3.7:10291", v4.healthProbeAddress().socketAddress().toString());
        ControllerFlags v6 = acceptedByTheController(r, "fd00:10::7");
        assertEquals("fd00:10::7", v6.healthProbeAddress().host());
        assertEquals(10291, v6.healthProbeAddress().socketAddress().getPort());
        // the kubelet probes the pod IP: the probes name the port only, no host
        assertNull(r.container().getLivenessProbe().getHttpGet().getHost());
        assertNull(r.container().getReadinessProbe().getHttpGet().getHost());
        assertNull(r.container().getStartupProbe().getHttpGet().getHost());
        // every interface, when asked for explicitly, in either family
        assertEquals("::", acceptedByTheController(render(Map.of("bindAddress", "::"))).metricsAddress().host());
        assertTrue(render(Map.of("bindAddress", "::")).container().getArgs()
                .contains("--health-probe-bind-address=[::]:10291"));
    }

    @Test
    void updateStrategyRecreateAndNoStartupProbe() throws IOException {
        Rendered r = render(Map.of("updateStrategy.type", "Recreate", "startupProbe.enabled", "false"));
        assertEquals("Recreate", r.one(V1Deployment.class).getSpec().getStrategy().getType());
        assertNull(r.one(V1Deployment.class).getSpec().getStrategy().getRollingUpdate(),
                "Kubernetes refuses rollingUpdate with Recreate");
        assertNull(r.container().getStartupProbe());
        assertEquals(10, r.container().getLivenessProbe().getInitialDelaySeconds());
    }

    @Test
    void theDisruptionBudgetNeverBlocksADrain() throws IOException {
        // one replica, minAvailable 1: a drain of its node would wait forever, so no budget
        assertNull(budget(Map.of("podDisruptionBudget.enabled", "true", "replicaCount", "1")));
        assertNull(budget(Map.of("podDisruptionBudget.enabled", "true", "podDisruptionBudget.minAvailable", "2")));
        assertNull(budget(Map.of("podDisruptionBudget.enabled", "true", "replicaCount", "2",
                "podDisruptionBudget.minAvailable", "100%")));
        assertNull(budget(Map.of("podDisruptionBudget.enabled", "true", "replicaCount", "3",
                "podDisruptionBudget.minAvailable", "70%")), "70% of 3 rounds up to 3");
        assertNull(budget(Map.of("podDisruptionBudget.enabled", "false", "podDisruptionBudget.maxUnavailable", "1")));
        // more replicas than minAvailable
        Map<?, ?> two = budget(Map.of("podDisruptionBudget.enabled", "true"));
        assertNotNull(two);
        assertEquals(Map.of("minAvailable", 1), without(two, "selector"));
        assertEquals(SELECTOR, ((Map<?, ?>) two.get("selector")).get("matchLabels"));
        assertEquals(Map.of("minAvailable", "50%"), without(budget(Map.of("podDisruptionBudget.enabled", "true",
                "replicaCount", "3", "podDisruptionBudget.minAvailable", "50%")), "selector"));
        // maxUnavailable always leaves room, even with one replica, and replaces minAvailable
        assertEquals(Map.of("maxUnavailable", 1), without(budget(Map.of("podDisruptionBudget.enabled", "true",
                "replicaCount", "1", "podDisruptionBudget.maxUnavailable", "1")), "selector"));
        assertEquals(Map.of("maxUnavailable", "25%"), without(budget(Map.of("podDisruptionBudget.enabled", "true",
                "replicaCount", "1", "podDisruptionBudget.maxUnavailable", "25%")), "selector"));
    }

    private static Map<?, ?> budget(Map<String, String> values) throws IOException {
        return render(values).maps().stream().filter(m -> "PodDisruptionBudget".equals(m.get("kind")))
                .map(m -> (Map<?, ?>) m.get("spec")).findFirst().orElse(null);
    }

    private static Map<Object, Object> without(Map<?, ?> map, String key) {
        Map<Object, Object> out = new LinkedHashMap<>(map);
        out.remove(key);
        return out;
    }

    @Test
    void wrongOperatorValuesFailAgainstTheSchema() {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("commonLabels.name", "mine");                       // would change the immutable selector
        bad.put("podLabels.app\\.kubernetes\\.io/instance", "x");
        bad.put("image.digest", "latest");
        bad.put("podDisruptionBudget.maxUnavailable", "0");         // would block every drain
        bad.put("bindAddress", "eth0");
        bad.put("updateStrategy.type", "Rolling");
        bad.put("nameOverride", "Not_A_Name");
        bad.put("imagePullSecrets[0].secret", "regcred");
        bad.put("topologySpreadConstraints[0].maxSkew", "1");      // no topologyKey
        for (Map.Entry<String, String> e : bad.entrySet()) {
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> render(Map.of(e.getKey(), e.getValue())), () -> e + " was accepted");
            String path = e.getKey().replaceAll("\\\\", "").replaceAll("\\[0\\].*", "").split("\\.")[0];
            assertTrue(refused.getMessage().contains(path), () -> e + ": " + refused.getMessage());
        }
    }

    @Test
    void lintStrictPassesWithEveryOperatorValueSet(@TempDir Path dir) throws IOException {
        Path chart = copyChart(dir.resolve("podcidr-controller"));
        Files.writeString(chart.resolve("values.yaml"), Yaml.getSnakeYaml(Map.class)
                .dump(withSets(Yaml.getSnakeYaml(Map.class).load(Files.readString(CHART.resolve("values.yaml"))),
                        operatorValues())));
        LintResult lint = new Helm(chart).lint().strict().call();
        assertFalse(lint.isFailed(), () -> String.join("\n", lint.getMessages()));
        // the copy really carries the values: its render has the digest
        String yaml = new Helm(chart).template().withName("podcidr-controller").withNamespace("kube-system").call();
        assertTrue(yaml.contains("@" + DIGEST), yaml);
    }

    @Test
    void worksAsASubchartWithGlobalValues(@TempDir Path dir) throws IOException {
        Path parent = dir.resolve("platform");
        copyChart(parent.resolve("charts").resolve("podcidr-controller"));
        Files.writeString(parent.resolve("Chart.yaml"), """
                apiVersion: v2
                name: platform
                version: 1.0.0
                dependencies:
                  - name: podcidr-controller
                    version: 2.0.0
                """);
        Files.writeString(parent.resolve("values.yaml"), """
                global:
                  imagePullSecrets:
                    - name: shared-registry
                  storageClass: fast
                podcidr-controller:
                  imagePullSecrets:
                    - shared-registry
                    - name: own-registry
                  clusterCIDR: 10.200.0.0/16
                """);
        Rendered r = parse(new Helm(parent).template().withName("platform").withNamespace("kube-system").call());
        assertEquals(List.of(new V1LocalObjectReference().name("shared-registry"),
                new V1LocalObjectReference().name("own-registry")), r.pod().getImagePullSecrets());
        assertEquals("platform-podcidr-controller", r.one(V1Deployment.class).getMetadata().getName());
        assertEquals("10.200.0.0/16", acceptedByTheController(r).settings().clusterCidrs().get(0).toString());
    }

    private static Path copyChart(Path to) throws IOException {
        try (Stream<Path> files = Files.walk(CHART)) {
            files.forEach(f -> {
                try {
                    Path target = to.resolve(CHART.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(f, target);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return to;
    }

    private static final Pattern INDEXED = Pattern.compile("^(.*)\\[(\\d+)]$");

    /** Applies --set style pairs (a.b, a[0].b, a\\.b for a dot inside a key) to a values tree. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> withSets(Map<String, Object> values, Map<String, String> sets) {
        for (Map.Entry<String, String> e : sets.entrySet()) {
            List<String> path = new ArrayList<>();
            for (String part : e.getKey().split("(?<!\\\\)\\.")) {
                Matcher m = INDEXED.matcher(part);
                if (m.matches()) {
                    path.add(m.group(1).replace("\\", ""));
                    path.add("#" + m.group(2));
                } else {
                    path.add(part.replace("\\", ""));
                }
            }
            Object node = values;
            for (int i = 0; i < path.size(); i++) {
                String key = path.get(i);
                boolean last = i == path.size() - 1;
                Object value = last ? scalar(e.getValue())
                        : path.get(i + 1).startsWith("#") ? new ArrayList<>() : new LinkedHashMap<>();
                if (key.startsWith("#")) {
                    List<Object> list = (List<Object>) node;
                    int index = Integer.parseInt(key.substring(1));
                    while (list.size() <= index) {
                        list.add(null);
                    }
                    if (last || list.get(index) == null) {
                        list.set(index, value);
                    }
                    node = list.get(index);
                } else {
                    Map<String, Object> map = (Map<String, Object>) node;
                    if (last || map.get(key) == null || (value instanceof List && !(map.get(key) instanceof List))) {
                        map.put(key, value);
                    }
                    node = map.get(key);
                }
            }
        }
        return values;
    }

    private static Object scalar(String text) {
        if (text.matches("-?\\d+")) {
            return Integer.parseInt(text);
        }
        if (text.equals("true") || text.equals("false")) {
            return Boolean.parseBoolean(text);
        }
        return text;
    }
}
