package io.github.podcidr.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.Release;
import com.marcnuri.helm.UpgradeCommand;
import io.github.podcidr.apiserver.real.RealControlPlane;
import io.kubernetes.client.Discovery;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.Yaml;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesListObject;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import io.kubernetes.client.util.generic.options.ListOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart installed by helm (helm-java, helm as a native library) on a real kube-apiserver 1.20.2: every object
 * of the release is accepted and stored as rendered (nothing pruned or rewritten), exactly the release's objects
 * carry its instance label, {@code helm upgrade} with other values adds and removes objects, and
 * {@code helm uninstall} leaves nothing behind (found through discovery: every listable resource of the server is
 * searched for the release's label).
 *
 * <p>No kubelet, scheduler or kube-controller-manager runs, so the Deployment makes no pods: the API objects are
 * what is tested. The ServiceMonitor variant first installs a minimal {@code servicemonitors.monitoring.coreos.com}
 * CRD (any fields preserved), as prometheus-operator would have.
 */
class ChartInstallRealIT {
    private static final Path CHART = Path.of("podcidr-controller");
    private static final String NAMESPACE = "kube-system";
    private static final String TKE_TAINT = ControllerRbacRealIT.TKE_TAINT;
    private static final Gson GSON = new Gson();

    private static RealControlPlane cp;
    private static ApiClient admin;
    private static Path kubeconfig;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws IOException {
        cp = RealControlPlane.builder().start();
        kubeconfig = cp.writeKubeconfig(dir.resolve("admin.kubeconfig"), cp.adminToken());
        admin = Config.fromConfig(new StringReader(cp.adminKubeconfig()));
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    /** One object of a release: its kind, namespace ("" when cluster-scoped) and name. */
    record Ref(String kind, String namespace, String name) implements Comparable<Ref> {
        @Override
        public int compareTo(Ref o) {
            return toString().compareTo(o.toString());
        }

        @Override
        public String toString() {
            return kind + " " + (namespace.isEmpty() ? "" : namespace + "/") + name;
        }
    }

    @Test
    void theTkeGuideInstallsUpgradesAndUninstallsCleanly() throws Exception {
        String release = "podcidr-controller";
        InstallCommand install = new Helm(CHART).install().withName(release).withNamespace(NAMESPACE)
                .withKubeConfig(kubeconfig);
        ControllerRbacRealIT.TKE_GUIDE.forEach(install::set);
        Release installed = install.call();
        assertEquals("deployed", installed.getStatus(), installed.getOutput());

        List<JsonObject> manifest = storedManifest(release, 1);
        TreeSet<Ref> refs = refs(manifest);
        System.out.println("[chart-real] helm install " + release + " (TKE guide values) created: " + refs);
        assertEquals(new TreeSet<>(List.of(
                new Ref("ServiceAccount", NAMESPACE, release),
                new Ref("ClusterRole", "", release),
                new Ref("ClusterRole", "", release + "-metrics-reader"),
                new Ref("ClusterRoleBinding", "", release),
                new Ref("Role", NAMESPACE, release),
                new Ref("RoleBinding", NAMESPACE, release),
                new Ref("Deployment", NAMESPACE, release))), refs);
        assertEveryObjectStoredAsRendered(manifest);
        assertEquals(refs, labelledWith(release), "exactly the release's objects carry its instance label");
        JsonObject deployment = stored(byKind(manifest, "Deployment"));
        JsonArray args = deployment.getAsJsonObject("spec").getAsJsonObject("template").getAsJsonObject("spec")
                .getAsJsonArray("containers").get(0).getAsJsonObject().getAsJsonArray("args");
        assertTrue(args.contains(new JsonPrimitive("--remove-taints=" + TKE_TAINT)), args.toString());

        // upgrade: one replica without leader election, a metrics Service, /26 subnets
        UpgradeCommand upgrade = new Helm(CHART).upgrade().withName(release).withNamespace(NAMESPACE)
                .withKubeConfig(kubeconfig);
        ControllerRbacRealIT.TKE_GUIDE.forEach(upgrade::set);
        upgrade.set("replicaCount", "1").set("leaderElection.enabled", "false").set("metrics.enabled", "true")
                .set("nodeCIDRMaskSize", "26");
        Release upgraded = upgrade.call();
        assertEquals("deployed", upgraded.getStatus(), upgraded.getOutput());
        assertEquals("2", upgraded.getRevision());
        List<JsonObject> manifest2 = storedManifest(release, 2);
        TreeSet<Ref> refs2 = refs(manifest2);
        System.out.println("[chart-real] helm upgrade (replicaCount=1, leaderElection off, metrics on, /26): "
                + refs2);
        assertTrue(refs2.contains(new Ref("Service", NAMESPACE, release + "-metrics")), refs2.toString());
        assertTrue(refs2.contains(new Ref("Role", NAMESPACE, release)), "the intent journal's Lease is still granted");
        assertEveryObjectStoredAsRendered(manifest2);
        assertEquals(refs2, labelledWith(release), "the upgrade added the Service and kept the rest");
        JsonObject spec2 = stored(byKind(manifest2, "Deployment")).getAsJsonObject("spec");
        assertEquals(1, spec2.get("replicas").getAsInt());
        JsonArray args2 = spec2.getAsJsonObject("template").getAsJsonObject("spec").getAsJsonArray("containers")
                .get(0).getAsJsonObject().getAsJsonArray("args");
        assertTrue(args2.contains(new JsonPrimitive("--node-cidr-mask-size=26")), args2.toString());
        assertTrue(args2.contains(new JsonPrimitive("--leader-elect=false")), args2.toString());

        uninstallLeavesNothing(release);
    }

    /**
     * The TKE guide's command, first with the Go chart (a stand-in with its names, selector, labels and RBAC in the
     * test resources), with {@code removeTaints} as a string and a {@code nameOverride} as the Go chart took them,
     * then the same {@code helm upgrade} with this chart: the upgrade succeeds (the Deployment's immutable selector is
     * the same, nameOverride included), the ClusterRole becomes ours but keeps {@code update} on nodes for the Go
     * pods still running, and nothing of the old release is left.
     */
    @Test
    void helmUpgradeOverAGoChartRelease() throws Exception {
        String release = "podcidr-controller";
        Map<String, String> values = new LinkedHashMap<>(ChartTest.TKE_GUIDE);
        values.remove("removeTaints[0]");
        values.put("removeTaints", TKE_TAINT);
        values.put("nameOverride", "pcc");
        InstallCommand install = new Helm(Path.of("src/test/resources/go-chart-v1.1.0")).install().withName(release)
                .withNamespace(NAMESPACE).withKubeConfig(kubeconfig);
        values.forEach(install::set);
        Release goRelease = install.call();
        assertEquals("deployed", goRelease.getStatus(), goRelease.getOutput());
        TreeSet<Ref> goRefs = refs(storedManifest(release, 1));
        System.out.println("[chart-real] Go chart v1.1.0 stand-in installed: " + goRefs);

        UpgradeCommand upgrade = new Helm(CHART).upgrade().withName(release).withNamespace(NAMESPACE)
                .withKubeConfig(kubeconfig);
        values.forEach(upgrade::set);
        upgrade.set("image.repository", ControllerRbacRealIT.TKE_GUIDE.get("image.repository"))
                .set("image.tag", ControllerRbacRealIT.TKE_GUIDE.get("image.tag"));
        Release upgraded = upgrade.call();
        assertEquals("deployed", upgraded.getStatus(), upgraded.getOutput());
        assertEquals("2", upgraded.getRevision());
        List<JsonObject> manifest = storedManifest(release, 2);
        TreeSet<Ref> refs = refs(manifest);
        System.out.println("[chart-real] helm upgrade with this chart: " + refs);
        assertEveryObjectStoredAsRendered(manifest);
        assertEquals(refs, labelledWith(release), "nothing of the Go release is left, nothing is missing");
        JsonObject deployment = stored(byKind(manifest, "Deployment"));
        assertEquals(GSON.toJsonTree(Map.of("app.kubernetes.io/name", "pcc",
                        "app.kubernetes.io/instance", release, "name", "podcidr-controller")),
                deployment.getAsJsonObject("spec").getAsJsonObject("selector").getAsJsonObject("matchLabels"),
                "the Go chart's selector for the same nameOverride, which a Deployment cannot change");
        JsonObject container = deployment.getAsJsonObject("spec").getAsJsonObject("template")
                .getAsJsonObject("spec").getAsJsonArray("containers").get(0).getAsJsonObject();
        assertTrue(container.get("image").getAsString().startsWith(
                ControllerRbacRealIT.TKE_GUIDE.get("image.repository")), "the pods roll to ours");
        assertTrue(container.getAsJsonArray("args").contains(new JsonPrimitive("--remove-taints=" + TKE_TAINT)),
                container.toString());
        JsonObject role = stored(byKind(manifest, "ClusterRole"));
        assertTrue(role.toString().contains("\"patch\"") && role.toString().contains("\"update\""),
                "ours replaced the Go chart's ClusterRole, keeping update on nodes for its running pods: " + role);
        uninstallLeavesNothing(release);
    }

    @Test
    void metricsServiceAndDisruptionBudget() throws Exception {
        String release = "podcidr-controller-pdb";
        Release installed = new Helm(CHART).install().withName(release).withNamespace(NAMESPACE)
                .withKubeConfig(kubeconfig).set("metrics.enabled", "true").set("podDisruptionBudget.enabled", "true")
                .call();
        assertEquals("deployed", installed.getStatus(), installed.getOutput());
        List<JsonObject> manifest = storedManifest(release, 1);
        TreeSet<Ref> refs = refs(manifest);
        System.out.println("[chart-real] helm install " + release + " (metrics, PDB) created: " + refs);
        assertTrue(refs.stream().anyMatch(r -> r.kind().equals("PodDisruptionBudget")), refs.toString());
        assertTrue(refs.stream().anyMatch(r -> r.kind().equals("Service")), refs.toString());
        assertEveryObjectStoredAsRendered(manifest);
        assertEquals(refs, labelledWith(release));
        uninstallLeavesNothing(release);
    }

    @Test
    void everyOperatorValueIsStoredAsRendered() throws Exception {
        String release = "podcidr-controller-ops";
        InstallCommand install = new Helm(CHART).install().withName(release).withNamespace(NAMESPACE)
                .withKubeConfig(kubeconfig);
        // the ServiceMonitor and the PrometheusRule need prometheus-operator's CRDs, which this server lacks
        // (serviceMonitorOnceItsCrdIsInstalled installs one; the rules are checked by promtool in AlertRulesTest)
        ChartTest.operatorValues().forEach((k, v) -> {
            if (!k.startsWith("metrics.serviceMonitor.") && !k.startsWith("metrics.prometheusRule.")) {
                install.set(k, v);
            }
        });
        Release installed = install.call();
        assertEquals("deployed", installed.getStatus(), installed.getOutput());
        List<JsonObject> manifest = storedManifest(release, 1);
        TreeSet<Ref> refs = refs(manifest);
        System.out.println("[chart-real] helm install " + release + " (every operator value) created: " + refs);
        assertTrue(refs.contains(new Ref("PodDisruptionBudget", NAMESPACE, release + "-pcc")), refs.toString());
        // image digest, pull secret, spread constraint, startup probe, strategy: the server keeps every field
        assertEveryObjectStoredAsRendered(manifest);
        assertEquals(refs, labelledWith(release));
        uninstallLeavesNothing(release);
    }

    @Test
    void serviceMonitorOnceItsCrdIsInstalled() throws Exception {
        // sent as plain JSON: the typed V1CustomResourceDefinition of client-java 25 is refused by 1.20
        // ("spec.validation.openAPIV3Schema.dependencies: Forbidden: dependencies is not supported")
        JsonObject crd = GSON.toJsonTree(Yaml.getSnakeYaml(Map.class).load("""
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata:
                  name: servicemonitors.monitoring.coreos.com
                spec:
                  group: monitoring.coreos.com
                  scope: Namespaced
                  names:
                    kind: ServiceMonitor
                    listKind: ServiceMonitorList
                    plural: servicemonitors
                    singular: servicemonitor
                  versions:
                    - name: v1
                      served: true
                      storage: true
                      schema:
                        openAPIV3Schema:
                          type: object
                          x-kubernetes-preserve-unknown-fields: true
                """)).getAsJsonObject();
        DynamicKubernetesApi crds = api("apiextensions.k8s.io/v1", "CustomResourceDefinition");
        String crdName = "servicemonitors.monitoring.coreos.com";
        KubernetesApiResponse<DynamicKubernetesObject> created = crds.create(new DynamicKubernetesObject(crd));
        assertTrue(created.isSuccess(), () -> "CRD refused: " + created.getStatus());
        try {
            awaitEstablished(crds, crdName);
            String release = "podcidr-controller-monitor";
            Release installed = new Helm(CHART).install().withName(release).withNamespace(NAMESPACE)
                    .withKubeConfig(kubeconfig).set("metrics.enabled", "true")
                    .set("metrics.serviceMonitor.enabled", "true").set("metrics.serviceMonitor.labels.release", "kps")
                    .call();
            assertEquals("deployed", installed.getStatus(), installed.getOutput());
            List<JsonObject> manifest = storedManifest(release, 1);
            TreeSet<Ref> refs = refs(manifest);
            System.out.println("[chart-real] helm install " + release + " (metrics, ServiceMonitor; minimal CRD "
                    + "installed first) created: " + refs);
            assertTrue(refs.contains(new Ref("ServiceMonitor", NAMESPACE, release)),
                    refs.toString());
            assertEveryObjectStoredAsRendered(manifest);
            assertEquals(refs, labelledWith(release));
            uninstallLeavesNothing(release);
        } finally {
            crds.delete(crdName);
        }
    }

    private void uninstallLeavesNothing(String release) throws Exception {
        String out = Helm.uninstall(release).withNamespace(NAMESPACE).withKubeConfig(kubeconfig).call();
        System.out.println("[chart-real] helm uninstall " + release + ": " + out.strip());
        // deletions of ServiceAccounts/Deployments are immediate in etcd (no finalizers without a controller manager)
        assertEquals(new TreeSet<Ref>(), labelledWith(release), "left behind by helm uninstall");
        List<V1Secret> history = new CoreV1Api(admin).listNamespacedSecret(NAMESPACE)
                .labelSelector("owner=helm,name=" + release).execute().getItems();
        assertEquals(List.of(), history.stream().map(s -> s.getMetadata().getName()).toList(),
                "helm's release records are gone");
    }

    /**
     * The manifest of a release revision, read back from the Secret in which helm stored it on the server
     * (data.release: base64 of gzip of the release's JSON), split into documents.
     */
    private static List<JsonObject> storedManifest(String release, int revision) throws Exception {
        V1Secret secret = new CoreV1Api(admin).readNamespacedSecret("sh.helm.release.v1." + release + ".v" + revision,
                NAMESPACE).execute();
        byte[] gz = Base64.getDecoder().decode(secret.getData().get("release"));
        String json;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String manifest = JsonParser.parseString(json).getAsJsonObject().get("manifest").getAsString();
        List<JsonObject> docs = new ArrayList<>();
        for (String doc : manifest.split("(?m)^---\\s*$")) {
            if (doc.contains("kind:")) {
                Object tree = Yaml.getSnakeYaml(Map.class).load(doc);
                docs.add(GSON.toJsonTree(tree).getAsJsonObject());
            }
        }
        return docs;
    }

    private static TreeSet<Ref> refs(List<JsonObject> manifest) {
        TreeSet<Ref> out = new TreeSet<>();
        for (JsonObject o : manifest) {
            out.add(ref(o));
        }
        return out;
    }

    private static Ref ref(JsonObject o) {
        JsonObject meta = o.getAsJsonObject("metadata");
        String ns = meta.has("namespace") ? meta.get("namespace").getAsString() : "";
        return new Ref(o.get("kind").getAsString(), ns, meta.get("name").getAsString());
    }

    private static JsonObject byKind(List<JsonObject> manifest, String kind) {
        return manifest.stream().filter(o -> o.get("kind").getAsString().equals(kind)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " in " + manifest));
    }

    private static DynamicKubernetesApi api(String apiVersion, String kind) {
        int slash = apiVersion.indexOf('/');
        String group = slash < 0 ? "" : apiVersion.substring(0, slash);
        String version = apiVersion.substring(slash + 1);
        return new DynamicKubernetesApi(group, version, kind.toLowerCase() + "s", admin);
    }

    /** The object as the server stores it, read back with client-java. */
    private static JsonObject stored(JsonObject rendered) {
        Ref r = ref(rendered);
        DynamicKubernetesApi api = api(rendered.get("apiVersion").getAsString(), r.kind());
        KubernetesApiResponse<DynamicKubernetesObject> got = r.namespace().isEmpty() ? api.get(r.name())
                : api.get(r.namespace(), r.name());
        if (!got.isSuccess()) {
            fail(r + " is not on the server: " + got.getHttpStatusCode() + " " + got.getStatus());
        }
        return got.getObject().getRaw();
    }

    /** Every field helm sent is stored with the same value: the server pruned or rewrote nothing. */
    private static void assertEveryObjectStoredAsRendered(List<JsonObject> manifest) {
        for (JsonObject rendered : manifest) {
            List<String> differences = new ArrayList<>();
            contained("", rendered, stored(rendered), differences);
            assertEquals(List.of(), differences, () -> ref(rendered) + " is not stored as rendered");
        }
    }

    private static void contained(String path, JsonElement sent, JsonElement got, List<String> out) {
        if (got == null || got.isJsonNull()) {
            if (!sent.isJsonNull()) {
                out.add(path + ": sent " + sent + ", not stored");
            }
        } else if (sent.isJsonObject() && got.isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : sent.getAsJsonObject().entrySet()) {
                contained(path + "/" + e.getKey(), e.getValue(), got.getAsJsonObject().get(e.getKey()), out);
            }
        } else if (sent.isJsonArray() && got.isJsonArray() && sent.getAsJsonArray().size() == got.getAsJsonArray()
                .size()) {
            for (int i = 0; i < sent.getAsJsonArray().size(); i++) {
                contained(path + "/" + i, sent.getAsJsonArray().get(i), got.getAsJsonArray().get(i), out);
            }
        } else if (sent.isJsonPrimitive() && got.isJsonPrimitive() && sent.getAsJsonPrimitive().isNumber()
                && got.getAsJsonPrimitive().isNumber()) {
            if (new BigDecimal(sent.getAsString()).compareTo(new BigDecimal(got.getAsString())) != 0) {
                out.add(path + ": sent " + sent + ", stored " + got);
            }
        } else if (!sent.equals(got)) {
            out.add(path + ": sent " + sent + ", stored " + got);
        }
    }

    /**
     * Every object on the server, of any listable resource in any namespace, that carries the label
     * {@code app.kubernetes.io/instance=<release>}.
     */
    private static TreeSet<Ref> labelledWith(String release) throws Exception {
        TreeSet<Ref> out = new TreeSet<>();
        for (Discovery.APIResource res : new Discovery(admin).findAll()) {
            DynamicKubernetesApi api = new DynamicKubernetesApi(res.getGroup(), res.getPreferredVersion(),
                    res.getResourcePlural(), admin);
            KubernetesApiResponse<DynamicKubernetesListObject> list = api.list(
                    new ListOptions().labelSelector("app.kubernetes.io/instance=" + release));
            if (!list.isSuccess()) {
                continue; // not listable (reviews, bindings...): 404/405
            }
            for (DynamicKubernetesObject o : list.getObject().getItems()) {
                String ns = o.getMetadata().getNamespace();
                out.add(new Ref(res.getKind(), ns == null ? "" : ns, o.getMetadata().getName()));
            }
        }
        return out;
    }

    private static void awaitEstablished(DynamicKubernetesApi crds, String name) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonElement conditions = crds.get(name).getObject().getRaw().get("status");
            conditions = conditions != null && conditions.isJsonObject()
                    ? conditions.getAsJsonObject().get("conditions") : null;
            for (JsonElement c : conditions != null && conditions.isJsonArray() ? conditions.getAsJsonArray()
                    : new JsonArray()) {
                if (c.getAsJsonObject().get("type").getAsString().equals("Established")
                        && c.getAsJsonObject().get("status").getAsString().equals("True")) {
                    return;
                }
            }
            Thread.sleep(100);
        }
        fail("CRD " + name + " not Established after 30 s");
    }

}
