package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import io.github.podcidr.apiserver.real.RealControlPlane;
import io.github.podcidr.apiserver.real.RealControlPlane.AuditEvent;
import io.github.podcidr.ipam.Cidr;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.RbacAuthorizationV1Api;
import io.kubernetes.client.openapi.models.V1ClusterRole;
import io.kubernetes.client.openapi.models.V1ClusterRoleBinding;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PolicyRule;
import io.kubernetes.client.openapi.models.V1Role;
import io.kubernetes.client.openapi.models.V1RoleBinding;
import io.kubernetes.client.openapi.models.V1RoleRef;
import io.kubernetes.client.openapi.models.V1ServiceAccount;
import io.kubernetes.client.openapi.models.RbacV1Subject;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A real kube-apiserver 1.20 (see {@link RealControlPlane}) set up as a cluster that runs the controller: the
 * ServiceAccount {@value #NAMESPACE}/{@value #SERVICE_ACCOUNT} with exactly the RBAC the Helm chart renders, clients
 * for the controller that authenticate as that account, and helpers that read and write nodes as the admin over
 * plain HTTP, so that every check looks at what the API server stores, not at what the controller believes.
 * One per test class: it takes 6-10 s to start; {@link #reset()} between tests.
 */
final class RealFixture implements AutoCloseable {
    static final String NAMESPACE = "kube-system";
    static final String SERVICE_ACCOUNT = "podcidr-controller";
    /** The user name kube-apiserver gives the controller's requests. */
    static final String CONTROLLER_USER = "system:serviceaccount:" + NAMESPACE + ":" + SERVICE_ACCOUNT;
    /** The Lease name of the chart's default values ({@code leaderElection.leaseName}). */
    static final String LEASE = "podcidr-controller";
    /** The taint the real server's admission (TaintNodesByCondition) puts on every node it creates. */
    static final String NOT_READY_TAINT = "node.kubernetes.io/not-ready";
    static final ObjectMapper JSON = new ObjectMapper();

    final RealControlPlane cp;
    private final HttpClient http;

    private RealFixture(RealControlPlane cp) {
        this.cp = cp;
        this.http = HttpClient.newBuilder().sslContext(cp.sslContext()).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** Starts a control plane with the controller's identity and applies the chart's RBAC. */
    static RealFixture start() {
        RealControlPlane cp = RealControlPlane.builder().serviceAccount(NAMESPACE, SERVICE_ACCOUNT).start();
        RealFixture f = new RealFixture(cp);
        try {
            f.applyChartRbac(Config.fromConfig(new StringReader(cp.adminKubeconfig())));
        } catch (IOException | ApiException | RuntimeException e) {
            cp.close();
            throw new IllegalStateException("could not apply the chart's RBAC: " + describe(e), e);
        }
        return f;
    }

    private static String describe(Exception e) {
        return e instanceof ApiException a ? a.getCode() + " " + a.getResponseBody() : e.toString();
    }

    /**
     * Creates, as the admin, the objects {@code helm install podcidr-controller charts/podcidr-controller -n
     * kube-system} renders for access control, with the default values (release name = chart name, so every
     * object is named {@code podcidr-controller}):
     * <ul>
     *   <li>templates/serviceaccount.yaml: the ServiceAccount;</li>
     *   <li>templates/clusterrole.yaml: the ClusterRole (nodes get/list/watch/patch; core and events.k8s.io events
     *       create/patch) and its ClusterRoleBinding to the ServiceAccount;</li>
     *   <li>templates/role.yaml: the Role in the release namespace (leases create; the Lease named
     *       {@code leaderElection.leaseName} and the intent journal's, {@code <leaseName>-intents}, get/update) and its
     *       RoleBinding.</li>
     * </ul>
     * Keep the rules in step with those templates: this is what makes the zero-403 check mean "the chart is enough".
     */
    private void applyChartRbac(ApiClient admin) throws ApiException {
        String name = SERVICE_ACCOUNT;
        new CoreV1Api(admin).createNamespacedServiceAccount(NAMESPACE,
                new V1ServiceAccount().metadata(new V1ObjectMeta().name(name).namespace(NAMESPACE))).execute();
        RbacAuthorizationV1Api rbac = new RbacAuthorizationV1Api(admin);
        RbacV1Subject subject = new RbacV1Subject().kind("ServiceAccount").name(name).namespace(NAMESPACE);
        rbac.createClusterRole(new V1ClusterRole().metadata(new V1ObjectMeta().name(name)).rules(List.of(
                rule("", "nodes", null, "get", "list", "watch", "patch"),
                rule("", "events", null, "create", "patch"),
                rule("events.k8s.io", "events", null, "create", "patch")))).execute();
        rbac.createClusterRoleBinding(new V1ClusterRoleBinding().metadata(new V1ObjectMeta().name(name))
                .roleRef(new V1RoleRef().apiGroup("rbac.authorization.k8s.io").kind("ClusterRole").name(name))
                .subjects(List.of(subject))).execute();
        rbac.createNamespacedRole(NAMESPACE, new V1Role().metadata(new V1ObjectMeta().name(name).namespace(NAMESPACE))
                .rules(List.of(rule("coordination.k8s.io", "leases", null, "create"),
                        rule("coordination.k8s.io", "leases", null, "get", "update")
                                .resourceNames(List.of(LEASE, LEASE + "-intents"))))).execute();
        rbac.createNamespacedRoleBinding(NAMESPACE, new V1RoleBinding()
                .metadata(new V1ObjectMeta().name(name).namespace(NAMESPACE))
                .roleRef(new V1RoleRef().apiGroup("rbac.authorization.k8s.io").kind("Role").name(name))
                .subjects(List.of(subject))).execute();
    }

    private static V1PolicyRule rule(String group, String resource, String resourceName, String... verbs) {
        V1PolicyRule r = new V1PolicyRule().apiGroups(List.of(group)).resources(List.of(resource)).verbs(List.of(verbs));
        return resourceName == null ? r : r.resourceNames(List.of(resourceName));
    }

    /** Clients for the controller: each call a new client that authenticates as the ServiceAccount. */
    ApiClientFactory controllerClients() {
        String kubeconfig = cp.kubeconfig(cp.serviceAccountToken(NAMESPACE, SERVICE_ACCOUNT));
        return () -> Config.fromConfig(new StringReader(kubeconfig));
    }

    // ---- raw HTTP as the admin -------------------------------------------------------------------------------

    /** An answer of the API server: status code and body (a JSON tree, or null when the body is not JSON). */
    record Answer(int code, JsonNode body) {
        boolean ok() {
            return code >= 200 && code < 300;
        }
    }

    Answer send(String method, String path, String contentType, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(cp.baseUrl() + path))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + cp.adminToken())
                .header("Accept", "application/json");
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            JsonNode tree = null;
            try {
                tree = r.body().length == 0 ? null : JSON.readTree(r.body());
            } catch (IOException notJson) {
                // left null
            }
            return new Answer(r.statusCode(), tree);
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + method + " " + path, e);
        }
    }

    private Answer expectOk(String method, String path, String contentType, String body) {
        Answer a = send(method, path, contentType, body);
        if (!a.ok()) {
            fail(method + " " + path + " answered " + a.code() + ": " + a.body());
        }
        return a;
    }

    /** Creates a node as the admin (the 1.20 server prunes fields it does not know) and returns what it stored. */
    ObjectNode createNode(ObjectNode node) {
        try {
            return (ObjectNode) expectOk("POST", "/api/v1/nodes", "application/json", JSON.writeValueAsString(node))
                    .body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates nodes with a few threads; returns the wall time taken. */
    Duration createNodes(List<ObjectNode> nodes, int threads) throws Exception {
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (ObjectNode n : nodes) {
                done.add(pool.submit(() -> createNode(n)));
            }
            for (Future<?> d : done) {
                d.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** The node as stored, or null if the server has none of that name. */
    ObjectNode node(String name) {
        Answer a = send("GET", "/api/v1/nodes/" + name, null, null);
        if (a.code() == 404) {
            return null;
        }
        assertEquals(200, a.code(), () -> "GET node " + name + ": " + a.body());
        return (ObjectNode) a.body();
    }

    /** Every node as stored, by name, read in pages of 500 from etcd (a consistent read, not the watch cache). */
    Map<String, ObjectNode> nodes() {
        Map<String, ObjectNode> out = new TreeMap<>();
        String cont = "";
        do {
            String path = "/api/v1/nodes?limit=500" + (cont.isEmpty() ? "" : "&continue=" + enc(cont));
            JsonNode list = expectOk("GET", path, null, null).body();
            list.path("items").forEach(n -> out.put(n.at("/metadata/name").asText(), (ObjectNode) n));
            cont = list.at("/metadata/continue").asText("");
        } while (!cont.isEmpty());
        return out;
    }

    void deleteNode(String name) {
        expectOk("DELETE", "/api/v1/nodes/" + name, null, null);
    }

    void mergePatchNode(String name, String patch) {
        expectOk("PATCH", "/api/v1/nodes/" + name, "application/merge-patch+json", patch);
    }

    /** Events in every namespace that match a field selector, e.g. {@code reason=CIDRNotAvailable}. */
    List<JsonNode> events(String fieldSelector) {
        List<JsonNode> out = new ArrayList<>();
        expectOk("GET", "/api/v1/events?fieldSelector=" + enc(fieldSelector), null, null).body().path("items")
                .forEach(out::add);
        return out;
    }

    /** The Lease as stored, or null. */
    JsonNode lease() {
        Answer a = send("GET", "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases/" + LEASE, null,
                null);
        return a.code() == 404 ? null : a.body();
    }

    /** The intent journal's Lease ({@code <leaseName>-intents}) as stored, or null. */
    JsonNode journal() {
        Answer a = send("GET", "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases/" + LEASE
                + "-intents", null, null);
        return a.code() == 404 ? null : a.body();
    }

    /** The Lease's holder, or null when there is no Lease or it names nobody (released). */
    String leaseHolder() {
        JsonNode l = lease();
        String h = l == null ? null : l.at("/spec/holderIdentity").asText(null);
        return h == null || h.isEmpty() ? null : h;
    }

    /**
     * Back to an empty cluster for the next test: finalizers stripped, every node deleted, the Lease and the intent
     * journal deleted (a replica killed by a test leaves it held).
     */
    void reset() {
        for (ObjectNode n : nodes().values()) {
            if (n.at("/metadata/finalizers").size() > 0) {
                mergePatchNode(n.at("/metadata/name").asText(), "{\"metadata\":{\"finalizers\":null}}");
            }
        }
        expectOk("DELETE", "/api/v1/nodes", null, null);
        send("DELETE", "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases/" + LEASE, null, null);
        send("DELETE", "/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases/" + LEASE + "-intents", null,
                null);
        await(Duration.ofSeconds(60), () -> nodes().isEmpty(), () -> "nodes left: " + nodes().keySet());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    // ---- reading nodes ---------------------------------------------------------------------------------------

    /** The node's pod CIDR texts as stored: spec.podCIDRs, or spec.podCIDR alone. */
    static List<String> podCidrs(JsonNode node) {
        List<String> out = new ArrayList<>();
        JsonNode list = node.at("/spec/podCIDRs");
        if (list.isArray() && list.size() > 0) {
            list.forEach(e -> out.add(e.asText()));
        } else if (node.at("/spec/podCIDR").isTextual() && !node.at("/spec/podCIDR").asText().isEmpty()) {
            out.add(node.at("/spec/podCIDR").asText());
        }
        return out;
    }

    static List<String> taintKeys(JsonNode node) {
        List<String> keys = new ArrayList<>();
        node.at("/spec/taints").forEach(t -> keys.add(t.path("key").asText()));
        return keys;
    }

    static String uid(JsonNode node) {
        return node.at("/metadata/uid").asText();
    }

    /**
     * A pod CIDR as kube-apiserver validates it and kube-controller-manager occupies it: Go's {@code ParseCIDR},
     * which keeps only the network, i.e. host bits masked ({@code 10.244.5.7/24} is {@code 10.244.5.0/24}). Read
     * with seancfoley's ipaddress, independently of the controller's own parser.
     *
     * @throws AssertionError for a value the API server should not have stored
     */
    static Cidr asKubernetesReadsIt(String text) {
        IPAddress a = new IPAddressString(text).getAddress();
        assertTrue(a != null && a.isPrefixed(), () -> "the API server stored an unreadable pod CIDR: " + text);
        return Cidr.parse(a.toPrefixBlock().toCanonicalString());
    }

    /**
     * Fails if two nodes' pod CIDRs overlap as Kubernetes reads them, except between the nodes of one of the
     * {@code plantedConflicts} groups (created overlapping on purpose). Every pair is compared: a few million
     * comparisons at 2,000 nodes, and no assumption about sizes or alignment.
     */
    static void assertNoOverlap(Map<String, ObjectNode> nodes, List<Set<String>> plantedConflicts) {
        List<Map.Entry<String, Cidr>> all = new ArrayList<>();
        nodes.forEach((name, n) -> podCidrs(n).forEach(c -> all.add(Map.entry(name, asKubernetesReadsIt(c)))));
        List<String> overlaps = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                Map.Entry<String, Cidr> a = all.get(i);
                Map.Entry<String, Cidr> b = all.get(j);
                if (a.getValue().overlaps(b.getValue()) && !planted(a.getKey(), b.getKey(), plantedConflicts)) {
                    overlaps.add(a.getKey() + " " + a.getValue() + " / " + b.getKey() + " " + b.getValue());
                }
            }
        }
        assertEquals(List.of(), overlaps, "nodes whose pod CIDRs overlap as kube-apiserver reads them");
    }

    private static boolean planted(String a, String b, List<Set<String>> groups) {
        for (Set<String> g : groups) {
            if (g.contains(a) && g.contains(b)) {
                return true;
            }
        }
        return false;
    }

    // ---- the audit log ---------------------------------------------------------------------------------------

    /** A mark in the audit log: the number of requests completed so far, for {@link #controllerRequestsSince}. */
    int auditMark() {
        return cp.auditEvents().size();
    }

    /**
     * After a test: stops its replicas, checks that the API server refused none of the controller's requests (the
     * chart's RBAC is enough), and empties the cluster for the next test.
     */
    void afterTest(RealReplicas replicas) {
        try {
            if (replicas != null) {
                replicas.close();
            }
            assertEquals(List.of(), forbidden(), "requests of the controller refused with 403: the chart's RBAC"
                    + " is not enough");
        } finally {
            reset();
        }
    }

    /** The controller's requests (the ServiceAccount's), in the order the server completed them. */
    List<AuditEvent> controllerRequests() {
        return controllerRequestsSince(0);
    }

    /** The controller's requests completed after {@code mark} (see {@link #auditMark()}). */
    List<AuditEvent> controllerRequestsSince(int mark) {
        List<AuditEvent> all = cp.auditEvents();
        return all.subList(Math.min(mark, all.size()), all.size()).stream()
                .filter(e -> CONTROLLER_USER.equals(e.user())).collect(Collectors.toList());
    }

    /** The controller's requests the server refused for want of permission. */
    List<AuditEvent> forbidden() {
        return controllerRequests().stream().filter(e -> e.code() == 403).collect(Collectors.toList());
    }

    /** Node patches the controller sent since {@code mark} (any answer), per node name. */
    Map<String, Integer> nodePatchesByNode(int mark) {
        return countBy(mark, e -> "patch".equals(e.verb()) && "nodes".equals(e.resource())
                && e.subresource().isEmpty(), AuditEvent::name);
    }

    /** The controller's requests since {@code mark} by verb and resource, e.g. {@code patch nodes=1994}. */
    Map<String, Integer> requestsByVerb(int mark) {
        return countBy(mark, e -> true, e -> e.verb() + " " + e.resource());
    }

    /** The controller's requests since {@code mark} that were not answered 2xx, by verb, resource and code. */
    Map<String, Integer> failedRequests(int mark) {
        return countBy(mark, e -> e.code() < 200 || e.code() >= 300,
                e -> e.verb() + " " + e.resource() + " " + e.code());
    }

    private Map<String, Integer> countBy(int mark, Predicate<AuditEvent> which,
                                         java.util.function.Function<AuditEvent, String> key) {
        Map<String, Integer> out = new TreeMap<>();
        for (AuditEvent e : controllerRequestsSince(mark)) {
            if (which.test(e)) {
                out.merge(key.apply(e), 1, Integer::sum);
            }
        }
        return out;
    }

    /** A histogram: how many nodes got 0, 1, 2... patches, over {@code names}. */
    static Map<Integer, Integer> writesPerNode(Map<String, Integer> patches, Set<String> names) {
        Map<Integer, Integer> out = new LinkedHashMap<>();
        for (String n : names) {
            out.merge(patches.getOrDefault(n, 0), 1, Integer::sum);
        }
        return new TreeMap<>(out);
    }

    static void await(Duration limit, BooleanSupplier condition, Supplier<String> what) {
        SimFixture.await(limit, condition, what);
    }

    @Override
    public void close() {
        cp.close();
    }
}
