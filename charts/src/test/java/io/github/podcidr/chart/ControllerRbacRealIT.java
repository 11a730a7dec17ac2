package io.github.podcidr.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.real.RealControlPlane;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.Yaml;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged controller jar running as the chart's ServiceAccount, with exactly the RBAC objects the chart renders
 * (applied as admin) and the container args it renders, against a real kube-apiserver 1.20.2 with RBAC on: 200
 * realistic TKE nodes, a quarter carrying the ENI taint, all get a pod CIDR and lose the taint, and the audit log
 * shows no request of the ServiceAccount refused, a scrape of the secured /metrics included (its TokenReview and
 * SubjectAccessReview). The (verb, resource) pairs it used are printed beside the rules
 * granted, so that the RBAC is seen to be sufficient and how much of it is used.
 */
class ControllerRbacRealIT {
    private static final Path CHART = Path.of("podcidr-controller");
    private static final Path JAR = Path.of("..", "controller-app", "target", "podcidr-controller.jar");
    private static final int NODES = 200;
    private static final Set<String> RBAC_KINDS = Set.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding",
            "Role", "RoleBinding");
    private static final Gson GSON = new Gson();
    static final String TKE_TAINT = NodeGenerator.TKE_ENI_TAINT_KEY;

    /** The README's TKE guide command, image included, as --set pairs. */
    static final Map<String, String> TKE_GUIDE = new LinkedHashMap<>();

    static {
        TKE_GUIDE.put("image.repository", "registry.example.com/podcidr-controller");
        TKE_GUIDE.put("image.tag", "0.1.0");
        TKE_GUIDE.putAll(ChartTest.TKE_GUIDE);
    }

    @TempDir
    Path dir;
    private RealControlPlane cp;
    private Process controller;

    @AfterEach
    void stop() throws InterruptedException {
        if (controller != null && controller.isAlive()) {
            controller.destroy();
            if (!controller.waitFor(15, TimeUnit.SECONDS)) {
                controller.destroyForcibly();
            }
        }
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void theJarAsTheChartsServiceAccountAssignsEveryNodeWithoutA403() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "no controller jar at " + JAR.toAbsolutePath()
                + ": build it first with mvn -pl controller-app package");
        TemplateCommand template = new Helm(CHART).template().withName("podcidr-controller")
                .withNamespace("kube-system");
        TKE_GUIDE.forEach(template::set);
        List<Map<String, Object>> docs = new ArrayList<>();
        for (String doc : template.call().split("(?m)^---\\s*$")) {
            if (doc.contains("kind:")) {
                docs.add(Yaml.getSnakeYaml(Map.class).load(doc));
            }
        }
        Map<String, Object> sa = docs.stream().filter(d -> "ServiceAccount".equals(d.get("kind"))).findFirst()
                .orElseThrow(() -> new AssertionError("the chart renders no ServiceAccount"));
        @SuppressWarnings("unchecked")
        Map<String, Object> saMeta = (Map<String, Object>) sa.get("metadata");
        String saNamespace = (String) saMeta.get("namespace");
        String saName = (String) saMeta.get("name");
        String user = "system:serviceaccount:" + saNamespace + ":" + saName;

        cp = RealControlPlane.builder().serviceAccount(saNamespace, saName).start();
        ApiClient admin = Config.fromConfig(new StringReader(cp.adminKubeconfig()));
        List<String> granted = new ArrayList<>();
        Set<String> grantedPairs = new TreeSet<>();
        for (Map<String, Object> doc : docs) {
            if (!RBAC_KINDS.contains((String) doc.get("kind"))) {
                continue;
            }
            applyAsAdmin(admin, GSON.toJsonTree(doc).getAsJsonObject());
            if (doc.get("kind").equals("ClusterRole") || doc.get("kind").equals("Role")) {
                for (V1PolicyRule r : Yaml.loadAs(GSON.toJson(doc), V1Role.class)
                        .getRules()) {
                    if (r.getResources() == null) { // the metrics-reader's nonResourceURLs: for Prometheus
                        granted.add(doc.get("kind") + " nonResourceURLs=" + r.getNonResourceURLs() + " "
                                + r.getVerbs());
                        continue;
                    }
                    granted.add(doc.get("kind") + " " + r.getApiGroups() + " " + r.getResources()
                            + (r.getResourceNames() == null ? "" : " names=" + r.getResourceNames()) + " "
                            + r.getVerbs());
                    for (String res : r.getResources()) {
                        r.getVerbs().forEach(v -> grantedPairs.add(v + " " + res));
                    }
                }
            }
        }

        V1Deployment deployment = Yaml.loadAs(GSON.toJson(docs.stream()
                .filter(d -> "Deployment".equals(d.get("kind"))).findFirst().orElseThrow()), V1Deployment.class);
        V1Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
        int healthPort = freePort();
        List<String> args = new ArrayList<>();
        for (String a : container.getArgs()) {
            if (!a.startsWith("--metrics-bind-address=") && !a.startsWith("--health-probe-bind-address=")) {
                args.add(a);
            }
        }
        int metricsPort = freePort();
        args.add("--metrics-bind-address=127.0.0.1:" + metricsPort);
        args.add("--health-probe-bind-address=127.0.0.1:" + healthPort);
        Path kubeconfig = cp.writeKubeconfig(dir.resolve("sa.kubeconfig"), cp.serviceAccountToken(saNamespace,
                saName));
        args.add("--kubeconfig=" + kubeconfig);
        System.out.println("[rbac-real] controller args (the chart's, probe addresses on loopback): " + args);

        HttpClient http = HttpClient.newBuilder().sslContext(cp.sslContext()).version(HttpClient.Version.HTTP_1_1)
                .build();
        NodeGenerator gen = new NodeGenerator(11);
        for (int i = 0; i < NODES; i++) {
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(cp.baseUrl() + "/api/v1/nodes"))
                    .header("Authorization", "Bearer " + cp.adminToken())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(gen.node(i, i % 4 == 0).toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
        }

        long t0 = System.nanoTime();
        controller = start(args, deployment.getMetadata().getNamespace());
        CoreV1Api core = new CoreV1Api(admin);
        List<V1Node> nodes = List.of();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            nodes = core.listNode().execute().getItems();
            long done = nodes.stream().filter(n -> n.getSpec().getPodCIDRs() != null
                    && n.getSpec().getPodCIDRs().size() == 1 && !hasTkeTaint(n)).count();
            if (done == NODES) {
                break;
            }
            if (!controller.isAlive() || System.nanoTime() > deadline) {
                fail(done + "/" + NODES + " nodes done; controller alive=" + controller.isAlive() + "\n"
                        + output() + "\nforbidden: " + forbidden(user));
            }
            Thread.sleep(500);
        }
        System.out.printf("[rbac-real] %d nodes assigned and untainted %.1f s after the jar started%n", NODES,
                (System.nanoTime() - t0) / 1e9);
        Set<String> cidrs = new HashSet<>();
        for (V1Node n : nodes) {
            assertEquals(n.getSpec().getPodCIDRs().get(0), n.getSpec().getPodCIDR());
            assertTrue(cidrs.add(n.getSpec().getPodCIDR()), "subnet given twice: " + n.getSpec().getPodCIDR());
        }

        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + healthPort + "/readyz")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
        // the chart's metrics.secure: a scrape makes the controller create a TokenReview and a SubjectAccessReview,
        // which the audit check below finds granted (the admin, in system:masters, may get /metrics)
        assertTrue(args.contains("--metrics-secure=true"), args.toString());
        HttpResponse<String> metrics = trustingAnything().send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + metricsPort + "/metrics"))
                .header("Authorization", "Bearer " + cp.adminToken()).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode(), metrics.body());
        assertTrue(metrics.body().contains("# TYPE podcidr_leader gauge"), metrics.body());

        // stop gracefully first: a watch is audited when it ends, so that its verb shows in the log too
        controller.destroy();
        assertTrue(controller.waitFor(15, TimeUnit.SECONDS), "still running 15 s after SIGTERM\n" + output());
        assertEquals(0, controller.exitValue(), output());
        for (String line : Files.readAllLines(dir.resolve("controller.log"), StandardCharsets.UTF_8)) {
            if (line.contains("became leader") || line.contains("controller ready") || line.contains(" WARN ")
                    || line.contains(" ERROR ")) {
                System.out.println("[rbac-real] jar: " + line);
            }
        }

        List<RealControlPlane.AuditEvent> mine = cp.auditEvents().stream().filter(e -> e.user().equals(user))
                .toList();
        Map<String, Long> used = new TreeMap<>(mine.stream().collect(Collectors.groupingBy(
                e -> e.verb() + " " + (e.resource().isEmpty() ? e.requestUri() : e.resource()
                        + (e.subresource().isEmpty() ? "" : "/" + e.subresource())) + " -> " + e.code(),
                Collectors.counting())));
        System.out.println("[rbac-real] RBAC granted by the chart:");
        granted.forEach(g -> System.out.println("[rbac-real]   " + g));
        System.out.println("[rbac-real] requests of " + user + " (verb resource -> code: count):");
        used.forEach((k, v) -> System.out.println("[rbac-real]   " + k + ": " + v));
        Set<String> usedPairs = mine.stream().map(e -> e.verb() + " " + e.resource()).collect(Collectors.toSet());
        Set<String> unused = new TreeSet<>(grantedPairs);
        unused.removeAll(usedPairs);
        Set<String> ungranted = new TreeSet<>(usedPairs);
        ungranted.removeAll(grantedPairs);
        System.out.println("[rbac-real] granted, not used in this run: "
                + unused);
        System.out.println("[rbac-real] 403 answers to " + user + ": " + forbidden(user).size() + " of "
                + mine.size() + " requests");
        assertTrue(mine.size() > NODES, "the audit log has the controller's requests: " + mine.size());
        long nodeWrites = mine.stream().filter(e -> e.resource().equals("nodes") && e.subresource().isEmpty()
                && (e.verb().equals("patch") || e.verb().equals("update")) && e.code() / 100 == 2).count();
        assertEquals(NODES, nodeWrites, "one write per node: its pod CIDR and the taint removal in one patch");
        assertEquals(List.of(), forbidden(user), "requests of the ServiceAccount refused by RBAC");
        assertEquals(Set.of(), ungranted, "every (verb, resource) used is granted by a rule of the chart");
    }

    /** An HTTPS client that skips verification, as a ServiceMonitor with insecureSkipVerify (self-signed). */
    private static HttpClient trustingAnything() throws Exception {
        X509ExtendedTrustManager any = new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String type, Socket socket) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String type, Socket socket) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String type, SSLEngine engine) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String type, SSLEngine engine) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String type) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String type) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {any}, null);
        return HttpClient.newBuilder().sslContext(ssl).build();
    }

    private List<String> forbidden(String user) {
        return cp.auditEvents().stream().filter(e -> e.user().equals(user) && e.code() == 403)
                .map(e -> e.verb() + " " + e.requestUri()).toList();
    }

    private static boolean hasTkeTaint(V1Node n) {
        return n.getSpec().getTaints() != null && n.getSpec().getTaints().stream()
                .anyMatch(t -> t.getKey().equals(NodeGenerator.TKE_ENI_TAINT_KEY));
    }

    private static void applyAsAdmin(ApiClient admin, JsonObject object) {
        String apiVersion = object.get("apiVersion").getAsString();
        String kind = object.get("kind").getAsString();
        int slash = apiVersion.indexOf('/');
        DynamicKubernetesApi api = new DynamicKubernetesApi(slash < 0 ? "" : apiVersion.substring(0, slash),
                apiVersion.substring(slash + 1), kind.toLowerCase() + "s", admin);
        KubernetesApiResponse<DynamicKubernetesObject> created = api.create(new DynamicKubernetesObject(object));
        assertTrue(created.isSuccess(), () -> kind + " refused: " + created.getHttpStatusCode() + " "
                + created.getStatus());
    }

    private Process start(List<String> args, String podNamespace) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", JAR.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("POD_NAME", "podcidr-controller-5c7f9d-rbac1");
        pb.environment().put("POD_NAMESPACE", podNamespace);
        pb.environment().remove("KUBERNETES_SERVICE_HOST");
        pb.redirectErrorStream(true);
        pb.redirectOutput(dir.resolve("controller.log").toFile());
        return pb.start();
    }

    private String output() throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("controller.log"), StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
