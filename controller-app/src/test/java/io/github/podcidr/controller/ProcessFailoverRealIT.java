package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.podcidr.apiserver.NodeGenerator;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas of the packaged jar electing a leader through a Lease on a real kube-apiserver 1.20.2: the leader is
 * killed with SIGKILL while 1,000 nodes are being assigned, the standby takes over after the lease expires and
 * finishes, and no subnet is handed out twice; then SIGTERM makes the new leader exit 0 and release the Lease, so
 * that a third replica leads at its first try. Takeover times are printed, not asserted.
 */
class ProcessFailoverRealIT {
    private static final Path JAR = Path.of("target", "podcidr-controller.jar");
    private static final int NODES = 1_000;
    private static final String NAMESPACE = "kube-system";
    private static final String LEASE = "podcidr-controller";
    /** 4,096 subnets of /24, room for the 1,000 nodes. */
    private static final String CLUSTER_CIDR = "10.240.0.0/12";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private RealControlPlane cp;
    private HttpClient http;
    private Path kubeconfig;
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void sigkilledLeaderIsReplacedWithoutDoubledSubnetsAndSigtermReleasesTheLease() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "run after package: no " + JAR.toAbsolutePath());
        cp = RealControlPlane.builder().start();
        http = HttpClient.newBuilder().sslContext(cp.sslContext()).version(HttpClient.Version.HTTP_1_1).build();
        kubeconfig = cp.writeKubeconfig(dir.resolve("admin.kubeconfig"), cp.adminToken());
        createNodes();

        Process a = start("podcidr-controller-a");
        Process b = start("podcidr-controller-b");
        await(() -> holder() != null && !holder().isEmpty(), 60, "a replica leads", a, b);
        String first = holder();
        Process leader = first.endsWith("-a") ? a : b;
        Process standby = leader == a ? b : a;
        String standbyId = leader == a ? "podcidr-controller-b" : "podcidr-controller-a";
        Path leaderLog = log(first);

        // mid-run: some of the nodes assigned by the leader, most not yet
        await(() -> assignedIn(leaderLog) >= 200, 90, "the leader assigned 200 nodes", leader, standby);
        int assignedBeforeKill = assignedIn(leaderLog);
        long killed = System.nanoTime();
        leader.destroyForcibly();
        assertTrue(leader.waitFor(10, TimeUnit.SECONDS));
        assertEquals(137, leader.exitValue(), "the leader died of SIGKILL (128 + 9)");
        System.out.printf("[failover-real] SIGKILL %s after it assigned %d of %d nodes%n", first,
                assignedBeforeKill, NODES);
        assertTrue(assignedBeforeKill < NODES, "killed mid-run");

        await(() -> standbyId.equals(holder()), 60, "the standby takes the Lease", standby);
        long tookLease = System.nanoTime();
        await(() -> assignedIn(log(standbyId)) > 0, 60, "the standby assigns", standby);
        long firstAssignment = System.nanoTime();
        System.out.printf("[failover-real] takeover: %s holds the Lease %.2f s after the SIGKILL (lease 4 s), "
                + "assigns its first node %.2f s after it%n", standbyId, (tookLease - killed) / 1e9,
                (firstAssignment - killed) / 1e9);

        await(this::allAssigned, 120, 1000, "every node assigned and untainted", standby);
        System.out.printf("[failover-real] all %d nodes assigned %.2f s after the SIGKILL; %d by %s, %d by %s%n",
                NODES, (System.nanoTime() - killed) / 1e9, assignedIn(leaderLog), first, assignedIn(log(standbyId)),
                standbyId);
        Map<String, String> owner = new HashMap<>();
        for (JsonNode n : nodes()) {
            String name = n.at("/metadata/name").asText();
            JsonNode cidrs = n.at("/spec/podCIDRs");
            assertEquals(1, cidrs.size(), name);
            String cidr = cidrs.get(0).asText();
            assertEquals(cidr, n.at("/spec/podCIDR").asText(), name);
            String[] octets = cidr.substring(0, cidr.indexOf('/')).split("\\.");
            int second = Integer.parseInt(octets[1]);
            assertTrue(octets[0].equals("10") && second >= 240 && second <= 255 && octets[3].equals("0")
                    && cidr.endsWith("/24"), name + " has " + cidr + ", not a /24 of " + CLUSTER_CIDR);
            String before = owner.put(cidr, name);
            assertTrue(before == null, "subnet " + cidr + " given to both " + before + " and " + name);
        }

        // SIGTERM: exit 0 and the Lease released
        long term = System.nanoTime();
        standby.destroy();
        assertTrue(standby.waitFor(10, TimeUnit.SECONDS), "still running 10 s after SIGTERM\n" + output(standbyId));
        assertEquals(0, standby.exitValue(), output(standbyId));
        System.out.printf("[failover-real] SIGTERM: %s exited 0 after %.2f s%n", standbyId,
                (System.nanoTime() - term) / 1e9);
        JsonNode released = lease();
        assertNotNull(released, "the Lease is kept, only released");
        System.out.println("[failover-real] Lease after SIGTERM as stored by kube-apiserver: " + released.get("spec"));
        assertEquals("", released.at("/spec/holderIdentity").asText(""), "no holder after a graceful stop");

        long startedC = System.nanoTime();
        Process c = start("podcidr-controller-c");
        await(() -> "podcidr-controller-c".equals(holder()), 60, "a third replica leads", c);
        await(() -> logContains("podcidr-controller-c", "became leader"), 10, "it logs that it leads", c);
        System.out.printf("[failover-real] a third replica holds the released Lease %.2f s after its process "
                + "started, %d ms after it began campaigning (lease 4 s, retry 0.5 s); transitions=%d%n",
                (System.nanoTime() - startedC) / 1e9, Duration.between(logged("podcidr-controller-c", "campaigning"),
                logged("podcidr-controller-c", "became leader")).toMillis(),
                lease().at("/spec/leaseTransitions").asInt());
        c.destroy();
        assertTrue(c.waitFor(10, TimeUnit.SECONDS), output("podcidr-controller-c"));
        assertEquals(0, c.exitValue(), output("podcidr-controller-c"));
    }

    /**
     * Issue 26 item 3 (b): the leader frozen (SIGSTOP) for longer than its lease in the middle of a fill, a standby
     * takes over, then the frozen one resumes (SIGCONT): its fence was judged on its own monotonic clock, so it sends
     * no node write after it wakes; it sees another holder, ends its term and exits 1. No subnet is doubled.
     */
    @Test
    void aFrozenLeaderResumedAfterTheTakeoverSendsNoNodeWrite() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "run after package: no " + JAR.toAbsolutePath());
        cp = RealControlPlane.builder().serviceAccount(NAMESPACE, "replica-a").serviceAccount(NAMESPACE, "replica-b")
                .start();
        http = HttpClient.newBuilder().sslContext(cp.sslContext()).version(HttpClient.Version.HTTP_1_1).build();
        kubeconfig = cp.writeKubeconfig(dir.resolve("admin.kubeconfig"), cp.adminToken());
        Map<String, Path> as = new HashMap<>();
        for (String sa : List.of("replica-a", "replica-b")) { // one user each, so the audit log tells them apart
            HttpResponse<String> bound = http.send(request("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("""
                            {"metadata":{"name":"%s"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io",
                             "kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount",
                             "namespace":"%s","name":"%s"}]}""".formatted(sa, NAMESPACE, sa))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, bound.statusCode(), bound.body());
            as.put(sa, cp.writeKubeconfig(dir.resolve(sa + ".kubeconfig"), cp.serviceAccountToken(NAMESPACE, sa)));
        }
        createNodes();
        Process a = start("podcidr-controller-a", as.get("replica-a"));
        await(() -> "podcidr-controller-a".equals(holder()), 60, "a leads", a);
        await(() -> assignedIn(log("podcidr-controller-a")) >= 200, 90, "a assigned 200 nodes", a);
        signal("STOP", a);
        long frozen = System.nanoTime();
        int assignedBeforeFreeze = assignedIn(log("podcidr-controller-a"));
        Process b = start("podcidr-controller-b", as.get("replica-b"));
        await(() -> "podcidr-controller-b".equals(holder()), 60, "b takes the Lease", b);
        await(() -> assignedIn(log("podcidr-controller-b")) > 0, 60, "b assigns", b);
        // every request a sent before it froze has been received and completed by now
        int mark = cp.auditEvents().size();
        double frozenFor = (System.nanoTime() - frozen) / 1e9;
        signal("CONT", a);
        assertTrue(a.waitFor(30, TimeUnit.SECONDS), "a still runs 30 s after it resumed\n"
                + output("podcidr-controller-a"));
        assertEquals(1, a.exitValue(), "a lost its term and exits 1\n" + output("podcidr-controller-a"));
        String userA = "system:serviceaccount:" + NAMESPACE + ":replica-a";
        List<String> writesAfter = new ArrayList<>();
        List<RealControlPlane.AuditEvent> all = cp.auditEvents();
        for (RealControlPlane.AuditEvent e : all.subList(mark, all.size())) {
            if (e.user().equals(userA) && e.resource().equals("nodes") && !e.verb().equals("list")
                    && !e.verb().equals("watch") && !e.verb().equals("get")) {
                writesAfter.add(e.verb() + " " + e.requestUri() + " " + e.code());
            }
        }
        long requestsAfter = all.subList(mark, all.size()).stream().filter(e -> e.user().equals(userA)).count();
        assertEquals(List.of(), writesAfter, "node writes of a after it resumed (audit log)");
        await(this::allAssigned, 120, 1000, "every node assigned by b", b);
        Map<String, String> owner = new HashMap<>();
        for (JsonNode n : nodes()) {
            String cidr = n.at("/spec/podCIDRs/0").asText();
            String before = owner.put(cidr, n.at("/metadata/name").asText());
            assertTrue(before == null, "subnet " + cidr + " given twice");
        }
        System.out.printf("[failover-real] SIGSTOP of the leader after %d nodes, %.1f s frozen (lease 4 s), b led"
                + " meanwhile; after SIGCONT a sent 0 node writes (%d requests in all, Lease and lists) and exited %d;"
                + " all %d nodes assigned once%n", assignedBeforeFreeze, frozenFor, requestsAfter, a.exitValue(),
                NODES);
        b.destroy();
        assertTrue(b.waitFor(10, TimeUnit.SECONDS), output("podcidr-controller-b"));
    }

    private static void signal(String name, Process p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(p.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + name);
    }

    /** POSTs the nodes as admin, 8 at a time; a quarter carry the TKE ENI taint. */
    private void createNodes() throws Exception {
        NodeGenerator gen = new NodeGenerator(17);
        Semaphore inFlight = new Semaphore(8);
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < NODES; i++) {
            inFlight.acquire();
            sent.add(http.sendAsync(request("/api/v1/nodes").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(gen.node(i, i % 4 == 0).toString())).build(),
                    HttpResponse.BodyHandlers.ofString()).whenComplete((r, e) -> inFlight.release()));
        }
        for (CompletableFuture<HttpResponse<String>> f : sent) {
            HttpResponse<String> r = f.get();
            assertEquals(201, r.statusCode(), r.body());
        }
        System.out.printf("[failover-real] %d nodes created in %.1f s%n", NODES, (System.nanoTime() - t0) / 1e9);
    }

    private Process start(String identity) throws IOException {
        return start(identity, kubeconfig);
    }

    private Process start(String identity, Path kubeconfig) throws IOException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", JAR.toString(), "--kubeconfig=" + kubeconfig, "--cluster-cidr=" + CLUSTER_CIDR,
                "--remove-taints=" + NodeGenerator.TKE_ENI_TAINT_KEY, "--metrics-bind-address=127.0.0.1:0",
                "--health-probe-bind-address=127.0.0.1:0", "--leader-elect-lease-duration=4s",
                "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("POD_NAME", identity);
        pb.environment().put("POD_NAMESPACE", NAMESPACE);
        pb.environment().remove("KUBERNETES_SERVICE_HOST");
        pb.redirectErrorStream(true);
        pb.redirectOutput(log(identity).toFile());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private Path log(String identity) {
        return dir.resolve(identity + ".log");
    }

    private String output(String identity) {
        try {
            List<String> lines = Files.readAllLines(log(identity), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private boolean logContains(String identity, String text) {
        try {
            return Files.readString(log(identity), StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** When the replica first logged a line containing {@code text} (text logs start with the instant). */
    private Instant logged(String identity, String text) throws IOException {
        for (String line : Files.readAllLines(log(identity), StandardCharsets.UTF_8)) {
            if (line.contains(text)) {
                return Instant.parse(line.substring(0, line.indexOf(' ')));
            }
        }
        throw new AssertionError(identity + " never logged \"" + text + "\"\n" + output(identity));
    }

    private static int assignedIn(Path log) {
        try {
            if (!Files.exists(log)) {
                return 0;
            }
            return (int) Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                    .filter(l -> l.contains(" assigned node=")).count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(cp.baseUrl() + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + cp.adminToken());
    }

    private JsonNode get(String path) {
        try {
            HttpResponse<String> r = http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 404) {
                return null;
            }
            assertEquals(200, r.statusCode(), r.body());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private JsonNode lease() {
        return get("/apis/coordination.k8s.io/v1/namespaces/" + NAMESPACE + "/leases/" + LEASE);
    }

    /** The Lease's holder: null without a Lease, "" when released. */
    private String holder() {
        JsonNode l = lease();
        return l == null ? null : StatusFixture.pod(l.at("/spec/holderIdentity").asText(""));
    }

    private JsonNode nodes() {
        return get("/api/v1/nodes").get("items");
    }

    private boolean allAssigned() {
        int done = 0;
        for (JsonNode n : nodes()) {
            boolean tainted = false;
            for (JsonNode t : n.at("/spec/taints")) {
                tainted |= t.path("key").asText().equals(NodeGenerator.TKE_ENI_TAINT_KEY);
            }
            if (n.at("/spec/podCIDRs").size() == 1 && !tainted) {
                done++;
            }
        }
        return done == NODES;
    }

    private void await(BooleanSupplier condition, int seconds, String what, Process... mustLive)
            throws InterruptedException {
        await(condition, seconds, 50, what, mustLive);
    }

    private void await(BooleanSupplier condition, int seconds, long pollMillis, String what, Process... mustLive)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (!condition.getAsBoolean()) {
            for (Process p : mustLive) {
                if (!p.isAlive()) {
                    fail("a replica exited (code " + p.exitValue() + ") before: " + what + "\n" + logs());
                }
            }
            if (System.nanoTime() > deadline) {
                fail("not reached in " + seconds + " s: " + what + "\n" + logs());
            }
            Thread.sleep(pollMillis);
        }
    }

    private String logs() {
        StringBuilder out = new StringBuilder();
        for (String id : List.of("podcidr-controller-a", "podcidr-controller-b", "podcidr-controller-c")) {
            if (Files.exists(log(id))) {
                out.append("--- ").append(id).append('\n').append(output(id)).append('\n');
            }
        }
        return out.toString();
    }
}
