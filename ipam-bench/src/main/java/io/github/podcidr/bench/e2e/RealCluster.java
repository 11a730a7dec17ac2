package io.github.podcidr.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.real.RealControlPlane;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * A Kubernetes API server the end-to-end run talks to with raw HTTP: either a control plane it started
 * ({@link RealControlPlane}, owned and stopped on {@link #close()}), any cluster named by a kubeconfig that holds a
 * bearer token and a certificate authority, or {@code apiserver-sim} started in this JVM (plain HTTP; for tests of
 * the run at tiny scale). One HTTP/2 client (every request multiplexed on one connection).
 */
final class RealCluster implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern REQUESTS = Pattern.compile("^apiserver_request_total\\{([^}]*)} (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final String baseUrl;
    private final String token;
    private final SSLContext ssl;
    private final Path kubeconfig;
    private final RealControlPlane owned;
    private final ApiServerSim sim;
    private final boolean ownsSim;
    private final HttpClient http;

    private RealCluster(String baseUrl, String token, SSLContext ssl, Path kubeconfig, RealControlPlane owned,
                        ApiServerSim sim) {
        this.baseUrl = baseUrl;
        this.token = token;
        this.ssl = ssl;
        this.kubeconfig = kubeconfig;
        this.owned = owned;
        this.sim = sim;
        this.ownsSim = owned == null && kubeconfig != null;
        this.http = client(HttpClient.Version.HTTP_2);
    }

    /** A client of a simulator someone else started and stops (close leaves it running). */
    static RealCluster of(ApiServerSim sim) {
        return new RealCluster(sim.baseUrl(), "apiserver-sim", null, null, null, sim);
    }

    /** Starts {@code apiserver-sim} in this JVM (plain HTTP, a dummy token), owned and stopped on close. */
    static RealCluster startSim() throws IOException {
        ApiServerSim s = ApiServerSim.start();
        Path file = Files.createTempFile("sim-scale", ".kubeconfig");
        s.writeKubeconfig(file);
        return new RealCluster(s.baseUrl(), "apiserver-sim", null, file, null, s);
    }

    /** Starts etcd and kube-apiserver from {@code bin} and writes an admin kubeconfig for the contenders. */
    static RealCluster start(Path bin) throws IOException {
        RealControlPlane cp = RealControlPlane.builder().binDirectory(bin).start();
        Path file = Files.createTempFile("real-scale", ".kubeconfig");
        cp.writeKubeconfig(file, cp.adminToken());
        return new RealCluster(cp.baseUrl(), cp.adminToken(), cp.sslContext(), file, cp, null);
    }

    /**
     * Any cluster, from a kubeconfig's current cluster and user: {@code server}, {@code certificate-authority-data}
     * (or {@code certificate-authority}, a file) and {@code token}. The first of each in the file is used, so give a
     * kubeconfig with one cluster and one user.
     */
    static RealCluster fromKubeconfig(Path file) throws IOException {
        String text = Files.readString(file);
        String server = field(text, "server");
        String token = field(text, "token");
        String caData = field(text, "certificate-authority-data");
        String caFile = field(text, "certificate-authority");
        if (server == null || token == null || (caData == null && caFile == null)) {
            throw new IllegalArgumentException("kubeconfig " + file + " must hold server, token and"
                    + " certificate-authority-data (or certificate-authority); client certificates are not supported"
                    + " by this run; e.g. the one RealControlPlane --kubeconfig-out writes");
        }
        String pem = caData != null ? new String(Base64.getDecoder().decode(caData), StandardCharsets.US_ASCII)
                : Files.readString(Path.of(caFile));
        return new RealCluster(server.replaceAll("/+$", ""), token, RealControlPlane.sslContextTrusting(pem), file,
                null, null);
    }

    private static String field(String yaml, String key) {
        Matcher m = Pattern.compile("(?m)^\\s*" + Pattern.quote(key) + ":\\s*\"?([^\"\\s]+)\"?\\s*$").matcher(yaml);
        return m.find() ? m.group(1) : null;
    }

    /** A new client of this cluster (e.g. HTTP/1.1 for a long watch on its own connection). */
    HttpClient client(HttpClient.Version version) {
        HttpClient.Builder b = HttpClient.newBuilder().version(version).connectTimeout(Duration.ofSeconds(10));
        return (ssl == null ? b : b.sslContext(ssl)).build();
    }

    /** The shared HTTP/2 client. */
    HttpClient http() {
        return http;
    }

    /** A request to {@code path} (with its query) carrying the bearer token. */
    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path)).header("Authorization", "Bearer " + token);
    }

    /** The kubeconfig file for child processes. */
    Path kubeconfig() {
        return kubeconfig;
    }

    /** Whether this run started a real control plane (whose processes' CPU it may therefore read). */
    boolean owned() {
        return owned != null;
    }

    /** Whether this is {@code apiserver-sim} in this JVM. */
    boolean simulated() {
        return sim != null;
    }

    /**
     * A mark in the log of requests by client, for {@link #requestsByAgentSince(int)}: the number of requests the
     * started control plane's audit log holds (or the simulator has counted); 0 for a cluster given by kubeconfig.
     */
    int requestMark() {
        if (owned != null) {
            return owned.auditEvents().size();
        }
        return 0;
    }

    /**
     * Requests completed since {@code mark}, counted by {@code "AGENT VERB RESOURCE[/SUB] CODE"}, AGENT the
     * User-Agent up to its first {@code /} (e.g. {@code kube-controller-manager}): from the started control plane's
     * audit log (level Metadata, every request). The simulator does not tell clients apart: there the key's AGENT
     * is {@code all} and the counts are the simulator's since it was reset at the mark. Empty for a cluster given by
     * kubeconfig (use {@link #nodeRequests()} there).
     */
    Map<String, Long> requestsByAgentSince(int mark) {
        Map<String, Long> out = new TreeMap<>();
        if (owned != null) {
            List<RealControlPlane.AuditEvent> all = owned.auditEvents();
            for (RealControlPlane.AuditEvent e : all.subList(Math.min(mark, all.size()), all.size())) {
                String agent = e.userAgent().isEmpty() ? "-" : e.userAgent().replaceFirst("/.*$", "")
                        .replace(' ', '_');
                String resource = e.resource().isEmpty() ? "-" : e.resource()
                        + (e.subresource().isEmpty() ? "" : "/" + e.subresource());
                out.merge(agent + " " + e.verb() + " " + resource + " " + e.code(), 1L, Long::sum);
            }
        } else if (sim != null) {
            sim.requests().snapshot().forEach((k, v) -> out.put("all " + k, v));
        }
        return out;
    }

    /**
     * Node requests completed since {@code mark} by every client but the kubelet traffic, this run's own requests
     * (Java's default User-Agent) and the server itself, keyed as {@link #nodeRequests()}: exact where taking the
     * traffic's count out of the server's total is not (requests in flight at either end). Only for a control plane
     * this run started (it reads the audit log).
     */
    Map<String, Double> contenderNodeRequestsSince(int mark) {
        if (owned == null) {
            throw new IllegalStateException("no audit log: only a control plane this run started has one");
        }
        Map<String, Double> out = new TreeMap<>();
        List<RealControlPlane.AuditEvent> all = owned.auditEvents();
        for (RealControlPlane.AuditEvent e : all.subList(Math.min(mark, all.size()), all.size())) {
            String agent = e.userAgent();
            if (!e.resource().equals("nodes") || agent.startsWith(KubeletTraffic.USER_AGENT)
                    || agent.startsWith("Java-http-client") || agent.startsWith("kube-apiserver")) {
                continue;
            }
            out.merge(nodeRequestKey(e.verb(), e.subresource(), e.code()), 1.0, Double::sum);
        }
        return out;
    }

    /** Starts the simulator's count of requests afresh (no-op on a real server). */
    void resetSimCounts() {
        if (sim != null) {
            sim.requests().reset();
        }
    }

    /** The current resourceVersion of the node collection (one LIST of at most one node). */
    String nodesResourceVersion() throws IOException, InterruptedException {
        return get("/api/v1/nodes?limit=1").path("metadata").path("resourceVersion").asText();
    }

    /** Deletes every node (one delete-collection request) and waits until none is left. */
    void deleteAllNodes(Duration timeout) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request("/api/v1/nodes").DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("deleting the nodes: HTTP " + r.statusCode() + " " + r.body());
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (get("/api/v1/nodes?limit=1").path("items").size() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("nodes still present " + timeout + " after deleting them");
            }
            Thread.sleep(500);
        }
    }

    /**
     * The API server's own count of node requests, {@code apiserver_request_total{resource="nodes"}} from its
     * {@code /metrics}, summed by {@code "VERB code"} (with {@code /subresource} after the verb when there is one).
     * Watches are counted when they end.
     */
    Map<String, Double> nodeRequests() throws IOException, InterruptedException {
        if (sim != null) { // no /metrics: the simulator's own counts, by verb
            Map<String, Double> out = new TreeMap<>();
            sim.requests().snapshot().forEach((k, v) -> {
                if (k.endsWith(" nodes") || k.contains(" nodes/")) {
                    out.put(k.replace(" nodes", ""), v.doubleValue());
                }
            });
            return out;
        }
        HttpResponse<String> r = http.send(request("/metrics").build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET /metrics: HTTP " + r.statusCode());
        }
        Map<String, Double> out = new TreeMap<>();
        for (String line : r.body().split("\n")) {
            Matcher m = REQUESTS.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            Matcher l = LABEL.matcher(m.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            if (!"nodes".equals(labels.get("resource"))) {
                continue;
            }
            String sub = labels.getOrDefault("subresource", "");
            String key = labels.get("verb") + (sub.isEmpty() ? "" : "/" + sub) + " " + labels.get("code");
            out.merge(key, Double.parseDouble(m.group(2)), Double::sum);
        }
        return out;
    }

    /**
     * The key {@link #nodeRequests()} gives a node request: {@code "PATCH/status 200"} from a real server's
     * metrics (verb in capitals, code), {@code "patch/status"} from the simulator's counts (no code).
     *
     * @param verb lower case, as the audit log writes it ({@code get}, {@code patch}, ...)
     * @param subresource empty for none
     */
    String nodeRequestKey(String verb, String subresource, int code) {
        String sub = subresource.isEmpty() ? "" : "/" + subresource;
        return sim != null ? verb + sub : verb.toUpperCase(java.util.Locale.ROOT) + sub + " " + code;
    }

    /** GET as JSON, failing on any status but 200. */
    JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(request(path).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + ": HTTP " + r.statusCode() + " "
                    + new String(r.body(), StandardCharsets.UTF_8));
        }
        return JSON.readTree(r.body());
    }

    @Override
    public void close() throws IOException {
        if (owned != null) {
            owned.close();
            Files.deleteIfExists(kubeconfig);
        }
        if (sim != null && ownsSim) {
            sim.close();
            Files.deleteIfExists(kubeconfig);
        }
    }
}
